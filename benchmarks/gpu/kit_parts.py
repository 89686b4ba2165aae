"""Files cut into numbered parts no larger than a limit, their sha256 lists, and sends grouped by size.

A transfer service or a removable medium caps each file's size; the node joins the parts with
``cat NAME.001 NAME.002 ... > NAME`` and checks them with ``sha256sum -c`` (check.sh), so the formats
here are the coreutils ones: parts are ``NAME.NNN`` (three digits, from 001) and each list is
``<sha256>  <name>`` lines.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

MB = 1_000_000  # part sizes are in decimal megabytes: under the cap whichever megabyte the cap means
CHUNK = 1 << 20
PARTS_LIST = "SHA256SUMS"  # every part and every unsplit file of the kit
FILES_LIST = "FILES.sha256"  # every joined file


@dataclass(frozen=True)
class Part:
    name: str
    size: int
    sha256: str


def part_name(name: str, index: int) -> str:
    """``NAME.001``...: sorts in joining order with the shell's glob, up to 999 parts."""
    if not 1 <= index <= 999:
        raise ValueError(f"{name}: part {index} is out of 1..999 (raise the part size)")
    return f"{name}.{index:03d}"


def part_sizes(total: int, limit: int) -> list[int]:
    """Sizes of the parts of a ``total``-byte file: all ``limit`` but the last; one empty part for an empty file."""
    if limit <= 0:
        raise ValueError("the part size limit must be positive")
    if total == 0:
        return [0]
    full, rest = divmod(total, limit)
    return [limit] * full + ([rest] if rest else [])


def split_file(source: Path, directory: Path, limit: int) -> list[Part]:
    """Write ``source``'s parts into ``directory``; returns them in joining order."""
    parts = []
    with source.open("rb") as reader:
        for index, size in enumerate(part_sizes(source.stat().st_size, limit), start=1):
            name = part_name(source.name, index)
            digest = hashlib.sha256()
            with (directory / name).open("wb") as writer:
                left = size
                while left:
                    block = reader.read(min(CHUNK, left))
                    if not block:
                        raise OSError(f"{source} shrank while it was being split")
                    digest.update(block)
                    writer.write(block)
                    left -= len(block)
            parts.append(Part(name, size, digest.hexdigest()))
    return parts


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as reader:
        while block := reader.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


def sums_text(entries: Iterable[tuple[str, str]]) -> str:
    """``sha256sum`` format: ``<hex>  <name>`` per line."""
    return "".join(f"{digest}  {name}\n" for name, digest in entries)


def parse_sums(text: str) -> list[tuple[str, str]]:
    """(name, sha256) pairs of a ``sha256sum`` list, in order."""
    pairs = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        digest, sep, name = line.partition("  ")
        if not sep or len(digest) != 64 or not name:
            raise ValueError(f"line {number}: not '<sha256>  <name>'")
        pairs.append((name, digest))
    return pairs


def group_sends(sizes: dict[str, int], limit: int) -> list[list[str]]:
    """Parts grouped into sends of at most ``limit`` bytes each (first fit, largest first).

    A part larger than ``limit`` travels alone. Sends are ordered by their largest part, so the big
    ones go first and small files fill the gaps.
    """
    sends: list[tuple[int, list[str]]] = []
    for name in sorted(sizes, key=lambda key: (-sizes[key], key)):
        size = sizes[name]
        for index, (used, names) in enumerate(sends):
            if used + size <= limit:
                sends[index] = (used + size, [*names, name])
                break
        else:
            sends.append((size, [name]))
    return [names for _, names in sends]
