"""Helpers for the server tests: a live uvicorn in a thread on loopback, fakes, seeded images."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import uvicorn
from fastapi import FastAPI

from ocrprep.config import Settings, StorageOptions
from ocrprep.errors import ModelError, PoorQualityImage
from ocrprep.quality.report import QualityReport
from ocrprep.server import Services, default_services
from ocrprep.server.labelling_db import LabellingStore


@contextmanager
def live_server(app: FastAPI) -> Iterator[str]:
    """Serve ``app`` on 127.0.0.1 at a free port in a thread; yield its base URL."""
    # IPPROTO_TCP explicitly: asyncio only sets TCP_NODELAY on sockets whose proto says TCP,
    # and without it every response waits ~40 ms for a delayed ACK
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_config=None, lifespan="on", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def make_settings(tmp_path: Path) -> Settings:
    """Settings confined to ``tmp_path`` (home, storage root, outputs)."""
    return Settings(
        home=tmp_path / "home",
        storage=StorageOptions(roots=(tmp_path,)),
        process={"output": str(tmp_path / "out")},  # type: ignore[arg-type]
    )


def write_images(folder: Path, n: int, seed: int = 0, size: tuple[int, int] = (160, 120)) -> list[Path]:
    """``n`` small seeded PNG 'pages' (text-like strokes on paper) under ``folder``."""
    from ocrprep.imageio import encode_image

    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        height, width = size
        image = np.full((height, width, 3), 235, np.uint8)
        for row in range(12, height - 12, 14):
            length = int(rng.integers(width // 3, width - 20))
            image[row : row + 4, 10 : 10 + length] = rng.integers(20, 60)
        image[:, :, int(rng.integers(0, 3))] -= np.uint8(i % 7)
        path = folder / f"page{i:02d}.png"
        path.write_bytes(encode_image(image))
        paths.append(path)
    return paths


def report(acceptable: bool, defects: dict[str, float] | None = None) -> QualityReport:
    defects = defects or {"blurry": 0.1}
    reasons = () if acceptable else tuple(f"{k}: measured {v}" for k, v in defects.items())
    return QualityReport(acceptable=acceptable, score=0.9 if acceptable else 0.2,
                         defects=defects, reasons=reasons)


def fake_process(uri: str, settings: Settings, overrides: dict[str, Any]) -> dict[str, Any]:
    """Accepts any URI except those naming 'blurry' (422), 'nomodel' (503) or 'crash' (the
    process running it dies)."""
    if "blurry" in uri:
        raise PoorQualityImage("blurry: edge sharpness 0.1, needs at least 0.45",
                               report(False, {"blurry": 0.9}))
    if "crash" in uri:  # only sent to servers with worker processes
        os._exit(1)  # a worker process dying mid-call (native crash, out of memory)
    if "nomodel" in uri:
        raise ModelError("model 'quality:9' is not in the registry")
    body = report(True).to_dict()
    return {"Bucket": None, "Key": uri, "S3Uri": uri, "TopLabel": None,
            "Input": {"Bucket": None, "Key": uri, "S3Uri": uri}, "uri": uri, "uris": [uri],
            "changed": False, "report": body, "steps": [], "timings": {"total": 0.001},
            "overrides": overrides, "pid": os.getpid()}


def fake_assess(source: bytes | str, settings: Settings) -> dict[str, Any]:
    return report(True).to_dict() | {"bytes": len(source) if isinstance(source, bytes) else None}


def fake_detect(source: bytes | str, settings: Settings, model: str | None,
                min_confidence: float | None) -> dict[str, Any]:
    if model == "missing":
        raise ModelError("no model named 'missing'")
    return {"Labels": [{"Name": "good", "Confidence": 97.5}, {"Name": "bad", "Confidence": 2.5}],
            "model": model}


@dataclass
class Server:
    url: str
    app: FastAPI
    store: LabellingStore
    admin: str
    reader: str
    settings: Settings
    client: httpx.Client

    def h(self, token: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"} if token else {}


def fake_services() -> Services:
    from dataclasses import replace

    return replace(default_services(), process=fake_process, assess=fake_assess,
                   detect_labels=fake_detect)


