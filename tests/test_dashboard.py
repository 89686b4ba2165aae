"""The Grafana dashboard (deploy/grafana): every query names metrics and labels the server really exports, and
every exported metric has a panel.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DASHBOARD = ROOT / "deploy" / "grafana" / "clinx-dashboard.json"


# The server's Prometheus metrics (name -> label names), as specified for /metrics.
def _served_metrics() -> tuple[dict[str, frozenset[str]], frozenset[str]]:
    """Metric families and their labels, read from the server's own registry so the two cannot drift."""
    from prometheus_client.metrics import MetricWrapperBase

    from app.metrics import Metrics

    metrics: dict[str, frozenset[str]] = {}
    histograms: set[str] = set()
    for collector in vars(Metrics()).values():
        if not isinstance(collector, MetricWrapperBase):
            continue
        kind = collector._type  # counter, gauge, histogram
        name = collector._name + ("_total" if kind == "counter" else "")
        metrics[name] = frozenset(collector._labelnames)
        if kind == "histogram":
            histograms.add(name)
    return metrics, frozenset(histograms)


METRICS, HISTOGRAMS = _served_metrics()
TARGET_LABELS = frozenset({"namespace", "pod", "instance", "job", "service", "container", "endpoint", "le"})


def dashboard() -> dict[str, Any]:
    """The dashboard JSON."""
    board: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return board


def dashboard_queries(node: Any) -> Iterator[str]:
    """Every PromQL string in the dashboard: panel targets and templating queries."""
    if isinstance(node, dict):
        for key, value in node.items():
            is_promql = key in ("expr", "definition") or (key == "query" and "clinx_" in str(value))
            if is_promql and isinstance(value, str):
                yield value
            else:
                yield from dashboard_queries(value)
    elif isinstance(node, list):
        for item in node:
            yield from dashboard_queries(item)


def metric_base(name: str) -> str:
    """The metric family of a series name (histogram series carry _bucket/_sum/_count)."""
    for suffix in ("_bucket", "_sum", "_count"):
        if name.endswith(suffix) and name[: -len(suffix)] in HISTOGRAMS:
            return name[: -len(suffix)]
    return name


def test_dashboard_references_only_known_metrics_and_covers_them_all() -> None:
    queries = list(dashboard_queries(dashboard()))
    assert queries
    used: set[str] = set()
    for query in queries:
        names = set(re.findall(r"\bclinx_[a-z0-9_]+", query))
        bases = {metric_base(name) for name in names}
        unknown = bases - set(METRICS)
        assert not unknown, f"dashboard query uses unknown metrics {unknown}: {query}"
        for name in names:
            if name.endswith("_bucket"):
                assert metric_base(name) in HISTOGRAMS, f"{name} is not a histogram bucket series"
        allowed_labels = set().union(*(METRICS[b] for b in bases)) | TARGET_LABELS if bases else TARGET_LABELS
        for group in re.findall(r"\bby \(([^)]*)\)", query):
            labels = {label.strip() for label in group.split(",") if label.strip()}
            assert labels <= allowed_labels, f"grouping by unknown labels {labels - allowed_labels}: {query}"
        used |= bases
    assert used == set(METRICS), f"metrics without a panel: {set(METRICS) - used}"


def test_dashboard_has_the_expected_panels() -> None:
    board = dashboard()
    assert board["uid"] and board["title"]
    panels = [p for p in board["panels"] if p["type"] != "row"]
    ids = [p["id"] for p in board["panels"]]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    text = json.dumps(panels)
    p99 = "histogram_quantile(0.99, sum by (le) (rate(clinx_request_duration_seconds_bucket"
    for needle in (
        "sum by (status) (rate(clinx_requests_total",
        p99,
        "clinx_queue_wait_seconds_bucket",
        "clinx_queue_depth",
        "clinx_batch_size_bucket",
        "clinx_batch_tokens_bucket",
        "clinx_padding_ratio_bucket",
        "clinx_inference_duration_seconds_bucket",
        "sum by (label) (rate(clinx_entities_total",
        "sum by (type) (rate(clinx_errors_total",
        "clinx_model_info",
    ):
        assert needle in text, f"no panel queries {needle!r}"
    for panel in panels:
        assert panel["targets"], f"panel {panel['title']!r} has no query"
        assert {"h", "w", "x", "y"} <= set(panel["gridPos"])
