"""Example agents bundled with Assay for the quickstart and demos; offline and deterministic."""
