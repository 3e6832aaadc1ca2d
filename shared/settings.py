"""The one place configuration is read.

Every setting is declared once, with the app setting (environment variable) it comes from, its type,
its default and what it is for. In Azure the settings come from the Function App's configuration; locally
from `local.settings.json`, which the Functions host (or the dev host) puts into the environment.
"""

from __future__ import annotations

import os
import re
from functools import lru_cache

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, SecretStr, field_validator
from pydantic.fields import FieldInfo

from shared.scheduling.limits import ModelLimits, parse_quotas

# The well-known Azurite account: `UseDevelopmentStorage=true` is a documented connection-string shorthand
# that the Python storage SDKs do not expand themselves.
_DEVELOPMENT_STORAGE = (
    "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
    "AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;"
    "BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;QueueEndpoint=http://127.0.0.1:10001/devstoreaccount1;"
)


def _split_list(value: object) -> object:
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


def _split_mapping(value: object) -> object:
    """Parse `name=value,name=value` (a flat app setting) into a dict."""
    if isinstance(value, str):
        pairs = [item.strip() for item in value.split(",") if item.strip()]
        result: dict[str, str] = {}
        for pair in pairs:
            name, sep, mapped = pair.partition("=")
            if not sep or not name.strip() or not mapped.strip():
                raise ValueError(f"expected name=value pairs, got {pair!r}")
            result[name.strip()] = mapped.strip()
        return result
    return value


_LINK_KEY_ID = re.compile(r"[A-Za-z0-9_-]{1,32}")
_MIN_LINK_SECRET_LENGTH = 16


def _split_link_keys(value: str) -> tuple[tuple[str, str], ...]:
    """`id=secret,id=secret` as pairs, in order; ValueError (never quoting a secret) when malformed."""
    pairs: list[tuple[str, str]] = []
    for item in value.split(","):
        key_id, sep, secret = item.strip().partition("=")
        key_id, secret = key_id.strip(), secret.strip()
        if not sep or _LINK_KEY_ID.fullmatch(key_id) is None or len(secret) < _MIN_LINK_SECRET_LENGTH:
            raise ValueError(
                "expected comma-separated keyId=secret pairs (keyId of A-Z a-z 0-9 _ -, at most 32; "
                f"secret at least {_MIN_LINK_SECRET_LENGTH} characters)"
            )
        if any(key_id == seen for seen, _ in pairs):
            raise ValueError(f"the key id {key_id!r} is listed twice")
        pairs.append((key_id, secret))
    return tuple(pairs)


# App settings are flat strings; the field's `before` validator parses these from `a,b` / `name=value,...`.
CommaList = list[str]
CommaMapping = dict[str, str]
CommaIntMapping = dict[str, int]
CommaFloatMapping = dict[str, float]

# The synchronous wait of each compatibility family, as its document says (COMPAT_WAIT_SECONDS overrides).
COMPAT_WAITS: dict[str, float] = {"seed000": 60.0, "seed002": 180.0, "seed003": 120.0}
_MAX_COMPAT_WAIT_SECONDS = 220.0
# The per-family settings COMPAT_WAIT_SECONDS replaced: a deployed app that set one keeps its wait, and its
# start-up log names the setting to use instead.
RETIRED_WAIT_SETTINGS = {
    "SEED000_WAIT_SECONDS": "seed000",
    "SEED002_SYNC_WAIT_SECONDS": "seed002",
    "AGENT_IMAGES_WAIT_SECONDS": "seed003",
}


def app_setting_names(name: str, field: FieldInfo) -> list[str]:
    """The app settings a field is read from, the first present winning (its own name if it has none)."""
    alias = field.validation_alias
    if isinstance(alias, AliasChoices):
        return [str(choice) for choice in alias.choices]
    return [str(alias or name)]


class Settings(BaseModel):
    """Configuration of the Function App, one field per app setting, read from the environment; values
    given to the constructor (by app setting or field name) take precedence over it."""

    # A refused value is never quoted back: settings carry secrets (error messages name the setting).
    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True, hide_input_in_errors=True)

    def __init__(self, **values: object) -> None:
        # An app setting's name matches whatever its case: Windows hands the environment over upper-cased.
        environment = {name.lower(): value for name, value in os.environ.items()}
        fields: dict[str, object] = {}
        for name, field in type(self).model_fields.items():
            names = app_setting_names(name, field)
            given = next((key for key in (*names, name) if key in values), None)
            read = next((key.lower() for key in names if key.lower() in environment), None)
            # Keyed by its first app setting, so that a refused value's error names the setting.
            if given is not None:
                fields[names[0]] = values[given]
            elif read is not None:
                fields[names[0]] = environment[read]
        super().__init__(**fields)

    # --- Storage (Blob + Queue): connection string locally, identity in Azure -------------------------
    storage_connection_string: SecretStr | None = Field(
        default=None,
        validation_alias="AzureWebJobsStorage",
        description="Storage connection string (local development). Leave unset in Azure.",
    )
    storage_account_name: str | None = Field(
        default=None,
        validation_alias="AzureWebJobsStorage__accountName",
        description="Storage account reached with the managed identity (identity-based connection).",
    )
    storage_blob_service_uri: str | None = Field(
        default=None,
        validation_alias="AzureWebJobsStorage__blobServiceUri",
        description="Explicit blob endpoint for identity-based connections (overrides the account name).",
    )
    storage_queue_service_uri: str | None = Field(
        default=None,
        validation_alias="AzureWebJobsStorage__queueServiceUri",
        description="Explicit queue endpoint for identity-based connections (overrides the account name).",
    )
    managed_identity_client_id: str | None = Field(
        default=None,
        validation_alias=AliasChoices("AzureWebJobsStorage__clientId", "AZURE_CLIENT_ID"),
        description="Client id of the user-assigned managed identity, when one is used.",
    )

    # --- Cosmos DB ------------------------------------------------------------------------------------
    cosmos_endpoint: str = Field(
        validation_alias="COSMOS_ENDPOINT", description="Cosmos DB account endpoint (https://...:443/)."
    )
    cosmos_key: SecretStr | None = Field(
        default=None,
        validation_alias="COSMOS_KEY",
        description="Account key (local emulator only). Unset in Azure: the managed identity is used.",
    )
    cosmos_database: str = Field(
        default="imagegen", validation_alias="COSMOS_DATABASE", description="Database holding all containers."
    )
    cosmos_endpoint_discovery: bool = Field(
        default=True,
        validation_alias="COSMOS_ENDPOINT_DISCOVERY",
        description="Let the SDK follow the account's regional endpoints. Off for single-endpoint proxies.",
    )

    outbound_proxy: str | None = Field(
        default=None,
        validation_alias=AliasChoices("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"),
        description="The standard proxy variables: when one is set, the Azure SDK and Gemini clients use "
        "the proxy (and `NO_PROXY`, `~/.netrc`); when none is, they skip looking them up on every request.",
    )

    # --- Names of queues and containers ---------------------------------------------------------------
    jobs_queue: str = Field(
        default="generation-jobs",
        validation_alias="JOBS_QUEUE",
        description="Queue of job ids for the generation worker (its poison queue is `<name>-poison`).",
    )
    images_container: str = Field(
        default="generated",
        validation_alias="IMAGES_CONTAINER",
        description="Blob container for generated images.",
    )
    thumbnails_container: str = Field(
        default="thumbnails",
        validation_alias="THUMBNAILS_CONTAINER",
        description="Blob container for the WebP thumbnails made when an image is created (Event Grid).",
    )
    thumbnail_max_pixels: int = Field(
        default=256,
        ge=16,
        le=2048,
        validation_alias="THUMBNAIL_MAX_PIXELS",
        description="Longest side of a thumbnail; the aspect ratio is kept.",
    )

    # --- HTTP API -------------------------------------------------------------------------------------
    public_api_base_url: str | None = Field(
        default=None,
        validation_alias="PUBLIC_API_BASE_URL",
        description="Absolute base of the API (e.g. https://images.example.com/api) when a gateway fronts "
        "the app; otherwise status URLs are built from the request's own origin and route prefix.",
    )
    http_route_prefix: str = Field(
        default="api",
        validation_alias="HTTP_ROUTE_PREFIX",
        description="Must equal host.json's extensions.http.routePrefix.",
    )
    status_retry_after_seconds: int = Field(
        default=2,
        ge=1,
        validation_alias="STATUS_RETRY_AFTER_SECONDS",
        description="Retry-After sent with 202 answers while a job is not finished.",
    )
    playground_enabled: bool = Field(
        default=True,
        validation_alias="PLAYGROUND_ENABLED",
        description="Serve the playground page at `GET /api/playground` (a static page that calls the public "
        "API with the key its user types in); `false` answers 404 there.",
    )
    image_url_ttl_minutes: int = Field(
        default=60,
        ge=1,
        le=7 * 24 * 60,
        validation_alias="IMAGE_URL_TTL_MINUTES",
        description="Lifetime of the read-only SAS URLs handed out for images.",
    )

    sync_wait_max_seconds: int = Field(
        default=200,
        ge=0,
        le=220,
        validation_alias="SYNC_WAIT_MAX_SECONDS",
        description="Longest `Prefer: wait=N` a submit honours; below the 230 s limit of an HTTP request "
        "on Azure's front ends.",
    )
    seed002_max_samples: int = Field(
        default=10,
        ge=1,
        le=10,
        validation_alias="SEED002_MAX_SAMPLES",
        description="Largest `sampleCount` of `POST /api/v0/images/generations` (its document: 1-10). Seed "
        "002's own limit; the native `n` stays at most MAX_IMAGES_PER_JOB.",
    )
    sync_poll_interval_seconds: float = Field(
        default=1.0,
        gt=0,
        le=10,
        validation_alias="SYNC_POLL_INTERVAL_SECONDS",
        description="How often a waiting submit re-reads its job.",
    )
    compat_wait_seconds: CommaFloatMapping = Field(
        default_factory=dict,
        validation_alias="COMPAT_WAIT_SECONDS",
        description="How long a compatibility family's synchronous submit waits for its job: "
        "`family=seconds` pairs over the documented waits, seed000=60 (then 202 with the status URL), "
        "seed002=180 (then its 504), seed003=120 (then 504 TIMEOUT). At most 220, below the 230 s limit "
        "of an HTTP request on Azure's front ends; the job keeps running either way.",
    )

    # Retired: read only to keep a deployed app's waits and to name COMPAT_WAIT_SECONDS in a warning.
    retired_seed000_wait_seconds: float | None = Field(
        default=None, gt=0, le=_MAX_COMPAT_WAIT_SECONDS, validation_alias="SEED000_WAIT_SECONDS",
        description="Retired: use COMPAT_WAIT_SECONDS=seed000=<seconds>.",
    )  # fmt: skip
    retired_seed002_wait_seconds: float | None = Field(
        default=None, gt=0, le=_MAX_COMPAT_WAIT_SECONDS, validation_alias="SEED002_SYNC_WAIT_SECONDS",
        description="Retired: use COMPAT_WAIT_SECONDS=seed002=<seconds>.",
    )  # fmt: skip
    retired_seed003_wait_seconds: float | None = Field(
        default=None, gt=0, le=_MAX_COMPAT_WAIT_SECONDS, validation_alias="AGENT_IMAGES_WAIT_SECONDS",
        description="Retired: use COMPAT_WAIT_SECONDS=seed003=<seconds>.",
    )  # fmt: skip

    image_link_signing_keys: SecretStr | None = Field(
        default=None,
        validation_alias="IMAGE_LINK_SIGNING_KEYS",
        description="Keys of the permanent image links (`/api/v1/image-links/...`): comma-separated "
        "`keyId=secret` pairs (a Key Vault reference in Azure). The first signs new links, every one listed "
        "verifies: rotate by putting a new pair first and dropping the old one when its links may stop "
        "working. Unset: no permanent links (`permanentUrl` is null, seed 000's `imageUrl` a SAS URL).",
    )
    images_public_base_url: str | None = Field(
        default=None,
        validation_alias="IMAGES_PUBLIC_BASE_URL",
        description="Public base URL of the images container (a CDN in front of it); image URLs are then "
        "`<base>/<blob name>` instead of SAS URLs.",
    )
    images_container_public: bool = Field(
        default=False,
        validation_alias="IMAGES_CONTAINER_PUBLIC",
        description="The images container allows anonymous reads: hand out plain blob URLs, not SAS URLs.",
    )

    # --- Credits --------------------------------------------------------------------------------------
    credit_costs: CommaIntMapping = Field(
        default_factory=lambda: {"low": 1, "standard": 1, "high": 2, "4k": 4},
        validation_alias="CREDIT_COSTS",
        description="Credits per image by resolution, `resolution=cost` pairs; a job costs cost x n.",
    )
    default_credit_balance: int = Field(
        default=100,
        ge=0,
        validation_alias="DEFAULT_CREDIT_BALANCE",
        description="Credits a tenant's account opens with on its first submit.",
    )

    # --- Webhooks -------------------------------------------------------------------------------------
    webhooks_queue: str = Field(
        default="webhooks",
        validation_alias="WEBHOOKS_QUEUE",
        description="Queue of webhook deliveries (its poison queue is `<name>-poison`).",
    )
    webhook_dev_hosts: CommaList = Field(
        default_factory=list,
        validation_alias="WEBHOOK_DEV_HOSTS",
        description="Development only: comma-separated `host` or `host:port` webhook targets allowed over "
        "plain http and exempt from the public-address rule (e.g. a receiver on 127.0.0.1). Empty in Azure.",
    )
    webhook_max_attempts: int = Field(
        default=8,
        ge=1,
        le=50,
        validation_alias="WEBHOOK_MAX_ATTEMPTS",
        description="Deliveries of one event before it is given up (the job is never changed by it).",
    )
    webhook_retry_base_seconds: float = Field(
        default=5.0,
        ge=0,
        validation_alias="WEBHOOK_RETRY_BASE_SECONDS",
        description="First back-off delay of a failed delivery (doubles each retry).",
    )
    webhook_retry_max_seconds: float = Field(
        default=3600.0,
        ge=0,
        validation_alias="WEBHOOK_RETRY_MAX_SECONDS",
        description="Cap of one delivery back-off delay.",
    )
    webhook_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        le=60,
        validation_alias="WEBHOOK_TIMEOUT_SECONDS",
        description="Timeout of one delivery (connect to answer).",
    )

    # --- Auth (development tenant; full key management comes with the API keys store) ----------------
    dev_api_key: SecretStr | None = Field(
        default=None,
        validation_alias="DEV_API_KEY",
        description="API key of the single development tenant. Unset in production.",
    )
    dev_tenant_id: str = Field(
        default="dev", validation_alias="DEV_TENANT_ID", description="Tenant id the development key maps to."
    )
    dev_api_key_rate_limit: int = Field(
        default=100,
        ge=1,
        validation_alias="DEV_API_KEY_RATE_LIMIT",
        description="Requests per rate-limit window allowed to the development key.",
    )
    admin_api_key: SecretStr | None = Field(
        default=None,
        validation_alias="ADMIN_API_KEY",
        description="Key of the admin routes (`/api/v1/admin/...`); unset, they answer 401 to everyone.",
    )
    api_key_hash_secret: SecretStr | None = Field(
        default=None,
        validation_alias="API_KEY_HASH_SECRET",
        description="Server secret of the HMAC-SHA256 under which API keys are stored (a Key Vault "
        "reference). Required to create or accept stored API keys; changing it invalidates every key.",
    )
    rate_limit_per_window: int = Field(
        default=100,
        ge=1,
        validation_alias="RATE_LIMIT_PER_WINDOW",
        description="Requests per window for a new API key without its own limit, and for token callers.",
    )
    rate_limit_window_seconds: int = Field(
        default=3600,
        ge=1,
        validation_alias="RATE_LIMIT_WINDOW_SECONDS",
        description="Length of the fixed rate-limit window (seed 001: one hour).",
    )
    oidc_issuer: str | None = Field(
        default=None,
        validation_alias="OIDC_ISSUER",
        description="Issuer (`iss`) of accepted JWT bearer tokens; unset, only API keys are accepted. "
        "Its JWKS is discovered at `<issuer>/.well-known/openid-configuration` unless OIDC_JWKS_URL is set.",
    )
    oidc_audience: str | None = Field(
        default=None,
        validation_alias="OIDC_AUDIENCE",
        description="Audience (`aud`) tokens must be issued for (the API's application id URI or client id).",
    )
    oidc_jwks_url: str | None = Field(
        default=None,
        validation_alias="OIDC_JWKS_URL",
        description="The issuer's JWKS URL, when it should not be discovered from OIDC_ISSUER.",
    )
    oidc_jwks_cache_seconds: int = Field(
        default=3600,
        ge=0,
        validation_alias="OIDC_JWKS_CACHE_SECONDS",
        description="How long fetched signing keys are reused (an unknown `kid` refetches sooner).",
    )
    oidc_tenant_claim: str = Field(
        default="tid",
        validation_alias="OIDC_TENANT_CLAIM",
        description="Token claim holding the tenant (organisation) id every document is partitioned by.",
    )
    oidc_write_scope: str = Field(
        default="write:image-gen",
        validation_alias="OIDC_WRITE_SCOPE",
        description="Scope (`scp`/`scope`) or app role (`roles`) a token needs to create jobs.",
    )
    oidc_read_scope: str = Field(
        default="read:image-gen",
        validation_alias="OIDC_READ_SCOPE",
        description="Scope or app role a token needs to read; the write scope implies it.",
    )
    trust_app_service_auth: bool = Field(
        default=False,
        validation_alias="TRUST_APP_SERVICE_AUTH",
        description="Accept the `X-MS-CLIENT-PRINCIPAL` header as the caller. Only when App Service "
        "Authentication fronts the app (it strips the header from client requests).",
    )
    health_timeout_seconds: float = Field(
        default=3.0,
        gt=0,
        validation_alias="HEALTH_TIMEOUT_SECONDS",
        description="Timeout of each dependency probe of `GET /api/health`.",
    )

    # --- Providers ------------------------------------------------------------------------------------
    default_provider: str | None = Field(
        default=None,
        validation_alias="DEFAULT_PROVIDER",
        description="Provider used when a request names none (`gemini` or `azure-openai`); unset, the "
        "first configured one (Gemini, then Azure OpenAI). Set to a provider that is not configured, such "
        "requests are refused with a 503 naming the missing settings.",
    )
    gemini_api_key: SecretStr | None = Field(
        default=None, validation_alias="GEMINI_API_KEY", description="Gemini API key (a Key Vault reference)."
    )
    gemini_base_url: str | None = Field(
        default=None,
        validation_alias="GEMINI_BASE_URL",
        description="Override of the Gemini API endpoint (a gateway or the local simulator).",
    )
    gemini_models: CommaList = Field(
        default_factory=lambda: ["gemini-2.5-flash-image"],
        validation_alias="GEMINI_MODELS",
        description="Comma-separated Gemini image models callers may choose; the first is the default.",
    )
    azure_openai_endpoint: str | None = Field(
        default=None,
        validation_alias="AZURE_OPENAI_ENDPOINT",
        description="Azure OpenAI resource endpoint (https://<name>.openai.azure.com).",
    )
    azure_openai_api_key: SecretStr | None = Field(
        default=None,
        validation_alias="AZURE_OPENAI_API_KEY",
        description="Azure OpenAI key; unset in Azure, where the managed identity is used.",
    )
    azure_openai_api_version: str = Field(
        default="2025-04-01-preview",
        validation_alias="AZURE_OPENAI_API_VERSION",
        description="Data-plane API version (2025-04-01-preview or newer for gpt-image edits).",
    )
    azure_openai_deployments: CommaMapping = Field(
        default_factory=dict,
        validation_alias="AZURE_OPENAI_DEPLOYMENTS",
        description="Comma-separated `deployment=family` pairs, family `gpt-image` or `dall-e-3`; "
        "the first is the default.",
    )
    provider_timeout_seconds: float = Field(
        default=120.0,
        gt=0,
        validation_alias="PROVIDER_TIMEOUT_SECONDS",
        description="Timeout of one provider call.",
    )
    provider_max_attempts: int = Field(
        default=4,
        ge=1,
        le=20,
        validation_alias="PROVIDER_MAX_ATTEMPTS",
        description="Provider calls per job before a transient failure ends it `PROVIDER_UNAVAILABLE`.",
    )
    retry_base_seconds: float = Field(
        default=2.0,
        ge=0,
        validation_alias="RETRY_BASE_SECONDS",
        description="First back-off delay of a transient provider failure (doubles each retry).",
    )
    retry_max_seconds: float = Field(
        default=120.0,
        ge=0,
        validation_alias="RETRY_MAX_SECONDS",
        description="Cap of one back-off delay, Retry-After included.",
    )
    provider_fallbacks: CommaMapping = Field(
        default_factory=dict,
        validation_alias="PROVIDER_FALLBACKS",
        description="Comma-separated `source=target` pairs, each side `provider` or `provider/model` (e.g. "
        "`gemini=azure-openai/gpt-image-1`): when the source is unavailable (429, 5xx, timeout) the job is "
        "tried on the target (its provider's default model when none is named); never on a content-policy "
        "block.",
    )
    max_images_per_job: int = Field(
        default=4,
        ge=1,
        le=10,
        validation_alias="MAX_IMAGES_PER_JOB",
        description="Largest `n` a request may ask for.",
    )
    gemini_text_model: str | None = Field(
        default="gemini-2.5-flash",
        validation_alias="GEMINI_TEXT_MODEL",
        description="Gemini text model that rewrites prompts for `autoEnhance`; empty disables enhancement.",
    )
    azure_openai_chat_deployment: str | None = Field(
        default=None,
        validation_alias="AZURE_OPENAI_CHAT_DEPLOYMENT",
        description="Azure OpenAI chat deployment that rewrites prompts for `autoEnhance`.",
    )
    inputs_container: str = Field(
        default="inputs",
        validation_alias="INPUTS_CONTAINER",
        description="Blob container for reference images and masks received with jobs.",
    )
    reference_max_bytes: int = Field(
        default=20 * 1024 * 1024,
        ge=1,
        validation_alias="REFERENCE_MAX_BYTES",
        description="Largest reference image or mask, in bytes (also the cut-off of a fetched body).",
    )
    reference_total_max_bytes: int = Field(
        default=50 * 1024 * 1024,
        ge=1,
        validation_alias="REFERENCE_TOTAL_MAX_BYTES",
        description="Largest total of all reference images and the mask of one job, in bytes.",
    )
    fetch_allowed_hosts: CommaList = Field(
        default_factory=list,
        validation_alias="FETCH_ALLOWED_HOSTS",
        description="Comma-separated hosts (or `host:port`) whose https URLs the service may fetch; the "
        "service's own storage account is always allowed.",
    )
    fetch_dev_http_hosts: CommaList = Field(
        default_factory=list,
        validation_alias="FETCH_DEV_HTTP_HOSTS",
        description="Development only: `host:port` entries fetched over plain http and exempt from the "
        "private-address check (the local storage emulator). Empty in production.",
    )
    fetch_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        validation_alias="FETCH_TIMEOUT_SECONDS",
        description="Total timeout of one URL fetch, redirects included.",
    )
    stale_job_minutes: int = Field(
        default=10,
        ge=1,
        validation_alias="STALE_JOB_MINUTES",
        description="A job left queued this long without an update (its message may be lost: a submit that "
        "crashed before queueing it) is queued again by the sweeper.",
    )
    job_claim_seconds: float = Field(
        default=120.0,
        ge=1,
        validation_alias="JOB_CLAIM_SECONDS",
        description="How long a worker's claim on a job lasts unless renewed (renewed every third of it "
        "while the worker runs). A second delivery of a claimed job waits this long; a job whose worker "
        "died is resumed once its claim has lapsed.",
    )
    provider_quotas: dict[str, ModelLimits] = Field(
        default_factory=dict,
        validation_alias="PROVIDER_QUOTAS",
        description="Provider quotas the worker schedules calls by, per `provider/model`, comma-separated: "
        "`provider/model=rpm:N;ipm:N;concurrent:N;burst:N` (requests and images per minute, jobs calling "
        "at once, calls that may start together). A job of a model listed here waits `queued` for its slot "
        "instead of being refused by the provider; models not listed are called as they come.",
    )
    quota_max_wait_minutes: int = Field(
        default=60,
        ge=1,
        validation_alias="QUOTA_MAX_WAIT_MINUTES",
        description="A job that has waited this long for its model's quota ends `failed` with "
        "`QUOTA_TIMEOUT`; the wait does not count against JOB_DEADLINE_MINUTES.",
    )
    job_deadline_minutes: int = Field(
        default=60,
        ge=1,
        validation_alias="JOB_DEADLINE_MINUTES",
        description="A job not ended this long after it was submitted ends `failed` with `TIMEOUT` instead "
        "of being resumed or retried again (a job that waited for its model's quota gets "
        "QUOTA_MAX_WAIT_MINUTES more).",
    )

    # --- Telemetry (docs/operations.md) ---------------------------------------------------------------
    applicationinsights_connection_string: SecretStr | None = Field(
        default=None,
        validation_alias="APPLICATIONINSIGHTS_CONNECTION_STRING",
        description="Application Insights to export traces, metrics and logs to (through "
        "azure-monitor-opentelemetry). Unset, and without TELEMETRY_FILES_DIRECTORY: no exporter, and "
        "OpenTelemetry is not even imported.",
    )
    applicationinsights_authentication_string: str | None = Field(
        default=None,
        validation_alias="APPLICATIONINSIGHTS_AUTHENTICATION_STRING",
        description="`ClientId=<managed identity client id>;Authorization=AAD`: the exporter (and the "
        "Functions host) authenticate to Application Insights with that identity, as a resource with local "
        "auth off requires. Read by the exporter itself; the app warns at start when it is missing.",
    )
    telemetry_files_directory: str | None = Field(
        default=None,
        validation_alias="TELEMETRY_FILES_DIRECTORY",
        description="Write spans, metrics and logs as OTLP JSON lines (`spans.jsonl`, `metrics.jsonl`, "
        "`logs.jsonl`) into this directory; the local stack sets it to `<data dir>/telemetry`, where "
        "`python -m devtools.trace` reads them.",
    )

    # --- Seed 000 (`POST /api/image`, docs/compat.md) ---------------------------------------------------
    seed000_fetch_public_hosts: bool = Field(
        default=True,
        validation_alias="SEED000_FETCH_PUBLIC_HOSTS",
        description="`POST /api/image` fetches https image URLs of any public host, as its document says "
        "(private, loopback, link-local and metadata addresses stay refused; names are resolved once and "
        "pinned, redirects re-vetted, size and type checked). `false` restricts it to FETCH_ALLOWED_HOSTS "
        "and the service's own storage, like the native API.",
    )
    seed000_model: str | None = Field(
        default=None,
        validation_alias="SEED000_MODEL",
        description="Model of `POST /api/image` jobs: `provider/model` or a model of DEFAULT_PROVIDER "
        "(it must be configured in GEMINI_MODELS or AZURE_OPENAI_DEPLOYMENTS); unset, the native default.",
    )

    @field_validator("storage_connection_string", mode="before")
    @classmethod
    def _expand_development_storage(cls, value: object) -> object:
        if isinstance(value, str) and value.strip().lower() == "usedevelopmentstorage=true":
            return _DEVELOPMENT_STORAGE
        return value or None

    @field_validator("default_provider", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return value.strip() or None if isinstance(value, str) else value

    @field_validator(
        "gemini_models", "webhook_dev_hosts", "fetch_allowed_hosts", "fetch_dev_http_hosts", mode="before"
    )
    @classmethod
    def _parse_list(cls, value: object) -> object:
        return _split_list(value)

    @field_validator("provider_quotas", mode="before")
    @classmethod
    def _parse_quotas(cls, value: object) -> object:
        return parse_quotas(value)

    @field_validator("azure_openai_deployments", "credit_costs", "provider_fallbacks", mode="before")
    @classmethod
    def _parse_mapping(cls, value: object) -> object:
        return _split_mapping(value)

    @field_validator("compat_wait_seconds", mode="before")
    @classmethod
    def _parse_compat_waits(cls, value: object) -> object:
        return _split_mapping(value)

    @field_validator("compat_wait_seconds", mode="after")
    @classmethod
    def _check_compat_waits(cls, value: dict[str, float]) -> dict[str, float]:
        for family, seconds in value.items():
            if family not in COMPAT_WAITS:
                raise ValueError(f"unknown family {family!r}; expected one of {', '.join(COMPAT_WAITS)}")
            if not 0 < seconds <= _MAX_COMPAT_WAIT_SECONDS:
                raise ValueError(f"{family}: {seconds:g} s is not in (0, {_MAX_COMPAT_WAIT_SECONDS:g}]")
        return value

    def compat_wait(self, family: str) -> float:
        """How long `family`'s synchronous submit waits for its job (COMPAT_WAIT_SECONDS, else its retired
        setting, else its document's wait)."""
        retired = {RETIRED_WAIT_SETTINGS[name]: seconds for name, seconds in self.retired_waits.items()}
        return self.compat_wait_seconds.get(family, retired.get(family, COMPAT_WAITS[family]))

    @property
    def retired_waits(self) -> dict[str, float]:
        """The retired per-family wait settings that are set, by setting name."""
        values = {
            str(field.validation_alias): getattr(self, name)
            for name, field in type(self).model_fields.items()
            if isinstance(field.validation_alias, str) and field.validation_alias in RETIRED_WAIT_SETTINGS
        }
        return {setting: seconds for setting, seconds in values.items() if seconds is not None}

    def retired_setting_warnings(self) -> list[str]:
        """One message per retired setting still set, naming what replaces it."""
        messages = []
        for name, family in RETIRED_WAIT_SETTINGS.items():
            seconds = self.retired_waits.get(name)
            if seconds is None:
                continue
            if family in self.compat_wait_seconds:
                use = f"ignored, as COMPAT_WAIT_SECONDS sets {family}"
            else:
                use = f"still honoured; set COMPAT_WAIT_SECONDS={family}={seconds:g} instead"
            messages.append(f"{name} is retired: {use}, and remove {name}.")
        return messages

    @field_validator("image_link_signing_keys", mode="after")
    @classmethod
    def _check_link_keys(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and value.get_secret_value().strip():
            _split_link_keys(value.get_secret_value())
            return value
        return None

    @property
    def image_link_keys(self) -> tuple[tuple[str, str], ...]:
        """IMAGE_LINK_SIGNING_KEYS as `(keyId, secret)` pairs, the signing key first; empty when unset."""
        keys = self.image_link_signing_keys
        return () if keys is None else _split_link_keys(keys.get_secret_value())

    @property
    def jobs_poison_queue(self) -> str:
        return f"{self.jobs_queue}-poison"

    @property
    def webhooks_poison_queue(self) -> str:
        return f"{self.webhooks_queue}-poison"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once on first use (a missing required setting names itself)."""
    return Settings()
