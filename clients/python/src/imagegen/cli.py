"""`imagegen`: the command line on the client.

    imagegen generate "a lighthouse" --aspect-ratio 16:9 -o out.png
    imagegen jobs | get ID | cancel ID | delete ID | images | download ID | usage | models

The base URL and key come from `--base-url` / `--api-key` or `IMAGEGEN_BASE_URL` / `IMAGEGEN_API_KEY`.
While a job waits, the progress (status, queue position when the service gives one, elapsed time) goes
to stderr; `--json` prints the API's answers on stdout for scripts. Exit codes: see `EXIT_CODES`.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import IO, Any

from imagegen._client import ImageGen, SubmitOptions
from imagegen._errors import (
    APIConnectionError,
    APIError,
    AuthenticationError,
    ImageGenError,
    InternalServerError,
    JobFailedError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServiceUnavailableError,
    WaitTimeoutError,
)
from imagegen._models import Image, Job

OK = 0
JOB_FAILED = 1
USAGE = 2
REFUSED = 3
UNAUTHORIZED = 4
NOT_FOUND = 5
UNAVAILABLE = 6
TIMED_OUT = 7
INTERRUPTED = 130

EXIT_CODES = {
    OK: "success",
    JOB_FAILED: "the job ended failed or canceled (its error code is printed)",
    USAGE: "bad command line, or no base URL / API key",
    REFUSED: "the API refused the request (400, 402, 409, 415: fix the request)",
    UNAUTHORIZED: "the credentials were refused (401) or lack the scope (403)",
    NOT_FOUND: "no such job or image (404)",
    UNAVAILABLE: "try again later: rate limited (429), service error (5xx) or unreachable",
    TIMED_OUT: "the job had not ended within --timeout (it keeps running)",
    INTERRUPTED: "interrupted (Ctrl-C); a submitted job keeps running",
}

_EXTENSIONS = {b"\x89PNG": ".png", b"\xff\xd8\xff": ".jpg", b"RIFF": ".webp"}


def exit_code_for(error: BaseException) -> int:
    if isinstance(error, JobFailedError):
        return JOB_FAILED
    if isinstance(error, WaitTimeoutError):
        return TIMED_OUT
    if isinstance(error, (AuthenticationError, PermissionDeniedError)):
        return UNAUTHORIZED
    if isinstance(error, NotFoundError):
        return NOT_FOUND
    if isinstance(error, (RateLimitError, ServiceUnavailableError, InternalServerError, APIConnectionError)):
        return UNAVAILABLE
    if isinstance(error, APIError):
        return UNAVAILABLE if error.status >= 500 else REFUSED
    return REFUSED


class Progress:
    """A job's progress on stderr: one refreshed line on a terminal, a line per change otherwise."""

    _SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"

    def __init__(self, stream: IO[str], *, enabled: bool) -> None:
        self._stream = stream
        self._enabled = enabled
        self._live = enabled and stream.isatty()
        self._started = time.monotonic()
        self._job: Job | None = None
        self._last_line = ""
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None

    def __enter__(self) -> Progress:
        if self._live:
            self._ticker = threading.Thread(target=self._tick, daemon=True)
            self._ticker.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join()
        if self._live and self._job is not None:
            with self._lock:
                self._stream.write("\r\033[K" + self._describe(self._job, final=True) + "\n")
                self._stream.flush()

    def update(self, job: Job) -> None:
        with self._lock:
            self._job = job
            if not self._enabled or self._live:
                return
            line = self._describe(job, final=job.done)
            if line.split(" · ")[0] != self._last_line.split(" · ")[0] or job.done:
                self._stream.write(line + "\n")
                self._stream.flush()
            self._last_line = line

    def _tick(self) -> None:
        for frame in itertools.cycle(self._SPINNER):
            if self._stop.wait(0.1):
                return
            with self._lock:
                if self._job is not None:
                    self._stream.write(f"\r\033[K{frame} " + self._describe(self._job, final=False))
                    self._stream.flush()

    def _describe(self, job: Job, *, final: bool) -> str:
        parts = [job.status]
        if job.status == "queued" and job.queue_position is not None:
            parts.append(f"position {job.queue_position}")
        if job.status == "queued" and job.estimated_start_at is not None:
            parts.append(f"starts ~{job.estimated_start_at:%H:%M:%S}")
        if job.retry_count:
            parts.append(f"retry {job.retry_count}")
        parts.append(f"{time.monotonic() - self._started:.1f}s")
        if final and job.error:
            parts.append(f"{job.error.code}: {job.error.message}")
        return f"job {job.id} " + " · ".join(parts)


def _format_bytes(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} kB"
    return f"{size / 1024 / 1024:.2f} MB"


def _extension(data: bytes) -> str:
    return next((ext for magic, ext in _EXTENSIONS.items() if data.startswith(magic)), ".bin")


def _output_paths(target: Path, count: int) -> list[Path]:
    """`out.png` for one image; `out-1.png`, `out-2.png`, … for several."""
    if count == 1:
        return [target]
    return [target.with_name(f"{target.stem}-{i}{target.suffix}") for i in range(1, count + 1)]


class Cli:
    def __init__(self, args: argparse.Namespace, stdout: IO[str], stderr: IO[str]) -> None:
        self.args = args
        self.stdout = stdout
        self.stderr = stderr
        self.json = bool(getattr(args, "json", False))
        self.quiet = bool(getattr(args, "quiet", False))

    def print(self, text: str = "") -> None:
        self.stdout.write(text + "\n")

    def print_json(self, value: Any) -> None:
        self.stdout.write(json.dumps(value, indent=2, ensure_ascii=False) + "\n")

    def client(self, *, key_required: bool = True) -> ImageGen:
        base_url = getattr(self.args, "base_url", None) or os.environ.get("IMAGEGEN_BASE_URL")
        api_key = getattr(self.args, "api_key", None) or os.environ.get("IMAGEGEN_API_KEY")
        if not base_url:
            raise _UsageError(
                "no base URL: pass --base-url or set IMAGEGEN_BASE_URL (e.g. http://127.0.0.1:7071/api)"
            )
        if key_required and not api_key:
            raise _UsageError("no API key: pass --api-key or set IMAGEGEN_API_KEY")
        return ImageGen(base_url, api_key or "", timeout=float(getattr(self.args, "http_timeout", 30.0)))

    def wait(self, client: ImageGen, job: Job) -> Job:
        with Progress(self.stderr, enabled=not self.quiet) as progress:
            return client.wait(job, timeout=getattr(self.args, "timeout", None), on_progress=progress.update)

    def show_job(self, job: Job, saved: Sequence[Path] = ()) -> None:
        if self.json:
            self.print_json(dict(job.raw))
            return
        self.print(f"{job.id}  {job.status}  {job.served_by or f'{job.provider}/{job.model}'}  {job.prompt}")
        if job.error:
            self.print(f"  error: {job.error.code}: {job.error.message}")
        if job.revised_prompt:
            self.print(f"  revised prompt: {job.revised_prompt}")
        for warning in job.warnings:
            self.print(f"  warning: {warning}")
        for index, output in enumerate(job.outputs):
            where = str(saved[index]) if index < len(saved) else output.url or ""
            details = f"{output.width}x{output.height} {output.mime_type} {_format_bytes(output.bytes)}"
            self.print(f"  {output.id}  {details}  {where}")

    def show_images(self, images: Iterable[Image], next_token: str | None) -> None:
        items = list(images)
        if self.json:
            self.print_json({"items": [dict(i.raw) for i in items], "nextPageToken": next_token})
            return
        for image in items:
            size = f"{image.width}x{image.height} {_format_bytes(image.bytes)}"
            self.print(
                f"{image.id}  {image.created_at:%Y-%m-%d %H:%M}  {size}  {image.model}  {image.prompt}"
            )
        if next_token:
            self.print(f"(more: --page-token {next_token})")

    # --- commands --------------------------------------------------------------------------------
    def generate(self) -> int:
        a = self.args
        options: SubmitOptions = {}
        for name in ("provider", "model", "aspect_ratio", "size", "quality", "style", "resolution"):
            if getattr(a, name) is not None:
                options[name] = getattr(a, name)
        if a.n is not None:
            options["n"] = a.n
        if a.negative_prompt:
            options["negative_prompt"] = a.negative_prompt
        if a.output_format:
            options["output_format"] = a.output_format
        if a.reference:
            options["reference_images"] = list(a.reference)
        if a.mask:
            options["mask"] = a.mask
        if a.enhance:
            options["auto_enhance"] = True
            if a.enhance != "general":
                options["enhancement_template"] = a.enhance
        if a.public:
            options["is_public"] = True
        if a.idempotency_key:
            options["idempotency_key"] = a.idempotency_key
        with self.client() as client:
            job = client.submit(a.prompt, **options)
            if a.no_wait:
                self.show_job(job)
                return OK
            job = self.wait(client, job)
            saved: list[Path] = []
            if job.succeeded and a.output:
                for output, path in zip(
                    job.outputs, _output_paths(Path(a.output), len(job.outputs)), strict=True
                ):
                    assert output.id is not None
                    client.download(output.id, path)
                    saved.append(path)
            self.show_job(job, saved)
            if not job.succeeded:
                raise JobFailedError(job)
        return OK

    def jobs(self) -> int:
        a = self.args
        with self.client() as client:
            if a.all:
                items = list(client.jobs(page_size=100, **({"status": a.status} if a.status else {})))
                token = None
            else:
                page = client.list_jobs(
                    limit=a.limit, page_token=a.page_token, **({"status": a.status} if a.status else {})
                )
                items, token = page.items, page.next_page_token
        if self.json:
            self.print_json({"items": [dict(job.raw) for job in items], "nextPageToken": token})
            return OK
        for job in items:
            self.print(
                f"{job.id}  {job.status:<9}  {job.created_at:%Y-%m-%d %H:%M:%S}  {job.model}  {job.prompt}"
            )
        if token:
            self.print(f"(more: --page-token {token})")
        return OK

    def get(self) -> int:
        with self.client() as client:
            job = client.get(self.args.job_id)
            if self.args.wait:
                job = self.wait(client, job)
        self.show_job(job)
        return OK

    def cancel(self) -> int:
        with self.client() as client:
            job = client.cancel(self.args.job_id)
        self.show_job(job)
        return OK

    def delete(self) -> int:
        with self.client() as client:
            client.delete(self.args.job_id, hard=self.args.hard)
        if self.json:
            self.print_json({"id": self.args.job_id, "deleted": "hard" if self.args.hard else "soft"})
        else:
            self.print(f"{self.args.job_id} deleted{' (hard)' if self.args.hard else ''}")
        return OK

    def images(self) -> int:
        a = self.args
        with self.client(key_required=not a.gallery) as client:
            if a.gallery:
                page = client.list_gallery(limit=a.limit, page_token=a.page_token)
            else:
                page = client.list_images(search=a.search, limit=a.limit, page_token=a.page_token)
        self.show_images(page.items, page.next_page_token)
        return OK

    def download(self) -> int:
        with self.client() as client:
            data = client.download(self.args.image_id)
        path = Path(self.args.output) if self.args.output else Path(self.args.image_id + _extension(data))
        path.write_bytes(data)
        if self.json:
            self.print_json({"id": self.args.image_id, "path": str(path), "bytes": len(data)})
        else:
            self.print(f"{path}  {_format_bytes(len(data))}")
        return OK

    def usage(self) -> int:
        with self.client() as client:
            usage = client.usage()
        if self.json:
            self.print_json(
                {
                    "balance": usage.balance,
                    "reserved": usage.reserved,
                    "available": usage.available,
                    "spent": usage.spent,
                    "openReservations": usage.open_reservations,
                }
            )
        else:
            self.print(
                f"available {usage.available}  (balance {usage.balance}, reserved {usage.reserved} by "
                f"{usage.open_reservations} jobs, spent {usage.spent})"
            )
        return OK

    def models(self) -> int:
        with self.client() as client:
            catalog = client.models()
        if self.json:
            self.print_json(
                {
                    "providers": [
                        {"name": p.name, "isDefault": p.is_default, "models": [vars(m) for m in p.models]}
                        for p in catalog.providers
                    ]
                }
            )
            return OK
        for provider in catalog.providers:
            for model in provider.models:
                default = " (default)" if provider.is_default and model.is_default else ""
                edits = f"refs≤{model.max_reference_images}" + (", mask" if model.mask else "")
                self.print(f"{provider.name}/{model.id}{default}  {model.family}  {edits}")
        return OK


class _UsageError(Exception):
    pass


def _parser() -> argparse.ArgumentParser:
    # Common options are accepted before or after the command (SUPPRESS: a later default does not
    # overwrite an earlier value).
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--base-url", default=argparse.SUPPRESS, help="API base, e.g. https://<app>/api ($IMAGEGEN_BASE_URL)"
    )
    common.add_argument(
        "--api-key", default=argparse.SUPPRESS, help="API key or OIDC token ($IMAGEGEN_API_KEY)"
    )
    common.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS, help="print the API's answers as JSON"
    )
    common.add_argument(
        "-q", "--quiet", action="store_true", default=argparse.SUPPRESS, help="no progress on stderr"
    )
    common.add_argument(
        "--http-timeout", type=float, default=argparse.SUPPRESS, help="seconds per HTTP request (default 30)"
    )
    epilog = "exit codes:\n" + "\n".join(f"  {code:>3}  {meaning}" for code, meaning in EXIT_CODES.items())
    parser = argparse.ArgumentParser(
        prog="imagegen",
        description="Generate and manage images with the image generation API.",
        parents=[common],
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help: str) -> argparse.ArgumentParser:
        return commands.add_parser(name, help=help, description=help, parents=[common])

    g = command("generate", "submit a job, show its progress, save the images (-o)")
    g.add_argument("prompt", nargs="?", help="what to draw (optional with --preset)")
    g.add_argument("--provider", help="gemini or azure-openai")
    g.add_argument("--model", help="model or deployment (see `imagegen models`)")
    g.add_argument("--aspect-ratio", help="e.g. 16:9")
    g.add_argument("--resolution", choices=["low", "standard", "high", "4k"])
    g.add_argument("--size", help="pixel size as the model family allows, e.g. 1024x1024")
    g.add_argument("--quality")
    g.add_argument("--style")
    g.add_argument("-n", type=int, help="number of images")
    g.add_argument("--negative-prompt", help="what to avoid (Gemini)")
    g.add_argument("--reference", action="append", metavar="FILE|URL|ID", help="reference image (repeatable)")
    g.add_argument("--mask", metavar="FILE|URL|ID", help="mask PNG (alpha = editable)")
    g.add_argument("--output-format", choices=["png", "jpeg", "webp"])
    g.add_argument(
        "--enhance", nargs="?", const="general", metavar="TEMPLATE", help="rewrite the prompt first"
    )
    g.add_argument("--public", action="store_true", help="publish to the gallery")
    g.add_argument("--idempotency-key")
    g.add_argument("-o", "--output", metavar="PATH", help="save the image here (several: PATH-1, PATH-2, …)")
    g.add_argument("--no-wait", action="store_true", help="print the queued job and return")
    g.add_argument("--timeout", type=float, help="give up waiting after this many seconds (exit 7)")

    j = command("jobs", "list jobs, newest first")
    j.add_argument("--status", choices=["queued", "running", "succeeded", "failed", "canceled"])
    j.add_argument("--limit", type=int, default=20)
    j.add_argument("--page-token")
    j.add_argument("--all", action="store_true", help="every page")

    s = command("get", "show a job (--wait: until it ends)")
    s.add_argument("job_id")
    s.add_argument("--wait", action="store_true")
    s.add_argument("--timeout", type=float)

    c = command("cancel", "cancel a queued or running job")
    c.add_argument("job_id")

    d = command("delete", "delete a job (soft; --hard removes its images too)")
    d.add_argument("job_id")
    d.add_argument("--hard", action="store_true")

    i = command("images", "list the library (or --gallery: the public gallery)")
    i.add_argument("--search")
    i.add_argument("--gallery", action="store_true")
    i.add_argument("--limit", type=int, default=20)
    i.add_argument("--page-token")

    dl = command("download", "save an image's bytes")
    dl.add_argument("image_id", help="{jobId}-{n}")
    dl.add_argument("-o", "--output", metavar="PATH", help="default: <image id>.<ext>")

    command("usage", "credits: available, reserved, spent")
    command("models", "providers and models offered, and what each can take")
    return parser


_COMMANDS: dict[str, Callable[[Cli], int]] = {
    "generate": Cli.generate,
    "jobs": Cli.jobs,
    "get": Cli.get,
    "cancel": Cli.cancel,
    "delete": Cli.delete,
    "images": Cli.images,
    "download": Cli.download,
    "usage": Cli.usage,
    "models": Cli.models,
}


def run(
    argv: Sequence[str] | None = None, *, stdout: IO[str] | None = None, stderr: IO[str] | None = None
) -> int:
    """Run the CLI; the exit code (see EXIT_CODES)."""
    out, err = stdout or sys.stdout, stderr or sys.stderr
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0)
    cli = Cli(args, out, err)
    try:
        return _COMMANDS[args.command](cli)
    except _UsageError as error:
        err.write(f"imagegen: {error}\n")
        return USAGE
    except KeyboardInterrupt:
        err.write("imagegen: interrupted\n")
        return INTERRUPTED
    except ImageGenError as error:
        code = exit_code_for(error)
        err.write(f"imagegen: {error}\n")
        if cli.json and isinstance(error, APIError):
            cli.print_json(
                {
                    "error": {
                        "status": error.status,
                        "code": error.code,
                        "message": error.message,
                        "details": error.details,
                    }
                }
            )
        elif cli.json and isinstance(error, WaitTimeoutError):
            cli.print_json(dict(error.job.raw))  # a failed job was printed already, as the answer
        return code


def main() -> None:
    sys.exit(run())
