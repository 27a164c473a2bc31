"""Hardening run (issue #10): the whole tests/hardening suite, long parts included, summarized.

Runs ``pytest tests/hardening --run-long`` in a child process (so the suite's own timeouts and
daemon children behave exactly as in ``make hardening``), collects the tally the suite writes
(inputs tried, faults injected, attacks refused, data lost, measured figures) and the pytest
outcome, prints a summary table and writes bench/results/hardening.json.

    python bench/hardening.py            # everything (about 5 minutes on 2 cores)
    python bench/hardening.py --quick    # only the CI part (about a minute)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results" / "hardening.json"
ROWS = (
    ("inputs_tried", "inputs tried (audio files, Markdown documents, API requests)"),
    ("audio_files_tried", "  of which malformed/odd audio files"),
    ("markdown_documents_tried", "  of which Markdown documents"),
    ("api_fuzz_requests", "  of which schemathesis requests"),
    ("load_requests", "  of which concurrent load requests"),
    ("faults_injected", "faults injected (SIGKILL at a write, disk full)"),
    ("attacks_tried", "attacks tried"),
    ("attacks_refused", "attacks refused"),
    ("server_errors", "server errors (5xx other than the documented 503)"),
    ("schema_violations", "schema violations"),
    ("data_lost", "data lost (corrupt voices, lost recordings, half-written files)"),
)


def _outcome(stdout: str) -> dict[str, int]:
    """pytest's final counts ("3 passed, 1 xfailed in 12.3s") as a dict."""
    last = [line for line in stdout.splitlines() if re.search(r"\d+ (passed|failed)", line)]
    counts: dict[str, int] = {}
    if last:
        for n, what in re.findall(
            r"(\d+) (passed|failed|skipped|xfailed|xpassed|errors?)", last[-1]
        ):
            counts[what] = int(n)
    return counts


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="only the CI part (no --run-long)")
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        tally_file = Path(tmp) / "tally.json"
        env = {**os.environ, "OWNVOICE_HARDENING_JSON": str(tally_file)}
        argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/hardening"]
        if not args.quick:
            argv.append("--run-long")
        t0 = time.monotonic()
        proc = subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True, check=False)
        wall = time.monotonic() - t0
        tally = json.loads(tally_file.read_text()) if tally_file.exists() else {}
    counts = tally.get("counts", {})
    figures = tally.get("figures", {})
    outcome = _outcome(proc.stdout)
    xfails = [
        line.split(" - ", 1)[0].removeprefix("XFAIL ")
        for line in proc.stdout.splitlines()
        if line.startswith("XFAIL")
    ]
    failures = [
        line.removeprefix("FAILED ")
        for line in proc.stdout.splitlines()
        if line.startswith("FAILED")
    ]

    print(f"ownvoice hardening ({'CI part' if args.quick else 'full run'}), {wall / 60:.1f} min")
    for key, label in ROWS:
        print(f"{counts.get(key, 0):>8}  {label}")
    for key, value in sorted(figures.items()):
        print(f"{value!s:>8}  {key}")
    print(f"pytest: {outcome} (exit {proc.returncode})")
    for x in xfails:
        print(f"  known bug (strict xfail): {x}")
    for f in failures:
        print(f"  FAILED: {f}")

    result = {
        "mode": "quick" if args.quick else "full",
        "wall_seconds": round(wall, 1),
        "counts": counts,
        "figures": figures,
        "pytest": outcome,
        "exit_code": proc.returncode,
        "known_bugs_xfail": xfails,
        "failures": failures,
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
        },
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    print(f"wrote {args.out.relative_to(REPO) if args.out.is_relative_to(REPO) else args.out}")
    if proc.returncode != 0:
        print(proc.stdout[-6000:], file=sys.stderr)
    return proc.returncode


if __name__ == "__main__":
    sys.exit(main())
