"""Which webhook URLs a job may name, and the fetcher deliveries go through.

The rules are the shared SSRF-safe fetcher's (shared/net/fetcher.py) with no host allowlist: https to a
name whose every address is public (or a development host from WEBHOOK_DEV_HOSTS); a delivery connects to
the address it vetted, so the name cannot be rebound between the check and the connection.
"""

from __future__ import annotations

from shared.errors import invalid_field
from shared.net.fetcher import FetchPolicy, FetchRefused, Resolver, SafeFetcher, system_resolver
from shared.settings import Settings

MAX_URL_LENGTH = 2048
# A receiver's answer is read only to finish the exchange; nothing in it is used.
_MAX_ANSWER_BYTES = 64 * 1024


def webhook_fetcher(settings: Settings, *, resolver: Resolver = system_resolver) -> SafeFetcher:
    return SafeFetcher(
        FetchPolicy.build(
            allowed_hosts=None,
            dev_http_hosts=settings.webhook_dev_hosts,
            own_storage_url=None,
            max_bytes=_MAX_ANSWER_BYTES,
            timeout_seconds=settings.webhook_timeout_seconds,
        ),
        resolver=resolver,
    )


async def check_webhook_url(settings: Settings, url: str) -> str:
    """The URL if a job may name it; else a 400 naming the `webhook` field."""
    if len(url) > MAX_URL_LENGTH:
        reason = f"longer than {MAX_URL_LENGTH} characters"
    else:
        try:
            await webhook_fetcher(settings).check(url)
            return url
        except FetchRefused as exc:
            reason = str(exc)
    raise invalid_field("webhook", reason)
