from __future__ import annotations

import pytest
from pydantic import ValidationError

from shared.settings import Settings


def test_lists_and_mappings_parse_from_flat_app_settings() -> None:
    settings = Settings(
        COSMOS_ENDPOINT="https://x",
        GEMINI_MODELS="a, b,,c",
        AZURE_OPENAI_DEPLOYMENTS="gpt-image-1=gpt-image, dall-e-3=dall-e-3",
    )

    assert settings.gemini_models == ["a", "b", "c"]
    assert settings.azure_openai_deployments == {"gpt-image-1": "gpt-image", "dall-e-3": "dall-e-3"}
    assert settings.jobs_poison_queue == "generation-jobs-poison"


def test_use_development_storage_expands_to_azurite() -> None:
    settings = Settings(COSMOS_ENDPOINT="https://x", AzureWebJobsStorage="UseDevelopmentStorage=true")

    assert settings.storage_connection_string is not None
    assert "AccountName=devstoreaccount1" in settings.storage_connection_string.get_secret_value()


def test_a_missing_required_setting_names_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COSMOS_ENDPOINT", raising=False)
    with pytest.raises(ValidationError, match="COSMOS_ENDPOINT"):
        Settings()


def test_a_malformed_mapping_is_refused() -> None:
    with pytest.raises(ValidationError, match="name=value"):
        Settings(COSMOS_ENDPOINT="https://x", AZURE_OPENAI_DEPLOYMENTS="gpt-image-1")


def test_the_compat_waits_are_the_documents_unless_set_per_family() -> None:
    defaults = Settings(COSMOS_ENDPOINT="https://x")
    tuned = Settings(COSMOS_ENDPOINT="https://x", COMPAT_WAIT_SECONDS="seed002=15, seed000=2.5")

    assert [defaults.compat_wait(family) for family in ("seed000", "seed002", "seed003")] == [60, 180, 120]
    assert [tuned.compat_wait(family) for family in ("seed000", "seed002", "seed003")] == [2.5, 15, 120]


def test_a_retired_wait_setting_is_honoured_where_compat_wait_seconds_is_silent_and_warned_of() -> None:
    settings = Settings(
        COSMOS_ENDPOINT="https://x",
        COMPAT_WAIT_SECONDS="seed002=15",
        SEED000_WAIT_SECONDS="30",
        SEED002_SYNC_WAIT_SECONDS="90",
    )

    assert [settings.compat_wait(family) for family in ("seed000", "seed002", "seed003")] == [30, 15, 120]
    assert settings.retired_setting_warnings() == [
        "SEED000_WAIT_SECONDS is retired: still honoured; set COMPAT_WAIT_SECONDS=seed000=30 instead, "
        "and remove SEED000_WAIT_SECONDS.",
        "SEED002_SYNC_WAIT_SECONDS is retired: ignored, as COMPAT_WAIT_SECONDS sets seed002, "
        "and remove SEED002_SYNC_WAIT_SECONDS.",
    ]
    assert Settings(COSMOS_ENDPOINT="https://x").retired_setting_warnings() == []


@pytest.mark.parametrize(
    ("value", "complaint"),
    [("seed009=10", "unknown family 'seed009'"), ("seed002=0", r"not in \(0, 220\]"), ("seed003=221", "221")],
)
def test_a_compat_wait_of_no_family_or_past_the_front_end_limit_is_refused(
    value: str, complaint: str
) -> None:
    with pytest.raises(ValidationError, match=complaint):
        Settings(COSMOS_ENDPOINT="https://x", COMPAT_WAIT_SECONDS=value)


def test_secrets_do_not_print() -> None:
    settings = Settings(COSMOS_ENDPOINT="https://x", COSMOS_KEY="very-secret")

    assert "very-secret" not in repr(settings)


def test_settings_are_read_from_the_environment_by_app_setting_name_whatever_its_case(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COSMOS_ENDPOINT", "https://account.documents.azure.com:443/")
    monkeypatch.setenv("gemini_models", "gemini-2.5-flash-image, gemini-3-pro-image-preview")
    monkeypatch.setenv("Provider_Quotas", "gemini/gemini-2.5-flash-image=rpm:30")
    monkeypatch.setenv("cosmos_database", "images")

    settings = Settings()

    assert settings.cosmos_endpoint == "https://account.documents.azure.com:443/"
    assert settings.gemini_models == ["gemini-2.5-flash-image", "gemini-3-pro-image-preview"]
    assert settings.cosmos_database == "images"
    assert settings.provider_quotas["gemini/gemini-2.5-flash-image"].requests_per_minute == 30


def test_the_first_of_a_settings_names_that_is_set_wins_and_a_given_value_beats_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COSMOS_ENDPOINT", "https://from-the-environment")
    monkeypatch.setenv("HTTP_PROXY", "http://plain-proxy:3128")
    monkeypatch.setenv("HTTPS_PROXY", "http://tls-proxy:3128")
    monkeypatch.setenv("JOBS_QUEUE", "queue-from-the-environment")

    settings = Settings(COSMOS_ENDPOINT="https://given", jobs_queue="given-queue")

    assert settings.cosmos_endpoint == "https://given"
    assert settings.jobs_queue == "given-queue"
    assert settings.outbound_proxy == "http://tls-proxy:3128"


def test_a_refused_environment_value_names_its_app_setting_and_is_not_quoted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COSMOS_ENDPOINT", "https://x")
    monkeypatch.setenv("CREDIT_COSTS", "standard=secret-looking-value")

    with pytest.raises(ValidationError, match="CREDIT_COSTS") as refused:
        Settings()

    assert "secret-looking-value" not in str(refused.value)
