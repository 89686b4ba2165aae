"""How much of each measurement a model gets: load levels, durations, variants, per device.

The batch budget and the default variant are the server's own policies, imported rather than copied,
so that the ceiling batches and the report names variants exactly as clinx-serve does.
"""

from __future__ import annotations

import dataclasses

from app.engine.budget import batch_budget
from app.engine.runtime import CPU, CUDA, choose_variant

STRIDE = 100  # the naive pipeline's overlap, like clinx's 100 subwords of context
PROVIDERS = {"cpu": CPU, "cuda": CUDA}
VARIANTS = {"cpu": ("fp32", "int8"), "cuda": ("fp32", "fp16")}  # what the bench bundles are exported with


@dataclasses.dataclass(frozen=True)
class Level:
    concurrency: int
    docs: int = 1  # notes per request

    @property
    def name(self) -> str:
        return f"c{self.concurrency}" + ("" if self.docs == 1 else f"-batch{self.docs}")


@dataclasses.dataclass(frozen=True)
class Profile:
    """How much of each measurement a model gets (the CLIN-X shape is slow on 2 cores: bounded)."""

    notes: int
    levels: dict[str, tuple[Level, ...]]  # per variant
    duration_s: float
    warmup_s: float
    drain_s: float
    ceiling_s: float
    baseline_levels: tuple[Level, ...]
    baseline_s: float
    half_load_variants: tuple[str, ...]
    half_load_s: float


FULL = (Level(1), Level(8), Level(32), Level(64), Level(8, 8))
QUICK_LEVELS = (Level(1), Level(8), Level(32), Level(64), Level(8, 8))
PROFILES = {
    "cpu": {
        "demo": Profile(317, {"fp32": FULL, "int8": FULL}, 30, 4, 15, 30, (Level(1), Level(1, 8)), 40, ("int8",), 60),
        # half load: ~500 requests per model, so each note-size quartile's p99 rests on ~125 latencies
        "xlmr-base": Profile(317, {"fp32": FULL, "int8": FULL}, 30, 5, 10, 40, (Level(1),), 60, ("int8",), 240),
        "clinx-large": Profile(24, {"int8": (Level(1), Level(8), Level(32)), "fp32": (Level(1), Level(8))},
                               60, 5, 5, 60, (Level(1),), 75, (), 0),
    },
    "cuda": {  # a GPU reads the CLIN-X shape in milliseconds: every model gets the full plan
        name: Profile(317, {"fp32": FULL, "fp16": FULL}, 40, 5, 20, 40, (Level(1), Level(1, 8)), 60, ("fp16",), 90)
        for name in ("demo", "xlmr-base", "clinx-large")
    },
}
QUICK = {
    "cpu": {
        "demo": Profile(16, {"fp32": QUICK_LEVELS, "int8": QUICK_LEVELS}, 6, 2, 3, 5, (Level(1),), 8, ("int8",), 8),
        "xlmr-base": Profile(8, {"fp32": (Level(1), Level(8)), "int8": (Level(1), Level(8))}, 8, 2, 2, 8,
                             (Level(1),), 10, (), 0),
        "clinx-large": Profile(4, {"int8": (Level(1), Level(8))}, 10, 2, 2, 10, (Level(1),), 15, (), 0),
    },
    "cuda": {
        name: Profile(16, {"fp32": QUICK_LEVELS, "fp16": QUICK_LEVELS}, 6, 2, 3, 5, (Level(1),), 8, ("fp16",), 8)
        for name in ("demo", "xlmr-base", "clinx-large")
    },
}


def profile_for(name: str, device: str, quick: bool) -> Profile:
    return (QUICK if quick else PROFILES)[device][name]


def reduced_variant(device: str) -> str:
    """The variant clinx-serve picks by default (``variant=auto``) on this device."""
    return choose_variant("auto", PROVIDERS[device], set(VARIANTS[device]))


def max_batch_tokens(device: str, max_length: int) -> int:
    """The server's default batch budget (no CLINX_MAX_BATCH_TOKENS) for a bundle of ``max_length``."""
    return batch_budget(0, PROVIDERS[device], max_length)
