"""Load benchmark of ``ocrprep serve``: concurrent clients on loopback against /v1/assess and
/v1/process, beside the same calls made in-process with the same number of worker processes;
and, in Chromium, how soon the labelling page shows the next image after a keypress.

    .venv/bin/python bench/bench_serve.py [--clients 32] [--seconds 20] [--workers 2] [--limit N]

The server runs as ``ocrprep serve --workers W`` (a subprocess, loopback only). Each client sends
one request at a time (closed loop) for ``--seconds`` per route, cycling over the images; every
request names an image URI the server reads from its storage root, exactly as the in-process
baseline does (``assess_source(uri)`` / ``process(uri)`` in a pool of W processes with 32 calls
outstanding). 200 and 422 (a rejected image) are expected answers; anything else is counted as an
error, 5xx separately. The clients run on the same 2-core machine as the server, as they would.
Writes the table to ``bench/results/serve.txt``.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from pathlib import Path
from typing import Any

import httpx

from _report import emit

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "sroie"
FALLBACK_DATA = ROOT / "tests" / "fixtures" / "receipts"
CHROMIUM = "/usr/bin/chromium"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process (Linux /proc), 0 if unknown."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    """Child processes of every thread of ``pid`` (the image workers are started from a thread)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(x) for x in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def merge(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """Combine rounds: counts and times add up, percentiles over all latencies."""
    latencies = [x for part in parts for x in part["latencies"]]
    statuses: dict[int, int] = {}
    for part in parts:
        for status, n in part["statuses"].items():
            statuses[status] = statuses.get(status, 0) + n
    seconds = sum(part["seconds"] for part in parts)
    merged = {"requests": len(latencies), "rps": len(latencies) / seconds, "statuses": statuses,
              "p50": percentile(latencies, 50), "p99": percentile(latencies, 99),
              "errors": [e for part in parts for e in part.get("errors", [])][:5]}
    for key in ("client_cpu", "server_cpu", "worker_cpu"):
        if key in parts[0]:
            merged[key] = sum(part[key] for part in parts) / seconds
    return merged


# ---------------------------------------------------------------- in-process baseline


@functools.cache
def _settings(config: str) -> Any:
    from ocrprep.config import load_settings

    return load_settings(Path(config))


def _call(route: str, uri: str, config: str, overrides: dict[str, Any]) -> int:
    from ocrprep.errors import OcrprepError

    settings = _settings(config)  # read once per worker process, as the server does
    try:
        if route == "/v1/assess":
            from ocrprep.api import assess_source

            assess_source(uri, settings=settings)
        else:
            from ocrprep.pipeline import process

            process(uri, settings, **overrides)
    except OcrprepError as exc:
        return exc.http_status
    return 200


def in_process(pool: ProcessPoolExecutor, route: str, uris: list[str], config: Path,
               overrides: dict[str, Any], seconds: float, outstanding: int) -> dict[str, Any]:
    """The same calls in a pool of worker processes, ``outstanding`` at a time (as 32 clients)."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    started = time.perf_counter()
    pending: dict[Any, float] = {}
    counter = 0
    while True:
        while len(pending) < outstanding and time.perf_counter() - started < seconds:
            future = pool.submit(_call, route, uris[counter % len(uris)], str(config), overrides)
            pending[future] = time.perf_counter()
            counter += 1
        if not pending:
            break
        finished, _ = wait(list(pending), return_when=FIRST_COMPLETED)
        for future in finished:
            sent = pending.pop(future)
            status = future.result()
            if time.perf_counter() - started <= seconds:
                latencies.append(time.perf_counter() - sent)
                statuses[status] = statuses.get(status, 0) + 1
    return {"latencies": latencies, "statuses": statuses, "seconds": seconds}


# ---------------------------------------------------------------- over HTTP


class Connection:
    """A minimal HTTP/1.1 keep-alive client on raw asyncio streams.

    The clients stand in for callers on other machines; a full client library (httpx) spends
    several milliseconds of CPU per request, which on a shared 2-core box would be taken from
    the server being measured. This one spends a fraction of that; its CPU is reported anyway.
    """

    def __init__(self, host: str, port: int, token: str) -> None:
        self.host, self.port = host, port
        self.head = (f"Host: {host}:{port}\r\nAuthorization: Bearer {token}\r\n"
                     "Content-Type: application/json\r\n").encode()
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        self.writer.write(b"POST " + path.encode() + b" HTTP/1.1\r\n" + self.head
                          + b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
        await self.writer.drain()
        status = int((await self.reader.readline()).split()[1])
        length, chunked, close = 0, False, False
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            name, value = name.strip().lower(), value.strip().lower()
            if name == "content-length":
                length = int(value)
            elif name == "transfer-encoding" and "chunked" in value:
                chunked = True
            elif name == "connection" and value == "close":
                close = True
        if chunked:
            data = b""
            while (size := int((await self.reader.readline()).strip(), 16)) > 0:
                data += await self.reader.readexactly(size + 2)
            await self.reader.readline()
        else:
            data = await self.reader.readexactly(length)
        if close:
            await self.close()
        return status, data

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


async def load(url: str, route: str, uris: list[str], token: str, overrides: dict[str, Any],
               clients: int, seconds: float, server_pid: int) -> dict[str, Any]:
    """``clients`` closed-loop clients for ``seconds``; latencies, statuses and CPU used."""
    import resource

    latencies: list[float] = []
    statuses: dict[int, int] = {}
    errors: list[str] = []
    host, port = url.rsplit("//", 1)[1].split(":")
    bodies = [json.dumps({"uri": uri, **overrides}).encode() for uri in uris]
    counter = 0
    usage = resource.getrusage(resource.RUSAGE_SELF)
    client_before = usage.ru_utime + usage.ru_stime
    server_before = cpu_seconds(server_pid)
    workers_before = sum(cpu_seconds(p) for p in children(server_pid))
    started = time.perf_counter()

    async def one_client() -> None:
        nonlocal counter
        connection = Connection(host, int(port), token)
        while time.perf_counter() - started < seconds:
            body = bodies[counter % len(bodies)]
            counter += 1
            sent = time.perf_counter()
            try:
                status, data = await connection.post(route, body)
                if status not in (200, 422):
                    errors.append(f"{status} {data[:200]!r}")
            except (OSError, ValueError, IndexError, asyncio.IncompleteReadError) as exc:
                status = 599
                errors.append(f"{type(exc).__name__}: {exc}")
                await connection.close()
            if time.perf_counter() - started <= seconds:
                latencies.append(time.perf_counter() - sent)
                statuses[status] = statuses.get(status, 0) + 1
        await connection.close()

    await asyncio.gather(*(one_client() for _ in range(clients)))
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {"latencies": latencies, "statuses": statuses, "seconds": seconds, "errors": errors,
            "client_cpu": usage.ru_utime + usage.ru_stime - client_before,
            "server_cpu": cpu_seconds(server_pid) - server_before,
            "worker_cpu": sum(cpu_seconds(p) for p in children(server_pid)) - workers_before}


def start_server(config: Path, port: int, workers: int, log: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "ocrprep", "serve", "--host", "127.0.0.1", "--port", str(port),
               "--workers", str(workers), "--config", str(config)]
    handle = log.open("wb")
    process = subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT, cwd=ROOT)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        if process.poll() is not None:
            break
        time.sleep(0.3)
    process.terminate()
    raise SystemExit(f"the server did not start; see {log}")


# ---------------------------------------------------------------- labelling in the browser


def labelling_latency(url: str, token: str, uris: list[str], presses: int) -> dict[str, Any] | None:
    """Keypress-to-next-image time on the labelling page (performance.now, after the paint)."""
    if shutil.which(CHROMIUM) is None:
        return None
    from playwright.sync_api import sync_playwright

    admin = {"Authorization": f"Bearer {token}"}
    images = (uris * (presses // max(1, len(uris)) + 2))[: presses + 1]
    name = f"bench-{int(time.time())}"
    with httpx.Client(base_url=url, headers=admin, timeout=60) as client:
        job = client.post("/v1/labelling/jobs", json={"name": name, "images": images}).json()
        worker = client.post(f"/v1/labelling/jobs/{job['id']}/workers", json={"name": "bench"}).json()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--no-first-run", "--disable-sync"])
        page = browser.new_context(viewport={"width": 1280, "height": 860}).new_page()
        page.goto(f"{url}/signin?next=/label")
        page.fill("#token", worker["token"])
        page.click("button[type=submit]")
        page.wait_for_selector("#image[data-index='0']:not(.hidden)")
        for index in range(presses):
            page.wait_for_selector(f"#image[data-index='{index}']:not(.hidden)")
            page.wait_for_timeout(150)  # a person looks at the image before pressing a key
            page.keyboard.press("1")
        page.wait_for_selector(f"#image[data-index='{presses}']:not(.hidden)")
        page.wait_for_timeout(100)
        latencies = page.evaluate("window.ocrprepLabel.latencies")
        browser.close()
    return {"presses": len(latencies), "p50": percentile(latencies, 50),
            "p95": percentile(latencies, 95), "max": max(latencies) if latencies else float("nan"),
            "over_100ms": sum(1 for x in latencies if x > 100)}


# ---------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--limit", type=int, default=40, help="Distinct images to cycle over.")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=20.0, help="Per route and per side.")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--rounds", type=int, default=4, help="Alternating slices per side.")
    parser.add_argument("--presses", type=int, default=30, help="Keypresses in the browser part.")
    parser.add_argument("--skip-browser", action="store_true")
    args = parser.parse_args()

    source = args.data / "img" if (args.data / "img").is_dir() else FALLBACK_DATA
    images = sorted(source.glob("*.jpg"))[: args.limit]
    if not images:
        raise SystemExit(f"no images under {source}")
    work = Path(tempfile.mkdtemp(prefix="bench-serve-"))
    try:
        run(args, images, source, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run(args: argparse.Namespace, images: list[Path], source: Path, work: Path) -> None:
    from ocrprep.config import load_settings
    from ocrprep.server.labelling_db import LabellingStore

    folder = work / "images"
    folder.mkdir()
    for path in images:
        shutil.copy(path, folder / path.name)
    uris = [str(folder / path.name) for path in images]
    config = work / "config.yaml"
    config.write_text(json.dumps({"home": str(work / "home"), "storage": {"roots": [str(work)]},
                                  "process": {"output": str(work / "out")}}))
    settings = load_settings(config)
    token, _ = LabellingStore(settings.db_url).create_key("bench", ["admin"])

    overrides: dict[str, Any] = {}
    if _call("/v1/process", uris[0], str(config), {}) == 503:
        overrides = {"decision": "measurements"}  # no trained model here (make model)
    port = free_port()
    log = work / "server.log"
    server = start_server(config, port, args.workers, log)
    url = f"http://127.0.0.1:{port}"
    rows = []
    label = None
    rounds = max(1, args.rounds)
    slice_seconds = args.seconds / rounds
    try:
        with ProcessPoolExecutor(max_workers=args.workers) as pool:
            for route, extra in (("/v1/assess", {}), ("/v1/process", overrides)):
                # warm both sides (imports, caches, connections), then alternate short slices
                # of in-process and HTTP so a change in the machine's load hits both alike
                in_process(pool, route, uris, config, extra, 2.0, args.clients)
                asyncio.run(load(url, route, uris, token, extra, args.clients, 2.0, server.pid))
                base_parts, http_parts = [], []
                for _ in range(rounds):
                    base_parts.append(in_process(pool, route, uris, config, extra, slice_seconds,
                                                 args.clients))
                    http_parts.append(asyncio.run(load(url, route, uris, token, extra, args.clients,
                                                       slice_seconds, server.pid)))
                rows.append((route, merge(base_parts), merge(http_parts)))
        if not args.skip_browser:
            label = labelling_latency(url, token, uris, args.presses)
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
    report(args, images, source, rows, label, overrides)


def report(args: argparse.Namespace, images: list[Path], source: Path, rows: list[Any],
           label: dict[str, Any] | None, overrides: dict[str, Any]) -> None:
    lines = [
        f"ocrprep serve load benchmark: {args.clients} clients, {args.seconds:.0f} s per route and side, "
        f"{args.workers} worker processes both sides, {args.rounds} alternating slices, "
        f"{len(images)} images from {source}, loopback, "
        f"{os.cpu_count()} cores (clients on the same machine)",
    ]
    if overrides:
        lines.append(f"/v1/process ran with {overrides} (no trained model is installed)")
    lines += [
        "",
        f"{'route':<12} {'side':<11} {'req':>6} {'req/s':>7} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'p99/p50':>7} {'5xx':>4} {'other':>5}  statuses",
    ]
    for route, base, http in rows:
        for side, result in (("in-process", base), ("HTTP", http)):
            statuses = result["statuses"]
            server_errors = sum(n for s, n in statuses.items() if s >= 500)
            other = sum(n for s, n in statuses.items() if s not in (200, 422) and s < 500)
            ratio = result["p99"] / result["p50"] if result["p50"] else float("nan")
            lines.append(
                f"{route:<12} {side:<11} {result['requests']:>6} {result['rps']:>7.1f} "
                f"{1000 * result['p50']:>8.1f} {1000 * result['p99']:>8.1f} {ratio:>7.2f} "
                f"{server_errors:>4} {other:>5}  {dict(sorted(statuses.items()))}"
            )
        lines.append(f"{'':<12} HTTP / in-process throughput: {http['rps'] / base['rps']:.2f}; "
                     f"CPU per second of HTTP load: workers {http['worker_cpu']:.2f} s, "
                     f"HTTP process {http['server_cpu']:.2f} s, clients {http['client_cpu']:.2f} s")
        for error in http.get("errors", []):
            lines.append(f"{'':<12} error: {error}")
    lines.append("")
    lines.append("targets: no unexpected 5xx at 32 clients; /v1/assess p99 <= 4 x p50; "
                 "HTTP throughput >= 0.80 of in-process")
    assess = rows[0][2]
    lines.append(
        f"measured: 5xx={sum(n for s, n in assess['statuses'].items() if s >= 500) + sum(n for s, n in rows[1][2]['statuses'].items() if s >= 500)}; "
        f"assess p99/p50={assess['p99'] / assess['p50']:.2f}; "
        f"throughput ratio assess={rows[0][2]['rps'] / rows[0][1]['rps']:.2f}, "
        f"process={rows[1][2]['rps'] / rows[1][1]['rps']:.2f}"
    )
    if label is None:
        lines.append("labelling: not measured (no Chromium at /usr/bin/chromium, or --skip-browser)")
    else:
        lines.append(
            f"labelling page, keypress to next image painted ({label['presses']} presses): "
            f"p50 {label['p50']:.1f} ms, p95 {label['p95']:.1f} ms, max {label['max']:.1f} ms, "
            f"{label['over_100ms']} over 100 ms (target: within 100 ms)"
        )
    emit(lines, ROOT / "bench" / "results" / "serve.txt")


if __name__ == "__main__":
    main()
