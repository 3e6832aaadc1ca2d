"""Webhook signing (the Standard Webhooks test vector) and the address rule."""

from __future__ import annotations

import pytest

from shared.net.fetcher import FetchRefused, SafeFetcher
from shared.settings import Settings
from shared.webhooks.signing import new_secret, sign
from shared.webhooks.urls import webhook_fetcher


def test_signatures_match_the_standard_webhooks_example() -> None:
    # The example from the Standard Webhooks specification.
    signature = sign(
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "msg_p5jXN8AQM9LWM0D4loKWxJek",
        1614265330,
        '{"test": 2432232314}',
    )

    assert signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_new_secrets_are_whsec_with_32_random_bytes() -> None:
    first, second = new_secret(), new_secret()

    assert first.startswith("whsec_") and len(first) == len("whsec_") + 44
    assert first != second


def _fetcher(settings: Settings, addresses: dict[str, str]) -> SafeFetcher:
    """The webhook fetcher with a stubbed resolver: `name → address`."""

    async def resolve(host: str, port: int) -> list[str]:
        return [addresses[host]]

    return webhook_fetcher(settings, resolver=resolve)


@pytest.mark.parametrize(
    ("address", "refused"),
    [
        ("8.8.8.8", None),
        ("2606:4700:4700::1111", None),
        ("10.1.2.3", "private"),
        ("192.168.0.1", "private"),
        ("127.0.0.1", "loopback"),
        ("169.254.169.254", "metadata"),
        ("100.64.0.1", "carrier-grade"),
        ("fd00::1", "unique-local"),
        ("::ffff:10.0.0.1", "IPv4-mapped"),
    ],
)
async def test_any_public_host_is_a_webhook_target_and_no_other(address: str, refused: str | None) -> None:
    fetcher = _fetcher(Settings(COSMOS_ENDPOINT="https://x"), {"hooks.example.com": address})

    if refused is None:
        await fetcher.check("https://hooks.example.com/hook")  # no allowlist: any public host
    else:
        with pytest.raises(FetchRefused, match=refused):
            await fetcher.check("https://hooks.example.com/hook")


async def test_dev_hosts_match_by_host_or_host_and_port() -> None:
    settings = Settings(COSMOS_ENDPOINT="https://x", WEBHOOK_DEV_HOSTS="127.0.0.1, receiver:8080")
    fetcher = _fetcher(settings, {"receiver": "127.0.0.1", "localhost": "127.0.0.1"})

    await fetcher.check("http://127.0.0.1:5555/hook")
    await fetcher.check("http://receiver:8080/hook")
    with pytest.raises(FetchRefused, match="https"):
        await fetcher.check("http://receiver:8081/hook")
    with pytest.raises(FetchRefused, match="loopback"):
        await fetcher.check("https://localhost/hook")
