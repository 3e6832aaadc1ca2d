"""The SSRF-safe fetcher against hostile URLs (names resolved by a stub resolver) and local servers."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from PIL import Image

from shared.net.fetcher import FetchPolicy, FetchRefused, SafeFetcher, refusal_for_address

# What the stub resolver answers for each name: public names, and names that rebind to internal addresses.
DNS = {
    "images.example.com": ["203.0.113.10"],
    "rebind.example.com": ["10.0.0.5"],
    "mixed.example.com": ["203.0.113.10", "192.168.1.20"],
    "metadata.example.com": ["169.254.169.254"],
    "wireserver.example.com": ["168.63.129.16"],
    "cgnat.example.com": ["100.64.1.1"],
    "loop.example.com": ["127.0.0.1"],
    "v6loop.example.com": ["::1"],
    "ula.example.com": ["fd12:3456::1"],
    "mapped.example.com": ["::ffff:10.0.0.1"],
    "linklocal6.example.com": ["fe80::1"],
    "multicast.example.com": ["224.0.0.251"],
    "zero.example.com": ["0.0.0.0"],
    # IPv6 transition addresses wrapping loopback and private IPv4 addresses.
    "sixtofour.example.com": ["2002:7f00:1::"],
    "teredo.example.com": ["2001:0:4136:e378:8000:63bf:80ff:fffe"],
    "nat64.example.com": ["64:ff9b::a00:1"],
}
ALLOWED = ["images.example.com", *DNS]


async def stub_resolver(host: str, port: int) -> list[str]:
    if host not in DNS:
        raise OSError("name does not resolve")
    return DNS[host]


def _fetcher(*, dev_hosts: tuple[str, ...] = (), max_bytes: int = 20 * 1024 * 1024) -> SafeFetcher:
    policy = FetchPolicy.build(
        allowed_hosts=ALLOWED,
        dev_http_hosts=dev_hosts,
        own_storage_url="https://ourimages.blob.core.windows.net",
        max_bytes=max_bytes,
        timeout_seconds=2,
    )
    return SafeFetcher(policy, resolver=stub_resolver)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://images.example.com/a.png", "only https"),
        ("ftp://images.example.com/a.png", "only https"),
        ("file:///etc/passwd", "no host"),
        ("data:image/png;base64,AAAA", "no host"),
        ("gopher://images.example.com/", "only https"),
        ("https://evil.example.net/a.png", "not on the allowlist"),
        ("https://images.example.com.evil.net/a.png", "not on the allowlist"),
        ("https://user:pw@images.example.com/a.png", "credentials"),
        ("https://rebind.example.com/a.png", "private"),
        ("https://mixed.example.com/a.png", "private"),
        ("https://metadata.example.com/latest", "metadata"),
        ("https://wireserver.example.com/", "metadata"),
        ("https://cgnat.example.com/a.png", "carrier-grade NAT"),
        ("https://loop.example.com/a.png", "loopback"),
        ("https://v6loop.example.com/a.png", "loopback"),
        ("https://ula.example.com/a.png", "unique-local"),
        ("https://mapped.example.com/a.png", "IPv4-mapped"),
        ("https://linklocal6.example.com/a.png", "link-local"),
        ("https://multicast.example.com/a.png", "multicast"),
        ("https://zero.example.com/a.png", "unspecified"),
        ("https://sixtofour.example.com/a.png", r"6to4 address \(it carries 127\.0\.0\.1\)"),
        ("https://teredo.example.com/a.png", r"Teredo address \(it carries 127\.0\.0\.1\)"),
        ("https://nat64.example.com/a.png", r"NAT64 address \(it carries 10\.0\.0\.1\)"),
        ("https://127.0.0.1/a.png", "not on the allowlist"),
        ("https://[::1]/a.png", "not on the allowlist"),
        ("https://169.254.169.254/latest/meta-data", "not on the allowlist"),
        ("https://ourimages.blob.core.windows.net:99999/x", "malformed"),
    ],
)
async def test_hostile_urls_are_refused(url: str, reason: str) -> None:
    with pytest.raises(FetchRefused, match=reason):
        await _fetcher().fetch_image(url)


@pytest.mark.parametrize(
    ("address", "refused"),
    [
        ("8.8.8.8", None),
        ("2606:4700::1111", None),
        ("10.1.2.3", "a private or reserved address"),
        ("172.16.0.1", "a private or reserved address"),
        ("192.168.0.1", "a private or reserved address"),
        ("169.254.1.1", "a link-local address"),
        ("169.254.169.254", "a cloud metadata address"),
        ("168.63.129.16", "a cloud metadata address"),
        ("100.127.255.254", "a carrier-grade NAT address"),
        ("::ffff:8.8.8.8", "an IPv4-mapped IPv6 address"),
        ("::", "the unspecified address"),
        ("ff02::1", "a multicast address"),
        # 6to4, Teredo and NAT64 deliver to the IPv4 address they carry: refused whatever it is.
        ("2002:7f00:1::", "a 6to4 address (it carries 127.0.0.1)"),
        ("2002:a9fe:a9fe::1", "a 6to4 address (it carries 169.254.169.254)"),
        ("2002:808:808::1", "a 6to4 address (it carries 8.8.8.8)"),
        ("2001:0:4136:e378:8000:63bf:80ff:fffe", "a Teredo address (it carries 127.0.0.1)"),
        ("2001:0:4136:e378:8000:63bf:f5ff:fffe", "a Teredo address (it carries 10.0.0.1)"),
        ("64:ff9b::7f00:1", "a NAT64 address (it carries 127.0.0.1)"),
        ("64:ff9b::a9fe:a9fe", "a NAT64 address (it carries 169.254.169.254)"),
        ("64:ff9b::808:808", "a NAT64 address (it carries 8.8.8.8)"),
        ("64:ff9b:1::c0a8:1", "a NAT64 address (it carries 192.168.0.1)"),
        ("::127.0.0.1", "an IPv4-compatible IPv6 address (it carries 127.0.0.1)"),
        ("2001:4860:4860::8888", None),
    ],
)
def test_address_vetting(address: str, refused: str | None) -> None:
    assert refusal_for_address(address) == refused


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (1, 2, 3)).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
async def origin() -> AsyncIterator[TestServer]:
    """A plain-http server on loopback, reached through a name only the stub resolver knows."""
    png = _png()

    async def image(request: web.Request) -> web.Response:
        return web.Response(body=png, content_type="image/png")

    async def text(request: web.Request) -> web.Response:
        return web.Response(text="<html>hello</html>")

    async def huge(request: web.Request) -> web.Response:
        return web.Response(body=png + b"\0" * 5000)

    async def to_metadata(request: web.Request) -> web.Response:
        raise web.HTTPFound("http://metadata.example.com/latest/meta-data")

    async def to_image(request: web.Request) -> web.Response:
        raise web.HTTPFound("/image.png")

    app = web.Application()
    for path, handler in [
        ("/image.png", image),
        ("/text", text),
        ("/huge", huge),
        ("/to-metadata", to_metadata),
        ("/to-image", to_image),
    ]:
        app.router.add_get(path, handler)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    DNS["assets.test"] = ["127.0.0.1"]
    try:
        yield server
    finally:
        DNS.pop("assets.test", None)
        await server.close()


async def test_a_dev_http_host_is_fetched_at_the_pinned_address(origin: TestServer) -> None:
    # `assets.test` exists only in the stub resolver: the connection can only have gone to its answer.
    fetcher = _fetcher(dev_hosts=(f"assets.test:{origin.port}",))

    image = await fetcher.fetch_image(f"http://assets.test:{origin.port}/image.png")

    assert image.mime_type == "image/png"
    assert image.data == _png()


async def test_a_redirect_is_vetted_again(origin: TestServer) -> None:
    fetcher = _fetcher(dev_hosts=(f"assets.test:{origin.port}",))

    assert (await fetcher.fetch_image(f"http://assets.test:{origin.port}/to-image")).mime_type == "image/png"
    with pytest.raises(FetchRefused, match="only https"):
        await fetcher.fetch_image(f"http://assets.test:{origin.port}/to-metadata")


async def test_loopback_is_refused_for_any_host_not_listed_as_a_dev_host(origin: TestServer) -> None:
    with pytest.raises(FetchRefused, match="only https"):
        await _fetcher(dev_hosts=("assets.test:1",)).fetch_image(
            f"http://assets.test:{origin.port}/image.png"
        )


async def test_the_body_is_cut_at_the_size_cap_and_must_be_an_image(origin: TestServer) -> None:
    fetcher = _fetcher(dev_hosts=(f"assets.test:{origin.port}",), max_bytes=len(_png()) + 100)

    with pytest.raises(FetchRefused, match="larger than"):
        await fetcher.fetch_image(f"http://assets.test:{origin.port}/huge")
    with pytest.raises(FetchRefused, match="not return a PNG, JPEG or WebP"):
        await fetcher.fetch_image(f"http://assets.test:{origin.port}/text")


async def test_without_an_allowlist_any_public_host_passes_and_every_address_rule_stays() -> None:
    # Seed 000's policy (SEED000_FETCH_PUBLIC_HOSTS): no host allowlist, the same address vetting.
    DNS["cdn.example.net"] = ["93.184.216.34"]
    try:
        public = SafeFetcher(
            FetchPolicy.build(
                allowed_hosts=None,
                dev_http_hosts=(),
                own_storage_url="https://ourimages.blob.core.windows.net",
                max_bytes=1000,
                timeout_seconds=2,
            ),
            resolver=stub_resolver,
        )

        await public.check("https://cdn.example.net/a.png")
        with pytest.raises(FetchRefused, match="not on the allowlist"):
            await _fetcher().check("https://cdn.example.net/a.png")
        for url, reason in [
            ("http://cdn.example.net/a.png", "only https"),
            ("https://rebind.example.com/a.png", "private"),
            ("https://metadata.example.com/latest", "metadata"),
            ("https://169.254.169.254/latest", "metadata"),
            ("https://127.0.0.1/a.png", "loopback"),
            ("https://[::1]/a.png", "loopback"),
            ("https://[2002:7f00:1::]/a.png", "6to4"),
            ("https://sixtofour.example.com/a.png", "6to4"),
            ("https://user:pw@cdn.example.net/a.png", "credentials"),
        ]:
            with pytest.raises(FetchRefused, match=reason):
                await public.fetch_image(url)
    finally:
        DNS.pop("cdn.example.net", None)
