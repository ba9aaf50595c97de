"""Execution backends: where item functions run. In-process asyncio is the default."""
