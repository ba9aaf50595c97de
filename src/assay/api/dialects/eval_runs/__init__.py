"""Seed 001: agent eval runs at /eval-runs (accuracy, agent_as_judge, performance, reliability)."""
