"""Cold start of the HTTP path: time and memory to import the app, against importing the provider SDKs
and OpenTelemetry (which the app imports only when an exporter is configured).

`python -m bench.cold_start [--runs 7] [--ratios-only]` prints the median of fresh interpreter runs
(`--ratios-only`: of the SDKs and the cases set against them alone, so that more runs fit in the time).
Each run is a new process, so the numbers include module loading from disk cache as a Functions worker's
cold start does. CPU seconds are what the imports cost the process; on a machine shared with other work
they vary much less than the wall-clock seconds, and the fastest run's CPU seconds (what the imports cost
when nothing else got in their way) vary least. The cases take turns (one run of each, `--runs` times), so
a change in the machine's load reaches every case alike and the ratios stay comparable; each ratio is also
given round by round (a case's run against the SDKs' run of the same round, the median of those), which
a slow minute on the machine moves least.

The app is imported from this checkout, where it is compiled on every start unless its bytecode is cached
(`PYTHONDONTWRITEBYTECODE` keeps it from being written here), and from the deployment package as azd
builds it (`devtools.package`: the prepackage hook's bytecode, `.funcignore` applied), read-only, the way
Flex Consumption runs it.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from devtools import package

ROOT = Path(__file__).resolve().parents[1]

PROBE = """
import json, resource, sys, time
start, cpu_start = time.perf_counter(), time.process_time()
{imports}
elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
otel = sum(name.startswith("opentelemetry") for name in sys.modules)
print(json.dumps({{"seconds": elapsed, "cpu_seconds": cpu, "max_rss_mb": rss_mb, "otel_modules": otel}}))
"""

# What the HTTP path cannot do without: the Functions library, the async Cosmos DB, Blob and Queue clients,
# pydantic and aiohttp. The app's own cost is what `function_app` adds to this.
SDKS = (
    "import azure.functions, pydantic, aiohttp\n"
    "from azure.cosmos.aio import CosmosClient\n"
    "from azure.storage.blob.aio import BlobServiceClient\n"
    "from azure.storage.queue.aio import QueueClient"
)

CASES = {
    "python (baseline)": "pass",
    "the SDKs the HTTP path needs": SDKS,
    "function_app (HTTP path)": "import function_app",
    # The same SDKs imported first, then the app: what the app's own modules add on top of them.
    "the SDKs, then function_app": SDKS + "\nimport function_app",
    "function_app + provider SDKs + Pillow": (
        "import function_app, google.genai, openai, PIL.Image, "
        "shared.providers.gemini, shared.providers.azure_openai"
    ),
    # Telemetry on, as the local stack has it (TELEMETRY_FILES_DIRECTORY): providers, file exporters,
    # azure-core's tracing plugin and the httpx instrumentation, all set up.
    "function_app + telemetry configured (file export)": (
        "import function_app, tempfile\n"
        "from shared.settings import Settings\n"
        "from shared.telemetry.setup import configure_telemetry\n"
        "configure_telemetry(\n"
        "    Settings(COSMOS_ENDPOINT='https://x', TELEMETRY_FILES_DIRECTORY=tempfile.mkdtemp())\n"
        ")"
    ),
    # With APPLICATIONINSIGHTS_CONNECTION_STRING (Azure): the distro's import alone (configuring it would
    # start exporters that send to Azure), so a lower bound.
    "function_app + azure-monitor-opentelemetry import": "import function_app, azure.monitor.opentelemetry",
    "function_app from the deployment package": "import function_app",
    "the SDKs, then function_app from the package": SDKS + "\nimport function_app",
}
SDKS_CASE = "the SDKs the HTTP path needs"
# The cases set against the SDKs.
RATIO_CASES = (
    "function_app (HTTP path)",
    "the SDKs, then function_app",
    "function_app from the deployment package",
    "the SDKs, then function_app from the package",
)
# The cases run in the deployment package rather than this checkout.
FROM_PACKAGE = {"function_app from the deployment package", "the SDKs, then function_app from the package"}


_MEDIANS = ("seconds", "cpu_seconds", "max_rss_mb")


def measure(imports: str, cwd: Path = ROOT) -> dict[str, float]:
    """One fresh interpreter's figures for `imports`, run in `cwd` (where `function_app` is found)."""
    output = subprocess.run(
        [sys.executable, "-c", PROBE.format(imports=imports)],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(output)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument(
        "--ratios-only",
        action="store_true",
        help="only the SDKs and the cases set against them (more runs in the time)",
    )
    args = parser.parse_args()
    cases = {name: CASES[name] for name in (SDKS_CASE, *RATIO_CASES)} if args.ratios_only else CASES
    print(
        f"{'case':<48} {'import s':>9} {'CPU s':>7} {'max RSS MB':>11} {'OTel modules':>13}  (medians)"
        f" {'min CPU s':>10}"
    )
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in cases}
    with tempfile.TemporaryDirectory() as workspace:
        deployed = package.build(Path(workspace))
        for _ in range(args.runs):
            for name, imports in cases.items():
                runs[name].append(measure(imports, deployed if name in FROM_PACKAGE else ROOT))
    results = {}
    for name, figures in runs.items():
        seconds, cpu, rss = (statistics.median(run[key] for run in figures) for key in _MEDIANS)
        otel = int(figures[-1]["otel_modules"])
        fastest = min(run["cpu_seconds"] for run in figures)
        results[name] = (seconds, cpu, fastest)
        print(f"{name:<48} {seconds:>9.3f} {cpu:>7.3f} {rss:>11.1f} {otel:>13} {fastest:>21.3f}")
    sdks = results[SDKS_CASE]
    for name in RATIO_CASES:
        seconds, cpu, fastest = (figure / sdk for figure, sdk in zip(results[name], sdks, strict=True))
        # Each round's case against the same round's SDKs, taken a moment apart: what the machine's
        # slower and faster minutes do to both cancels out, as it does not between medians.
        rounds = zip(runs[name], runs[SDKS_CASE], strict=True)
        paired = statistics.median(run["cpu_seconds"] / sdk_run["cpu_seconds"] for run, sdk_run in rounds)
        print(
            f"{name} / the SDKs it needs: {seconds:.2f}x seconds, {cpu:.2f}x CPU, {fastest:.2f}x min CPU, "
            f"{paired:.2f}x CPU round by round (median)"
        )


if __name__ == "__main__":
    main()
