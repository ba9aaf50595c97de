"""Seed 000: checkpointed task runs at /api/eval (create, status, verify)."""
