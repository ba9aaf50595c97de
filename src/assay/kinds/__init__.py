"""Evaluation kinds. Each knows how to plan items, run one, and summarise the outcomes."""
