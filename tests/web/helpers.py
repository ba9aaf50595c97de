"""Signing in to the UI with a plain HTTP client, as a browser's forms do."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx

from tests.factories import RunningAssay

_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "the page has no CSRF field"
    return match.group(1)


@asynccontextmanager
async def signed_in(assay: RunningAssay, key: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client holding a UI session of ``key`` (cookies kept, redirects not followed)."""
    async with httpx.AsyncClient(base_url=assay.url, timeout=30) as client:
        form = await client.get("/ui/login")
        response = await client.post(
            "/ui/login",
            data={"csrf": csrf_of(form.text), "api_key": key, "next": "/ui/evaluations"},
        )
        assert response.status_code == 303, response.text
        yield client


async def page_csrf(client: httpx.AsyncClient) -> str:
    return csrf_of((await client.get("/ui/evaluations")).text)


async def start_trust(assay: RunningAssay, key: str, harness: str = "safety", **extra: str) -> str:
    async with assay.client(key) as api:
        response = await api.post(
            "/v1/evaluations",
            json={"harnesses": [harness], "model_hub": "openai", "model_name": "m", **extra},
        )
    assert response.status_code == 200, response.text
    return str(response.json()["id"])
