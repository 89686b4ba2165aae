"""The server's life: readiness, draining and in-flight requests around the loaded models.

Loading a bundle into a ready pipeline is the engine's job (:class:`app.engine.extractor.Extractor`);
this module only decides when the server is ready, and stops it with one line when a bundle fails.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from pathlib import Path

from app.engine.extractor import EngineOptions, Extractor
from app.metrics import Metrics, ModelObserver
from app.settings import Settings

log = logging.getLogger("clinx.server")


class StartupError(RuntimeError):
    """The server cannot serve: one line that names the cause."""


def engine_options(settings: Settings) -> EngineOptions:
    return EngineOptions(
        device=settings.device,
        device_id=settings.device_id,
        variant=settings.variant,
        intra_op_threads=settings.intra_op_threads,
        tensorrt=settings.tensorrt,
        max_batch_tokens=settings.max_batch_tokens,
        max_padding_ratio=settings.max_padding_ratio,
        max_queue_delay_ms=settings.max_queue_delay_ms,
        max_reorder_ms=settings.max_reorder_ms,
        max_queue_tokens=settings.max_queue_tokens,
    )


class ServerState:
    """What the routes share: the served models, readiness and draining."""

    def __init__(self, settings: Settings, metrics: Metrics, on_failure: Callable[[str], None] | None = None) -> None:
        self.settings = settings
        self.metrics = metrics
        self.models: dict[str, Extractor] = {}
        self.default_model = ""
        self.loaded = False
        self.draining = False
        self.failure: str | None = None
        self.in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._on_failure = on_failure

    @property
    def ready(self) -> bool:
        return self.loaded and not self.draining and all(model.ready for model in self.models.values())

    def _load_one(self, root: Path) -> Extractor:
        """Blocking: run it in a thread."""
        extractor = Extractor.load(root, options=engine_options(self.settings),
                                   observe=lambda name: ModelObserver(self.metrics, name))
        name = extractor.manifest.name
        runtime = extractor.runtime
        if runtime.choice.fallback_reason and self.settings.device == "auto":
            self.metrics.device_fallback.labels(name).inc()
        self.metrics.model_info.labels(name, extractor.manifest.version, runtime.variant, runtime.provider,
                                       str(extractor.manifest.demo).lower()).set(1)
        return extractor

    async def load(self) -> None:
        started = time.monotonic()
        try:
            for root in self.settings.bundle_paths():
                extractor = await asyncio.to_thread(self._load_one, root)
                name = extractor.manifest.name
                if name in self.models:
                    raise StartupError(f"{root}: a bundle named {name!r} is already served")
                self.models[name] = extractor
                self.default_model = self.default_model or name
                await extractor.start()
                runtime = extractor.runtime
                log.info("serving %s %s (%s on %s)%s", name, extractor.manifest.version, runtime.variant,
                         runtime.provider, " - DEMO MODEL, NOT FOR CLINICAL USE" if extractor.manifest.demo else "")
                if runtime.choice.variant_reason:
                    log.warning("%s serves %s: %s", name, runtime.variant, runtime.choice.variant_reason)
        except Exception as error:  # every start-up failure ends the process with one line
            self.failure = str(error).splitlines()[0] if str(error) else type(error).__name__
            log.error("start-up failed: %s", self.failure)
            if self._on_failure is not None:
                self._on_failure(self.failure)
            return
        self.loaded = True
        self.metrics.ready.set(1)
        log.info("ready after %.1f s", time.monotonic() - started)

    async def close(self) -> None:
        for extractor in self.models.values():
            await extractor.stop()

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
