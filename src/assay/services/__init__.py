"""Use cases shared by every API dialect, the CLI and the web UI; the only layer above the store."""
