"""A generation job: what a caller asks for, the stored document, and how the API shows it."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from pydantic import Field, SerializerFunctionWrapHandler, ValidationError, model_serializer, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from shared.ids import PRESET_ID_PATTERN
from shared.models.common import ApiModel, RequestModel, StoredModel, UtcDateTime
from shared.models.quotas import QuotaWait
from shared.telemetry.w3c import Traceparent, Tracestate, trace_id

MAX_PROMPT_LENGTH = 4000

# Seed 002's list; each provider maps it to what the chosen model supports.
ASPECT_RATIOS: tuple[str, ...] = (
    "1:1", "1:2", "1:4", "1:8", "2:1", "2:3", "3:2", "3:4", "4:1", "4:3",
    "4:5", "5:4", "8:1", "9:16", "9:19.5", "16:9", "19.5:9", "21:9",
)  # fmt: skip

AspectRatio = Literal[
    "1:1", "1:2", "1:4", "1:8", "2:1", "2:3", "3:2", "3:4", "4:1", "4:3",
    "4:5", "5:4", "8:1", "9:16", "9:19.5", "16:9", "19.5:9", "21:9",
]  # fmt: skip


WebhookEvent = Literal["queued", "running", "completed"]

Resolution = Literal["low", "standard", "high", "4k"]
OutputFormat = Literal["png", "jpeg", "webp"]
EnhancementTemplate = Literal[
    "general", "photorealistic", "illustration", "minimalist", "sticker", "product", "comic"
]  # fmt: skip
MAX_REFERENCE_IMAGES = 5
# How a job's output blobs are named (`shared.images.store.image_blob_name`).
BlobNaming = Literal["indexed", "uuid"]


class ImageInput(RequestModel):
    """A reference image or mask: exactly one of base64 bytes, an https URL, or an earlier output's id."""

    b64: str | None = Field(default=None, description="Base64 bytes, raw or as a `data:` URL.")
    url: str | None = Field(default=None, max_length=4096, description="An https URL the service fetches.")
    output_id: str | None = Field(
        default=None,
        max_length=80,
        description="An earlier output of this tenant: `{jobId}` (its first image) or `{jobId}-{n}`.",
    )
    mime_type: Literal["image/png", "image/jpeg", "image/webp"] | None = Field(
        default=None, description="Optional; the bytes' magic numbers decide, and must agree."
    )

    @model_validator(mode="after")
    def _exactly_one_source(self) -> ImageInput:
        given = [name for name in ("b64", "url", "output_id") if getattr(self, name)]
        if len(given) != 1:
            raise ValueError("give exactly one of b64, url, outputId")
        return self


class EnhancementOptions(RequestModel):
    template: EnhancementTemplate = Field(default="general", description="Style of the prompt rewrite.")


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"

    @property
    def is_terminal(self) -> bool:
        return self in (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELED)


def _completed_only() -> list[WebhookEvent]:
    return ["completed"]


class GenerationRequest(RequestModel):
    """`POST /api/v1/images/generations`."""

    prompt: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_PROMPT_LENGTH,
        description="What to draw; required unless a preset gives the prompt (then appended to it).",
    )
    provider: str | None = Field(
        default=None, description="`gemini` or `azure-openai`; default from settings."
    )
    model: str | None = Field(
        default=None, description="Gemini model name or Azure OpenAI deployment; default per provider."
    )
    aspect_ratio: AspectRatio = Field(default="1:1", description="Width:height of the image.")
    is_public: bool = Field(default=False, description="Show the job's images in the public gallery.")
    preset_id: str | None = Field(
        default=None, pattern=PRESET_ID_PATTERN, description="Render this preset's template (`preset_…`)."
    )
    variables: dict[str, str] = Field(
        default_factory=dict, description="Values of the preset's text and enum requirements."
    )
    webhook: str | None = Field(
        default=None, max_length=2048, description="https URL told about the job's events (signed)."
    )
    webhook_events: list[WebhookEvent] = Field(
        default_factory=_completed_only,
        max_length=3,
        description="Events to send: queued, running, completed.",
    )

    # --- generation knobs, edit mode and prompt enhancement -------------------------------------------
    size: str | None = Field(
        default=None, max_length=20, description="Pixel size as the model family allows."
    )
    quality: str | None = Field(default=None, max_length=20, description="gpt-image or dall-e-3 quality.")
    style: str | None = Field(default=None, max_length=20, description="dall-e-3 style: vivid or natural.")
    resolution: Resolution = Field(default="standard", description="low, standard, high or 4k.")
    negative_prompt: str | None = Field(
        default=None, max_length=MAX_PROMPT_LENGTH, description="What to avoid (Gemini only)."
    )
    n: int = Field(default=1, ge=1, le=10, description="Number of images (at most MAX_IMAGES_PER_JOB).")
    output_format: OutputFormat | None = Field(default=None, description="png, jpeg or webp.")
    output_compression: int | None = Field(
        default=None, ge=0, le=100, description="jpeg/webp quality 0-100 (gpt-image's output_compression)."
    )
    reference_images: list[ImageInput] = Field(
        default_factory=list, max_length=MAX_REFERENCE_IMAGES, description="Edit mode: up to 5 images."
    )
    mask: ImageInput | None = Field(default=None, description="Azure gpt-image only: PNG, alpha = editable.")
    auto_enhance: bool = Field(default=False, description="Rewrite the prompt with a text model first.")
    enhancement_options: EnhancementOptions | None = None
    meta: dict[str, Any] | None = Field(
        default=None, description="Caller's own metadata, stored with the job as given (seed 001's `meta`)."
    )

    @property
    def enhancement_template(self) -> str | None:
        """The template enhancement uses; None when `autoEnhance` is off."""
        if not self.auto_enhance:
            return None
        return (self.enhancement_options or EnhancementOptions()).template

    @model_validator(mode="after")
    def _fields_agree(self) -> GenerationRequest:
        """The rules between fields, each a 400 naming the field to change: a prompt unless a preset gives
        it, variables only for a preset, events only for a webhook, a mask only beside a reference image."""
        problems: list[InitErrorDetails] = []
        if self.preset_id is None:
            if not self.prompt:
                problems.append(_problem(self, "prompt", None))
            if self.variables:
                problems.append(_problem(self, "variables", "variables need a presetId"))
        if not self.webhook and "webhook_events" in self.model_fields_set:
            problems.append(_problem(self, "webhook_events", "needs a webhook URL"))
        if self.mask is not None and not self.reference_images:
            problems.append(_problem(self, "mask", "A mask needs at least one reference image."))
        if problems:
            raise ValidationError.from_exception_data(type(self).__name__, problems)
        return self


def _problem(request: GenerationRequest, name: str, message: str | None) -> InitErrorDetails:
    """An error located at field `name` (by its wire name), as pydantic's own field errors are; without a
    `message`, pydantic's own for a missing field ("Field required")."""
    error = "missing" if message is None else PydanticCustomError("fields_disagree", message)
    alias = GenerationRequest.model_fields[name].alias or name
    return InitErrorDetails(type=error, loc=(alias,), input=getattr(request, name))


class ResponseFormat(StrEnum):
    """How images appear in a job representation (`response_format` query parameter)."""

    URL = "url"
    B64_JSON = "b64_json"
    BOTH = "both"


class SubmitQuery(RequestModel):
    """Query parameters of `POST /api/v1/images/generations` (for the document; read by
    `response_format_param`)."""

    response_format: ResponseFormat = Field(
        default=ResponseFormat.URL, alias="response_format", description="Images as url, b64_json or both."
    )


class JobReadQuery(SubmitQuery):
    """Query parameters of `GET /api/v1/images/generations/{id}` (for the document; read by the handler)."""

    include_deleted: bool = Field(default=False, description="Show a soft-deleted job too.")


class GenerationSpec(ApiModel):
    """The request after defaults are resolved: exactly what the worker will ask the provider for."""

    prompt: str
    provider: str
    model: str
    aspect_ratio: str
    size: str | None = None
    quality: str | None = None
    style: str | None = None
    resolution: str = "standard"
    negative_prompt: str | None = None
    n: int = 1
    output_format: str | None = None
    output_compression: int | None = None
    # Claim check: the reference images and mask live in the inputs container, named here.
    reference_blobs: list[str] = Field(default_factory=list)
    mask_blob: str | None = None
    auto_enhance: bool = False
    enhancement_template: str | None = None

    @classmethod
    def from_request(
        cls, request: GenerationRequest, *, prompt: str, provider: str, model: str, aspect_ratio: str
    ) -> GenerationSpec:
        """The request's knobs as given (every field the two models share, and the enhancement template),
        with what the preset and the provider catalog resolved: the prompt, provider, model, aspect ratio.
        The reference images and mask are named once they are stored."""
        given = {name: getattr(request, name) for name in cls.model_fields.keys() & _REQUEST_KNOBS}
        return cls(
            **given,
            prompt=prompt,
            provider=provider,
            model=model,
            aspect_ratio=aspect_ratio,
            enhancement_template=request.enhancement_template,
        )

    @property
    def mode(self) -> Literal["generate", "edit"]:
        return "edit" if self.reference_blobs else "generate"


# The request's fields a spec takes as given (the rest are resolved, or stored first).
_REQUEST_KNOBS = GenerationRequest.model_fields.keys() - {"prompt", "provider", "model", "aspect_ratio"}


class JobError(ApiModel):
    code: str
    message: str


class StoredImage(ApiModel):
    """One output image as stored in Blob Storage; sizes are read from the stored bytes."""

    index: int
    container: str
    blob_name: str
    mime_type: str
    width: int
    height: int
    bytes: int
    # Recorded by the thumbnail function when Event Grid reports the blob created (absent until then).
    thumbnail_container: str | None = None
    thumbnail_blob_name: str | None = None
    etag: str | None = None
    confirmed_bytes: int | None = None


class JobOrigin(ApiModel):
    """Everything a compatibility route family (`shared/compat`) records on the jobs it submits, in one
    place: which family, for whom, and what only that family's document needs. Native jobs have none."""

    route: str = Field(description="The route family, e.g. `seed000`.")
    # None only on seed 003 jobs stored before their family recorded the caller.
    subject: str | None = Field(
        default=None, description="The authenticated caller's subject (an API key id, a token subject)."
    )
    input_urls: list[str | None] = Field(
        default_factory=list,
        description="Per reference image: the URL the caller gave, None when it came inline (seed 000).",
    )
    blob_naming: BlobNaming = Field(
        default="indexed",
        description="How output blobs are named: `{jobId}-{n}`, or a uuid (seed 003's documented layout).",
    )

    @model_serializer(mode="wrap")
    def _without_unused(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """What a family does not use is not stored: seed 000's origin has no blob naming, seed 003's no
        input URLs."""
        data: dict[str, Any] = handler(self)
        unused = {"input_urls": not self.input_urls, "blob_naming": self.blob_naming == "indexed"}
        for name, is_unused in unused.items():
            if is_unused:
                data.pop(name, None)
                data.pop(JobOrigin.model_fields[name].alias or name, None)
        return data


class JobClaim(ApiModel):
    """The run that owns a job: its id (the fencing token every write of that run checks) and when the
    claim lapses unless renewed. Another run may take a job over only after its claim lapsed."""

    owner: str
    expires_at: UtcDateTime


class JobDocument(StoredModel):
    """The job as stored in Cosmos DB (container `jobs`, partition key `/tenantId`)."""

    id: str
    tenant_id: str
    doc_type: Literal["job"] = "job"
    status: JobStatus
    spec: GenerationSpec
    created_at: UtcDateTime
    updated_at: UtcDateTime
    started_at: UtcDateTime | None = None
    completed_at: UtcDateTime | None = None
    attempts: int = 0
    retry_count: int = 0
    outputs: list[StoredImage] = Field(default_factory=list)
    error: JobError | None = None
    last_error: JobError | None = None
    processing_time_ms: int | None = None
    provider_text: str | None = None
    revised_prompt: str | None = None
    size: str | None = None
    usage: dict[str, int] | None = None
    warnings: list[str] = Field(default_factory=list)
    is_public: bool = False
    canceled_at: UtcDateTime | None = None
    deleted_at: UtcDateTime | None = None
    preset_id: str | None = None
    preset_name: str | None = None
    variables: dict[str, str] | None = None
    user_prompt: str | None = None
    credits: int | None = None  # reserved at submit; charged on success, refunded otherwise
    webhook: str | None = None
    webhook_events: list[WebhookEvent] = Field(default_factory=list)
    api_base_url: str | None = None  # where the API was reached at submit: links in webhook deliveries

    enhanced_prompt: str | None = None
    served_by: str | None = None  # `provider/model` that produced the images (differs after a fallback)
    meta: dict[str, Any] | None = None  # the caller's metadata, stored as given
    origin: JobOrigin | None = None  # set by a compatibility route family (shared/compat)

    claim: JobClaim | None = None  # the run working on the job; None while queued and once ended
    not_before: UtcDateTime | None = None  # a retry's back-off or a quota wait: no run starts it before
    quota: QuotaWait | None = None  # set once the job had to wait for its model's quota
    # Work the terminal write leaves to do, recorded in that write so a crash cannot lose it (the sweeper
    # finishes it): queue the `completed` webhook; remove images earlier runs may have left.
    webhook_pending: bool = False
    cleanup_pending: bool = False
    # The W3C trace context of the job's submit: every later span of the job continues this trace (its
    # queue messages carry it too), so one trace shows the job end to end.
    traceparent: Traceparent = None
    tracestate: Tracestate = None

    @property
    def trace_id(self) -> str | None:
        return trace_id(self.traceparent) if self.traceparent else None

    @model_validator(mode="before")
    @classmethod
    def _read_earlier_documents(cls, data: Any) -> Any:
        """Documents stored before the compatibility fields were grouped in `origin` named seed 003's blob
        layout in `spec.blobNaming`: read it into `origin`, so a job that was running resumes as it was."""
        if isinstance(data, dict) and not data.get("origin"):
            spec = data.get("spec")
            if isinstance(spec, dict) and spec.get("blobNaming") == "uuid":
                return {**data, "origin": {"route": "seed003", "blobNaming": "uuid"}}
        return data

    @property
    def blob_naming(self) -> BlobNaming:
        return "indexed" if self.origin is None else self.origin.blob_naming

    def view_fields(self) -> dict[str, Any]:
        """The job by the names its views give its fields (`JobView`, a route family's own view): the
        document's fields over the spec's, the prompt shown (the enhanced one, once there is one) beside
        the caller's, the mode, the provider's text and the trace id. A view takes the fields it declares
        and sets what it shows differently."""
        return {
            **dict(self.spec),
            **dict(self),
            "prompt": self.enhanced_prompt or self.spec.prompt,
            "original_prompt": self.spec.prompt,
            "mode": self.spec.mode,
            "text": self.provider_text,
            "trace_id": self.trace_id,
        }


class ImageView(ApiModel):
    id: str | None = Field(
        default=None,
        description="Library id of the image, `{jobId}-{n}`; pass it as a reference's `outputId` to edit it.",
    )
    url: str | None = Field(
        default=None,
        description="A read URL: SAS, valid IMAGE_URL_TTL_MINUTES (or plain where images are public).",
    )
    permanent_url: str | None = Field(
        default=None,
        description="The image's permanent link (no expiry; dies with the image); null without signing keys.",
    )
    b64_json: str | None = None
    mime_type: str
    width: int
    height: int
    bytes: int
    thumbnail_url: str | None = None


class JobView(ApiModel):
    """A job as the native API shows it, with Durable-Functions-style management URLs."""

    id: str
    status: JobStatus
    prompt: str
    provider: str
    model: str
    aspect_ratio: str
    created_at: UtcDateTime
    updated_at: UtcDateTime
    completed_at: UtcDateTime | None = None
    outputs: list[ImageView] = Field(default_factory=list)
    error: JobError | None = None
    retry_count: int = 0
    processing_time_ms: int | None = None
    revised_prompt: str | None = None
    text: str | None = None
    size: str | None = None
    usage: dict[str, int] | None = None
    warnings: list[str] = Field(default_factory=list)
    is_public: bool = False
    preset_id: str | None = None
    credits: int | None = Field(default=None, description="What the job costs (charged only on success).")
    webhook: str | None = None
    webhook_events: list[WebhookEvent] = Field(default_factory=list)
    canceled_at: UtcDateTime | None = None
    deleted_at: UtcDateTime | None = None
    original_prompt: str | None = None
    mode: str = "generate"
    n: int = 1
    served_by: str | None = None
    queue_position: int | None = Field(
        default=None,
        description="While `queued` for a model with a provider quota: how many jobs waiting for the same "
        "model start before this one (0: it is next).",
    )
    estimated_start_at: UtcDateTime | None = Field(
        default=None,
        description="While `queued` for a model with a provider quota: when the job is expected to start, at "
        "the model's quota and current pace.",
    )
    trace_id: str | None = Field(
        default=None,
        description="The job's trace id (W3C, 32 hex digits): every span and log record of the job carries "
        "it (Application Insights' `operation_Id`). Hand it to support with the job id.",
    )
    status_query_get_uri: str
    terminate_post_uri: str | None = Field(default=None, description="POST here to cancel the job.")
    purge_history_delete_uri: str | None = Field(default=None, description="DELETE here to delete the job.")


class JobPage(ApiModel):
    """One page of `GET /api/v1/images/generations`, newest first."""

    items: list[JobView]
    next_page_token: str | None = Field(
        default=None, description="Pass as `pageToken` for the next page; absent on the last page."
    )
