"""Management pages: what an organization registers and configures.

Each page calls the services its API routes call, so tenancy and roles are the API's (a
reviewer sees, cannot create). ``ROUTERS`` is what ``web/mount.py`` includes.
"""

from __future__ import annotations

from fastapi import APIRouter

from assay.web.manage import benchmarks, hub, keys, projects, targets

ROUTERS: tuple[APIRouter, ...] = (
    hub.router,
    targets.router,
    projects.router,
    benchmarks.router,
    keys.router,
)
