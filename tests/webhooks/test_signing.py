"""Webhook signatures as receivers check them."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime

from assay.webhooks.delivery import delivery_body
from assay.webhooks.signing import new_secret, sign, verify


def test_signature_is_the_hmac_sha256_of_the_exact_body():
    secret = new_secret()
    body = delivery_body(
        {"event": "evaluation.completed", "evaluation": {"id": "eval-1"}},
        datetime(2026, 1, 1, tzinfo=UTC),
    )
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    assert sign(body, secret) == f"sha256={expected}"
    assert verify(body, secret, sign(body, secret))
    assert not verify(body + b" ", secret, sign(body, secret))
    assert not verify(body, new_secret(), sign(body, secret))


def test_secrets_are_random_and_long():
    a, b = new_secret(), new_secret()
    assert a != b and a.startswith("whsec_") and len(a) > 40
