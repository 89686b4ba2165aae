"""The benchmark report's plots (matplotlib, PNG), drawn from the stored results of each model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from benchmarks.report_records import saturation


def plots(records: list[dict[str, Any]], output: Path, suffix: str) -> list[str]:
    """Throughput and latency per model, one panel each: the shape of a curve says more than its peak."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if not records:
        return []
    names = []
    fig, axes = plt.subplots(1, len(records), figsize=(5.2 * len(records), 4.2), squeeze=False)
    for ax, record in zip(axes[0], records, strict=True):
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
        ax.set_xscale("log", base=2)
        ax.set_xticks([1, 8, 32, 64], labels=["1", "8", "32", "64"])
        ax.set_yscale("log")
        ax.set_xlabel("concurrent clients (one note per request)")
        ax.set_ylabel("model tokens/s (unpadded)")
        ax.set_title(record["model"])
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    path = output / f"throughput{suffix}.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    names.append(path.name)

    fig, axes = plt.subplots(1, len(records), figsize=(5.2 * len(records), 4.2), squeeze=False)
    for ax, record in zip(axes[0], records, strict=True):
        for variant, levels in record["clinx"].items():
            for q, style in (("latency_p50_s", "-"), ("latency_p99_s", "--")):
                points = sorted((int(k[1:]), v[q]) for k, v in levels.items() if "batch" not in k and v.get(q))
                if points:
                    ax.plot(*zip(*points, strict=True), marker="o", linestyle=style,
                            label=f"{variant} {q.split('_')[1]}")
        base = record["baseline"].get("c1")
        if base and base.get("latency_p50_s"):
            ax.scatter([1], [base["latency_p50_s"]], color="tab:red", marker="x", label="naive p50", zorder=5)
        ax.set_xscale("log", base=2)
        ax.set_xticks([1, 8, 32, 64], labels=["1", "8", "32", "64"])
        ax.set_yscale("log")
        ax.set_xlabel("concurrent clients")
        ax.set_ylabel("latency per note request (s)")
        ax.set_title(record["model"])
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    path = output / f"latency{suffix}.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    names.append(path.name)

    fig, axes = plt.subplots(1, len(records), figsize=(5.2 * len(records), 4.4), squeeze=False)
    for ax, record in zip(axes[0], records, strict=True):
        labels, values, colours = [], [], []
        base = record["baseline"].get("c1")
        if base:
            labels.append("naive\nfp32")
            values.append(base["notes_per_s"])
            colours.append("tab:red")
        for variant in record["clinx"]:
            if variant in record["clinx"]:
                labels.append(f"clinx\n{variant}")
                values.append(saturation(record["clinx"][variant])[1].get("notes_per_s") or 0)
                colours.append("tab:blue")
            if variant in record["ceiling"]:
                labels.append(f"ceiling\n{variant}")
                values.append(record["ceiling"][variant]["notes_per_s"])
                colours.append("tab:gray")
        ax.bar(labels, values, color=colours)
        ax.set_ylabel("MTSamples notes/s (saturated)")
        ax.set_title(record["model"])
        for index, value in enumerate(values):
            ax.annotate(f"{value:.3g}", (index, value), ha="center", va="bottom", fontsize=8)
    fig.tight_layout()
    path = output / f"notes_per_s{suffix}.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    names.append(path.name)
    return names
