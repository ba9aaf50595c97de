"""A third-party agent kind, found through a test ``assay.targets`` entry point."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from assay.targets._registry import AgentKind, MakeProvider
from assay.targets.base import Target
from assay.targets.python import PythonTarget


class ShoutConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    loud: bool = True


class NoSecrets(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _create(config: ShoutConfig, secrets: NoSecrets, make_provider: MakeProvider) -> Target:
    return PythonTarget("tests.targets.agents:normalized")


SHOUT = AgentKind(ShoutConfig, NoSecrets, _create)
NOT_A_KIND = "just a string"
