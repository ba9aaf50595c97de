"""The fields of the management pages' forms, read with errors that name the field.

A form's mistakes (a bad field, a taken id, an unknown reference) are shown on the page
that sent it, with the status of the error, so the person can fix and resend; anything
else (a reviewer's form, a forged token) is the error page.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from assay.core.errors import AssayError, ConfigurationError, Conflict, NotFound, ValidationFailed
from assay.web.auth import Viewer
from assay.web.routes import page, redirect

#: Errors that a form's sender can fix, shown beside the form (a ConfigurationError is an
#: unknown plugin or a URL the outbound policy refuses).
FORM_ERRORS = (ValidationFailed, Conflict, NotFound, ConfigurationError)


def text(form: FormData, name: str) -> str | None:
    """The field's trimmed text; None when missing or blank."""
    value = form.get(name)
    return value.strip() or None if isinstance(value, str) else None


def choices(form: FormData, name: str) -> list[str]:
    """Every value given for a multi-valued field (checkboxes), in form order."""
    return [v for v in form.getlist(name) if isinstance(v, str) and v]


def json_value(form: FormData, name: str, default: Any) -> Any:
    """The field parsed as JSON; ``default`` when blank.

    Raises:
        ValidationFailed: not JSON, or not of the default's type (an object, a list).
    """
    raw = text(form, name)
    if raw is None:
        return default
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ValidationFailed.for_field((name,), f"is not valid JSON ({exc.msg})") from None
    if not isinstance(value, type(default)):
        wanted = "an object" if isinstance(default, dict) else "a list"
        raise ValidationFailed.for_field((name,), f"must be a JSON {wanted}")
    return value


async def submitted(
    work: Callable[[], Awaitable[Any]],
    done: str,
    show_error: Callable[[AssayError], Awaitable[Response]],
) -> Response:
    """Run the form's action, then go to ``done``; a fixable error re-renders the form."""
    try:
        await work()
    except FORM_ERRORS as exc:
        return await show_error(exc)
    return redirect(done)


def form_page(
    request: Request, name: str, viewer: Viewer, error: AssayError | None, **context: Any
) -> HTMLResponse:
    """A page with forms; after a fixable error, with its status and its message shown."""
    status = error.status if error else 200
    return page(request, name, viewer, status, error=error.message if error else None, **context)
