"""Repository functions: the only code that builds SQL. Each takes a session or connection."""
