"""The benchmark report's plots (matplotlib, PNG), drawn from the stored results of each model."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.report_records import saturation


def plots(records: list[dict[str, Any]], output: Path, suffix: str) -> list[str]:
    """Throughput, latency and notes/s per model, one panel each: the shape of a curve says more than its peak."""
    if not records:
        return []
    import matplotlib

    matplotlib.use("Agg")
    return [_draw(records, output / f"{name}{suffix}.png", draw, height)
            for name, draw, height in (("throughput", _throughput, 4.2), ("latency", _latency, 4.2),
                                       ("notes_per_s", _notes_per_s, 4.4))]


def _draw(records: list[dict[str, Any]], path: Path, draw: Callable[[Any, dict[str, Any]], None],
          height: float) -> str:
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(records), figsize=(5.2 * len(records), height), squeeze=False)
    for ax, record in zip(axes[0], records, strict=True):
        draw(ax, record)
        ax.set_title(record["model"])
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path.name


def _by_clients(ax: Any, ylabel: str, xlabel: str = "concurrent clients") -> None:
    ax.set_xscale("log", base=2)
    ax.set_xticks([1, 8, 32, 64], labels=["1", "8", "32", "64"])
    ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)


def _throughput(ax: Any, record: dict[str, Any]) -> None:
    colours = {"fp32": "tab:blue", "int8": "tab:orange", "fp16": "tab:green"}
    for variant, levels in record["clinx"].items():
        points = sorted((int(k[1:]), v["model_tokens_per_s"]) for k, v in levels.items()
                        if "batch" not in k and v.get("model_tokens_per_s"))
        if points:
            ax.plot(*zip(*points, strict=True), marker="o", color=colours[variant], label=f"clinx-serve {variant}")
        ceiling = record["ceiling"].get(variant)
        if ceiling:
            ax.axhline(ceiling["real_tokens_per_s"], color=colours[variant], linestyle="--",
                       label=f"ceiling {variant}")
        limit = record["machine_limit_model_tokens_per_s"].get(variant)
        if limit:
            ax.axhline(limit, color=colours[variant], linestyle=":", label=f"machine limit {variant}")
    base = record["baseline"].get("c1")
    if base:
        ax.axhline(base["model_tokens_per_s"], color="tab:red", linestyle="-.", label="naive fp32 (1 at a time)")
    _by_clients(ax, "model tokens/s (unpadded)", "concurrent clients (one note per request)")


def _latency(ax: Any, record: dict[str, Any]) -> None:
    for variant, levels in record["clinx"].items():
        for q, style in (("latency_p50_s", "-"), ("latency_p99_s", "--")):
            points = sorted((int(k[1:]), v[q]) for k, v in levels.items() if "batch" not in k and v.get(q))
            if points:
                ax.plot(*zip(*points, strict=True), marker="o", linestyle=style, label=f"{variant} {q.split('_')[1]}")
    base = record["baseline"].get("c1")
    if base and base.get("latency_p50_s"):
        ax.scatter([1], [base["latency_p50_s"]], color="tab:red", marker="x", label="naive p50", zorder=5)
    _by_clients(ax, "latency per note request (s)")


def _notes_per_s(ax: Any, record: dict[str, Any]) -> None:
    labels, values, colours = [], [], []
    base = record["baseline"].get("c1")
    if base:
        labels.append("naive\nfp32")
        values.append(base["notes_per_s"])
        colours.append("tab:red")
    for variant in record["clinx"]:
        labels.append(f"clinx\n{variant}")
        values.append(saturation(record["clinx"][variant])[1].get("notes_per_s") or 0)
        colours.append("tab:blue")
        if variant in record["ceiling"]:
            labels.append(f"ceiling\n{variant}")
            values.append(record["ceiling"][variant]["notes_per_s"])
            colours.append("tab:gray")
    ax.bar(labels, values, color=colours)
    ax.set_ylabel("MTSamples notes/s (saturated)")
    for index, value in enumerate(values):
        ax.annotate(f"{value:.3g}", (index, value), ha="center", va="bottom", fontsize=8)
