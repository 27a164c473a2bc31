"""Bridge benchmark: cached replay latency, time to first audio, 50 concurrent clients, daemon RSS.

Starts the real daemon (`ownvoice serve`) on a free loopback port with a temporary OWNVOICE_HOME
(or talks to a running one with --url/--token-file), then measures over real HTTP:
  * cached replay: the same sentence spoken again, p50/p95 (target p95 <= 20 ms);
  * time to first audio for an uncached sentence: buffered wav (/api/speak), the first ndjson line,
    and the first audio sample byte of a streamed wav from /v1/audio/speech;
  * 50 concurrent clients against a bounded queue: throughput, status counts (only 200 and clean
    503 + Retry-After are acceptable), latency;
  * daemon RSS before, after the model loads and after each concurrent round (memory settles).
Prints a table and writes bench/results/bridge.json.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ownvoice.bridge.client import Client, DaemonDown

RESULTS = REPO / "bench" / "results" / "bridge.json"
CACHED = "This sentence is spoken once and then replayed from the cache."
NOVEL = [  # uncached single sentences (wav answers)
    "Quiet rivers carry the evening light toward the sea.",
    "A small lamp glowed beside the unfinished manuscript.",
]
NDJSON_TEXTS = [  # uncached multi-sentence texts (streamed answers); no sentence repeats
    "The train left the station on time. Its windows were full of fog. Nobody spoke until the bridge.",
    "She wrote the answer in the margin. Then she closed the notebook. The rain had stopped by noon.",
]
OPENAI_TEXTS = [  # uncached single sentences, streamed wav from /v1/audio/speech
    "Seven brave purple dragons slept soundly through the long winter nights.",
    "The old clockmaker repaired every watch that the village brought to him.",
    "Morning fog rolled over the harbour while the fishing boats headed out.",
]
CONCURRENT_SET = [f"Sentence number {i} for the concurrency test." for i in range(8)]


def rss_mb(pid: int) -> float | None:
    try:
        import psutil

        return psutil.Process(pid).memory_info().rss / 2**20
    except ImportError:
        pass
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def post_timed(
    host: str, port: int, token: str, path: str, body: dict, timeout: float = 600
) -> tuple[int, float, float, bytes, dict]:
    """(status, seconds to first body byte, seconds to last byte, body, headers) of one POST."""
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    data = json.dumps(body).encode()
    t0 = time.perf_counter()
    conn.request(
        "POST",
        path,
        body=data,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    resp = conn.getresponse()
    first = resp.read(1)
    t_first = time.perf_counter() - t0
    rest = resp.read()
    t_all = time.perf_counter() - t0
    headers = {k.lower(): v for k, v in resp.getheaders()}
    conn.close()
    return resp.status, t_first, t_all, first + rest, headers


def first_audio_timed(
    host: str, port: int, token: str, text: str, timeout: float = 600
) -> tuple[int, float, float, float]:
    """(status, s to first audio sample byte, s to last byte, audio seconds) of a streamed wav.

    The 44-byte WAV header goes out with the first audio, but it is not audio: the clock stops
    at the first byte after it.
    """
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    body = {"model": "ownvoice", "input": text, "voice": "default", "response_format": "wav"}
    t0 = time.perf_counter()
    conn.request(
        "POST",
        "/v1/audio/speech",
        body=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    resp = conn.getresponse()
    head = resp.read(45)
    t_first = time.perf_counter() - t0
    rest = resp.read()
    t_all = time.perf_counter() - t0
    conn.close()
    return resp.status, t_first, t_all, (len(head) + len(rest) - 44) / 2 / 24000


def start_daemon(home: Path, port: int) -> subprocess.Popen:
    env = {**os.environ, "OWNVOICE_HOME": str(home)}
    env.pop("OWNVOICE_CONFIG", None)
    with open(home / "serve.log", "wb") as log:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            [sys.executable, "-m", "ownvoice.cli", "serve", "--port", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )


def wait_ready(client: Client, proc: subprocess.Popen | None, timeout: float = 180) -> float:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if proc is not None and proc.poll() is not None:
            raise SystemExit(f"daemon exited with {proc.returncode}")
        try:
            client._token = None
            client.status()
            return time.monotonic() - t0
        except (DaemonDown, OSError):
            time.sleep(0.2)
    raise SystemExit("daemon did not answer")


def concurrent(
    host: str, port: int, token: str, clients: int, per_client: int, round_no: int = 0
) -> dict:
    statuses: dict[int, int] = {}
    latencies: list[float] = []
    bad_503 = 0
    lock = threading.Lock()
    barrier = threading.Barrier(clients)

    def worker(i: int) -> None:
        nonlocal bad_503
        barrier.wait()
        for j in range(per_client):
            # Mostly cached sentences (replays), one novel sentence per client (real synthesis).
            text = (
                CONCURRENT_SET[(i + j) % len(CONCURRENT_SET)]
                if j
                else f"Client {i} says something new in round {round_no + 1}."
            )
            try:
                status, _, t_all, body, headers = post_timed(
                    host, port, token, "/api/speak", {"text": text}, 900
                )
            except OSError as e:
                status, t_all, body, headers = -1, 0.0, str(e).encode(), {}
            with lock:
                statuses[status] = statuses.get(status, 0) + 1
                if status == 200:
                    latencies.append(t_all)
                elif status == 503:
                    ok = "retry-after" in headers and json.loads(body).get("status") == 503
                    bad_503 += 0 if ok else 1

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    ok = statuses.get(200, 0)
    return {
        "clients": clients,
        "requests": clients * per_client,
        "wall_s": round(wall, 3),
        "throughput_rps": round(ok / wall, 2),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "errors": sum(v for k, v in statuses.items() if k not in (200, 503)) + bad_503,
        "p50_s": round(pct(latencies, 0.5), 4) if latencies else None,
        "p95_s": round(pct(latencies, 0.95), 4) if latencies else None,
        "latencies_s": latencies,
    }


def merge_rounds(rounds: list[dict]) -> dict:
    """The rounds' figures together (latency percentiles over every request), plus each round's."""
    statuses: dict[str, int] = {}
    for r in rounds:
        for k, v in r["statuses"].items():
            statuses[k] = statuses.get(k, 0) + v
    latencies = [x for r in rounds for x in r.pop("latencies_s")]
    wall = sum(r["wall_s"] for r in rounds)
    return {
        "clients": rounds[0]["clients"],
        "rounds": len(rounds),
        "requests": sum(r["requests"] for r in rounds),
        "wall_s": round(wall, 3),
        "throughput_rps": round(statuses.get("200", 0) / wall, 2),
        "statuses": dict(sorted(statuses.items())),
        "errors": sum(r["errors"] for r in rounds),
        "p50_s": round(pct(latencies, 0.5), 4) if latencies else None,
        "p95_s": round(pct(latencies, 0.95), 4) if latencies else None,
        "per_round": rounds,
    }


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--url", help="benchmark a running daemon (default: start one in a temp home)")
    ap.add_argument("--token-file", type=Path, help="token file of the daemon given by --url")
    ap.add_argument("--replays", type=int, default=200, help="cached replays to time (default 200)")
    ap.add_argument("--clients", type=int, default=50, help="concurrent clients (default 50)")
    ap.add_argument(
        "--per-client", type=int, default=4, help="requests per concurrent client (default 4)"
    )
    ap.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="concurrent rounds, RSS read after each to see memory settle (default 3)",
    )
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args()

    proc = None
    tmp = None
    if args.url:
        client = Client(args.url, token_file=args.token_file, timeout=900)
    else:
        tmp = tempfile.TemporaryDirectory(prefix="ownvoice-bench-")
        home = Path(tmp.name)
        port = free_port()
        proc = start_daemon(home, port)
        client = Client(
            f"http://127.0.0.1:{port}", token_file=home / "config" / "token", timeout=900
        )
    host, port = client.host, client.port
    try:
        startup = wait_ready(client, proc)
        token = client.token
        pid = client.status()["pid"]
        rss_start = rss_mb(pid)
        # The first synthesis also loads the model (or waits for the warm-up): measured, not mixed in.
        _, _, first_request_s, _, _ = post_timed(
            host, port, token, "/api/speak", {"text": "Warm up the model."}
        )
        rss_warm = rss_mb(pid)

        ttfb_wav, ttfb_ndjson, full_ndjson, audio_s = [], [], [], []
        for text in NOVEL:
            status, t_first, _, _, headers = post_timed(
                host, port, token, "/api/speak", {"text": text}
            )
            assert status == 200, status
            ttfb_wav.append(t_first)
            audio_s.append(float(headers["x-ownvoice-duration"]))
        ttfa_openai, whole_openai, audio_openai = [], [], []
        for text in OPENAI_TEXTS:
            status, t_first, t_all, seconds = first_audio_timed(host, port, token, text)
            assert status == 200, status
            ttfa_openai.append(t_first)
            whole_openai.append(t_all)
            audio_openai.append(round(seconds, 2))
        for text in NDJSON_TEXTS:
            status, t_first, t_all, _, _ = post_timed(
                host, port, token, "/api/speak", {"text": text, "format": "ndjson"}
            )
            assert status == 200, status
            ttfb_ndjson.append(t_first)
            full_ndjson.append(t_all)

        status, _, _, _, _ = post_timed(host, port, token, "/api/speak", {"text": CACHED})
        assert status == 200
        replays = []
        for _ in range(args.replays):
            status, _, t_all, _, _ = post_timed(host, port, token, "/api/speak", {"text": CACHED})
            assert status == 200
            replays.append(t_all)

        for text in CONCURRENT_SET:  # cached before the storm
            post_timed(host, port, token, "/api/speak", {"text": text})
        queue_max = client.status()["queue"].get("max")
        storms, rss_rounds = [], []
        for r in range(args.rounds):
            storms.append(concurrent(host, port, token, args.clients, args.per_client, r))
            rss_rounds.append(rss_mb(pid))
        storm = merge_rounds(storms)
        rss_end = rss_rounds[-1]
    finally:
        if proc is not None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
        if tmp is not None:
            tmp.cleanup()

    result = {
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "python": sys.version.split()[0],
        },
        "startup_s": round(startup, 3),
        "first_request_s (model load + synthesis)": round(first_request_s, 3),
        "cached_replay": {
            "n": len(replays),
            "p50_ms": round(1000 * pct(replays, 0.5), 2),
            "p95_ms": round(1000 * pct(replays, 0.95), 2),
            "max_ms": round(1000 * max(replays), 2),
            "target_p95_ms": 20,
        },
        "uncached_ttfb": {
            "wav_s": [round(x, 3) for x in ttfb_wav],
            "wav_audio_s": audio_s,
            "ndjson_first_line_s": [round(x, 3) for x in ttfb_ndjson],
            "ndjson_whole_s": [round(x, 3) for x in full_ndjson],
            "openai_wav_stream_first_audio_s": [round(x, 3) for x in ttfa_openai],
            "openai_wav_stream_whole_s": [round(x, 3) for x in whole_openai],
            "openai_wav_stream_audio_s": audio_openai,
            "target_first_audio_s": 0.4,
        },
        "concurrency": {**storm, "queue_max": queue_max},
        "rss_mb": {
            "start": rss_start,
            "after_model": rss_warm,
            "after_each_round": rss_rounds,
            "end": rss_end,
        },
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")

    rows = [
        ("daemon answers after", f"{startup:.2f} s"),
        ("first request (loads model)", f"{first_request_s:.2f} s"),
        (
            "cached replay p50 / p95",
            (
                f"{result['cached_replay']['p50_ms']:.1f} / "
                f"{result['cached_replay']['p95_ms']:.1f} ms (target p95 <= 20)"
            ),
        ),
        ("uncached wav, first byte", ", ".join(f"{x:.2f}" for x in ttfb_wav) + " s"),
        (
            "uncached ndjson, first line",
            ", ".join(f"{x:.2f}" for x in ttfb_ndjson)
            + " s (whole: "
            + ", ".join(f"{x:.2f}" for x in full_ndjson)
            + " s)",
        ),
        (
            "uncached /v1 wav stream, first audio",
            ", ".join(f"{x:.2f}" for x in ttfa_openai)
            + " s (whole: "
            + ", ".join(f"{x:.2f}" for x in whole_openai)
            + " s; target first audio <= 0.4)",
        ),
        (
            f"{storm['clients']} clients x {args.per_client}, {storm['rounds']} rounds",
            (
                f"{storm['throughput_rps']} req/s, statuses "
                f"{storm['statuses']}, errors {storm['errors']}"
            ),
        ),
        ("  latency p50 / p95", f"{storm['p50_s']} / {storm['p95_s']} s"),
        (
            "RSS start / model / after each round",
            " / ".join(f"{x:.0f}" if x else "?" for x in (rss_start, rss_warm, *rss_rounds))
            + " MiB",
        ),
    ]
    width = max(len(k) for k, _ in rows)
    print(f"bridge benchmark ({platform.machine()}, {os.cpu_count()} CPUs)")
    for k, v in rows:
        print(f"  {k:<{width}}  {v}")
    print(f"wrote {args.out}")
    return 0 if storm["errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
