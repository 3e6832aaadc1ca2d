"""Whether the service's SDK clients read the environment's proxy settings."""

from __future__ import annotations

from shared.settings import Settings


def reads_proxy_environment(settings: Settings) -> bool:
    """True when an outbound proxy is configured. A client that trusts the environment (azure-core's
    `use_env_settings`, aiohttp's `trust_env`) looks up the proxy variables and reads `~/.netrc` on every
    request (about 6 % of a job's CPU); without a proxy configured that work finds nothing, so it is
    skipped."""
    return bool(settings.outbound_proxy)
