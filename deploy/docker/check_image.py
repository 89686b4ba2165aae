"""Build-time sanity check of the clinx-serve image; run by the Dockerfile right after ``pip install``.

Fails the build when the environment is not what the flavour promises: exactly one ONNX Runtime
distribution (the CPU and GPU wheels both provide the ``onnxruntime`` module and break each other),
the CUDA execution provider compiled in for ``gpu``, no training stack (torch, transformers), and the
``clinx`` console script importable. Needs no GPU: ``get_available_providers`` lists what the wheel was
built with, not what the machine has.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
from importlib import metadata

FORBIDDEN_MODULES = ("torch", "transformers")


def installed(distribution: str) -> bool:
    """True when a distribution of this name is installed."""
    try:
        metadata.distribution(distribution)
    except metadata.PackageNotFoundError:
        return False
    return True


def problems(flavour: str) -> list[str]:
    """Everything wrong with the installed environment for ``flavour`` (gpu|cpu); empty when fine."""
    found: list[str] = []
    ort_dists = [name for name in ("onnxruntime", "onnxruntime-gpu") if installed(name)]
    wanted = "onnxruntime-gpu" if flavour == "gpu" else "onnxruntime"
    if ort_dists != [wanted]:
        found.append(f"expected exactly the {wanted} distribution, found {ort_dists or 'none'}")
    for module in FORBIDDEN_MODULES:
        if importlib.util.find_spec(module) is not None:
            found.append(f"{module} is installed; the serving image must not contain it")
    if shutil.which("clinx") is None:
        found.append("the clinx console script is not on PATH")
    try:
        import onnxruntime

        providers = onnxruntime.get_available_providers()
    except ImportError as exc:  # pragma: no cover - reported, not raised
        found.append(f"onnxruntime does not import: {exc}")
    else:
        if flavour == "gpu" and "CUDAExecutionProvider" not in providers:
            found.append(f"CUDAExecutionProvider missing from {providers}")
    try:
        import app.settings  # noqa: F401
    except ImportError as exc:
        found.append(f"the app package does not import: {exc}")
    found += missing_web_files()
    return found


def missing_web_files() -> list[str]:
    """The page at / and the offline /docs, /redoc assets must be installed with the package (package data)."""
    try:
        from app.ui import STATIC, docs_assets
    except ImportError as exc:
        return [f"app.ui does not import: {exc}"]
    wanted = [STATIC / name for name in ("index.html", "app.js", "app.css", "samples.json")]
    wanted += [docs_assets() / name for name in ("swagger/swagger-ui-bundle.js", "swagger/swagger-ui.css",
                                                 "redoc/redoc.standalone.js", "redoc/logo-mini.svg")]
    missing = [str(path) for path in wanted if not path.is_file()]
    return [f"web files missing from the installed packages: {missing}"] if missing else []


def main(argv: list[str]) -> int:
    """Entry point: ``python3 check_image.py gpu|cpu``."""
    if len(argv) != 2 or argv[1] not in ("gpu", "cpu"):
        print("usage: check_image.py gpu|cpu", file=sys.stderr)
        return 2
    found = problems(argv[1])
    for problem in found:
        print(f"image check: {problem}", file=sys.stderr)
    if not found:
        print(f"image check: {argv[1]} environment OK")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
