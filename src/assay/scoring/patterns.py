r"""Regular expressions from tenants, run by RE2 so that no pattern can stall a worker.

Python's ``re`` backtracks: ``^(a+)+$`` against 28 ``a``s and a ``!`` takes seconds, and the
match holds the GIL the whole time, so a worker thread does not help. RE2 (``google-re2``)
matches in time linear in the text and releases the GIL while it does, so a pattern a tenant
wrote costs at most a few milliseconds per megabyte of answer.

RE2 has no backreferences (``\1``, ``(?P=name)``) and no lookaround (``(?=``, ``(?!``,
``(?<=``, ``(?<!``); a pattern using them is refused when it is saved, with RE2's reason.
Two other differences from ``re`` are documented for pattern authors: ``\Z`` is spelt
``\z``, and ``\w``, ``\d``, ``\b`` match ASCII only (use ``\pL`` / ``\p{N}`` for any
script). Case-insensitive matching folds Unicode case, like ``re.IGNORECASE``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol

import re2


class Located(Protocol):
    """Where a match lies: what both ``re`` and RE2 matches offer."""

    def start(self) -> int: ...

    def end(self) -> int: ...


@dataclass(frozen=True)
class Pattern:
    """A compiled tenant pattern; ``search`` finds the first match anywhere in the text."""

    source: str
    _compiled: Any

    def search(self, text: str, pos: int = 0) -> Located | None:
        match: Located | None = self._compiled.search(text, pos)
        return match


def _options(case_sensitive: bool) -> re2.Options:
    options = re2.Options()
    options.case_sensitive = case_sensitive
    # RE2 logs every rejected pattern to stderr; the caller reports it to the tenant instead.
    options.log_errors = False
    return options


@lru_cache(maxsize=1024)
def compile_pattern(source: str, case_sensitive: bool = True) -> Pattern:
    """Compile ``source`` with RE2; cached, since every item of an evaluation reuses it.

    Raises:
        ValueError: RE2 cannot run the pattern (bad syntax, backreferences, lookaround, a
            repetition over 1000, or a program over RE2's memory budget); the message says why.
    """
    try:
        compiled = re2.compile(source, _options(case_sensitive))
    except re2.error as exc:
        reason = exc.args[0] if exc.args else "invalid pattern"
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", errors="replace")
        raise ValueError(
            f"not a regular expression RE2 can run ({reason}); patterns run in linear time, "
            "so backreferences and lookaround are not supported"
        ) from None
    return Pattern(source, compiled)
