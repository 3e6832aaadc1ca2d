"""The one way the service reaches a URL someone else gave it: reference images (GET) and webhooks (POST).

Seed 003's allowlist rules and OWASP's SSRF guidance: https only (plain http only for development hosts
named in settings); the host must be allowlisted (the service's own storage account always is); the name
is resolved once, every address is vetted, and the connection goes to a vetted address (a resolver pinned
to it, so a second lookup cannot rebind the name); redirects are followed only after the same vetting,
hop by hop; one timeout covers the whole fetch; the body is streamed and cut at the size cap; its magic
bytes must say PNG, JPEG or WebP.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult

from shared.images.sniff import sniff_mime

logger = logging.getLogger(__name__)

Resolver = Callable[[str, int], Awaitable[list[str]]]
"""Name → IP address strings. Injectable so tests can make a name resolve anywhere."""

# Azure's instance metadata service and the platform's wire server: never reachable, whatever else holds.
_ALWAYS_REFUSED = {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("168.63.129.16")}
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
# IPv6 transition ranges carry an IPv4 address a relay or gateway delivers to: 6to4 (RFC 3056) wraps any
# IPv4 address, `2002:7f00:1::` is 127.0.0.1; Teredo (RFC 4380) its client's; NAT64 (RFC 6052, RFC 8215)
# whatever the embedded address is, through a gateway that may sit inside a private network; the
# IPv4-compatible form is deprecated. They are refused outright rather than decoded and vetted: where the
# packet ends up depends on relays the service does not control, a public image host is reachable at its
# own IPv4 or native IPv6 address, and Python's `ipaddress` classifies these ranges differently from one
# version to the next (so `is_private` alone would make the rule depend on the interpreter).
_TRANSITION_NETWORKS = (
    (ipaddress.ip_network("2002::/16"), "a 6to4 address"),
    (ipaddress.ip_network("2001::/32"), "a Teredo address"),
    (ipaddress.ip_network("64:ff9b::/96"), "a NAT64 address"),
    (ipaddress.ip_network("64:ff9b:1::/48"), "a NAT64 address"),
    (ipaddress.ip_network("::/96"), "an IPv4-compatible IPv6 address"),
)
_REDIRECTS = {301, 302, 303, 307, 308}


class FetchRefused(Exception):
    """The URL, an address it resolves to, or what it answered is not acceptable."""


@dataclass(frozen=True)
class FetchPolicy:
    # `host` or `host:port`, lower case; None: any host (webhooks), still only at public addresses.
    allowed_hosts: frozenset[str] | None
    dev_http_hosts: frozenset[str]  # `host:port` (or `host`): plain http, exempt from the address check
    max_bytes: int
    timeout_seconds: float
    max_redirects: int = 3

    @classmethod
    def build(
        cls,
        *,
        allowed_hosts: Iterable[str] | None,
        dev_http_hosts: Iterable[str],
        own_storage_url: str | None,
        max_bytes: int,
        timeout_seconds: float,
    ) -> FetchPolicy:
        allowed: frozenset[str] | None = None
        if allowed_hosts is not None:
            hosts = {host.strip().lower() for host in allowed_hosts if host.strip()}
            if own_storage_url:
                hosts.add(urlsplit(own_storage_url).netloc.lower())
            allowed = frozenset(hosts)
        return cls(
            allowed_hosts=allowed,
            dev_http_hosts=frozenset(host.strip().lower() for host in dev_http_hosts if host.strip()),
            max_bytes=max_bytes,
            timeout_seconds=timeout_seconds,
        )


@dataclass(frozen=True)
class FetchedImage:
    data: bytes
    mime_type: str


async def system_resolver(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


def refusal_for_address(address: str) -> str | None:
    """Why an address may not be dialled, or None when it is a public unicast address."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if ip in _ALWAYS_REFUSED:
        return "a cloud metadata address"
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return "an IPv4-mapped IPv6 address"
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_unspecified:
        return "the unspecified address"
    if isinstance(ip, ipaddress.IPv6Address):
        for network, kind in _TRANSITION_NETWORKS:
            if ip in network:
                return f"{kind} (it carries {_embedded_ipv4(ip)})"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_multicast:
        return "a multicast address"
    if isinstance(ip, ipaddress.IPv4Address) and ip in _CGNAT:
        return "a carrier-grade NAT address"
    if isinstance(ip, ipaddress.IPv6Address) and ip in ipaddress.ip_network("fc00::/7"):
        return "an IPv6 unique-local address"
    if ip.is_private or ip.is_reserved or not ip.is_global:
        return "a private or reserved address"
    return None


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address:
    """The IPv4 address a transition address delivers to (for the refusal's message)."""
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)


class _PinnedResolver(AbstractResolver):
    """Answers every lookup of the vetted name with the vetted address: the socket goes where we checked."""

    def __init__(self, hostname: str, address: str) -> None:
        self._hostname = hostname
        self._address = address

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        if host.lower() != self._hostname:
            raise OSError(f"unexpected lookup of {host!r}")
        ip = ipaddress.ip_address(self._address)
        return [
            ResolveResult(
                hostname=host,
                host=self._address,
                port=port,
                family=socket.AF_INET6 if ip.version == 6 else socket.AF_INET,
                proto=0,
                flags=socket.AI_NUMERICHOST,
            )
        ]

    async def close(self) -> None:
        return None


class SafeFetcher:
    def __init__(self, policy: FetchPolicy, *, resolver: Resolver = system_resolver) -> None:
        self._policy = policy
        self._resolver = resolver

    async def fetch_image(self, url: str) -> FetchedImage:
        """The image at `url`, or FetchRefused saying why not."""
        try:
            async with asyncio.timeout(self._policy.timeout_seconds):
                return await self._follow(url)
        except TimeoutError as exc:
            raise FetchRefused(f"the URL did not answer within {self._policy.timeout_seconds:g} s") from exc
        except aiohttp.ClientError as exc:
            raise FetchRefused(f"the URL could not be fetched ({type(exc).__name__})") from exc

    async def check(self, url: str) -> None:
        """FetchRefused when `url` may not be reached (checked again, and pinned, when it is)."""
        await self._vet(url)

    async def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> int:
        """POST `body` to `url` at its vetted address, redirects not followed; the answer's status."""
        try:
            async with asyncio.timeout(self._policy.timeout_seconds):
                host, _port, address = await self._vet(url)
                connector = aiohttp.TCPConnector(resolver=_PinnedResolver(host, address), use_dns_cache=False)
                async with (
                    aiohttp.ClientSession(connector=connector, trust_env=False) as session,
                    session.post(url, data=body, headers=dict(headers), allow_redirects=False) as response,
                ):
                    await response.content.read(self._policy.max_bytes)
                    return response.status
        except TimeoutError as exc:
            raise FetchRefused(f"the URL did not answer within {self._policy.timeout_seconds:g} s") from exc
        except aiohttp.ClientError as exc:
            raise FetchRefused(f"the URL could not be reached ({type(exc).__name__})") from exc

    async def _follow(self, url: str) -> FetchedImage:
        for _hop in range(self._policy.max_redirects + 1):
            host, port, address = await self._vet(url)
            status, location, data = await self._get(url, host, address)
            if status in _REDIRECTS and location:
                url = urljoin(url, location)
                continue
            if status != 200:
                raise FetchRefused(f"the URL answered HTTP {status}")
            mime = sniff_mime(data)
            if mime is None:
                raise FetchRefused("the URL did not return a PNG, JPEG or WebP image")
            return FetchedImage(data=data, mime_type=mime)
        raise FetchRefused(f"more than {self._policy.max_redirects} redirects")

    async def _vet(self, url: str) -> tuple[str, int, str]:
        """The host, port and the vetted address to connect to; FetchRefused when any rule fails."""
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as exc:
            raise FetchRefused("the URL is malformed") from exc
        scheme = parts.scheme.lower()
        host = (parts.hostname or "").lower()
        if not host:
            raise FetchRefused("the URL has no host")
        if parts.username is not None or parts.password is not None:
            raise FetchRefused("URLs with credentials are not fetched")
        port = port or (443 if scheme == "https" else 80)
        netloc = f"{host}:{port}"
        dev_host = netloc in self._policy.dev_http_hosts or host in self._policy.dev_http_hosts
        if scheme != "https" and not (scheme == "http" and dev_host):
            raise FetchRefused(f"only https URLs are fetched, not {scheme or 'this'}:")
        allowed = self._policy.allowed_hosts
        if not dev_host and allowed is not None and host not in allowed and netloc not in allowed:
            raise FetchRefused(f"the host {host} is not on the allowlist")
        addresses = [host] if _is_ip_literal(host) else await self._resolve(host, port)
        if not addresses:
            raise FetchRefused(f"the host {host} does not resolve")
        if not dev_host:
            for address in addresses:
                reason = refusal_for_address(address)
                if reason:
                    raise FetchRefused(f"the host {host} resolves to {reason}")
        return host, port, addresses[0]

    async def _resolve(self, host: str, port: int) -> list[str]:
        try:
            return await self._resolver(host, port)
        except OSError as exc:
            raise FetchRefused(f"the host {host} does not resolve") from exc

    async def _get(self, url: str, host: str, address: str) -> tuple[int, str | None, bytes]:
        connector = aiohttp.TCPConnector(resolver=_PinnedResolver(host, address), use_dns_cache=False)
        async with (
            aiohttp.ClientSession(connector=connector, trust_env=False) as session,
            session.get(url, allow_redirects=False) as response,
        ):
            if response.status != 200:
                return response.status, response.headers.get("Location"), b""
            declared = response.content_length
            if declared is not None and declared > self._policy.max_bytes:
                raise FetchRefused(f"the image is larger than {self._policy.max_bytes} bytes")
            body = bytearray()
            async for chunk in response.content.iter_chunked(64 * 1024):
                body.extend(chunk)
                if len(body) > self._policy.max_bytes:
                    raise FetchRefused(f"the image is larger than {self._policy.max_bytes} bytes")
            return 200, None, bytes(body)


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True
