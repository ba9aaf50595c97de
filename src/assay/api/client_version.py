"""The client version gate of seed 002: ``X-Assay-Client-Version`` below the minimum is 426.

The seed lists 426 ("Upgrade required") among its statuses; a client declares its version in
the header, and the operator sets the oldest one served (``ASSAY_MIN_CLIENT_VERSION``). A
request without the header is served: curl and the seed's own examples do not send it, and
refusing them would break clients that never promised a version.
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Header

from assay.api.deps import ContainerDep
from assay.core.errors import UpgradeRequired, ValidationFailed

HEADER = "X-Assay-Client-Version"
#: Leading dotted numbers; a suffix such as ``-beta`` or ``+build`` is allowed and ignored.
_VERSION = re.compile(r"^(\d{1,9}(?:\.\d{1,9}){0,3})(?:[-+.~_a-zA-Z0-9]*)$")


def version_tuple(text: str) -> tuple[int, ...]:
    """``"2.10.1-rc1"`` -> ``(2, 10, 1)``; ValueError when it does not start with a version."""
    match = _VERSION.match(text.strip())
    if match is None:
        raise ValueError(text)
    numbers = tuple(int(part) for part in match.group(1).split("."))
    return numbers + (0,) * (4 - len(numbers))


async def require_client_version(
    container: ContainerDep,
    client_version: Annotated[str | None, Header(alias=HEADER, max_length=100)] = None,
) -> None:
    """Refuse a client older than ``settings.min_client_version`` (426, the envelope's)."""
    minimum = container.settings.min_client_version
    if minimum is None or client_version is None:
        return
    try:
        given = version_tuple(client_version)
    except ValueError:
        raise ValidationFailed.for_field(
            ("header", HEADER), "must be a version such as 2.1.0"
        ) from None
    if given < version_tuple(minimum):
        raise UpgradeRequired(
            f"client version {client_version.strip()} is below the supported minimum "
            f"{minimum}; upgrade the client"
        )
