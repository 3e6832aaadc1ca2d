"""The clients: `ImageGen` (sync) and `AsyncImageGen` (async), one request description shared by both.

Each operation is described once (`_Requests`: method, path, query, body and how to read the answer);
the two classes only send it, with httpx's `Client` or `AsyncClient`.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypedDict, TypeVar
from urllib.parse import quote

import httpx

from imagegen._errors import (
    APIConnectionError,
    JobFailedError,
    WaitTimeoutError,
    error_from_response,
    retry_after_seconds,
)
from imagegen._models import Image, ImageInput, Job, ModelCatalog, Page, Preset, Usage

if TYPE_CHECKING:
    from typing import Unpack

T = TypeVar("T")
ImageLike = ImageInput | str | bytes | Path
ProgressCallback = Callable[[Job], None]


class SubmitOptions(TypedDict, total=False):
    """`submit`'s options, as the API's request fields (snake_case) plus the request's headers."""

    provider: str
    model: str
    aspect_ratio: str
    size: str
    quality: str
    style: str
    resolution: str
    negative_prompt: str
    n: int
    output_format: str
    output_compression: int
    reference_images: Sequence[ImageLike]
    mask: ImageLike
    auto_enhance: bool
    enhancement_template: str
    is_public: bool
    preset_id: str
    variables: Mapping[str, str]
    webhook: str
    webhook_events: Sequence[str]
    idempotency_key: str  # the Idempotency-Key header
    wait: float  # seconds: the Prefer: wait header (sync mode)
    response_format: str  # url, b64_json or both


class JobFilters(TypedDict, total=False):
    status: str
    preset_id: str
    created_from: str
    created_to: str
    include_deleted: bool


DEFAULT_TIMEOUT = 30.0
DEFAULT_POLL_INTERVAL = 1.0
# Headroom over a `Prefer: wait=N` submit's N: the service answers after at most N seconds.
_WAIT_HEADROOM = 30.0
__version__ = "0.1.0"


@dataclass(frozen=True)
class _Call(Generic[T]):
    method: str
    path: str
    parse: Callable[[httpx.Response], T]
    params: Mapping[str, Any] | None = None
    json: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)
    timeout: float | None = None

    def send_options(self) -> dict[str, Any]:
        """The keyword arguments of `httpx.Client.request` (and `AsyncClient.request`) for this call."""
        return {
            "params": self.params,
            "json": self.json,
            "headers": self.headers,
            "timeout": self.timeout if self.timeout is not None else httpx.USE_CLIENT_DEFAULT,
        }


def _segment(value: str) -> str:
    if not value:
        raise ValueError("an id must not be empty")
    return quote(value, safe="")


def _query(**values: Any) -> dict[str, Any]:
    """Query parameters without the unset ones; booleans as `true`."""
    return {
        key: ("true" if value is True else value)
        for key, value in values.items()
        if value is not None and value is not False
    }


def _json(response: httpx.Response) -> Any:
    return response.json()


def _job(response: httpx.Response) -> Job:
    return Job.from_api(response.json(), retry_after=retry_after_seconds(response))


def _job_page(response: httpx.Response) -> Page[Job]:
    data = response.json()
    return Page(
        items=[Job.from_api(item) for item in data["items"]], next_page_token=data.get("nextPageToken")
    )


def _image_page(response: httpx.Response) -> Page[Image]:
    data = response.json()
    return Page(
        items=[Image.from_api(item) for item in data["items"]], next_page_token=data.get("nextPageToken")
    )


def _preset_page(response: httpx.Response) -> Page[Preset]:
    data = response.json()
    return Page(
        items=[Preset.from_api(item) for item in data["items"]], next_page_token=data.get("nextPageToken")
    )


def _nothing(response: httpx.Response) -> None:
    return None


def _content(response: httpx.Response) -> bytes:
    return response.content


class _Deadline:
    """How long to sleep before the next poll: the answer's Retry-After (else `poll_interval`), never past
    the timeout; `WaitTimeoutError` once the timeout has passed."""

    def __init__(self, timeout: float | None, poll_interval: float | None) -> None:
        self._timeout = timeout
        self._poll_interval = poll_interval
        self._end = None if timeout is None else time.monotonic() + timeout

    def next_delay(self, job: Job) -> float:
        delay = self._poll_interval if self._poll_interval is not None else job.retry_after
        delay = DEFAULT_POLL_INTERVAL if delay is None else delay
        if self._end is None:
            return delay
        left = self._end - time.monotonic()
        if left <= 0:
            assert self._timeout is not None
            raise WaitTimeoutError(job, self._timeout)
        return min(delay, left)


class _Requests:
    """Every native operation as a `_Call`; the base URL and credentials of a client."""

    def __init__(self, base_url: str | None, api_key: str | None) -> None:
        base = base_url or os.environ.get("IMAGEGEN_BASE_URL")
        if not base:
            raise ValueError("Give base_url (e.g. https://<app>/api) or set IMAGEGEN_BASE_URL.")
        self.base_url = base.rstrip("/") + "/"
        self.api_key = api_key if api_key is not None else os.environ.get("IMAGEGEN_API_KEY")

    def headers(self) -> dict[str, str]:
        headers = {"User-Agent": f"imagegen-client/{__version__}", "Accept": "application/json"}
        if self.api_key:
            # API keys and OIDC access tokens alike go in the bearer header.
            headers["Authorization"] = f"Bearer {self.api_key}"
        return headers

    def submit(self, prompt: str | None, options: SubmitOptions) -> _Call[Job]:
        _check_keys(options, SubmitOptions, "submit")
        o = options
        events = o.get("webhook_events")
        fields: dict[str, Any] = {
            "prompt": prompt,
            "provider": o.get("provider"),
            "model": o.get("model"),
            "aspectRatio": o.get("aspect_ratio"),
            "size": o.get("size"),
            "quality": o.get("quality"),
            "style": o.get("style"),
            "resolution": o.get("resolution"),
            "negativePrompt": o.get("negative_prompt"),
            "n": o.get("n"),
            "outputFormat": o.get("output_format"),
            "outputCompression": o.get("output_compression"),
            "presetId": o.get("preset_id"),
            "webhook": o.get("webhook"),
            "webhookEvents": list(events) if events is not None else None,
        }
        body = {key: value for key, value in fields.items() if value is not None}
        if o.get("variables"):
            body["variables"] = dict(o["variables"])
        if o.get("reference_images"):
            body["referenceImages"] = [ImageInput.of(image).to_api() for image in o["reference_images"]]
        if o.get("mask") is not None:
            body["mask"] = ImageInput.of(o["mask"]).to_api()
        if o.get("auto_enhance"):
            body["autoEnhance"] = True
            if o.get("enhancement_template"):
                body["enhancementOptions"] = {"template": o["enhancement_template"]}
        if o.get("is_public"):
            body["isPublic"] = True
        headers: dict[str, str] = {}
        if o.get("idempotency_key"):
            headers["Idempotency-Key"] = o["idempotency_key"]
        timeout = None
        wait = o.get("wait")
        if wait is not None:
            headers["Prefer"] = f"wait={int(wait)}"
            timeout = wait + _WAIT_HEADROOM
        return _Call(
            "POST",
            "v1/images/generations",
            _job,
            params=_query(response_format=o.get("response_format")),
            json=body,
            headers=headers,
            timeout=timeout,
        )

    def get(self, job_id: str, *, include_deleted: bool, response_format: str | None) -> _Call[Job]:
        params = _query(includeDeleted=include_deleted, response_format=response_format)
        return _Call("GET", f"v1/images/generations/{_segment(job_id)}", _job, params=params)

    def cancel(self, job_id: str) -> _Call[Job]:
        return _Call("POST", f"v1/images/generations/{_segment(job_id)}/cancel", _job)

    def delete(self, job_id: str, *, hard: bool) -> _Call[None]:
        return _Call(
            "DELETE", f"v1/images/generations/{_segment(job_id)}", _nothing, params=_query(hard=hard)
        )

    def list_jobs(
        self, filters: JobFilters, *, limit: int | None, page_token: str | None
    ) -> _Call[Page[Job]]:
        _check_keys(filters, JobFilters, "list_jobs")
        params = _query(
            status=filters.get("status"),
            presetId=filters.get("preset_id"),
            createdFrom=filters.get("created_from"),
            createdTo=filters.get("created_to"),
            includeDeleted=filters.get("include_deleted", False),
            limit=limit,
            pageToken=page_token,
        )
        return _Call("GET", "v1/images/generations", _job_page, params=params)

    def list_images(
        self, *, search: str | None, preset_id: str | None, limit: int | None, page_token: str | None
    ) -> _Call[Page[Image]]:
        params = _query(search=search, presetId=preset_id, limit=limit, pageToken=page_token)
        return _Call("GET", "v1/images", _image_page, params=params)

    def image(self, image_id: str) -> _Call[Image]:
        return _Call("GET", f"v1/images/{_segment(image_id)}", lambda r: Image.from_api(r.json()))

    def download(self, image_id: str) -> _Call[bytes]:
        return _Call(
            "GET", f"v1/images/{_segment(image_id)}/content", _content, headers={"Accept": "image/*"}
        )

    def list_gallery(self, *, limit: int | None, page_token: str | None) -> _Call[Page[Image]]:
        return _Call("GET", "v1/gallery", _image_page, params=_query(limit=limit, pageToken=page_token))

    def list_presets(self, *, limit: int | None, page_token: str | None) -> _Call[Page[Preset]]:
        return _Call("GET", "v1/presets", _preset_page, params=_query(limit=limit, pageToken=page_token))

    def get_preset(self, preset_id: str) -> _Call[Preset]:
        return _Call("GET", f"v1/presets/{_segment(preset_id)}", lambda r: Preset.from_api(r.json()))

    def save_preset(self, preset_id: str | None, definition: Mapping[str, Any]) -> _Call[Preset]:
        if preset_id is None:
            return _Call("POST", "v1/presets", lambda r: Preset.from_api(r.json()), json=dict(definition))
        path = f"v1/presets/{_segment(preset_id)}"
        return _Call("PUT", path, lambda r: Preset.from_api(r.json()), json=dict(definition))

    def delete_preset(self, preset_id: str) -> _Call[None]:
        return _Call("DELETE", f"v1/presets/{_segment(preset_id)}", _nothing)

    def usage(self) -> _Call[Usage]:
        return _Call("GET", "v1/usage", lambda r: Usage.from_api(r.json()))

    def webhook_secret(self) -> _Call[str]:
        return _Call("GET", "v1/webhooks/secret", lambda r: str(r.json()["secret"]))

    def models(self) -> _Call[ModelCatalog]:
        return _Call("GET", "v1/models", lambda r: ModelCatalog.from_api(r.json()))


def preset_definition(
    name: str,
    prompt_template: str,
    *,
    requirements: Sequence[Mapping[str, Any]] = (),
    description: str | None = None,
    default_provider: str | None = None,
    default_model: str | None = None,
    default_aspect_ratio: str | None = None,
) -> dict[str, Any]:
    fields = {
        "name": name,
        "promptTemplate": prompt_template,
        "requirements": [dict(r) for r in requirements],
        "description": description,
        "defaultProvider": default_provider,
        "defaultModel": default_model,
        "defaultAspectRatio": default_aspect_ratio,
    }
    return {key: value for key, value in fields.items() if value is not None}


def _raise_for_error(response: httpx.Response) -> None:
    if response.status_code >= 400:
        raise error_from_response(response)


class ImageGen:
    """The native API, synchronously.

    `base_url` is the API's base (`https://<app>/api`; default `$IMAGEGEN_BASE_URL`), `api_key` an API
    key or OIDC access token (default `$IMAGEGEN_API_KEY`; the gallery needs none). Errors are the
    `APIError` subclasses of `imagegen`; `transport` lets tests pass an `httpx.MockTransport`."""

    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._requests = _Requests(base_url, api_key)
        self._http = httpx.Client(
            base_url=self._requests.base_url,
            headers=self._requests.headers(),
            timeout=timeout,
            transport=transport,
        )

    @property
    def base_url(self) -> str:
        return self._requests.base_url

    def __enter__(self) -> ImageGen:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def _send(self, call: _Call[T]) -> T:
        try:
            response = self._http.request(call.method, call.path, **call.send_options())
        except httpx.TransportError as exc:
            raise APIConnectionError(f"{call.method} {self.base_url}{call.path}: {exc}") from exc
        _raise_for_error(response)
        return call.parse(response)

    # --- jobs --------------------------------------------------------------------------------------
    def submit(self, prompt: str | None = None, **options: Unpack[SubmitOptions]) -> Job:
        """Submit a job; it comes back `queued` (or, with `wait=N` seconds, `Prefer: wait`, ended if it
        ended within N). Reference images and the mask: `ImageInput`, bytes, a path, a URL or an output id."""
        return self._send(self._requests.submit(prompt, options))

    def get(self, job_id: str, *, include_deleted: bool = False, response_format: str | None = None) -> Job:
        return self._send(
            self._requests.get(job_id, include_deleted=include_deleted, response_format=response_format)
        )

    def wait(
        self,
        job: Job | str,
        *,
        timeout: float | None = None,
        poll_interval: float | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> Job:
        """Poll until the job has ended, sleeping what each answer's `Retry-After` says (or
        `poll_interval`); `on_progress` sees every state. `WaitTimeoutError` after `timeout` seconds."""
        current = job if isinstance(job, Job) else self.get(job)
        deadline = _Deadline(timeout, poll_interval)
        if on_progress:
            on_progress(current)
        while not current.done:
            time.sleep(deadline.next_delay(current))
            current = self.get(current.id)
            if on_progress:
                on_progress(current)
        return current

    def generate(
        self,
        prompt: str | None = None,
        *,
        timeout: float | None = None,
        poll_interval: float | None = None,
        on_progress: ProgressCallback | None = None,
        raise_on_failure: bool = True,
        **options: Unpack[SubmitOptions],
    ) -> Job:
        """`submit` and `wait`: the ended job; `JobFailedError` if it did not succeed (unless
        `raise_on_failure=False`). `options` are `submit`'s."""
        job = self.submit(prompt, **options)
        job = self.wait(job, timeout=timeout, poll_interval=poll_interval, on_progress=on_progress)
        if raise_on_failure and not job.succeeded:
            raise JobFailedError(job)
        return job

    def cancel(self, job_id: str) -> Job:
        return self._send(self._requests.cancel(job_id))

    def delete(self, job_id: str, *, hard: bool = False) -> None:
        self._send(self._requests.delete(job_id, hard=hard))

    def list_jobs(
        self, *, limit: int | None = None, page_token: str | None = None, **filters: Unpack[JobFilters]
    ) -> Page[Job]:
        """One page of the tenant's jobs, newest first; `filters`: status, preset_id, created_from,
        created_to (ISO 8601), include_deleted."""
        return self._send(self._requests.list_jobs(filters, limit=limit, page_token=page_token))

    def jobs(self, *, page_size: int | None = None, **filters: Unpack[JobFilters]) -> Iterator[Job]:
        """Every job (newest first), fetching pages as the iteration goes; `filters` are `list_jobs`'s."""
        yield from _pages(lambda token: self.list_jobs(limit=page_size, page_token=token, **filters))

    # --- library, gallery, download ------------------------------------------------------------
    def list_images(
        self,
        *,
        search: str | None = None,
        preset_id: str | None = None,
        limit: int | None = None,
        page_token: str | None = None,
    ) -> Page[Image]:
        return self._send(
            self._requests.list_images(search=search, preset_id=preset_id, limit=limit, page_token=page_token)
        )

    def images(
        self, *, search: str | None = None, preset_id: str | None = None, page_size: int | None = None
    ) -> Iterator[Image]:
        """The tenant's library, newest first, page by page."""
        yield from _pages(
            lambda token: self.list_images(
                search=search, preset_id=preset_id, limit=page_size, page_token=token
            )
        )

    def image(self, image_id: str) -> Image:
        return self._send(self._requests.image(image_id))

    def list_gallery(self, *, limit: int | None = None, page_token: str | None = None) -> Page[Image]:
        return self._send(self._requests.list_gallery(limit=limit, page_token=page_token))

    def gallery(self, *, page_size: int | None = None) -> Iterator[Image]:
        """Every tenant's public images, newest first (no key needed)."""
        yield from _pages(lambda token: self.list_gallery(limit=page_size, page_token=token))

    def download(self, image_id: str, path: str | Path | None = None) -> bytes:
        """An image's bytes (`{jobId}-{n}`); also written to `path` when given."""
        data = self._send(self._requests.download(image_id))
        if path is not None:
            Path(path).write_bytes(data)
        return data

    # --- presets, usage, webhooks, models ----------------------------------------------------------
    def list_presets(self, *, limit: int | None = None, page_token: str | None = None) -> Page[Preset]:
        return self._send(self._requests.list_presets(limit=limit, page_token=page_token))

    def presets(self, *, page_size: int | None = None) -> Iterator[Preset]:
        yield from _pages(lambda token: self.list_presets(limit=page_size, page_token=token))

    def get_preset(self, preset_id: str) -> Preset:
        return self._send(self._requests.get_preset(preset_id))

    def create_preset(self, name: str, prompt_template: str, **options: Any) -> Preset:
        """`options`: requirements, description, default_provider, default_model, default_aspect_ratio."""
        return self._send(
            self._requests.save_preset(None, preset_definition(name, prompt_template, **options))
        )

    def replace_preset(self, preset_id: str, name: str, prompt_template: str, **options: Any) -> Preset:
        definition = preset_definition(name, prompt_template, **options)
        return self._send(self._requests.save_preset(preset_id, definition))

    def delete_preset(self, preset_id: str) -> None:
        self._send(self._requests.delete_preset(preset_id))

    def usage(self) -> Usage:
        return self._send(self._requests.usage())

    def webhook_secret(self) -> str:
        """The tenant's webhook signing secret (`whsec_…`), for `imagegen.webhooks.verify`."""
        return self._send(self._requests.webhook_secret())

    def models(self) -> ModelCatalog:
        return self._send(self._requests.models())


def _pages(fetch: Callable[[str | None], Page[T]]) -> Iterator[T]:
    token: str | None = None
    while True:
        page = fetch(token)
        yield from page.items
        token = page.next_page_token
        if not token:
            return


async def _apages(fetch: Callable[[str | None], Any]) -> AsyncIterator[Any]:
    token: str | None = None
    while True:
        page = await fetch(token)
        for item in page.items:
            yield item
        token = page.next_page_token
        if not token:
            return


class AsyncImageGen:
    """The native API for asyncio: the same methods as `ImageGen`, awaited (iterators are async)."""

    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._requests = _Requests(base_url, api_key)
        self._http = httpx.AsyncClient(
            base_url=self._requests.base_url,
            headers=self._requests.headers(),
            timeout=timeout,
            transport=transport,
        )

    @property
    def base_url(self) -> str:
        return self._requests.base_url

    async def __aenter__(self) -> AsyncImageGen:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        await self._http.aclose()

    async def _send(self, call: _Call[T]) -> T:
        try:
            response = await self._http.request(call.method, call.path, **call.send_options())
        except httpx.TransportError as exc:
            raise APIConnectionError(f"{call.method} {self.base_url}{call.path}: {exc}") from exc
        _raise_for_error(response)
        return call.parse(response)

    async def submit(self, prompt: str | None = None, **options: Unpack[SubmitOptions]) -> Job:
        """As `ImageGen.submit`."""
        return await self._send(self._requests.submit(prompt, options))

    async def get(
        self, job_id: str, *, include_deleted: bool = False, response_format: str | None = None
    ) -> Job:
        return await self._send(
            self._requests.get(job_id, include_deleted=include_deleted, response_format=response_format)
        )

    async def wait(
        self,
        job: Job | str,
        *,
        timeout: float | None = None,
        poll_interval: float | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> Job:
        """As `ImageGen.wait`, sleeping with asyncio."""
        current = job if isinstance(job, Job) else await self.get(job)
        deadline = _Deadline(timeout, poll_interval)
        if on_progress:
            on_progress(current)
        while not current.done:
            await asyncio.sleep(deadline.next_delay(current))
            current = await self.get(current.id)
            if on_progress:
                on_progress(current)
        return current

    async def generate(
        self,
        prompt: str | None = None,
        *,
        timeout: float | None = None,
        poll_interval: float | None = None,
        on_progress: ProgressCallback | None = None,
        raise_on_failure: bool = True,
        **options: Unpack[SubmitOptions],
    ) -> Job:
        job = await self.submit(prompt, **options)
        job = await self.wait(job, timeout=timeout, poll_interval=poll_interval, on_progress=on_progress)
        if raise_on_failure and not job.succeeded:
            raise JobFailedError(job)
        return job

    async def cancel(self, job_id: str) -> Job:
        return await self._send(self._requests.cancel(job_id))

    async def delete(self, job_id: str, *, hard: bool = False) -> None:
        await self._send(self._requests.delete(job_id, hard=hard))

    async def list_jobs(
        self, *, limit: int | None = None, page_token: str | None = None, **filters: Unpack[JobFilters]
    ) -> Page[Job]:
        """As `ImageGen.list_jobs`."""
        return await self._send(self._requests.list_jobs(filters, limit=limit, page_token=page_token))

    def jobs(self, *, page_size: int | None = None, **filters: Unpack[JobFilters]) -> AsyncIterator[Job]:
        return _apages(lambda token: self.list_jobs(limit=page_size, page_token=token, **filters))

    async def list_images(
        self,
        *,
        search: str | None = None,
        preset_id: str | None = None,
        limit: int | None = None,
        page_token: str | None = None,
    ) -> Page[Image]:
        return await self._send(
            self._requests.list_images(search=search, preset_id=preset_id, limit=limit, page_token=page_token)
        )

    def images(
        self, *, search: str | None = None, preset_id: str | None = None, page_size: int | None = None
    ) -> AsyncIterator[Image]:
        return _apages(
            lambda token: self.list_images(
                search=search, preset_id=preset_id, limit=page_size, page_token=token
            )
        )

    async def image(self, image_id: str) -> Image:
        return await self._send(self._requests.image(image_id))

    async def list_gallery(self, *, limit: int | None = None, page_token: str | None = None) -> Page[Image]:
        return await self._send(self._requests.list_gallery(limit=limit, page_token=page_token))

    def gallery(self, *, page_size: int | None = None) -> AsyncIterator[Image]:
        return _apages(lambda token: self.list_gallery(limit=page_size, page_token=token))

    async def download(self, image_id: str, path: str | Path | None = None) -> bytes:
        data = await self._send(self._requests.download(image_id))
        if path is not None:
            Path(path).write_bytes(data)
        return data

    async def list_presets(self, *, limit: int | None = None, page_token: str | None = None) -> Page[Preset]:
        return await self._send(self._requests.list_presets(limit=limit, page_token=page_token))

    def presets(self, *, page_size: int | None = None) -> AsyncIterator[Preset]:
        return _apages(lambda token: self.list_presets(limit=page_size, page_token=token))

    async def get_preset(self, preset_id: str) -> Preset:
        return await self._send(self._requests.get_preset(preset_id))

    async def create_preset(self, name: str, prompt_template: str, **options: Any) -> Preset:
        return await self._send(
            self._requests.save_preset(None, preset_definition(name, prompt_template, **options))
        )

    async def replace_preset(self, preset_id: str, name: str, prompt_template: str, **options: Any) -> Preset:
        definition = preset_definition(name, prompt_template, **options)
        return await self._send(self._requests.save_preset(preset_id, definition))

    async def delete_preset(self, preset_id: str) -> None:
        await self._send(self._requests.delete_preset(preset_id))

    async def usage(self) -> Usage:
        return await self._send(self._requests.usage())

    async def webhook_secret(self) -> str:
        return await self._send(self._requests.webhook_secret())

    async def models(self) -> ModelCatalog:
        return await self._send(self._requests.models())


def _check_keys(given: Mapping[str, Any], declared: type, what: str) -> None:
    unknown = sorted(set(given) - set(declared.__annotations__))
    if unknown:
        raise TypeError(f"unknown {what} option(s): {', '.join(unknown)}")
