"""Cold start of the HTTP path: time and memory to import the app, against importing the provider SDKs.

`python -m bench.cold_start [--runs 7]` prints the median of fresh interpreter runs. Each run is a new
process, so the numbers include module loading from disk cache as a Functions worker's cold start does.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PROBE = """
import json, resource, time
start = time.perf_counter()
{imports}
elapsed = time.perf_counter() - start
rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({{"seconds": elapsed, "max_rss_mb": rss_mb}}))
"""

CASES = {
    "python (baseline)": "pass",
    "function_app (HTTP path)": "import function_app",
    "function_app + provider SDKs + Pillow": (
        "import function_app, google.genai, openai, PIL.Image, "
        "shared.providers.gemini, shared.providers.azure_openai"
    ),
}


def measure(imports: str, runs: int) -> tuple[float, float]:
    seconds, rss = [], []
    for _ in range(runs):
        output = subprocess.run(
            [sys.executable, "-c", PROBE.format(imports=imports)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        result = json.loads(output)
        seconds.append(result["seconds"])
        rss.append(result["max_rss_mb"])
    return statistics.median(seconds), statistics.median(rss)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    print(f"{'case':<40} {'import s (median)':>18} {'max RSS MB':>11}")
    for name, imports in CASES.items():
        seconds, rss = measure(imports, args.runs)
        print(f"{name:<40} {seconds:>18.3f} {rss:>11.1f}")


if __name__ == "__main__":
    main()
