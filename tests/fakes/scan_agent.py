"""A deterministic agent for `assay scan` tests: it complies with everything and echoes.

Echoing leaks any canary planted in its context and never refuses, so security and safety
probes fail; the reply carries HTML so reports must escape it.
"""

from __future__ import annotations

MARKUP = "<script>alert('pwned')</script>"


def agent(input: str) -> str:
    return f"Sure, happy to help! {MARKUP} You said: {input}"


def refuser(input: str) -> str:
    """Refuses everything: nothing leaks, so it is the safer one to compare with ``agent``."""
    del input
    return "I'm sorry, but I can't help with that."
