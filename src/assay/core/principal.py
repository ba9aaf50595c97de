"""Who is calling: resolved from an API key, passed to every service call."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"  #: everything, including keys and users
    MEMBER = "member"  #: create and manage evaluations and agents
    REVIEWER = "reviewer"  #: read, and verify checkpoints


@dataclass(frozen=True)
class Principal:
    org_id: str
    #: Set when the key is limited to one workspace.
    workspace_id: str | None
    role: Role
    key_id: str | None = None
    #: The user the key belongs to (``assay keys create --user``); None for a service key.
    user_id: str | None = None
