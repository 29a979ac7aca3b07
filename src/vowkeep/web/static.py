"""Static files of vowkeep's own pages, served from the package (no CDN, no build step)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import Response

from vowkeep.policy.render import notice_css

STATIC = Path(__file__).parent / "static"
router = APIRouter(include_in_schema=False)
_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".svg": "image/svg+xml"}
_CACHE = "public, max-age=3600"


@router.get("/static/notice.css")
def notice_stylesheet():
    return Response(notice_css(), media_type=_TYPES[".css"], headers={"Cache-Control": _CACHE})


@router.get("/static/{name}")
def static_file(name: str):
    path = STATIC / name
    # Only plain file names of this folder: no sub-paths, no dot-files.
    if "/" in name or name.startswith(".") or path.suffix not in _TYPES or not path.is_file():
        return Response("not found", status_code=404, media_type="text/plain")
    return Response(path.read_bytes(), media_type=_TYPES[path.suffix], headers={"Cache-Control": _CACHE})
