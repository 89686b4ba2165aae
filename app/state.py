"""The server's life: load and warm up each bundle, readiness, draining, in-flight requests."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from app.bundle import bundle_digest, bundle_encoder, read_manifest
from app.engine.batcher import Batcher
from app.engine.pipeline import ModelIdentity, Pipeline
from app.engine.runtime import CPU, Runtime
from app.metrics import Metrics, ModelObserver
from app.settings import Settings

log = logging.getLogger("clinx.server")


GPU_BATCH_TOKENS = 8192
CPU_BATCH_TOKENS = 512

class StartupError(RuntimeError):
    """The server cannot serve: one line that names the cause."""


def load_pipeline(settings: Settings, root: Path, metrics: Metrics) -> Pipeline:
    """Verify, load and warm up one bundle (blocking: run it in a thread)."""
    manifest = read_manifest(root)
    if settings.max_batch_tokens and manifest.max_length > settings.max_batch_tokens:
        raise StartupError(
            f"max_batch_tokens {settings.max_batch_tokens} is smaller than the bundle's max_length "
            f"{manifest.max_length}: no window would fit in a batch"
        )
    encoder = bundle_encoder(root, manifest)
    runtime = Runtime(
        root,
        manifest,
        device=settings.device,
        device_id=settings.device_id,
        variant=settings.variant,
        intra_op_threads=settings.intra_op_threads,
        enable_tensorrt=settings.tensorrt,
    )
    if runtime.choice.fallback_reason and settings.device == "auto":
        metrics.device_fallback.labels(manifest.name).inc()
    budget = batch_budget(settings.max_batch_tokens, runtime.provider, manifest.max_length)
    warm_up(runtime, manifest.max_length, budget, manifest.special.pad_id)
    identity = ModelIdentity(manifest.name, manifest.version, bundle_digest(root / "manifest.json"), manifest.demo)
    batcher = Batcher(
        runtime.run,
        pad_id=manifest.special.pad_id,
        max_batch_tokens=budget,
        max_delay_s=settings.max_queue_delay_ms / 1000,
        max_queue_tokens=settings.max_queue_tokens,
        max_padding=settings.max_padding_ratio,
        age_half_life_s=settings.max_reorder_ms / 1000,
        # A GPU wants the next batch ready when the current one ends; on a CPU the model already uses
        # every core, and a second batch would only make newly arrived notes wait for two.
        workers=1 if runtime.provider == CPU else 2,
        observer=ModelObserver(metrics, manifest.name),
    )
    metrics.model_info.labels(
        manifest.name, manifest.version, runtime.variant, runtime.provider, str(manifest.demo).lower()
    ).set(1)
    return Pipeline(root, manifest, identity, encoder, runtime, batcher)


def batch_budget(configured: int, provider: str, max_length: int) -> int:
    """The configured budget, or one that suits the device (benchmarks/results/batch-budget.md).

    A GPU needs large batches to stay busy. On a CPU a packed window is already a large matrix
    product: one window per batch was the fastest measured (cache-friendly), and it keeps the wait a
    newly arrived note has for the running batch short.
    """
    if configured:
        return configured
    return GPU_BATCH_TOKENS if provider != CPU else max(CPU_BATCH_TOKENS, max_length)


def warm_up(runtime: Runtime, max_length: int, max_batch_tokens: int, pad_id: int) -> None:
    """Run the largest batch the budget allows, so the first request pays no allocation cost."""
    rows = max(1, max_batch_tokens // max_length)
    input_ids = np.full((rows, max_length), pad_id, dtype=np.int64)
    attention_mask = np.ones((rows, max_length), dtype=np.int64)
    started = time.monotonic()
    runtime.run(input_ids, attention_mask)
    log.info("warm-up done: %d x %d tokens in %.2f s", rows, max_length, time.monotonic() - started)


class ServerState:
    """What the routes share: the pipelines, readiness and draining."""

    def __init__(self, settings: Settings, metrics: Metrics) -> None:
        self.settings = settings
        self.metrics = metrics
        self.pipelines: dict[str, Pipeline] = {}
        self.default_model = ""
        self.loaded = False
        self.draining = False
        self.failure: str | None = None
        self.in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self.on_failure: Callable[[str], None] | None = None

    @property
    def ready(self) -> bool:
        return self.loaded and not self.draining and all(p.batcher.running for p in self.pipelines.values())

    async def load(self) -> None:
        started = time.monotonic()
        try:
            for root in self.settings.bundle_paths():
                pipeline = await asyncio.to_thread(load_pipeline, self.settings, root, self.metrics)
                name = pipeline.manifest.name
                if name in self.pipelines:
                    raise StartupError(f"{root}: a bundle named {name!r} is already served")
                self.pipelines[name] = pipeline
                self.default_model = self.default_model or name
                pipeline.batcher.start()
                runtime = pipeline.runtime
                log.info(
                    "serving %s %s (%s on %s)%s",
                    name,
                    pipeline.manifest.version,
                    runtime.variant,
                    runtime.provider,
                    " - DEMO MODEL, NOT FOR CLINICAL USE" if pipeline.manifest.demo else "",
                )
        except Exception as error:  # every start-up failure ends the process with one line
            self.failure = str(error).splitlines()[0] if str(error) else type(error).__name__
            log.error("start-up failed: %s", self.failure)
            if self.on_failure is not None:
                self.on_failure(self.failure)
            return
        self.loaded = True
        self.metrics.ready.set(1)
        log.info("ready after %.1f s", time.monotonic() - started)

    async def close(self) -> None:
        for pipeline in self.pipelines.values():
            await pipeline.batcher.stop()

    def request_started(self) -> None:
        self.in_flight += 1
        self._idle.clear()

    def request_finished(self) -> None:
        self.in_flight -= 1
        if self.in_flight == 0:
            self._idle.set()

    async def drain(self, grace_s: float) -> None:
        """Readiness off at once; wait for in-flight requests up to the grace period."""
        self.draining = True
        self.metrics.ready.set(0)
        log.info("draining: %d request(s) in flight", self.in_flight)
        try:
            await asyncio.wait_for(self._idle.wait(), grace_s)
        except TimeoutError:
            log.warning("grace period over with %d request(s) still in flight", self.in_flight)
