"""Seed 000 renders errors as ``{"error": "..."}`` with the seed's own bodies.

- a body missing required fields: 400 ``Missing required fields`` listing them and a hint;
- any other invalid field: 400 naming the field (``{"error", "field", "hint"}``);
- a missing or bad key: 401 ``{"error": "Unauthorized"}``, nothing more;
- an assigned reviewer who is not a user: 404 ``Reviewer not found`` with up to three who are;
- the rest: the class's status with ``{"error": message}`` (403, 404, 409, 429, 500).
"""

from __future__ import annotations

from typing import Any

from assay.core.errors import AssayError, NotAuthenticated, ReviewerNotFound, ValidationFailed

#: The fields the seed lists as required, in its order.
REQUIRED = ["taskName", "taskDescription", "testMode", "assignedReviewer"]
_REQUEST_PARTS = ("body", "query", "path", "header")


class MissingRequiredFields(ValidationFailed):
    """A create request without one of :data:`REQUIRED`."""

    def __init__(self, missing: list[str]) -> None:
        super().__init__(
            f"missing required fields: {', '.join(missing)}",
            [{"loc": [name], "msg": "Field required", "type": "missing"} for name in missing],
        )


def _field(error: ValidationFailed) -> str:
    if not error.errors:
        return ""
    loc = [p for p in error.errors[0]["loc"] if p not in _REQUEST_PARTS]
    return ".".join(str(p) for p in loc)


def render(error: AssayError) -> tuple[int, dict[str, Any]]:
    if isinstance(error, MissingRequiredFields):
        return 400, {
            "error": "Missing required fields",
            "required": REQUIRED,
            "hint": "Ensure all required fields are provided",
        }
    if isinstance(error, ValidationFailed):
        field = _field(error)
        message = error.message
        if error.errors:
            message = f"{field}: {error.errors[0]['msg']}" if field else error.errors[0]["msg"]
        return 400, {
            "error": f"Invalid field {field}" if field else "Invalid request",
            "field": field or None,
            "hint": message,
        }
    if isinstance(error, NotAuthenticated):
        return 401, {"error": "Unauthorized"}
    if isinstance(error, ReviewerNotFound):
        body: dict[str, Any] = {
            "error": "Reviewer not found",
            "assignedReviewer": error.reviewer,
            "hint": "Provide email or username of an Assay user",
        }
        if error.suggestions:
            body["suggestion"] = f"Try one of these valid reviewers: {', '.join(error.suggestions)}"
        else:
            body["suggestion"] = "Add a reviewer with `assay users add EMAIL --org ORG`"
        return 404, body
    return error.status, {"error": error.message}
