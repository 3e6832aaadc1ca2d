"""Which webhook URLs a job may name: https to a public address, or a development host from settings.

The name is resolved and every address it resolves to must be public; the delivery checks again when
it connects (the name may have changed since).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

from shared.errors import validation_error
from shared.settings import Settings

MAX_URL_LENGTH = 2048


class WebhookUrlRefused(ValueError):
    """The URL or an address it resolves to is not allowed; the message says why."""


def is_dev_host(settings: Settings, host: str, port: int | None) -> bool:
    allowed = {h.strip().lower() for h in settings.webhook_dev_hosts}
    return host in allowed or (port is not None and f"{host}:{port}" in allowed)


def is_public_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


async def resolve_checked(settings: Settings, url: str) -> tuple[str, int, bool]:
    """(host, port, is a dev host) for an acceptable URL; WebhookUrlRefused otherwise."""
    if len(url) > MAX_URL_LENGTH:
        raise WebhookUrlRefused(f"longer than {MAX_URL_LENGTH} characters")
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError as exc:
        raise WebhookUrlRefused("invalid port") from exc
    host = (parts.hostname or "").lower()
    if not host or parts.scheme not in ("https", "http"):
        raise WebhookUrlRefused("must be an absolute https URL")
    if parts.username or parts.password:
        raise WebhookUrlRefused("must not carry credentials")
    port = port or (443 if parts.scheme == "https" else 80)
    if is_dev_host(settings, host, port):
        return host, port, True
    if parts.scheme != "https":
        raise WebhookUrlRefused("must use https")
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise WebhookUrlRefused(f"host {host!r} does not resolve") from exc
    addresses = {str(info[4][0]) for info in infos}
    refused = sorted(a for a in addresses if not is_public_address(a))
    if not addresses or refused:
        raise WebhookUrlRefused(f"resolves to a private, loopback or reserved address ({', '.join(refused)})")
    return host, port, False


async def check_webhook_url(settings: Settings, url: str) -> str:
    """The URL if a job may name it; else a 400 naming the `webhook` field."""
    try:
        await resolve_checked(settings, url)
    except WebhookUrlRefused as exc:
        raise validation_error(
            f"Invalid request: webhook: {exc}.", details=[{"field": "webhook", "message": str(exc)}]
        ) from exc
    return url
