"""The `assay` command line: thin commands over services."""
