"""Connectors to the agents under test. Every target returns one NormalizedResponse."""
