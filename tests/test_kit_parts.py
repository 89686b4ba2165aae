"""The offline kit's parts: cut to the limit, joined back byte for byte, grouped into sends under a cap."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from benchmarks.gpu.kit_parts import group_sends, parse_sums, part_name, part_sizes, split_file, sums_text


@given(st.integers(0, 10_000_000), st.integers(1_000, 3_000_000))
def test_part_sizes_cover_the_file_within_the_limit(total: int, limit: int) -> None:
    sizes = part_sizes(total, limit)
    assert sum(sizes) == total
    assert all(0 < size <= limit for size in sizes) or sizes == [0]
    assert all(size == limit for size in sizes[:-1])


@settings(max_examples=40, deadline=None)
@given(st.binary(max_size=5000), st.integers(1, 700))
def test_split_then_join_gives_the_file_back(data: bytes, limit: int) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        source = folder / "source" / "bundle.tar"
        source.parent.mkdir()
        source.write_bytes(data)
        parts = split_file(source, folder, limit)
        # the shell's glob order is the joining order (check.sh: cat NAME.[0-9][0-9][0-9])
        on_disk = sorted(folder.glob("bundle.tar.[0-9][0-9][0-9]"))
        assert [path.name for path in on_disk] == [part.name for part in parts]
        assert b"".join(path.read_bytes() for path in on_disk) == data
        assert all(path.stat().st_size <= limit for path in on_disk)


@given(st.dictionaries(st.text("abcdef.0123456789", min_size=1, max_size=12), st.integers(0, 100), max_size=30),
       st.integers(1, 120))
def test_sends_hold_every_part_once_and_stay_under_the_cap(sizes: dict[str, int], limit: int) -> None:
    sends = group_sends(sizes, limit)
    names = [name for send in sends for name in send]
    assert sorted(names) == sorted(sizes)
    for send in sends:
        assert sum(sizes[name] for name in send) <= limit or len(send) == 1


def test_sums_round_trip_in_sha256sum_format() -> None:
    entries = [("wheels.tar.001", "a" * 64), ("check.sh", "0" * 64)]
    text = sums_text(entries)
    assert text == f"{'a' * 64}  wheels.tar.001\n{'0' * 64}  check.sh\n"
    assert parse_sums(text) == entries


def test_part_numbers_stop_at_999() -> None:
    assert part_name("x.tar", 7) == "x.tar.007"
    try:
        part_name("x.tar", 1000)
    except ValueError as error:
        assert "raise the part size" in str(error)
    else:
        raise AssertionError("part 1000 accepted")
