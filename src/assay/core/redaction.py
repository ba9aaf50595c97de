"""Blanking out known secret values in what an agent answered, before it is stored.

An agent, or a model behind it, may echo a credential it was called with (an ``Authorization``
header, its API key) in a perfectly successful answer; the engine stores answers as scores'
reasons, traces, messages, tool-call arguments, events and errors. A :class:`Redactor` holds
every secret value an evaluation knows and replaces each occurrence with ``[redacted]``.

Which strings count as secrets:

- every string in the evaluation's decrypted secrets (at any depth), and each of its
  whitespace-separated parts, so the bare token of ``Bearer <token>`` is caught too;
- only those of at least :data:`MIN_SECRET_CHARS` characters: a short value (a user name, a
  region, ``true``) would blank out ordinary words of every answer, and a credential that
  short is guessable anyway.

Matching is exact and case-sensitive, in one pass of one compiled pattern (longest secret
first, so a secret that contains another is blanked whole).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

REDACTED = "[redacted]"
MIN_SECRET_CHARS = 8


class Redactor:
    """Replaces known secret values in strings and in JSON-like data (dicts, lists, tuples)."""

    def __init__(self, secrets: Iterable[str]) -> None:
        values = {
            piece
            for secret in secrets
            for piece in (secret, *secret.split())
            if len(piece) >= MIN_SECRET_CHARS
        }
        ordered = sorted(values, key=lambda v: (-len(v), v))
        self._pattern = re.compile("|".join(map(re.escape, ordered))) if ordered else None

    def __bool__(self) -> bool:
        return self._pattern is not None

    def redact_text(self, text: str) -> str:
        if self._pattern is None:
            return text
        return self._pattern.sub(REDACTED, text)

    def redact(self, value: Any) -> Any:
        """A copy of ``value`` with every secret in its strings (keys included) blanked out.

        Anything that is not a string, dict, list or tuple is returned as it is.
        """
        if self._pattern is None:
            return value
        if isinstance(value, str):
            return self._pattern.sub(REDACTED, value)
        if isinstance(value, dict):
            return {self.redact(k): self.redact(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.redact(v) for v in value]
        return value


def secret_strings(value: Any) -> list[str]:
    """Every string inside a JSON-like value (the decrypted secrets of an evaluation)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in secret_strings(v)]
    if isinstance(value, list | tuple):
        return [s for v in value for s in secret_strings(v)]
    return []
