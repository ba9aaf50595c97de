"""A python agent outside ASSAY_PYTHON_AGENT_MODULES is refused before its module is imported.

Importing runs the module's top-level code inside the server, so the allowlist must be
checked first; the server runs in this process, so ``sys.modules`` shows what it imported.
"""

from __future__ import annotations

import sys

from tests.factories import RunningAssay

#: A standard-library module nothing in Assay or its tests imports.
UNUSED_MODULE = "tabnanny"


async def test_a_refused_python_agents_module_is_never_imported(assay: RunningAssay):
    assert UNUSED_MODULE not in sys.modules
    async with assay.client(await assay.key()) as client:
        response = await client.post(
            "/v1/agents",
            json={"kind": "python", "config": {"callable": f"{UNUSED_MODULE}:check"}},
        )
    assert response.status_code == 403, response.text
    assert "ASSAY_PYTHON_AGENT_MODULES" in response.json()["detail"]
    assert UNUSED_MODULE not in sys.modules
