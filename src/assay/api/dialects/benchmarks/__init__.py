"""Seed 002: workspace-scoped sandboxed task benchmarks under /api/v1/org/{org}/ws/{ws}."""
