"""Typed dependencies for routers: the container and the authenticated caller."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from assay.core.principal import Principal
from assay.services.container import Container
from assay.services.keys import authenticate


def get_container(request: Request) -> Container:
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
