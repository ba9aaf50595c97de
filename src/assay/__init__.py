"""Assay: a self-hosted platform for evaluating AI agents and models.

Importing this package loads no SDKs; see ``assay.api.app.create_app`` for the service and
``assay.cli`` for the command line. ``assay.Client`` and its errors (``assay.client``) are
imported on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from assay.client import AssayAPIError, AssayClientError, Client

__version__ = "0.1.0"
__all__ = ["AssayAPIError", "AssayClientError", "Client", "__version__"]

_CLIENT_EXPORTS = frozenset({"AssayAPIError", "AssayClientError", "Client"})


def __getattr__(name: str) -> Any:
    if name in _CLIENT_EXPORTS:
        import assay.client

        return getattr(assay.client, name)
    raise AttributeError(f"module 'assay' has no attribute {name!r}")
