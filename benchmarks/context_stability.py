"""Stable under context: does a note get the same spans alone as inside a longer document?

For each of N MTSamples notes, the bundle tags the note alone and the same note inside a document
made of other notes around it (joined by a blank line, as a user pastes several notes): one before,
one after, and both. The note's spans in the document (shifted back to the note's own offsets) are
compared with its spans alone by exact-span Jaccard (start, end and label all equal):
|alone ∩ inside| / |alone ∪ inside|, per note, and over all notes pooled (micro). As a diagnosis it
also counts the notes whose centre windows (which sentences share a window) differ between the two,
and the agreement on those notes and on the rest.

    .venv/bin/python benchmarks/context_stability.py --bundle models/demo            # 100 notes
    .venv/bin/python benchmarks/context_stability.py --bundle models/demo --notes 20 --output /tmp/x

Writes benchmarks/results/context-stability.{json,md} by default (machine description included).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.soak import machine as describe_machine  # noqa: E402

NOTES = ROOT.parent / "shared" / "data" / "mtsamples" / "notes.jsonl"
SEPARATOR = "\n\n"
SpanKey = tuple[int, int, str]
PLACEMENTS = ("before", "after", "both")


def read_notes(path: Path = NOTES) -> list[str]:
    return [json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def placed(notes: Sequence[str], index: int, placement: str, rng: random.Random) -> tuple[str, int]:
    """The document holding note ``index`` with other notes around it, and where the note starts."""
    others = [i for i in range(len(notes)) if i != index]
    before = notes[rng.choice(others)] if placement in ("before", "both") else None
    after = notes[rng.choice(others)] if placement in ("after", "both") else None
    prefix = before + SEPARATOR if before is not None else ""
    return prefix + notes[index] + (SEPARATOR + after if after is not None else ""), len(prefix)


def jaccard(alone: set[SpanKey], inside: set[SpanKey]) -> float:
    union = alone | inside
    return len(alone & inside) / len(union) if union else 1.0


def centres(encoder: Any, text: str, offset: int, length: int) -> list[tuple[int, int]]:
    """Character ranges of the window centres that lie in ``[offset, offset + length)``, note-relative."""
    document = encoder.encode(text)
    found = []
    for window in document.windows:
        first, last = document.offsets[window.centre_start][0], document.offsets[window.centre_end - 1][1]
        if offset <= first and last <= offset + length:
            found.append((first - offset, last - offset))
    return found


def measure(bundle: Path, count: int, seed: int, variant: str, placements: Sequence[str] = PLACEMENTS
            ) -> dict[str, Any]:
    from app.bundle import bundle_encoder
    from app.engine.extractor import EngineOptions, Extractor

    notes = read_notes()
    rng = random.Random(seed)
    chosen = sorted(rng.sample(range(len(notes)), count))
    started = time.monotonic()
    with Extractor.load(bundle, options=EngineOptions(device="cpu", variant=variant)) as extractor:
        encoder = bundle_encoder(bundle, extractor.manifest)
        alone_results = extractor.extract([notes[i] for i in chosen])
        alone = [{(e.start, e.end, e.label) for e in result.entities} for result in alone_results]
        per_placement: dict[str, Any] = {}
        for placement in placements:
            neighbours = random.Random(f"{seed}-{placement}")  # the same documents whichever placements run
            documents = [placed(notes, i, placement, neighbours) for i in chosen]
            results = extractor.extract([text for text, _ in documents])
            scores, shared, union, moved = [], 0, 0, []
            for note_index, ((text, offset), result, own) in enumerate(zip(documents, results, alone, strict=True)):
                length = len(notes[chosen[note_index]])
                inside = {(e.start - offset, e.end - offset, e.label) for e in result.entities
                          if e.end > offset and e.start < offset + length}
                scores.append(jaccard(own, inside))
                shared += len(own & inside)
                union += len(own | inside)
                moved.append(centres(encoder, text, offset, length) != centres(encoder, notes[chosen[note_index]],
                                                                                0, length))
            same = [s for s, m in zip(scores, moved, strict=True) if not m]
            different = [s for s, m in zip(scores, moved, strict=True) if m]
            per_placement[placement] = {
                "micro_jaccard": shared / union if union else 1.0,
                "mean_jaccard": sum(scores) / len(scores),
                "min_jaccard": min(scores),
                "notes_at_or_above_0_9": sum(s >= 0.9 for s in scores),
                "shared_spans": shared, "union_spans": union,
                "notes_with_different_centres": len(different),
                "mean_jaccard_same_centres": sum(same) / len(same) if same else None,
                "mean_jaccard_different_centres": sum(different) / len(different) if different else None,
            }
        manifest = extractor.manifest
    return {
        "bundle": {"path": str(bundle), "name": manifest.name, "version": manifest.version,
                   "decode": manifest.decode, "pack_sentences": manifest.pack_sentences,
                   "paragraph_breaks": manifest.paragraph_breaks,
                   "chunk_subwords": manifest.chunk_subwords, "context_subwords": manifest.context_subwords,
                   "training": {key: (manifest.training.get("config") or {}).get(key)
                                for key in ("context_dropout", "epochs", "learning_rate", "batch_size")}},
        "variant": variant, "notes": count, "seed": seed, "separator": SEPARATOR,
        "spans_alone": sum(len(spans) for spans in alone), "placements": per_placement,
        "seconds": round(time.monotonic() - started, 1),
    }


def markdown(result: dict[str, Any]) -> str:
    bundle, machine = result["bundle"], result["machine"]
    lines = [
        "# Stable under context: a note alone vs the same note inside a longer document", "",
        f"Bundle `{bundle['name']}` {bundle['version']} ({bundle['decode']} decoding, packed sentences "
        f"{bundle['pack_sentences']}, blank lines bound {bundle.get('paragraph_breaks', 'none')}, "
        f"centre {bundle['chunk_subwords']} / context {bundle['context_subwords']} "
        f"subwords; trained with context dropout {bundle['training']['context_dropout']}), variant "
        f"{result['variant']}, {result['notes']} MTSamples notes (seed {result['seed']}), "
        f"{result['spans_alone']} spans alone. Other notes are joined before and/or after the note by a blank line.",
        "",
        "Agreement = exact-span Jaccard between the note's spans alone and its spans inside the document "
        "(same start, end and label); micro pools every note's spans, mean averages the per-note figures.",
        "",
        "| other notes | micro Jaccard | mean Jaccard | min | notes >= 0.9 | notes whose centres differ "
        "| mean, same centres | mean, different centres |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for placement, row in result["placements"].items():
        same, different = row["mean_jaccard_same_centres"], row["mean_jaccard_different_centres"]
        lines.append(
            f"| {placement} | **{row['micro_jaccard']:.3f}** | {row['mean_jaccard']:.3f} | {row['min_jaccard']:.3f} "
            f"| {row['notes_at_or_above_0_9']} / {result['notes']} | {row['notes_with_different_centres']} "
            f"| {'–' if same is None else f'{same:.3f}'} | {'–' if different is None else f'{different:.3f}'} |")
    lines += [
        "",
        f"Reproduce: `.venv/bin/python benchmarks/context_stability.py --bundle {bundle['path']}` "
        f"({result['seconds']} s here).",
        "",
        f"Machine: {machine.get('cpu_model')}, {machine.get('usable_cpus')} usable cores, "
        f"{machine.get('memory_gib')} GiB; load average at start {machine.get('loadavg_at_start')}; "
        f"commit {machine.get('git_commit')}; " + ", ".join(f"{k} {v}" for k, v in machine.get("versions", {}).items()),
        "",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", type=Path, default=ROOT / "models" / "demo")
    parser.add_argument("--notes", type=int, default=100)
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--variant", default="int8", help="the variant the CPU server picks (default int8)")
    parser.add_argument("--output", type=Path, default=ROOT / "benchmarks" / "results" / "context-stability")
    parser.add_argument("--placements", default=",".join(PLACEMENTS),
                        help="where the other notes go: before, after, both (comma-separated; default all three)")
    args = parser.parse_args()
    if not NOTES.is_file():
        sys.exit(f"MTSamples notes not found at {NOTES}")
    placements = [name for name in args.placements.split(",") if name in PLACEMENTS]
    result = measure(args.bundle, args.notes, args.seed, args.variant, placements)
    result["machine"] = describe_machine()
    from benchmarks.results_io import save_results

    print(save_results(args.output, result, markdown))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
