"""Progress bars for long offline jobs: tqdm when installed, else a plain counter on stderr.

Only counts and loss values are shown, never text. When stderr is not a terminal (a job writing
to a log file) updates are rare, so logs stay readable.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator
from typing import Any, Generic, TypeVar

Item = TypeVar("Item")


class Progress(Generic[Item]):
    """Wraps an iterable; ``note`` sets the figures shown beside the count (e.g. the running loss)."""

    def __init__(self, items: Iterable[Item], *, total: int, description: str, enabled: bool = True) -> None:
        self._items = items
        self.total = total
        self.description = description
        self.enabled = enabled
        self._interactive = sys.stderr.isatty()
        self._bar: Any = self._make_tqdm() if enabled else None
        self._note = ""
        self._count = 0
        self._last_print = 0.0

    def _make_tqdm(self) -> Any:
        try:
            from tqdm import tqdm
        except ImportError:
            return None
        return tqdm(total=self.total, desc=self.description, file=sys.stderr, dynamic_ncols=True,
                    mininterval=0.5 if self._interactive else 30.0, leave=True)

    def __iter__(self) -> Iterator[Item]:
        try:
            for item in self._items:
                yield item
                self._count += 1
                self._update()
        finally:
            self.close()

    def note(self, **figures: float) -> None:
        self._note = " ".join(f"{name}={value:.4g}" for name, value in figures.items())
        if self._bar is not None:
            self._bar.set_postfix_str(self._note, refresh=False)

    def _update(self) -> None:
        if not self.enabled:
            return
        if self._bar is not None:
            self._bar.update(1)
            return
        now = time.monotonic()
        if now - self._last_print >= (1.0 if self._interactive else 30.0) or self._count == self.total:
            self._last_print = now
            print(f"{self.description}: {self._count}/{self.total} {self._note}", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
