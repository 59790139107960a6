"""``ocrprep serve``: the HTTP API, the labelling pages, the dashboard, auth and metrics.

Names are imported on first use, so ``ocrprep.server.options`` (the option model the config file
shares) loads without FastAPI.

>>> from ocrprep.server import ServerOptions
>>> ServerOptions().host
'127.0.0.1'
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__all__ = ["ServerOptions", "Services", "create_app", "default_services"]

_LAZY = {
    "create_app": "ocrprep.server.app",
    "ServerOptions": "ocrprep.server.options",
    "Services": "ocrprep.server.services",
    "default_services": "ocrprep.server.services",
}

if TYPE_CHECKING:
    from ocrprep.server.app import create_app
    from ocrprep.server.options import ServerOptions
    from ocrprep.server.services import Services, default_services


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'ocrprep.server' has no attribute {name!r}")
    value = getattr(import_module(_LAZY[name]), name)
    globals()[name] = value
    return value
