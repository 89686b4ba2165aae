"""The offline kit for an air-gapped GPU node (issue 21), built on a machine with PyPI access.

What the node needs to run ``clinx serve`` and the self-check with no network: the wheels for its
Python (clinx-serve itself and what its ``gpu`` extra needs: onnxruntime-gpu for CUDA 13 + cuDNN 9,
fastapi, starlette, uvicorn, pydantic, ...; minus ``--skip`` patterns for what the node already has),
the bundles with the chosen variants (the checkpoints' config and tokenizer too, for the naive
baseline and the FLOP count), a sample of MTSamples notes, the benchmark code and ``check.sh``.
Every file is cut into parts of at most ``--max-part-mb`` MB (10^6 bytes); ``SHA256SUMS`` and
``FILES.sha256`` list the parts and the joined files; ``plan.txt`` says what to send, in which order,
and what to run on the node.

    benchmarks/gpu/prepare.sh --output runs/offline-kit/kit                       # demo + xlmr-base-4k
    benchmarks/gpu/prepare.sh --models demo --variants fp32 --wheels clinx ...    # a small dry-run kit
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import random
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import bundles  # noqa: E402
from benchmarks.gpu import kit_parts  # noqa: E402
from benchmarks.gpu.kit_parts import FILES_LIST, MB, PARTS_LIST  # noqa: E402

HERE = Path(__file__).resolve().parent
PLATFORMS = ("manylinux_2_28_x86_64", "manylinux_2_27_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64")
# What a GPU node with PyTorch (and the CPU-only onnxruntime) already has: large, native, or everywhere.
DEFAULT_SKIPS = ("numpy", "torch", "triton", "nvidia-*", "tokenizers", "uvloop", "prometheus-client", "httpx",
                 "httpcore", "idna", "sniffio", "certifi", "packaging", "protobuf", "sympy", "mpmath", "flatbuffers",
                 "coloredlogs", "humanfriendly", "pyyaml")
WEIGHTS = ("*.safetensors", "*.bin", "*.pt", "*.pth", "*.ckpt", "optimizer*", "scheduler*", "rng_state*")
HEAD = ("check.sh", "plan.txt", FILES_LIST)  # unsplit (small); SHA256SUMS lists them with the parts


@dataclass(frozen=True)
class KitModel:
    name: str
    bundle: Path
    checkpoint: Path | None
    description: str
    variants: tuple[str, ...]


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def wheel_project(path: Path) -> str:
    """The distribution a wheel file holds (PEP 427 file name), canonicalised."""
    return canonical(path.name.split("-", 1)[0])


def skipped(path: Path, patterns: list[str]) -> bool:
    return any(fnmatch.fnmatch(wheel_project(path), canonical(pattern)) for pattern in patterns)


def requirements(wheel: Path) -> list[str]:
    """The wheel's Requires-Dist lines (its METADATA)."""
    with zipfile.ZipFile(wheel) as archive:
        name = next(item for item in archive.namelist() if item.endswith(".dist-info/METADATA"))
        text = archive.read(name).decode("utf-8")
    return [line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("Requires-Dist:")]


def needed_wheels(wheels: list[Path], root: Path, extras: tuple[str, ...], patterns: list[str],
                  python_version: str) -> tuple[list[Path], list[Path]]:
    """(kept, left out): what ``root[extras]`` needs, not descending into what the node has.

    A distribution left out takes with it what only it needed: tokenizers' huggingface-hub must not
    travel, or it would shadow the node's own, the one its transformers was installed with.
    """
    from packaging.requirements import Requirement

    by_name = {wheel_project(path): path for path in wheels}
    environment = {"python_version": python_version, "python_full_version": f"{python_version}.0",
                   "sys_platform": "linux", "platform_system": "Linux", "platform_machine": "x86_64",
                   "os_name": "posix", "implementation_name": "cpython", "platform_python_implementation": "CPython"}
    kept: dict[str, Path] = {}
    pending = [(wheel_project(root), extras)]
    while pending:
        name, wanted = pending.pop()
        if name in kept or name not in by_name or (kept and skipped(by_name[name], patterns)):
            continue
        kept[name] = by_name[name]
        for line in requirements(by_name[name]):
            requirement = Requirement(line)
            marker = requirement.marker
            if marker is None or any(marker.evaluate({**environment, "extra": extra}) for extra in ("", *wanted)):
                pending.append((canonical(requirement.name), tuple(requirement.extras)))
    return sorted(kept.values()), sorted(path for path in wheels if path not in kept.values())


def build_clinx_wheel(directory: Path) -> Path:
    """clinx-serve's own wheel from this checkout (no build isolation: no index needed)."""
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet",
                    "--wheel-dir", str(directory), str(ROOT)], check=True, cwd=ROOT)
    return next(directory.glob("clinx_serve-*.whl"))


def download_wheels(clinx_wheel: Path, python_version: str, directory: Path, constraints: Path) -> list[Path]:
    """clinx-serve's ``gpu`` extra and everything it needs, for the node's Python on x86-64 Linux."""
    command = [sys.executable, "-m", "pip", "download", "--only-binary=:all:", "--python-version", python_version,
               "--implementation", "cp", "--dest", str(directory), "--constraint", str(constraints),
               "--disable-pip-version-check", "--quiet"]
    for platform in PLATFORMS:
        command += ["--platform", platform]
    subprocess.run([*command, f"{clinx_wheel}[gpu]"], check=True, cwd=ROOT)
    return sorted(directory.glob("*.whl"))


def choose_models(args: argparse.Namespace) -> list[KitModel]:
    """``--bundle NAME=DIR[:CHECKPOINT]`` as given, else benchmarks/bundles.py's models (built once, with fp16)."""
    models = []
    overrides = dict(item.split("=", 1) for item in args.variants_for)
    for item in args.bundle:
        name, _, paths = item.partition("=")
        bundle, _, checkpoint = paths.partition(":")
        variants = tuple(overrides.get(name, args.variants).split(","))
        models.append(KitModel(name, Path(bundle), Path(checkpoint) if checkpoint else None,
                               json.loads((Path(bundle) / "manifest.json").read_text())["description"], variants))
    for name in [] if args.bundle else [name.strip() for name in args.models.split(",") if name.strip()]:
        model = bundles.ensure(name, args.bundle_root, fp16=True)
        models.append(KitModel(name, model.bundle, model.checkpoint, model.description,
                               tuple(overrides.get(name, args.variants).split(","))))
    return models


def bundle_files(bundle: Path, variants: tuple[str, ...]) -> list[str]:
    """The manifest, the tokenizer and the chosen variants' files (the manifest stays whole: checksums)."""
    manifest = json.loads((bundle / "manifest.json").read_text(encoding="utf-8"))
    files = ["manifest.json", manifest["tokenizer"]["file"]]
    for member in manifest["members"]:
        for variant in variants:
            if variant not in member["variants"]:
                raise SystemExit(f"{bundle}: member {member['name']!r} has no {variant} variant")
            entry = member["variants"][variant]
            files += [entry["file"], *(data["file"] for data in entry.get("external_data", []))]
    return files


def write_bundle_tar(model: KitModel, target: Path) -> dict[str, int]:
    """bundles/NAME (chosen variants) and checkpoints/NAME (config and tokenizer, no weights)."""
    sizes = {}
    with tarfile.open(target, "w") as tar:
        for file in bundle_files(model.bundle, model.variants):
            tar.add(model.bundle / file, f"bundles/{model.name}/{file}")
            sizes[file] = (model.bundle / file).stat().st_size
        if model.checkpoint is not None:
            for path in sorted(model.checkpoint.iterdir()):
                if path.is_file() and not any(fnmatch.fnmatch(path.name, pattern) for pattern in WEIGHTS):
                    tar.add(path, f"checkpoints/{model.name}/{path.name}")
    return sizes


def write_check_tar(target: Path, kit: dict[str, Any], notes: list[dict[str, str]]) -> None:
    """source/ (benchmarks: the harness and the node check; clinx_cli), notes.jsonl, kit.json."""
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        (folder / "kit.json").write_text(json.dumps(kit, indent=2), encoding="utf-8")
        (folder / "notes.jsonl").write_text("".join(json.dumps(note) + "\n" for note in notes), encoding="utf-8")
        with tarfile.open(target, "w") as tar:
            tar.add(folder / "kit.json", "kit.json")
            tar.add(folder / "notes.jsonl", "notes.jsonl")
            # clinx_cli too: the benchmarks run `python -m clinx_cli serve` where the source has it (app: the wheel)
            sources = [*ROOT.glob("benchmarks/*.py"), *ROOT.glob("benchmarks/gpu/*.py"), *ROOT.glob("clinx_cli/*.py")]
            for path in sorted(sources):
                tar.add(path, f"source/{path.relative_to(ROOT)}")


def git_commit() -> str:
    done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT)
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True,
                           cwd=ROOT).stdout.strip()
    return done.stdout.strip() + ("+changes" if dirty else "") if done.returncode == 0 else "unknown"


def sample_notes(path: Path, count: int) -> list[dict[str, str]]:
    notes = bundles.read_notes(path)
    return random.Random(21).sample(notes, min(count, len(notes)))


def plan_text(kit: dict[str, Any], sizes: dict[str, int], sends: list[list[str]], send_mb: float) -> str:
    total = sum(sizes.values())
    lines = [f"clinx-serve offline kit for an air-gapped GPU node: built {kit['built']} from commit {kit['commit']}",
             f"wheels for CPython {kit['python_version']} on x86-64 Linux; parts of at most {kit['max_part_mb']} MB "
             "(10^6 bytes)", "",
             f"1. Send these {len(sizes)} files ({total / MB:,.1f} MB) into one folder on the node, in this order "
             f"(grouped into sends of at most {send_mb:g} MB):"]
    for number, names in enumerate(sends, start=1):
        size = sum(sizes[name] for name in names) / MB
        lines.append(f"   send {number} ({size:,.1f} MB): {' '.join(names)}")
    lines += ["", "2. On the node, in that folder (needs python3 with pip; torch for the naive baseline and the",
              "   matrix rates):", "",
              "   bash check.sh                          # results in /tmp/clinx-gpu-check/results",
              "   bash check.sh --out DIR --time-box-s 360 --device cuda", "",
              "   It checks every part (SHA256SUMS), joins and checks the files (FILES.sha256), installs the wheels",
              "   offline into /tmp/clinx-gpu-check/site (first on PYTHONPATH: onnxruntime-gpu shadows a CPU-only",
              "   onnxruntime; --install-to env installs into the python's own environment instead), checks that",
              "   ONNX Runtime's CUDA provider initialises, then measures within the time box (default 360 s).",
              "   A damaged part is named: send that one again.", "",
              "3. Bring back DIR/results.json and DIR/report.md (small; failures are recorded in them too).", "",
              "Contents:"]
    for name, model in kit["models"].items():
        lines.append(f"   {name}: {model['description']}; variants {', '.join(model['variants'])}")
    lines.append(f"   wheels: {', '.join(kit['wheels']) or 'none'}")
    lines.append(f"   left out (the node has them): {', '.join(kit['skipped_wheels']) or 'none'}")
    notes = kit["notes"]
    lines.append(f"   notes: {notes['count']} MTSamples notes (a sample)")
    return "\n".join(lines) + "\n"


def build(args: argparse.Namespace) -> Path:
    output: Path = args.output
    if output.exists():
        shutil.rmtree(output)
    output.mkdir(parents=True)
    stage = Path(tempfile.mkdtemp(prefix="clinx-kit-", dir=output.parent))
    try:
        return _build(args, output, stage)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def _build(args: argparse.Namespace, output: Path, stage: Path) -> Path:
    models = choose_models(args)
    wheels: list[Path] = []
    left_out: list[str] = []
    if args.wheels != "none":
        (stage / "wheels").mkdir()
        clinx = build_clinx_wheel(stage / "build")
        found = [clinx] if args.wheels == "clinx" else download_wheels(clinx, args.python_version,
                                                                       stage / "download", args.constraints)
        patterns = [*(() if args.no_default_skips else DEFAULT_SKIPS), *args.skip]
        kept, dropped = needed_wheels(found, clinx, ("gpu",), patterns, args.python_version)
        wheels = [Path(shutil.copy2(path, stage / "wheels" / path.name)) for path in kept]
        left_out = [path.name for path in dropped]
    notes = sample_notes(args.notes, args.sample)
    kit: dict[str, Any] = {
        "built": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "commit": git_commit(),
        "python_version": args.python_version, "max_part_mb": args.max_part_mb,
        "models": {model.name: {"description": model.description, "variants": list(model.variants),
                                "bundle": f"bundles/{model.name}",
                                "checkpoint": f"checkpoints/{model.name}" if model.checkpoint else None}
                   for model in models},
        "wheels": [path.name for path in wheels], "skipped_wheels": left_out,
        "notes": {"count": len(notes), "source": "MTSamples (../shared/data/mtsamples/notes.jsonl), seeded sample"},
    }
    files = []
    for model in models:
        tar = stage / f"bundle-{model.name}.tar"
        kit["models"][model.name]["files"] = write_bundle_tar(model, tar)
        files.append(tar)
    if wheels:
        with tarfile.open(stage / "wheels.tar", "w") as tar:
            for path in wheels:
                tar.add(path, f"wheels/{path.name}")
        files.append(stage / "wheels.tar")
    write_check_tar(stage / "check.tar", kit, notes)
    files.insert(0, stage / "check.tar")
    limit = int(args.max_part_mb * MB)
    parts: list[kit_parts.Part] = []
    for path in files:
        parts += kit_parts.split_file(path, output, limit)
    joined = kit_parts.sums_text((path.name, kit_parts.sha256_file(path)) for path in files)
    (output / FILES_LIST).write_text(joined, encoding="utf-8")
    shutil.copy2(HERE / "check.sh", output / "check.sh")
    sizes = {part.name: part.size for part in parts}
    sizes.update({name: (output / name).stat().st_size for name in ("check.sh", FILES_LIST)})
    sizes[PARTS_LIST] = len(kit_parts.sums_text((name, "0" * 64) for name in [*HEAD, *(part.name for part in parts)]))
    send_mb = args.send_mb or args.max_part_mb
    sizes["plan.txt"] = 0
    for _ in range(2):  # the plan lists its own size: the second pass uses the first one's
        sends = kit_parts.group_sends(sizes, int(send_mb * MB))
        text = plan_text(kit, sizes, sends, send_mb)
        sizes["plan.txt"] = len(text.encode())
    (output / "plan.txt").write_text(text, encoding="utf-8")
    head = [(name, kit_parts.sha256_file(output / name)) for name in HEAD]
    (output / PARTS_LIST).write_text(kit_parts.sums_text([*head, *((part.name, part.sha256) for part in parts)]),
                                     encoding="utf-8")
    (output / "sends.json").write_text(json.dumps(sends), encoding="utf-8")  # plan.txt's sends, for scripts
    return output


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", type=Path, default=ROOT / "runs" / "offline-kit" / "kit")
    parser.add_argument("--python-version", default="3.12", help="the node's Python (wheels are chosen for it)")
    parser.add_argument("--max-part-mb", type=float, default=55.0, help="largest part, MB of 10^6 bytes")
    parser.add_argument("--send-mb", type=float, default=0.0,
                        help="group parts into sends of at most this many MB in plan.txt (default: --max-part-mb)")
    parser.add_argument("--models", default="demo,xlmr-base-4k",
                        help="benchmarks/bundles.py models: " + ", ".join(bundles.MODELS))
    parser.add_argument("--bundle", action="append", default=[], metavar="NAME=DIR[:CHECKPOINT]",
                        help="a bundle of your own instead of --models (repeatable)")
    parser.add_argument("--bundle-root", type=Path, default=ROOT / "runs" / "bench-bundles-gpu")
    parser.add_argument("--variants", default="fp32,fp16", help="variants every model carries")
    parser.add_argument("--variants-for", action="append", default=[], metavar="NAME=LIST",
                        help="other variants for one model, e.g. xlmr-base-4k=fp16")
    parser.add_argument("--notes", type=Path, default=bundles.NOTES, help="MTSamples notes.jsonl")
    parser.add_argument("--sample", type=int, default=128, help="notes in the kit")
    parser.add_argument("--wheels", choices=("all", "clinx", "none"), default="all",
                        help="all: clinx-serve and what its gpu extra needs; clinx: its own wheel only")
    parser.add_argument("--skip", action="append", default=[], metavar="NAME",
                        help="leave out a distribution the node has (glob, repeatable); added to the defaults: "
                        + ", ".join(DEFAULT_SKIPS))
    parser.add_argument("--no-default-skips", action="store_true", help="leave out only what --skip names")
    parser.add_argument("--constraints", type=Path, default=ROOT / "constraints.txt")
    args = parser.parse_args(argv)
    if not args.notes.is_file():
        parser.error(f"MTSamples notes not found at {args.notes} (--notes)")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    output = build(args)
    print((output / "plan.txt").read_text(encoding="utf-8"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
