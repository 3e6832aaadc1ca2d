"""Python client for the image generation API (the native `/api/v1` routes), sync and async.

from imagegen import ImageGen

with ImageGen("http://127.0.0.1:7071/api", "local-dev-key") as client:
    job = client.generate("a lighthouse at dawn", aspect_ratio="16:9")
    client.download(job.outputs[0].id, "lighthouse.png")
"""

from imagegen._client import DEFAULT_TIMEOUT, AsyncImageGen, ImageGen, JobFilters, SubmitOptions, __version__
from imagegen._errors import (
    APIConnectionError,
    APIError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    ImageGenError,
    InsufficientCreditsError,
    InternalServerError,
    JobFailedError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServiceUnavailableError,
    UnsupportedMediaTypeError,
    WaitTimeoutError,
)
from imagegen._models import (
    TERMINAL_STATUSES,
    Image,
    ImageInput,
    Job,
    JobError,
    JobImage,
    ModelCatalog,
    ModelInfo,
    Page,
    Preset,
    ProviderInfo,
    Usage,
)

__all__ = [
    "DEFAULT_TIMEOUT",
    "TERMINAL_STATUSES",
    "APIConnectionError",
    "APIError",
    "AsyncImageGen",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "Image",
    "ImageGen",
    "ImageGenError",
    "ImageInput",
    "InsufficientCreditsError",
    "InternalServerError",
    "Job",
    "JobError",
    "JobFailedError",
    "JobFilters",
    "JobImage",
    "ModelCatalog",
    "ModelInfo",
    "NotFoundError",
    "Page",
    "PermissionDeniedError",
    "Preset",
    "ProviderInfo",
    "RateLimitError",
    "ServiceUnavailableError",
    "SubmitOptions",
    "UnsupportedMediaTypeError",
    "Usage",
    "WaitTimeoutError",
    "__version__",
]
