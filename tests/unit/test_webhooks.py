"""Webhook signing (the Standard Webhooks test vector) and the address rule."""

from __future__ import annotations

import pytest

from shared.settings import Settings
from shared.webhooks.signing import new_secret, sign
from shared.webhooks.urls import is_dev_host, is_public_address


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


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("8.8.8.8", True),
        ("2606:4700:4700::1111", True),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.0.1", False),
        ("127.0.0.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("0.0.0.0", False),
        ("::1", False),
        ("fd00::1", False),
        ("::ffff:10.0.0.1", False),
        ("224.0.0.1", False),
    ],
)
def test_only_public_addresses_pass(address: str, public: bool) -> None:
    assert is_public_address(address) is public


def test_dev_hosts_match_by_host_or_host_and_port() -> None:
    settings = Settings(COSMOS_ENDPOINT="https://x", WEBHOOK_DEV_HOSTS="127.0.0.1, receiver:8080")

    assert is_dev_host(settings, "127.0.0.1", 5555)
    assert is_dev_host(settings, "receiver", 8080)
    assert not is_dev_host(settings, "receiver", 8081)
    assert not is_dev_host(settings, "localhost", 80)
