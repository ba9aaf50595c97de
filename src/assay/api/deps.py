"""Typed dependencies for routers: the container and the authenticated caller."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader

from assay.core.errors import ValidationFailed
from assay.core.principal import Principal
from assay.core.text import unstorable_reason
from assay.services.container import Container
from assay.services.keys import authenticate


def get_container(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


ContainerDep = Annotated[Container, Depends(get_container)]


#: Reads the raw ``Authorization`` header (``authenticate`` parses it) and documents it as
#: the security scheme of every authenticated operation.
_authorization = APIKeyHeader(
    name="Authorization",
    scheme_name="bearer",
    description="`Bearer <key>`: an Assay API key (`assay keys create`).",
    auto_error=False,
)


async def get_principal(
    container: ContainerDep,
    authorization: Annotated[str | None, Depends(_authorization)] = None,
) -> Principal:
    return await authenticate(container, authorization)


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def reject_unstorable_url_text(request: Request) -> None:
    """Path and query values that no database can look up (a NUL) are a 4xx naming them.

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
