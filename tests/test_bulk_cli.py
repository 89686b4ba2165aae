"""The ``clinx bulk`` command: its help, its refusals, and a crash (SIGKILL mid-run) resumed with spark-submit."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from clinx_bulk.cli import build_parser, main
from tests.bulk_support import demo_notes, read_output, write_jsonl
from tests.support import java_available

ROOT = Path(__file__).resolve().parents[1]


def test_help_explains_every_option() -> None:
    parser = build_parser()
    options = [action for action in parser._actions if action.option_strings and action.dest != "help"]
    assert {"--bundle", "--input", "--output", "--id-column", "--text-column", "--master", "--resume",
            "--format"} <= {flag for action in options for flag in action.option_strings}
    assert all(action.help and len(action.help) > 20 for action in options), \
        [action.option_strings for action in options if not action.help or len(action.help) <= 20]
    shown = subprocess.run([sys.executable, "-m", "clinx_cli", "bulk", "--help"], capture_output=True, text=True,
                           cwd=ROOT, timeout=120)
    assert shown.returncode == 0 and "code points" in shown.stdout and "--resume" in shown.stdout


def test_a_bad_bundle_or_options_fail_in_one_line_before_spark_starts(tmp_path: Path,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "bundle").mkdir()
    (tmp_path / "bundle" / "manifest.json").write_text("{not json")
    assert main(["--bundle", str(tmp_path / "bundle"), "--input", "x.parquet", "--output", "y"]) == 2
    assert main(["--bundle", "b", "--input", "x", "--output", "y", "--resume", "--overwrite"]) == 2
    assert main(["--bundle", "b", "--input", "x", "--output", "y", "--notes-per-task", "0"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 3 and "manifest.json" in lines[0] and "exclude" in lines[1] and "at least 1" in lines[2]


def test_assertion_model_without_a_classifier_fails_in_one_line(tiny_bundle: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--bundle", str(tiny_bundle), "--input", "x", "--output", "y", "--assertion", "model"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "no trained assertion classifier" in lines[0]


def wait_for_a_commit(output: Path, process: subprocess.Popen[bytes], timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if output.is_dir() and any(path.suffix == ".parquet" for path in output.iterdir()):
            return
        if process.poll() is not None:
            raise AssertionError(f"clinx bulk ended ({process.returncode}) before it was killed")
        time.sleep(0.05)
    raise TimeoutError("no commit appeared")


@pytest.mark.slow
@pytest.mark.timeout(1800)  # two Spark start-ups and a dozen small jobs: minutes on a busy machine
def test_a_killed_run_leaves_whole_commits_only_and_resume_completes_it_exactly_once(tiny_bundle: Path,
                                                                                       tmp_path: Path) -> None:
    if not java_available():
        pytest.skip("Java is not installed (Spark needs Java 17: apt-get install openjdk-17-jre-headless)")
    notes = demo_notes(48, seed=9)
    source, output = write_jsonl(tmp_path / "notes.jsonl", notes), tmp_path / "out"
    common = ["--bundle", str(tiny_bundle), "--input", str(source), "--output", str(output), "--variant", "fp32",
              "--device", "cpu", "--notes-per-commit", "8", "--notes-per-task", "4", "--progress-every", "1"]
    env = {**os.environ, "PYSPARK_PYTHON": sys.executable, "PYSPARK_DRIVER_PYTHON": sys.executable}
    with (tmp_path / "crashed.log").open("wb") as log:
        process = subprocess.Popen([sys.executable, "-m", "clinx_cli", "bulk", "--master", "local[2]", *common],
                                   cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            wait_for_a_commit(output, process)
        finally:
            os.killpg(process.pid, signal.SIGKILL)  # the driver and its JVM: a crash, nothing cleaned up
            process.wait()
    assert not (output / "_SUCCESS").exists()
    assert json.loads((output / "_CLINX_BULK.json").read_text())["complete"] is False
    kept = read_output(output).column("id").to_pylist()
    assert 0 < len(kept) < len(notes) and len(kept) == len(set(kept))

    submit = Path(sys.executable).parent / "spark-submit"
    resumed = subprocess.run([str(submit), "--master", "local[2]", str(ROOT / "clinx_bulk" / "cli.py"), *common,
                              "--resume"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    marker = json.loads((output / "_CLINX_BULK.json").read_text())
    summary = marker["last_run"]
    assert marker["complete"] is True, resumed.stdout[-2000:]
    assert summary["already_done"] == len(kept) and summary["processed"] == len(notes) - len(kept)
    ids = read_output(output).column("id").to_pylist()
    assert sorted(ids) == [note["id"] for note in notes], "every note once, none twice"
    assert (output / "_SUCCESS").exists()
    # Spark's own console output may share the line: find the progress lines anywhere in stderr
    progress = re.findall(r"clinx bulk: ([\d,]+)/([\d,]+) notes", resumed.stderr + resumed.stdout)
    left = f"{len(notes) - len(kept):,}"
    assert progress and progress[-1] == (left, left), (progress, resumed.stderr[-2000:])
    texts = [note["text"] for note in notes]
    assert not any(text[:30] in resumed.stderr for text in texts), "note text reached the progress output"
