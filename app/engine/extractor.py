"""The in-process extraction API: one bundle loaded into a ready pipeline, for every caller.

The HTTP server, ``clinx evaluate`` on a bundle, export verification, the benchmarks' model-only
ceiling and bulk jobs all extract through this class, so every path produces the same spans::

    from app.engine.extractor import Extractor

    with Extractor.load("models/demo") as extractor:
        for result in extractor.extract(["Patient denies chest pain."]):
            print([(e.start, e.end, e.label, round(e.score, 3)) for e in result.entities])

``extract`` is synchronous (it runs the engine on a private event loop thread); ``extract_async``
is for callers that have their own loop (the server). One extractor serves one of the two.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np

from app.bundle import Manifest, bundle_digest, bundle_encoder, read_manifest
from app.engine.batcher import Batcher, BatchObserver, current_client
from app.engine.budget import batch_budget
from app.engine.executor import Executor, WindowRow
from app.engine.lanes import Lanes
from app.engine.pipeline import ExtractResult, Pipeline
from app.engine.runtime import CPU, Runtime
from app.engine.stages import (
    DecodeStage,
    DocumentResult,
    EncodeStage,
    EntityStage,
    StageContext,
    TagStage,
    entity_stages,
)

log = logging.getLogger("clinx.engine")

NO_DEADLINE_S = 365 * 24 * 3600.0


class LoadError(RuntimeError):
    """The bundle cannot be served with these options: one line that names the cause."""


@dataclass(frozen=True)
class EngineOptions:
    """How a bundle is run; the server fills it from its settings, library callers from arguments."""

    device: str = "auto"  # auto | cpu | cuda
    device_id: int = 0
    variant: str = "auto"  # auto | fp32 | fp16 | int8
    intra_op_threads: int = 0  # 0: every available core
    tensorrt: bool = False
    max_batch_tokens: int = 0  # 0: per device (app.engine.budget)
    max_padding_ratio: float | None = 0.1
    max_queue_delay_ms: float = 5.0
    max_reorder_ms: float = 2000.0
    max_queue_tokens: int = 262144
    client_queue_share: float = 0.0  # 0: the bound split evenly among clients with work queued


@dataclass(frozen=True)
class ModelIdentity:
    name: str
    version: str
    sha256: str
    demo: bool


@dataclass
class _PrivateLoop:
    """An event loop on a daemon thread, for synchronous callers."""

    loop: asyncio.AbstractEventLoop = field(default_factory=asyncio.new_event_loop)
    thread: threading.Thread | None = None

    def start(self) -> None:
        self.thread = threading.Thread(target=self.loop.run_forever, name="clinx-extractor-loop", daemon=True)
        self.thread.start()

    def call(self, coroutine: Any) -> Any:
        future: Future[Any] = asyncio.run_coroutine_threadsafe(coroutine, self.loop)
        return future.result()

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        if self.thread is not None:
            self.thread.join()
        self.loop.close()


class Extractor:
    """A bundle verified, loaded on its device, warmed up, and run through its stages."""

    def __init__(self, root: Path, manifest: Manifest, identity: ModelIdentity, runtime: Runtime,
                 batcher: Batcher, pipeline: Pipeline) -> None:
        self.root = root
        self.manifest = manifest
        self.identity = identity
        self.runtime = runtime
        self.batcher = batcher
        self.pipeline = pipeline
        self._private: _PrivateLoop | None = None
        self._lock = threading.Lock()

    @classmethod
    def load(cls, bundle: Path | str, *, device: str = "auto", variant: str = "auto",
             options: EngineOptions | None = None, observe: Callable[[str], BatchObserver] | None = None
             ) -> Extractor:
        """Verify and load ``bundle`` (blocking). ``options`` overrides device and variant when given;
        ``observe(model name)`` gives the batcher's observer (the server's metrics).

        Raises BundleError (a file or field is wrong), DeviceError (CLINX_DEVICE=cuda without a usable
        GPU) or LoadError.
        """
        options = options or EngineOptions(device=device, variant=variant)
        root = Path(bundle)
        manifest = read_manifest(root)
        if options.max_batch_tokens and manifest.max_length > options.max_batch_tokens:
            raise LoadError(f"max_batch_tokens {options.max_batch_tokens} is smaller than the bundle's max_length "
                            f"{manifest.max_length}: no window would fit in a batch")
        encoder = bundle_encoder(root, manifest)
        runtime = Runtime(root, manifest, device=options.device, device_id=options.device_id,
                          variant=options.variant, intra_op_threads=options.intra_op_threads,
                          enable_tensorrt=options.tensorrt)
        # On a CPU the tagger's and the later stages' batchers share two lanes, one batch per client
        # (app/engine/lanes.py); a GPU wants the next batch ready when the current one ends: two workers.
        lanes = Lanes() if runtime.provider == CPU else None
        after = entity_stages(root, manifest, StageContext(
            runtime.provider, options.variant, options.device_id, options.intra_op_threads, options.max_batch_tokens,
            options.max_padding_ratio, options.max_queue_delay_ms / 1000, options.max_reorder_ms / 1000,
            options.max_queue_tokens, observe, lanes))
        budget = batch_budget(options.max_batch_tokens, runtime.provider, manifest.max_length)
        executor = Executor(runtime.run, manifest.special.pad_id)
        warm_up(executor, manifest.max_length, budget)
        batcher = Batcher(
            executor,
            max_batch_tokens=budget,
            max_delay_s=options.max_queue_delay_ms / 1000,
            max_queue_tokens=options.max_queue_tokens,
            max_padding=options.max_padding_ratio,
            age_half_life_s=options.max_reorder_ms / 1000,
            client_queue_share=options.client_queue_share,
            workers=2,
            observer=observe(manifest.name) if observe is not None else None,
            lanes=lanes,
        )
        identity = ModelIdentity(manifest.name, manifest.version, bundle_digest(root / "manifest.json"), manifest.demo)
        pipeline = Pipeline(EncodeStage(encoder), TagStage(batcher), DecodeStage(manifest.tags, manifest.decode), after)
        return cls(root, manifest, identity, runtime, batcher, pipeline)

    # ------------------------------------------------------------------ async (a caller's own loop)

    async def start(self) -> None:
        """Start the inference thread(s) on the running loop (the server's lifespan does this)."""
        self.batcher.start()
        for stage in self.pipeline.after:
            await stage.start()

    async def extract_async(self, texts: Sequence[str], *, deadline: float | None = None,
                            client: str | None = None, options: Mapping[str, Any] | None = None
                            ) -> ExtractResult:
        """Entities per document, with timings. Raises QueueFull or DeadlineExceeded (``time.monotonic`` deadline).

        ``client`` names the caller for the queue's fair share (default: the request's authenticated
        client in the server, ``anonymous`` elsewhere). ``options``: the request's value per entity
        stage, e.g. ``{"assertion": False}`` skips assertion.
        """
        if not self.batcher.running:
            await self.start()
        token = current_client.set(client) if client is not None else None
        try:
            return await self.pipeline.run(list(texts), deadline=deadline or time.monotonic() + NO_DEADLINE_S,
                                           options=options)
        finally:
            if token is not None:
                current_client.reset(token)

    def stage(self, name: str) -> EntityStage | None:
        """The entity stage of that name, when the bundle has it (e.g. ``"assertion"``)."""
        return next((stage for stage in self.pipeline.after if stage.name == name), None)

    @property
    def ready(self) -> bool:
        return self.batcher.running

    async def stop(self) -> None:
        await self.batcher.stop()
        for stage in self.pipeline.after:
            await stage.stop()

    # ------------------------------------------------------------------ sync (notebooks, jobs, evaluation)

    def extract(self, texts: Sequence[str], options: Mapping[str, Any] | None = None) -> list[DocumentResult]:
        """Entities per document, blocking; thread-safe (concurrent callers share batches)."""
        result: ExtractResult = self.run_sync(self.extract_async(texts, options=options))
        return result.documents

    def run_sync(self, coroutine: Any) -> Any:
        """Run a coroutine of this extractor (or of one of its stages) on its private loop, blocking."""
        with self._lock:
            if self._private is None:
                self._private = _PrivateLoop()
                self._private.start()
                self._private.call(self.start())
        return self._private.call(coroutine)

    def close(self) -> None:
        """Stop the inference thread(s) of a synchronous extractor (an async caller awaits ``stop``)."""
        with self._lock:
            if self._private is not None:
                self._private.call(self.stop())
                self._private.close()
                self._private = None

    def __enter__(self) -> Extractor:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()

    # ------------------------------------------------------------------ description

    def describe(self) -> dict[str, Any]:
        """What ``/info`` shows of this model: identity, stages, device and limits (never a local path)."""
        manifest, runtime = self.manifest, self.runtime
        return {
            "name": manifest.name,
            "version": manifest.version,
            "sha256": self.identity.sha256,
            "task": manifest.task,
            "base_model": base_model_name(manifest.base_model),
            "labels": manifest.entity_types,
            "stages": self.pipeline.stage_names,
            "demo": manifest.demo,
            "variant": runtime.variant,
            "execution_provider": runtime.provider,
            "device_fallback": runtime.choice.fallback_reason,
            "variant_reason": runtime.choice.variant_reason,
            "ensemble_members": len(manifest.members),
            "max_length": manifest.max_length,
            "chunk_subwords": manifest.chunk_subwords,
            "context_subwords": manifest.context_subwords,
            "pack_sentences": manifest.pack_sentences,
            "paragraph_breaks": manifest.paragraph_breaks,
            "max_batch_tokens": self.batcher.max_batch_tokens,
            "evaluation": manifest.evaluation,
        }


def base_model_name(recorded: str) -> str:
    """A model name, never a path of the machine the bundle was built on (``/home/x/clin-x`` -> ``clin-x``).

    Hub ids (``llange/xlm-roberta-large-spanish-clinical``) keep their owner; a filesystem path keeps
    only its last part.
    """
    text = recorded.strip().rstrip("/\\")
    looks_like_path = text.startswith(("/", "~", ".", "\\")) or ":\\" in text or text.count("/") > 1
    return text.replace("\\", "/").rsplit("/", 1)[-1] if looks_like_path else text


def warm_up(executor: Executor, max_length: int, max_batch_tokens: int) -> None:
    """Run the largest batch the budget allows, so the first request pays no allocation cost."""
    rows = max(1, max_batch_tokens // max_length)
    window = WindowRow(np.full(max_length, executor.pad_id, dtype=np.int64).tolist(), (0, max_length))
    started = time.monotonic()
    executor.run([window] * rows)
    log.info("warm-up done: %d x %d tokens in %.2f s", rows, max_length, time.monotonic() - started)
