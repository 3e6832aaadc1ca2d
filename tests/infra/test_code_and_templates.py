"""The templates provide what the code reads: every app setting, container, queue and Cosmos DB container.

The code's names come from `shared/settings.py` and `shared/resources.py` (the lists the local bootstrap
also creates); the templates' from `infra/`, resolved with their default parameters.
"""

from __future__ import annotations

import json
import re
from typing import Any

from shared.resources import COSMOS_CONTAINERS, blob_containers, queues
from shared.settings import Settings, app_setting_names
from tests.infra.bicep import ROOT, Template, config, function_bindings, main, object_entries

# How each app setting the code reads is provided in Azure. The one place this is decided: a setting
# added to `Settings` fails `test_every_setting_is_classified` until it is listed here, and one listed
# as SET_BY_INFRA fails `test_infra_sets_every_setting_azure_needs` until infra/app/function.bicep sets it.
SET_BY_INFRA = {
    "AzureWebJobsStorage__accountName",  # identity-based storage
    "AzureWebJobsStorage__clientId",  # the user-assigned identity (also AZURE_CLIENT_ID)
    "COSMOS_ENDPOINT",
    "COSMOS_DATABASE",
    "JOBS_QUEUE",
    "WEBHOOKS_QUEUE",
    "IMAGES_CONTAINER",
    "THUMBNAILS_CONTAINER",
    "INPUTS_CONTAINER",
    "DEFAULT_PROVIDER",
    "PROVIDER_QUOTAS",  # when `azd env set PROVIDER_QUOTAS ...` declares them
    "GEMINI_API_KEY",  # a Key Vault reference, when a key is given
    "GEMINI_MODELS",
    "AZURE_OPENAI_ENDPOINT",  # when an Azure OpenAI account is given (keyless, with the identity)
    "AZURE_OPENAI_DEPLOYMENTS",
    "AZURE_OPENAI_API_VERSION",
    "AZURE_OPENAI_API_KEY",  # a Key Vault reference, only when a key is given
    "PUBLIC_API_BASE_URL",  # when a gateway fronts the app
    "API_KEY_HASH_SECRET",  # a Key Vault reference, when given
    "ADMIN_API_KEY",  # a Key Vault reference, when given
    "IMAGE_LINK_SIGNING_KEYS",  # a Key Vault reference, when given
    "OIDC_ISSUER",  # when bearer tokens are accepted
    "OIDC_AUDIENCE",
    "PLAYGROUND_ENABLED",  # azd env PLAYGROUND_ENABLED (default true)
    "APPLICATIONINSIGHTS_CONNECTION_STRING",  # traces, metrics and logs go to Application Insights
    "APPLICATIONINSIGHTS_AUTHENTICATION_STRING",  # with the identity: the resource has local auth off
}
# Local development only: in Azure these would weaken security or point at the local emulators.
LOCAL_ONLY = {
    "AzureWebJobsStorage": "a connection string carries the account key; Azure uses the identity",
    "COSMOS_KEY": "Cosmos DB local auth is off in Azure; the identity is used",
    "COSMOS_ENDPOINT_DISCOVERY": "only the single-endpoint local emulator needs discovery off",
    "DEV_API_KEY": "the development tenant's key must not exist in Azure",
    "DEV_TENANT_ID": "only meaningful with DEV_API_KEY",
    "GEMINI_BASE_URL": "points Gemini at the local simulator or a gateway",
    "DEV_API_KEY_RATE_LIMIT": "only meaningful with DEV_API_KEY",
    "WEBHOOK_DEV_HOSTS": "lets webhooks reach plain-http and private hosts; a local receiver only",
    "FETCH_DEV_HTTP_HOSTS": "lets the fetcher reach plain-http loopback storage; the local stack only",
    "TELEMETRY_FILES_DIRECTORY": "files on an instance disk nobody reads; Azure uses Application Insights",
}
# Read in Azure, where the code's default is the right value (override by adding an app setting).
DEFAULT_IN_AZURE = {
    "AzureWebJobsStorage__blobServiceUri",  # derived from the account name
    "AzureWebJobsStorage__queueServiceUri",  # derived from the account name
    "HTTP_ROUTE_PREFIX",
    "STATUS_RETRY_AFTER_SECONDS",
    "IMAGE_URL_TTL_MINUTES",
    "THUMBNAIL_MAX_PIXELS",
    "PROVIDER_TIMEOUT_SECONDS",
    "PROVIDER_MAX_ATTEMPTS",
    "RETRY_BASE_SECONDS",
    "RETRY_MAX_SECONDS",
    "STALE_JOB_MINUTES",
    "JOB_CLAIM_SECONDS",
    "JOB_DEADLINE_MINUTES",
    "QUOTA_MAX_WAIT_MINUTES",
    "RATE_LIMIT_PER_WINDOW",
    "RATE_LIMIT_WINDOW_SECONDS",
    "OIDC_JWKS_URL",  # discovered from the issuer
    "OIDC_JWKS_CACHE_SECONDS",
    "OIDC_TENANT_CLAIM",
    "OIDC_WRITE_SCOPE",
    "OIDC_READ_SCOPE",
    "TRUST_APP_SERVICE_AUTH",  # set it only where App Service Authentication fronts the app
    "HEALTH_TIMEOUT_SECONDS",
    "SYNC_WAIT_MAX_SECONDS",
    "SYNC_POLL_INTERVAL_SECONDS",
    "COMPAT_WAIT_SECONDS",  # unset: each compatibility family waits as its document says
    "IMAGES_PUBLIC_BASE_URL",  # set it where a CDN fronts the images container
    "IMAGES_CONTAINER_PUBLIC",  # public blob access is off in the templates, so the default (false) holds
    "CREDIT_COSTS",
    "DEFAULT_CREDIT_BALANCE",
    "WEBHOOK_MAX_ATTEMPTS",
    "WEBHOOK_RETRY_BASE_SECONDS",
    "WEBHOOK_RETRY_MAX_SECONDS",
    "WEBHOOK_TIMEOUT_SECONDS",
    "PROVIDER_FALLBACKS",  # none by default; add the app setting to enable a fallback chain
    "MAX_IMAGES_PER_JOB",
    "GEMINI_TEXT_MODEL",
    "AZURE_OPENAI_CHAT_DEPLOYMENT",  # none by default: enhancement of Azure jobs is off until it is set
    "REFERENCE_MAX_BYTES",
    "REFERENCE_TOTAL_MAX_BYTES",
    "FETCH_ALLOWED_HOSTS",  # empty by default: only the service's own storage account is fetched
    "FETCH_TIMEOUT_SECONDS",
    "SEED000_MODEL",  # unset: seed 000 jobs use the native default model
    "SEED000_FETCH_PUBLIC_HOSTS",  # on, as seed 000 documents; `false` restricts it to FETCH_ALLOWED_HOSTS
    "SEED002_MAX_SAMPLES",  # 10, seed 002's documented range
    "HTTPS_PROXY",  # none: the SDK clients reach Azure directly
    "SEED000_WAIT_SECONDS",  # retired names of COMPAT_WAIT_SECONDS entries
    "SEED002_SYNC_WAIT_SECONDS",
    "AGENT_IMAGES_WAIT_SECONDS",
}


def _setting_names(name: str) -> list[str]:
    """The app settings a `Settings` field is read from (its first alias names it); every field has one."""
    field = Settings.model_fields[name]
    assert field.validation_alias is not None, name
    return app_setting_names(name, field)


def _function_template() -> Template:
    return main().module("api")


def _app_settings() -> dict[str, Any]:
    api = _function_template()
    return {
        key: api.resolve(value)
        for key, value in object_entries(api.data["variables"]["appSettings"]["value"]).items()
    }


def test_the_function_app_applies_the_app_settings() -> None:
    (site_config,) = _function_template().resources("Microsoft.Web/sites/config").values()

    assert config(site_config)["name"] == "appsettings"
    assert config(site_config)["properties"] == "appSettings"


def test_every_setting_is_classified() -> None:
    classified = SET_BY_INFRA | set(LOCAL_ONLY) | DEFAULT_IN_AZURE
    unclassified = [name for name in Settings.model_fields if _setting_names(name)[0] not in classified]

    assert unclassified == [], "classify each in tests/infra/test_code_and_templates.py"


def test_infra_sets_every_setting_azure_needs() -> None:
    assert SET_BY_INFRA - set(_app_settings()) == set()


def test_infra_sets_no_local_only_setting() -> None:
    assert set(LOCAL_ONLY) & set(_app_settings()) == set()


def test_infra_sets_identity_based_storage_and_entra_telemetry() -> None:
    settings = _app_settings()

    assert settings["AzureWebJobsStorage__credential"] == "managedidentity"
    assert settings["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"].endswith(";Authorization=AAD")
    assert "APPLICATIONINSIGHTS_CONNECTION_STRING" in settings


def test_the_host_and_the_python_worker_both_use_opentelemetry() -> None:
    """The host exports OpenTelemetry (host.json), and the worker's switch is on: it continues the host's
    trace context per invocation and the host leaves the worker's logs to the app's own exporter."""
    host = json.loads((ROOT / "host.json").read_text())

    assert host["telemetryMode"] == "OpenTelemetry"
    assert _app_settings()["PYTHON_ENABLE_OPENTELEMETRY"] == "true"


def test_secrets_come_from_key_vault_references() -> None:
    key_vault = main().module("keyVault")
    outputs = key_vault.data["outputs"]

    for name in ("geminiApiKeyReference", "azureOpenAiApiKeyReference"):
        assert "@Microsoft.KeyVault(SecretUri=" in json.dumps(outputs[name])
    api = main().data["modules"]["api"]
    params = config(api)["params"]
    assert "geminiApiKeyReference" in json.dumps(params["geminiApiKeyReference"])


def test_binding_expressions_name_settings_infra_sets() -> None:
    expressions = set(re.findall(r"%([^%]+)%", json.dumps(function_bindings())))

    assert expressions
    assert expressions - set(_app_settings()) == set()


# Placeholders of settings whose values have a format the code checks (Key Vault references resolve to them).
_PLACEHOLDER_FORMATS = {"IMAGE_LINK_SIGNING_KEYS": "azure={}"}


def _settings_in_azure() -> Settings:
    # Values known only in Azure (outputs of other resources) stand in as placeholders.
    values = {
        k: v if isinstance(v, str) else _PLACEHOLDER_FORMATS.get(k, "{}").format(f"<{k} from Azure>")
        for k, v in _app_settings().items()
    }
    return Settings(**values)


def test_every_container_and_queue_the_code_uses_is_declared() -> None:
    storage = main().module("storage")
    settings = _settings_in_azure()

    assert set(blob_containers(settings)) - set(storage.resolve("containerNames")) == set()
    assert set(queues(settings)) - set(storage.resolve("queueNames")) == set()
    # The names the code uses in Azure are the names infra declares, not just the code's defaults.
    assert settings.images_container == main().resolve("imagesContainerName")


def test_every_cosmos_container_the_code_uses_is_declared_with_its_partition_key_and_ttl() -> None:
    declared = {c["name"]: c for c in main().resolve("cosmosContainers")}

    for container in COSMOS_CONTAINERS:
        assert container.name in declared
        spec = declared[container.name]
        assert spec["partitionKeyPath"] == container.partition_key
        assert spec.get("defaultTtl") == container.default_ttl
        assert spec["indexingPolicy"]["indexingMode"] == "consistent"
    assert main().module("cosmos").resolve("databaseName") == _settings_in_azure().cosmos_database


def test_event_grid_subscription_matches_the_local_configuration() -> None:
    event_grid = main().module("eventGrid")
    local = json.loads((ROOT / "devtools" / "eventgrid" / "subscriptions.local.json").read_text())
    (subscription,) = [s for s in local["subscriptions"] if s["name"] == "thumbnails"]
    settings = _settings_in_azure()
    functions = function_bindings()

    local_filter = subscription["subjectBeginsWith"].replace("%IMAGES_CONTAINER%", settings.images_container)
    assert event_grid.resolve("imagesSubjectBeginsWith") == local_filter
    assert event_grid.resolve("thumbnailFunctionName") == subscription["functionName"]
    assert functions[subscription["functionName"]]["bindings"][0]["type"] == "eventGridTrigger"
    delivery = event_grid.resolve("deliveryPolicy")
    assert delivery["filter"]["includedEventTypes"] == subscription["includedEventTypes"]
    assert delivery["filter"]["subjectBeginsWith"] == local_filter
    assert delivery["retryPolicy"]["maxDeliveryAttempts"] == 30
    dead_letter = delivery["deadLetterWithResourceIdentity"]["deadLetterDestination"]["properties"]
    assert dead_letter["blobContainerName"] in main().module("storage").resolve("containerNames")


def test_event_grid_delivers_to_the_function_with_its_system_key() -> None:
    """The Event Grid webhook takes only the extension's system key. An `AzureFunction` destination has
    Event Grid fetch that key itself; a `WebHook` destination would have to carry it in `code=`."""
    event_grid = main().module("eventGrid")
    subscription = config(
        event_grid.resources("Microsoft.EventGrid/systemTopics/eventSubscriptions")["thumbnails"]
    )
    destination = object_entries(subscription["properties"])["destination"]

    if destination["endpointType"] == "AzureFunction":
        resource_id = event_grid.resolve(destination["properties"]["resourceId"])
        assert resource_id.endswith("/functions/make_thumbnail")
        assert resource_id.startswith(str(event_grid.resolve("functionAppId")))
    else:
        assert destination["endpointType"] == "WebHook"
        assert "systemKeys.eventgrid_extension" in json.dumps(destination["properties"]["endpointUrl"])
