"""How many padded tokens one batch may hold, per device (benchmarks/results/batch-budget.md)."""

from __future__ import annotations

from app.engine.runtime import CPU

GPU_BATCH_TOKENS = 8192
CPU_BATCH_TOKENS = 512


def batch_budget(configured: int, provider: str, max_length: int) -> int:
    """The configured budget, or one that suits the device.

    A GPU needs large batches to stay busy. On a CPU a packed window is already a large matrix
    product: one window per batch was the fastest measured (cache-friendly), and it keeps the wait a
    newly arrived note has for the running batch short.
    """
    if configured:
        return configured
    return GPU_BATCH_TOKENS if provider != CPU else max(CPU_BATCH_TOKENS, max_length)
