"""`GET /api/playground`: a page to try the API in a browser, and its script and style sheet.

The page holds no data and needs no credentials: it asks its user for an API key (kept in the browser's
localStorage) and calls only the public API, on the origin it was served from. Its files are plain
HTML, JavaScript and CSS in `shared/playground/` (no build step, no CDN). The Content-Security-Policy
allows scripts, styles and requests from this origin only, and images from it and from the storage
account (or CDN) image URLs point at. `PLAYGROUND_ENABLED=false` answers 404.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

import azure.functions as func

from shared.app_context import get_context
from shared.errors import ApiError, not_found
from shared.http.endpoint import Auth, endpoint
from shared.models.errors import ErrorCode
from shared.settings import get_settings

bp = func.Blueprint()

STATIC_DIR = Path(__file__).resolve().parents[1] / "playground"
PAGE = "index.html"
# The only files served: a name outside this table is a 404, never a path into the file system.
ASSETS = {"app.js": "text/javascript", "app.css": "text/css"}


@dataclass(frozen=True)
class _File:
    data: bytes
    etag: str


@lru_cache(maxsize=len(ASSETS) + 1)
def _read(name: str) -> _File:
    data = (STATIC_DIR / name).read_bytes()
    return _File(data=data, etag='"' + hashlib.sha256(data).hexdigest()[:32] + '"')


def _origin(url: str | None) -> str | None:
    if not url:
        return None
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else None


def content_security_policy(image_origins: list[str]) -> str:
    images = " ".join(["'self'", "data:", "blob:", *image_origins])
    return (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        f"img-src {images}; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"
    )


def _security_headers() -> dict[str, str]:
    ctx = get_context()
    origins = {_origin(ctx.images.account_url), _origin(ctx.settings.images_public_base_url)}
    return {
        "Content-Security-Policy": content_security_policy(sorted(o for o in origins if o)),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "X-Frame-Options": "DENY",
        "Cross-Origin-Opener-Policy": "same-origin",
        # Revalidated on every load (cheap with the ETag) so a deployment's new page is seen at once.
        "Cache-Control": "no-cache",
    }


def _serve(req: func.HttpRequest, name: str, mimetype: str) -> func.HttpResponse:
    if not get_settings().playground_enabled:
        raise ApiError(
            404, ErrorCode.NOT_FOUND, "The playground is switched off on this service (PLAYGROUND_ENABLED)."
        )
    file = _read(name)
    headers = {**_security_headers(), "ETag": file.etag}
    if req.headers.get("if-none-match") == file.etag:
        return func.HttpResponse(status_code=304, headers=headers)
    return func.HttpResponse(file.data, status_code=200, headers=headers, mimetype=mimetype, charset="utf-8")


@endpoint(
    bp, "GET", "playground", summary="The playground: a page to try the API in a browser", auth=Auth.NONE,
    responses={200: "text/html", 304: None}, errors=(404,),
)  # fmt: skip
async def playground_page(req: func.HttpRequest) -> func.HttpResponse:
    return _serve(req, PAGE, "text/html")


@endpoint(
    bp, "GET", "playground/{asset}", summary="The playground's script and style sheet", auth=Auth.NONE,
    responses={200: "text/javascript,text/css", 304: None}, errors=(404,),
)  # fmt: skip
async def playground_asset(req: func.HttpRequest) -> func.HttpResponse:
    name = req.route_params.get("asset", "")
    if name not in ASSETS:
        raise not_found(f"Playground file {name!r}")
    return _serve(req, name, ASSETS[name])
