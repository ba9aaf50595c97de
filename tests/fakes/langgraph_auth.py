"""API-key authentication for the ``langgraph dev`` server of the tests (LangGraph custom auth).

A deployment on the LangGraph Platform refuses a request without its key; the dev server
does the same with this handler, so the tests see the real 401 a wrong or missing key gets.
Loaded by the dev server from its own environment, never imported by the tests.
"""

from __future__ import annotations

from langgraph_sdk import Auth

from tests.fakes.booking_agent import API_KEY

auth = Auth()


@auth.authenticate
async def authenticate(headers: dict[bytes, bytes]) -> str:
    if headers.get(b"x-api-key") != API_KEY.encode():
        raise Auth.exceptions.HTTPException(status_code=401, detail="Invalid or missing API key")
    return "assay-tests"
