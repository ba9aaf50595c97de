"""Probe catalogues for trust-score harnesses: data files shipped with the package."""
