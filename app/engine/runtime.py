"""ONNX Runtime sessions for one bundle: provider choice, variant choice, batched inference.

The batcher's inference thread calls :meth:`Runtime.run`; ONNX Runtime releases the GIL while it computes, so
the event loop keeps accepting requests.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from app.bundle import BundleError, Manifest, Member, Variant, verify_variant

log = logging.getLogger("clinx.runtime")

CPU = "CPUExecutionProvider"
CUDA = "CUDAExecutionProvider"
TENSORRT = "TensorrtExecutionProvider"


class DeviceError(RuntimeError):
    """The requested device cannot be used; start-up stops."""


@dataclass(frozen=True)
class RuntimeChoice:
    provider: str
    variant: str
    fallback_reason: str | None
    variant_reason: str | None = None  # why "auto" did not get the device's preferred precision


def variant_reason(requested: str, provider: str, chosen: str, manifest: Manifest) -> str | None:
    """Why ``auto`` serves ``chosen`` instead of the device's first preference (the export's own words)."""
    preferred = "int8" if provider == CPU else "fp16"
    if requested != "auto" or chosen == preferred:
        return None
    recorded = manifest.parity.get(preferred) if preferred == "int8" else None
    if isinstance(recorded, dict) and recorded.get("omitted"):
        return f"no {preferred} variant: {recorded['omitted']}"
    return f"the bundle has no {preferred} variant"


def available_cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - non-Linux
        return max(1, os.cpu_count() or 1)


def choose_variant(requested: str, provider: str, available: set[str]) -> str:
    if requested != "auto":
        if requested not in available:
            raise BundleError(f"variant {requested!r} requested, but the bundle only has {sorted(available)}")
        return requested
    preferred = ("fp16", "fp32") if provider != CPU else ("int8", "fp32")
    return next(precision for precision in preferred if precision in available)


class Runtime:
    """All members of a bundle in one precision on one execution provider."""

    def __init__(
        self,
        root: Path,
        manifest: Manifest,
        *,
        device: str = "auto",
        device_id: int = 0,
        variant: str = "auto",
        intra_op_threads: int = 0,
        enable_tensorrt: bool = False,
    ) -> None:
        import onnxruntime as ort

        self._ort = ort
        self.manifest = manifest
        self.threads = intra_op_threads or available_cores()
        self.device_id = device_id
        self.sessions: list[Any] = []
        fallback: str | None = None
        provider = CPU
        chosen = ""
        if device in ("auto", "cuda"):
            try:
                self.sessions, chosen = self._cuda_sessions(root, manifest, variant, enable_tensorrt)
                provider = CUDA
            except DeviceError as error:
                if device == "cuda":
                    raise
                if CUDA in ort.get_available_providers():  # a GPU build that cannot use a GPU: say so loudly
                    fallback = str(error)
                    log.warning("GPU unusable, serving on the CPU instead: %s", fallback)
        if provider == CPU:
            chosen = choose_variant(variant, CPU, manifest.precisions())
            self.sessions = [self._session(root, _variant(member, chosen), [CPU]) for member in manifest.members]
        self.choice = RuntimeChoice(provider, chosen, fallback, variant_reason(variant, provider, chosen, manifest))
        self.io_binding = provider != CPU

    def _cuda_sessions(
        self, root: Path, manifest: Manifest, variant: str, tensorrt: bool
    ) -> tuple[list[Any], str]:
        if CUDA not in self._ort.get_available_providers():
            raise DeviceError("onnxruntime has no CUDA execution provider (install the gpu extra)")
        preload = getattr(self._ort, "preload_dlls", None)
        if preload is not None:  # CUDA/cuDNN from the nvidia-* wheels (gpu-wheels extra), when installed
            try:
                preload()
            except Exception as error:  # the system's CUDA libraries may still be found
                log.debug("onnxruntime.preload_dlls failed: %s", type(error).__name__)
        chosen = choose_variant(variant, CUDA, manifest.precisions())
        providers: list[Any] = [(CUDA, {"device_id": self.device_id})]
        if tensorrt and TENSORRT in self._ort.get_available_providers():
            providers.insert(0, (TENSORRT, {"device_id": self.device_id, "trt_fp16_enable": chosen == "fp16"}))
        sessions = []
        for member in manifest.members:
            path = verify_variant(root, _variant(member, chosen))
            try:
                session = self._create(path, providers)
            except BundleError as error:
                raise DeviceError(f"CUDA session could not be created: {error}") from None
            # ONNX Runtime silently falls back to the CPU when CUDA cannot initialise: check.
            if session.get_providers()[0] not in (CUDA, TENSORRT):
                raise DeviceError("the CUDA execution provider did not initialise (no usable GPU or driver)")
            sessions.append(session)
        return sessions, chosen

    def _session(self, root: Path, variant: Variant, providers: list[Any]) -> Any:
        """A verified session: checksums are checked right before the file is loaded."""
        return self._create(verify_variant(root, variant), providers)

    def _create(self, path: Path, providers: list[Any]) -> Any:
        return create_session(path, providers, self.threads)

    @property
    def provider(self) -> str:
        return self.choice.provider

    @property
    def variant(self) -> str:
        return self.choice.variant

    def run(self, input_ids: npt.NDArray[np.int64], attention_mask: npt.NDArray[np.int64]) -> list[npt.NDArray[Any]]:
        """Logits ``[batch, seq, tags]`` of each member on the same batch."""
        feeds = {"input_ids": input_ids, "attention_mask": attention_mask}
        if not self.io_binding:
            return [session.run(["logits"], feeds)[0] for session in self.sessions]
        outputs = []
        for session in self.sessions:
            binding = session.io_binding()
            for name, array in feeds.items():
                binding.bind_ortvalue_input(
                    name, self._ort.OrtValue.ortvalue_from_numpy(array, "cuda", self.device_id)
                )
            binding.bind_output("logits", "cuda", self.device_id)
            session.run_with_iobinding(binding)
            outputs.append(binding.copy_outputs_to_cpu()[0])
        return outputs


def create_session(path: Path, providers: list[Any] | None = None, threads: int = 0) -> Any:
    """An ONNX Runtime session as the server runs it (all graph optimisations, ``threads`` intra-op
    threads, 0 = every available core), or BundleError naming the file. Export verification and the
    benchmarks use this too, so they measure the sessions the server serves with."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads or available_cores()
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    try:
        return ort.InferenceSession(str(path), sess_options=options, providers=providers or [CPU])
    except Exception as error:
        raise BundleError(f"{path}: ONNX Runtime cannot load it: {_first_line(error)}") from None


def _first_line(error: Exception) -> str:
    text = str(error).strip().splitlines()
    return text[0][:300] if text else type(error).__name__


def _variant(member: Member, precision: str) -> Variant:
    return member.variants[precision]  # type: ignore[index]
