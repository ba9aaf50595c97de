"""An agent that is a Python function in this process (registry name ``python``).

``callable`` names it as ``package.module:function`` (the attribute part may be dotted, for a
method of a class). It gets the input and, when its signature accepts them, ``session_id=`` and
``system_prompt=``; a function that does not take ``system_prompt`` gets a call's system
prompt prepended to the input as a ``[Context]`` block instead. In a conversation
(``converse``) a function that accepts ``history=`` gets the session's earlier messages;
one that does not keeps its own state, keyed by ``session_id``.
Sync functions run in a worker thread so they cannot block the event loop; async ones are
awaited. Because the agent shares the process, its memory can be measured
(``in_process = True``) and any exception it raises is its own failure (``TargetError``).
"""

from __future__ import annotations

import asyncio
import copy
import importlib
import inspect
import time
from collections.abc import Callable
from typing import Any, cast

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from typing_extensions import override

from assay.core.errors import ConfigurationError, TargetError
from assay.core.outcome import NormalizedResponse
from assay.targets.base import Target, with_context
from assay.targets.model import message_dict


class PythonConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    callable: str = Field(
        description=(
            "The agent function as `package.module:function`; it must import on the server."
        )
    )

    @field_validator("callable")
    @classmethod
    def _importable(cls, value: str) -> str:
        try:
            load_callable(value)
        except ConfigurationError as exc:
            raise ValueError(exc.message) from exc
        return value


class PythonSecrets(BaseModel):
    """Python agents take no secrets: they read their own configuration."""

    model_config = ConfigDict(extra="forbid")


class PythonTarget(Target):
    in_process = True

    def __init__(self, callable: str) -> None:
        """Resolve the function once; raises ConfigurationError naming a path that fails."""
        self.callable = callable
        self._function = load_callable(callable)
        self._takes_session_id = accepts_keyword(self._function, "session_id")
        self._takes_system_prompt = accepts_keyword(self._function, "system_prompt")
        self._takes_history = accepts_keyword(self._function, "history")

    @override
    async def invoke(
        self, input: str, *, session_id: str, system_prompt: str | None = None
    ) -> NormalizedResponse:
        """Call the function once; its latency includes the thread hop of a sync function.

        ``system_prompt`` is passed as ``system_prompt=`` when the function takes it (only
        when set, so a function's own default applies otherwise), else prepended to the input.

        Raises:
            TargetError: the function raised, or returned something other than a ``str``,
                a dict of ``NormalizedResponse`` fields, or a ``NormalizedResponse``.
        """
        return await self._call(input, session_id, system_prompt, history=None)

    @override
    async def converse(
        self, message: str, *, session_id: str, system_prompt: str | None = None
    ) -> NormalizedResponse:
        """Call the function with one turn; ``history=`` carries the earlier ones if it takes it.

        ``history`` is a new list of the session's earlier messages as plain dicts
        (``{"role": "user" | "assistant", "content": ..., "tool_calls"?: [...]}``), oldest
        first and empty on the first turn. A function without ``history`` gets the message
        (and ``session_id=`` when it takes it) and keeps its own state. ``system_prompt`` is
        passed on every turn as for ``invoke``.

        Raises:
            TargetError: as for ``invoke``; a turn that raises is not kept.
        """
        conversation = self.conversation(session_id, system_prompt)
        history = [message_dict(m) for m in conversation.messages] if self._takes_history else None
        response = await self._call(message, session_id, system_prompt, history=history)
        conversation.add_turn(message, response)
        return response

    async def _call(
        self,
        input: str,
        session_id: str,
        system_prompt: str | None,
        history: list[dict[str, Any]] | None,
    ) -> NormalizedResponse:
        kwargs: dict[str, Any] = {"session_id": session_id} if self._takes_session_id else {}
        sent: list[dict[str, Any]] = []
        if self._takes_system_prompt:
            if system_prompt:
                kwargs["system_prompt"] = system_prompt
                sent.append({"role": "system", "content": system_prompt})
        else:
            input = with_context(input, system_prompt)
        if history is not None:
            kwargs["history"] = history
            sent.extend(copy.deepcopy(history))
        started = time.perf_counter()
        try:
            if inspect.iscoroutinefunction(self._function):
                result = await self._function(input, **kwargs)
            else:
                result = await asyncio.to_thread(self._function, input, **kwargs)
                if inspect.isawaitable(result):
                    result = await result
        except Exception as exc:
            raise TargetError(f"{self.callable} raised {type(exc).__name__}: {exc}") from exc
        latency_ms = (time.perf_counter() - started) * 1000
        response = self._normalize(result)
        if not response.messages:
            response.messages = [
                *sent,
                {"role": "user", "content": input},
                {"role": "assistant", "content": response.output},
            ]
        response.latency_ms = latency_ms
        return response

    def _normalize(self, result: Any) -> NormalizedResponse:
        if isinstance(result, NormalizedResponse):
            return result.model_copy(deep=True)
        if isinstance(result, str):
            return NormalizedResponse(output=result)
        if isinstance(result, dict):
            try:
                return NormalizedResponse.model_validate(result)
            except ValidationError as exc:
                fields = "; ".join(
                    f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
                )
                raise TargetError(f"{self.callable} returned a malformed dict: {fields}") from exc
        raise TargetError(
            f"{self.callable} returned {type(result).__name__}; "
            "expected str, a dict with 'output', or NormalizedResponse"
        )


def load_callable(path: str) -> Callable[..., Any]:
    """Import ``package.module:function``.

    Raises:
        ConfigurationError: the path is malformed, does not import, or names something that
            is not callable; the message names the path.
    """
    module_name, sep, attribute = path.partition(":")
    if not sep or not module_name or not attribute:
        raise ConfigurationError(f"callable {path!r} must look like package.module:function")
    try:
        found: Any = importlib.import_module(module_name)
        for part in attribute.split("."):
            found = getattr(found, part)
    except Exception as exc:  # an agent module may fail to import in any way
        raise ConfigurationError(
            f"callable {path!r} cannot be imported: {type(exc).__name__}: {exc}"
        ) from exc
    if not callable(found):
        raise ConfigurationError(f"callable {path!r} is a {type(found).__name__}, not callable")
    return cast("Callable[..., Any]", found)


def accepts_keyword(function: Callable[..., Any], name: str) -> bool:
    """Whether ``function`` takes ``name=`` (as a named parameter or through ``**kwargs``)."""
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):  # builtins without a signature: pass the input alone
        return False
    return any(
        (p.name == name and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY))
        or p.kind is p.VAR_KEYWORD
        for p in parameters
    )
