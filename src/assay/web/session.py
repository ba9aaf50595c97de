"""Browser sessions: an API key is exchanged once for an encrypted, httpOnly cookie.

The cookie holds the key's *id*, a CSRF token and an expiry, encrypted and authenticated
with the server's secret box (Fernet), so it cannot be read or forged and never contains the
key. Every request looks the key up by id, so revoking the key ends its sessions at once.
Each form carries the session's CSRF token and every POST checks it (SameSite=Strict on the
cookie is the second line). The login form, which comes before any session, carries a token
that must match a short-lived cookie set with the form (double submit).
"""

from __future__ import annotations

import hmac
import secrets
import time
from dataclasses import dataclass

from assay.core.errors import ConfigurationError
from assay.store.secrets import SecretBox

SESSION_COOKIE = "assay_session"
LOGIN_COOKIE = "assay_login_csrf"


@dataclass(frozen=True)
class WebSession:
    key_id: str
    csrf: str
    expires_at: float


def new_session(box: SecretBox, key_id: str, lifetime_s: float) -> tuple[str, WebSession]:
    """A fresh session for the key, and its cookie value."""
    session = WebSession(key_id, secrets.token_urlsafe(32), time.time() + lifetime_s)
    sealed = box.seal({"k": session.key_id, "c": session.csrf, "e": session.expires_at})
    assert sealed is not None
    return sealed, session


def open_session(box: SecretBox, cookie: str | None) -> WebSession | None:
    """The session in a cookie, or None when it is missing, forged, old or expired."""
    if not cookie:
        return None
    try:
        data = box.open(cookie)
        session = WebSession(str(data["k"]), str(data["c"]), float(data["e"]))
    except (ConfigurationError, KeyError, TypeError, ValueError):
        return None
    return session if session.expires_at > time.time() else None


def new_token() -> str:
    return secrets.token_urlsafe(32)


def tokens_match(expected: str | None, given: str | None) -> bool:
    """Constant-time comparison; a missing token never matches."""
    return bool(expected and given) and hmac.compare_digest(
        str(expected).encode(), str(given).encode()
    )
