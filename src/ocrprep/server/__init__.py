"""``ocrprep serve``: the HTTP API, the labelling pages, the dashboard, auth and metrics.

>>> from ocrprep.server import create_app  # doctest: +SKIP
"""

from __future__ import annotations

from ocrprep.server.app import create_app
from ocrprep.server.options import ServerOptions
from ocrprep.server.services import Services, default_services

__all__ = ["ServerOptions", "Services", "create_app", "default_services"]
