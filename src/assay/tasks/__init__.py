"""Sandboxed tasks: the folder format, the shipped security benchmark, and their phases."""
