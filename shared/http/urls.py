"""Absolute URLs of API resources, for status links in answers."""

from __future__ import annotations

from urllib.parse import urlsplit

import azure.functions as func

from shared.settings import Settings


def api_base_url(req: func.HttpRequest, settings: Settings) -> str:
    """`https://host/api`: from PUBLIC_API_BASE_URL when a gateway fronts the app, else from the request."""
    if settings.public_api_base_url:
        return settings.public_api_base_url.rstrip("/")
    parts = urlsplit(req.url)
    prefix = settings.http_route_prefix.strip("/")
    return f"{parts.scheme}://{parts.netloc}" + (f"/{prefix}" if prefix else "")
