"""The server's options, one pydantic model shared by ``ocrprep serve``, the app and the config file.

(Meant to become ``Settings.server`` in :mod:`ocrprep.config`; until then :func:`server_options`
reads it from there when present, else uses the defaults and any explicit values.)
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["ServerOptions", "server_options"]


class ServerOptions(BaseModel):
    """How ``ocrprep serve`` listens and what it allows."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    host: str = Field("127.0.0.1", description="Interface to listen on (loopback by default).")
    port: int = Field(8080, ge=0, le=65535, description="TCP port (0 picks a free one).")
    workers: int | None = Field(
        None, ge=0, le=64,
        description="Processes that run the image calls (None = one per core; 0 = threads in the "
        "server process). The HTTP side is one async process that hands them the work.",
    )
    max_upload_bytes: int = Field(
        20 * 1024 * 1024, gt=0, description="Largest request body accepted (uploads included)."
    )
    cors_origins: tuple[str, ...] = Field(
        (), description="Origins allowed by CORS; empty turns CORS off (the default)."
    )
    compute_threads: int = Field(
        0, ge=0, description="With workers=0: image calls run at once in threads (0 = one per core)."
    )
    credential_cache_seconds: float = Field(
        30.0, ge=0, description="How long a verified credential is trusted before re-checking."
    )
    lease_seconds: int = Field(
        600, gt=0, description="How long an image shown to a labelling worker is held for them."
    )
    results_log: Path | None = Field(
        None, description="JSON-lines log of recent results for the dashboard "
        "(default $OCRPREP_HOME/serve/results.jsonl)."
    )
    log_level: str = Field("info", description="Log level of the JSON logs.")
    secure_cookies: bool = Field(
        False, description="Mark the sign-in cookie Secure (set when served over HTTPS)."
    )

    def processes(self) -> int:
        """Worker processes for image calls (0: threads in the server process)."""
        return (os.cpu_count() or 1) if self.workers is None else self.workers

    def in_flight(self) -> int:
        """Image calls handed out at once: two per worker process (one running, one queued so
        no worker waits for the event loop), or one per thread."""
        processes = self.processes()
        return 2 * processes if processes else (self.compute_threads or (os.cpu_count() or 1))


def server_options(settings: Any = None, **explicit: Any) -> ServerOptions:
    """Options from ``settings.server`` (if the settings have that section) and explicit values."""
    base = getattr(settings, "server", None)
    data = base.model_dump() if isinstance(base, BaseModel) else {}
    data.update({k: v for k, v in explicit.items() if v is not None})
    return ServerOptions.model_validate(data)
