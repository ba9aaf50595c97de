"""Scorers, the LLM judge and the statistics used to summarise evaluations.

This package imports only ``assay.core``: kinds use it, never the other way round.
"""
