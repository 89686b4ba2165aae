"""Prometheus metrics (prefix ``clinx_``). Labels are bounded enumerations: never text or ids."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics

disable_created_metrics()  # type: ignore[no-untyped-call]  # *_created series double the payload and no dashboard uses them

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)
BATCH_ROW_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256)
BATCH_TOKEN_BUCKETS = (64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768)
RATIO_BUCKETS = (0.0, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0, 2.0)


class Metrics:
    """All of the server's metrics, in a registry of their own (one per app instance)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        # `client`: a configured client name, `anonymous` (no keys configured) or `unknown` (no valid key).
        self.requests = Counter("clinx_requests", "HTTP requests by route, status and client.",
                                ["route", "status", "client"], registry=r)
        self.request_duration = Histogram(
            "clinx_request_duration_seconds", "Request latency.", ["route", "client"], buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.queue_wait = Histogram(
            "clinx_queue_wait_seconds",
            "Per request: time its windows waited for a batch.",
            ["model"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.inference_duration = Histogram(
            "clinx_inference_duration_seconds", "Model time per batch.", ["model"], buckets=LATENCY_BUCKETS, registry=r
        )
        self.tokenization_duration = Histogram(
            "clinx_tokenization_duration_seconds",
            "Per request: encoding and window building.",
            ["model"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.documents = Counter("clinx_documents", "Documents processed.", ["model"], registry=r)
        self.characters = Counter("clinx_characters", "Characters processed.", ["model"], registry=r)
        self.tokens = Counter("clinx_tokens", "Subword tokens processed.", ["model"], registry=r)
        self.batch_size = Histogram(
            "clinx_batch_size", "Windows per batch.", ["model"], buckets=BATCH_ROW_BUCKETS, registry=r
        )
        self.batch_tokens = Histogram(
            "clinx_batch_tokens", "Padded tokens per batch.", ["model"], buckets=BATCH_TOKEN_BUCKETS, registry=r
        )
        self.padding_ratio = Histogram(
            "clinx_padding_ratio", "Padded tokens / real tokens - 1, per batch.", ["model"], buckets=RATIO_BUCKETS,
            registry=r,
        )
        self.padded_tokens = Counter("clinx_padded_tokens", "Tokens sent to the model, padding included.", ["model"],
                                     registry=r)
        self.real_tokens = Counter("clinx_real_tokens", "Tokens sent to the model, padding excluded.", ["model"],
                                   registry=r)
        self.queue_depth = Gauge("clinx_queue_depth", "Windows waiting for a batch.", ["model"], registry=r)
        self.queue_tokens = Gauge("clinx_queue_tokens", "Tokens waiting for a batch.", ["model"], registry=r)
        self.entities = Counter("clinx_entities", "Entities (and /assertion spans) returned, by label and assertion "
                                "status (none: no assertion).", ["model", "label", "assertion"], registry=r)
        self.deid_items = Counter(
            "clinx_deid_items", "PHI spans replaced by /deidentify: category, operator, source (model or pattern).",
            ["model", "category", "operator", "source"], registry=r,
        )
        self.model_info = Gauge(
            "clinx_model_info", "The served bundle.", ["model", "version", "variant", "provider", "demo"], registry=r
        )
        self.errors = Counter("clinx_errors", "Errors returned, by type and client.", ["type", "client"], registry=r)
        self.device_fallback = Counter(
            "clinx_device_fallback", "Start-ups that wanted a GPU and fell back to the CPU.", ["model"], registry=r
        )
        self.ready = Gauge("clinx_ready", "1 when the server accepts extraction requests.", registry=r)


class ModelObserver:
    """Feeds one model's batcher events into the metrics."""

    def __init__(self, metrics: Metrics, model: str) -> None:
        self._metrics = metrics
        self._model = model

    def batch_done(self, rows: int, padded_tokens: int, real_tokens: int, seconds: float) -> None:
        m, model = self._metrics, self._model
        m.batch_size.labels(model).observe(rows)
        m.batch_tokens.labels(model).observe(padded_tokens)
        m.padding_ratio.labels(model).observe(padded_tokens / max(real_tokens, 1) - 1)
        m.padded_tokens.labels(model).inc(padded_tokens)
        m.real_tokens.labels(model).inc(real_tokens)
        m.inference_duration.labels(model).observe(seconds)

    def queue_depth(self, windows: int, tokens: int) -> None:
        self._metrics.queue_depth.labels(self._model).set(windows)
        self._metrics.queue_tokens.labels(self._model).set(tokens)
