"""Typed dependencies for routers: the container and the authenticated caller."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from assay.core.errors import ValidationFailed
from assay.core.principal import Principal
from assay.core.text import unstorable_reason
from assay.services.container import Container
from assay.services.keys import authenticate


async def get_container(request: Request) -> Container:
    """Async, as every cheap dependency here: FastAPI runs a plain function in a thread."""
    container: Container = request.app.state.container
    return container


ContainerDep = Annotated[Container, Depends(get_container)]


#: Declares the bearer scheme in the OpenAPI document (so /docs can "Authorize"); a missing
#: or malformed header is left to :func:`authenticate`, which answers in each dialect's shape.
_bearer = HTTPBearer(
    auto_error=False, scheme_name="ApiKey", description="An Assay API key: `assay keys create`."
)


async def get_principal(
    container: ContainerDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    token = f"{credentials.scheme} {credentials.credentials}" if credentials else None
    return await authenticate(container, token)


PrincipalDep = Annotated[Principal, Depends(get_principal)]


async def reject_unstorable_url_text(request: Request) -> None:
    """Path and query values that no database can look up (a NUL) are a 4xx naming them.

    Async though it awaits nothing: FastAPI runs a plain function in a worker thread, a hop
    that cost every request more than the check itself.

    Bodies are checked by their schemas' types (``core/text.py``); this covers the URL for
    every route at once, since a NUL in ``/v1/agents/%00`` reaches PostgreSQL as a bound
    parameter and is refused there. Percent-decoding already replaces invalid UTF-8, so
    NUL is the only character left to refuse.
    """
    values = [("path", k, v) for k, v in request.path_params.items()]
    values += [("query", k, v) for k, v in request.query_params.multi_items()]
    for part, name, value in values:
        reason = unstorable_reason(str(value))
        if reason is not None:
            raise ValidationFailed.for_field((part, name), reason)
