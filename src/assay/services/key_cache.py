"""API keys this process authenticated a moment ago, so a poll does not look its key up each time.

A status poll at 200 requests a second spent more on finding its key than on reading the
status. An entry lives ``KEY_CACHE_SECONDS``: a key revoked through this process is dropped at
once (``forget``); one revoked through another (the CLI, another server) stops working here
within that time. Only keys that exist are kept, so a wrong key is looked up every time.
"""

from __future__ import annotations

import time

from assay.core.principal import Principal

#: How long an authenticated key is trusted without looking it up again.
KEY_CACHE_SECONDS = 1.0
#: Most keys kept; past it the cache starts over (a burst of many keys is rare).
MAX_KEYS = 10_000


class KeyCache:
    def __init__(self, seconds: float = KEY_CACHE_SECONDS) -> None:
        self._seconds = seconds
        self._known: dict[str, tuple[Principal, float]] = {}

    def get(self, key_hash: str) -> Principal | None:
        found = self._known.get(key_hash)
        if found is None:
            return None
        principal, until = found
        if time.monotonic() >= until:
            del self._known[key_hash]
            return None
        return principal

    def put(self, key_hash: str, principal: Principal) -> None:
        if len(self._known) >= MAX_KEYS:
            self._known.clear()
        self._known[key_hash] = (principal, time.monotonic() + self._seconds)

    def forget(self, key_id: str) -> None:
        """Drop a key (revoked here) so its next request is looked up, and refused."""
        self._known = {h: v for h, v in self._known.items() if v[0].key_id != key_id}
