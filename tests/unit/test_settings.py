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


def test_secrets_do_not_print() -> None:
    settings = Settings(COSMOS_ENDPOINT="https://x", COSMOS_KEY="very-secret")

    assert "very-secret" not in repr(settings)
