"""Reading stored benchmark results: shared by the report's tables and its plots."""

from __future__ import annotations

from typing import Any

ORDER = ("demo", "xlmr-base", "clinx-large")


def models_in(stored: dict[str, Any]) -> list[dict[str, Any]]:
    """The stored models, the known ones in a fixed order so reports compare like with like."""
    models = stored.get("models", {})
    return [models[name] for name in ORDER if name in models] + [
        record for name, record in models.items() if name not in ORDER]


def saturation(results: dict[str, Any]) -> tuple[str | None, dict[str, Any]]:
    """The concurrency level with the most model tokens/s: where a contender saturates."""
    singles = {k: v for k, v in results.items() if "batch" not in k and v.get("model_tokens_per_s")}
    if not singles:
        return None, {}
    return max(singles.items(), key=lambda item: item[1]["model_tokens_per_s"])
