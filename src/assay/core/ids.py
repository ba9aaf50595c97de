"""Identifier generation. Ids are opaque strings; uuid4 keeps them unguessable across tenants."""

from __future__ import annotations

import uuid


def new_id() -> str:
    return str(uuid.uuid4())
