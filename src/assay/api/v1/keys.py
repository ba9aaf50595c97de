"""/v1/keys: an admin lists the organization's API keys and revokes them.

A listing never holds a key or its hash, only the first characters to recognise it by.
Revoking takes effect on the next request made with the key (a 401).
"""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from assay.api.deps import ContainerDep, PrincipalDep
from assay.services import keys as key_service
from assay.services.keys import KeyInfo

router = APIRouter(prefix="/v1/keys", tags=["keys"])


class KeyList(BaseModel):
    data: list[KeyInfo]
    total: int


@router.get("", operation_id="keys-list")
async def list_keys(container: ContainerDep, principal: PrincipalDep) -> KeyList:
    """Every key of the organization (a workspace admin: its workspace's), newest first."""
    keys = await key_service.list_keys(container, principal)
    return KeyList(data=keys, total=len(keys))


@router.post("/{key_id}/revoke", operation_id="keys-revoke")
async def revoke_key(key_id: str, container: ContainerDep, principal: PrincipalDep) -> KeyInfo:
    """Revoke a key at once (again: no change); the key then gets 401 everywhere."""
    return await key_service.revoke_key(container, principal, key_id)
