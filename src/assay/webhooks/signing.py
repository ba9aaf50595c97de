"""Webhook signatures: ``X-Assay-Signature: sha256=<hex HMAC-SHA256 of the exact body>``.

The key is the organization's webhook secret (``assay webhooks secret --org SLUG``).
Receivers recompute the HMAC over the raw request body, before parsing it, and compare in
constant time::

    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    ok = hmac.compare_digest(expected, request.headers["X-Assay-Signature"])
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

SIGNATURE_HEADER = "X-Assay-Signature"
EVENT_HEADER = "X-Assay-Event"
DELIVERY_HEADER = "X-Assay-Delivery"
SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    """A fresh 256-bit signing secret."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def sign(body: bytes, secret: str) -> str:
    """The signature header value for ``body``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(body: bytes, secret: str, signature: str) -> bool:
    """True when ``signature`` is the header value for ``body`` under ``secret``."""
    return hmac.compare_digest(sign(body, secret), signature)
