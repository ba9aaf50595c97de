"""Seed 004: projects with connectors, personas, scenarios and evals at /api/projects/{projectId}."""
