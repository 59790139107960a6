"""Prometheus metrics of one app, in the app's own registry (never the process-global one).

``ocrprep_http_requests_total{method,route,status}`` and
``ocrprep_http_request_duration_seconds{method,route}`` per route template (``/v1/jobs/{job_id}``,
never the raw path, so the label set stays bounded); ``ocrprep_images_processed_total{endpoint,
outcome}`` (accepted, rejected, error); ``ocrprep_rejections_total{defect}`` (the top defect of each
rejected image, or ``label:<name>`` when a model's top label rejected it); and, read at scrape
time, ``ocrprep_model_version_status{project,version,status}`` (1 for each version's status).

The HTTP side is one process (image calls run in its worker processes), so one scrape sees every
request.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector

__all__ = ["CONTENT_TYPE_LATEST", "Metrics"]

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

#: Returns (project, version, status) for every model version; called at scrape time.
ModelStates = Callable[[], Iterable[tuple[str, int, str]]]


class _ModelStateCollector(Collector):
    def __init__(self, states: ModelStates) -> None:
        self.states = states

    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily(
            "ocrprep_model_version_status",
            "1 for the current status of each model version in the registry.",
            labels=["project", "version", "status"],
        )
        try:
            rows = list(self.states())
        except Exception:  # a broken registry must not break the scrape  # noqa: BLE001
            rows = []
        for project, version, status in rows:
            family.add_metric([project, str(version), status], 1.0)
        yield family

    def describe(self) -> Iterator[Metric]:
        return iter(())


class Metrics:
    """The metrics of one app."""

    def __init__(self, model_states: ModelStates | None = None) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "ocrprep_http_requests", "HTTP requests by route template and status.",
            ["method", "route", "status"], registry=self.registry,
        )
        self.latency = Histogram(
            "ocrprep_http_request_duration_seconds", "HTTP request latency by route template.",
            ["method", "route"], buckets=_LATENCY_BUCKETS, registry=self.registry,
        )
        self.in_flight = Gauge(
            "ocrprep_http_requests_in_flight", "Requests being served now.", registry=self.registry
        )
        self.images = Counter(
            "ocrprep_images_processed", "Images handled by the image endpoints, by outcome.",
            ["endpoint", "outcome"], registry=self.registry,
        )
        self.rejections = Counter(
            "ocrprep_rejections", "Rejected images by their top defect (or rejecting label).",
            ["defect"], registry=self.registry,
        )
        if model_states is not None:
            self.registry.register(_ModelStateCollector(model_states))

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(seconds)

    def observe_image(self, endpoint: str, report: dict[str, Any] | None, *, error: str = "",
                      label: str | None = None) -> None:
        """Count one image: accepted, rejected (with its defect), or error."""
        if error and error != "PoorQualityImage":
            self.images.labels(endpoint, "error").inc()
            return
        acceptable = bool(report and report.get("acceptable")) and not error
        if acceptable:
            self.images.labels(endpoint, "accepted").inc()
            return
        self.images.labels(endpoint, "rejected").inc()
        self.rejections.labels(top_defect(report, label)).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)


def top_defect(report: dict[str, Any] | None, label: str | None = None) -> str:
    """The defect that best explains a rejection, for the rejection counter.

    Examples
    --------
    >>> top_defect({"defects": {"blurry": 0.9, "dark": 0.6}})
    'blurry'
    >>> top_defect({"defects": {"blurry": 0.1}}, label="bad")
    'label:bad'
    """
    defects = (report or {}).get("defects") or {}
    worst = max(defects.items(), key=lambda kv: kv[1], default=None)
    if worst is not None and worst[1] >= 0.5:
        return str(worst[0])
    if label:
        return f"label:{label}"
    return "other"
