"""/docs and /redoc load their assets from this server, and the API declares bearer auth."""

from __future__ import annotations

import re

from tests.factories import RunningAssay


async def test_docs_pages_use_only_assets_shipped_in_the_package(assay: RunningAssay):
    async with assay.client(None) as client:
        for path in ("/docs", "/redoc"):
            page = await client.get(path)
            assert page.status_code == 200
            assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
            assert assets and all(a.startswith("/ui/static/vendor/") for a in assets), assets
            for asset in assets:
                assert (await client.get(asset)).status_code == 200, asset


async def test_openapi_declares_the_bearer_scheme_on_protected_operations(assay: RunningAssay):
    async with assay.client(None) as client:
        document = (await client.get("/openapi.json")).json()
    scheme = document["components"]["securitySchemes"]["ApiKey"]
    assert scheme == {
        "type": "http",
        "scheme": "bearer",
        "description": "An Assay API key: `assay keys create`.",
    }
    create = document["paths"]["/v1/evaluations"]["post"]
    assert create["security"] == [{"ApiKey": []}]
    assert "security" not in document["paths"]["/healthz"]["get"]
