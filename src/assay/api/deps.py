"""Typed dependencies for routers: the container and the authenticated caller."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request

from assay.core.principal import Principal
from assay.services.container import Container
from assay.services.keys import authenticate


def get_container(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


ContainerDep = Annotated[Container, Depends(get_container)]


async def get_principal(
    container: ContainerDep,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Principal:
    return await authenticate(container, authorization)


PrincipalDep = Annotated[Principal, Depends(get_principal)]
