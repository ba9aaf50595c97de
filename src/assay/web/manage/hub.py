"""The management hub: one page linking every management page the key may open."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from assay.web.auth import ViewerDep
from assay.web.routes import page

router = APIRouter(prefix="/ui/manage", include_in_schema=False)


@router.get("")
async def hub(request: Request, viewer: ViewerDep) -> HTMLResponse:
    return page(request, "manage/index.html", viewer)
