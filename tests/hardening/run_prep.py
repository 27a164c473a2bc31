"""Run ``prepare_recordings`` on a batch in its own process and print a JSON report.

A separate process measures the batch's own peak memory (VmHWM) and turns a hard crash of a
decoder (segfault, abort) into a visible non-zero exit instead of killing the test runner.
Usage: ``python run_prep.py LANG MAX_TOTAL_S|none FILE...``
"""

from __future__ import annotations

import json
import os
import sys
import time


def _vm(field: str) -> int:
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    return 0


def main() -> int:
    import torch

    torch.set_num_threads(1)
    from ownvoice.engine.preprocess import prepare_recordings

    lang, total, *files = sys.argv[1:]
    max_total = None if total == "none" else float(total)
    baseline = _vm("VmRSS")
    times: dict[str, float] = {}
    last = [time.monotonic(), None]

    def progress(_frac: float, message: str) -> None:
        now = time.monotonic()
        if last[1] is not None:
            times[last[1]] = round(now - last[0], 3)
        last[0], last[1] = now, message.removeprefix("preparing ")

    t0 = time.monotonic()
    result = prepare_recordings(files, lang, progress=progress, max_seconds_total=max_total)
    out = {
        "seconds": round(time.monotonic() - t0, 2),
        "baseline_rss": baseline,
        "peak_rss": _vm("VmHWM"),
        "file_seconds": times,
        "segments": len(result.segments),
        "report": [
            {
                "path": os.path.basename(r.path),
                "accepted": r.accepted,
                "reason": r.reason,
                "warnings": list(r.warnings),
                "segments": r.segments,
            }
            for r in result.report
        ],
    }
    print("PREP-JSON " + json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
