"""Time per batch against the batch's shape: one shape over and over, or shapes seen for the first time.

The model-only ceiling cycles through a few fixed batch shapes; a server's batches each have their
own rows x longest window. This times the server's ``Runtime.run`` (IO binding on a GPU) on the
same (rows, length) again and again, on distinct shapes the session has not seen, then on those
shapes a second time, per variant, with random token ids.

    python benchmarks/gpu/shapes.py BUNDLE result.json [--device cuda] [--variants fp32,fp16]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def distinct_shapes(count: int, max_length: int, seed: int = 0) -> list[tuple[int, int]]:
    """(rows, length) pairs, all different, like a server's batches (1-8 rows, 32..max_length tokens)."""
    rng = random.Random(seed)
    shapes: set[tuple[int, int]] = set()
    while len(shapes) < count:
        shapes.add((rng.randint(1, 8), rng.randint(32, max_length)))
    return sorted(shapes, key=lambda _: rng.random())


def _batch(rows: int, length: int, vocab: int, special: Any) -> tuple[Any, Any]:
    import numpy as np

    rng = np.random.default_rng(rows * 1000 + length)
    ids = rng.integers(5, vocab, (rows, length), dtype=np.int64)
    ids[:, 0], ids[:, -1] = special.cls_id, special.sep_id
    return ids, np.ones_like(ids)


def _ms(runtime: Any, batch: tuple[Any, Any]) -> float:
    started = time.perf_counter()
    runtime.run(*batch)
    return (time.perf_counter() - started) * 1000


def measure(bundle: Path, variant: str, device: str, count: int, repeats: int) -> dict[str, Any]:
    from app.bundle import verify_bundle
    from app.engine.runtime import Runtime

    manifest = verify_bundle(bundle, {variant})
    vocab = json.loads((bundle / manifest.tokenizer.file).read_text(encoding="utf-8"))["model"]["vocab"]
    runtime = Runtime(bundle, manifest, device=device, variant=variant)
    make = lambda rows, length: _batch(rows, length, len(vocab), manifest.special)  # noqa: E731
    fixed = make(4, 256)
    _ms(runtime, fixed)
    same = [_ms(runtime, fixed) for _ in range(repeats)]
    shapes = distinct_shapes(count, min(512, manifest.max_length))
    batches = [make(rows, length) for rows, length in shapes]
    first = [_ms(runtime, batch) for batch in batches]
    second = [_ms(runtime, batch) for batch in batches]
    return {"variant": runtime.variant, "provider": runtime.provider, "same_shape": [4, 256],
            "same_shape_ms_median": statistics.median(same), "distinct_shapes": len(shapes),
            "first_sight_ms_median": statistics.median(first), "first_sight_ms_mean": statistics.fmean(first),
            "second_sight_ms_median": statistics.median(second), "second_sight_ms_mean": statistics.fmean(second),
            "tokens_per_batch_mean": statistics.fmean(rows * length for rows, length in shapes)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("bundle", type=Path)
    parser.add_argument("result", type=Path)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--variants", default="fp32,fp16")
    parser.add_argument("--shapes", type=int, default=60)
    parser.add_argument("--repeats", type=int, default=60)
    args = parser.parse_args()
    results = [measure(args.bundle, variant, args.device, args.shapes, args.repeats)
               for variant in args.variants.split(",")]
    args.result.write_text(json.dumps(results, indent=2), encoding="utf-8")
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
