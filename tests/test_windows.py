"""Model windows: centres tile the document's tokens, context never loses a token at the edges."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable, Sequence
from itertools import pairwise

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from tokenizers import Tokenizer

from app.text.segment import split_sentences
from app.text.windows import (
    Window,
    WindowGeometry,
    anchor,
    build_windows,
    centre_ranges,
    max_window_length,
    pack_ranges,
    paragraph_starts,
    token_anchors,
    window_input_ids,
)
from tests.text_support import minilm_tokenizer, plain_text, texts, token_offsets, unigram_tokenizer

CLS, SEP = 101, 102
TOKENIZERS: dict[str, Callable[[], Tokenizer]] = {"unigram": unigram_tokenizer, "minilm": minilm_tokenizer}


@st.composite
def synthetic_tokens(draw: st.DrawFn) -> tuple[str, list[tuple[int, int]]]:
    """A text cut into contiguous tokens at random points; optionally SentencePiece-like (leading
    whitespace kept inside tokens, blank tokens kept) or WordPiece-like (whitespace dropped)."""
    text = draw(texts)
    inner = range(1, len(text))
    cuts = sorted(set(draw(st.lists(st.sampled_from(inner), max_size=len(text))))) if len(inner) else []
    bounds = [0, *cuts, len(text)] if text else []
    offsets = list(pairwise(bounds))
    if draw(st.booleans()):  # WordPiece-like: whitespace never inside a token, blank tokens vanish
        stripped = []
        for start, end in offsets:
            while start < end and text[start].isspace():
                start += 1
            while end > start and text[end - 1].isspace():
                end -= 1
            if start < end:
                stripped.append((start, end))
        offsets = stripped
    return text, offsets


def check_tiling(windows: Sequence[Window], count: int, chunk: int, context: int) -> None:
    """Centres tile [0, count) in order; context is exactly as wide as the document allows."""
    if count == 0:
        assert windows == []
        return
    assert windows[0].centre_start == 0
    assert windows[-1].centre_end == count
    for previous, following in pairwise(windows):
        assert previous.centre_end == following.centre_start
    seen = [0] * count
    for window in windows:
        assert window.centre_start < window.centre_end
        assert window.centre_end - window.centre_start <= chunk
        assert window.context_start <= window.centre_start and window.centre_end <= window.context_end
        assert window.centre_start - window.context_start == min(context, window.centre_start)
        assert window.context_end - window.centre_end == min(context, count - window.centre_end)
        assert window.length == window.context_end - window.context_start + 2
        assert window.length <= max_window_length(chunk, context)
        for index in range(window.centre_start, window.centre_end):
            seen[index] += 1
    assert seen == [1] * count


def check_input_ids(ids: Sequence[int], windows: Sequence[Window]) -> None:
    for window in windows:
        model_input = window_input_ids(ids, window, CLS, SEP)
        assert model_input == [CLS, *ids[window.context_start : window.context_end], SEP]
        assert len(model_input) == window.length
        first, last = window.centre_positions
        assert model_input[first:last] == list(ids[window.centre_start : window.centre_end])
        assert 1 <= first < last <= len(model_input) - 1


def expected_centres(
    anchors: Sequence[int | None], sentences: Sequence[tuple[int, int]], chunk: int
) -> list[tuple[int, int]]:
    """Reference: a token belongs to its anchor's sentence, a blank token to the sentence of the next
    anchored token (the last sentence if none follows); each sentence's run is cut every ``chunk``."""
    starts = [start for start, _ in sentences]
    groups: list[int | None] = []
    current = -1
    for position in anchors:
        if position is not None:
            current = max(current, bisect_right(starts, position) - 1)
        groups.append(None if position is None else current)
    following = current
    for index in reversed(range(len(groups))):
        group = groups[index]
        if group is None:
            groups[index] = following
        else:
            following = group
    ranges = []
    run_start = 0
    for index in range(1, len(groups) + 1):
        if index == len(groups) or groups[index] != groups[run_start]:
            ranges.extend((start, min(start + chunk, index)) for start in range(run_start, index, chunk))
            run_start = index
    return ranges


geometry = st.tuples(st.integers(1, 8), st.integers(0, 10))


@settings(max_examples=200, deadline=None)
@given(synthetic_tokens(), geometry)
def test_windows_on_synthetic_tokenizations(tokens: tuple[str, list[tuple[int, int]]], shape: tuple[int, int]) -> None:
    text, offsets = tokens
    chunk, context = shape
    anchors = token_anchors(text, offsets)
    sentences = split_sentences(text)
    windows = build_windows(anchors, sentences, WindowGeometry(chunk, context))
    check_tiling(windows, len(offsets), chunk, context)
    check_input_ids(list(range(1000, 1000 + len(offsets))), windows)
    assert [(w.centre_start, w.centre_end) for w in windows] == expected_centres(anchors, sentences, chunk)


anchor_lists = st.lists(st.one_of(st.none(), st.integers(0, 60)), max_size=40)
sentence_lists = st.lists(st.integers(0, 60), max_size=12).map(
    lambda points: [(start, start + 1) for start in sorted(set(points))]
)


@settings(max_examples=200, deadline=None)
@given(anchor_lists, sentence_lists, geometry, st.booleans())
def test_centres_tile_for_arbitrary_anchors(
    anchors: list[int | None], sentences: list[tuple[int, int]], shape: tuple[int, int], monotone: bool
) -> None:
    """Even anchors out of order or outside every sentence never lose or duplicate a token."""
    if monotone:
        present = sorted(position for position in anchors if position is not None)
        iterator = iter(present)
        anchors = [None if position is None else next(iterator) for position in anchors]
    chunk, context = shape
    windows = build_windows(anchors, sentences, WindowGeometry(chunk, context))
    check_tiling(windows, len(anchors), chunk, context)
    assert [(w.centre_start, w.centre_end) for w in windows] == centre_ranges(anchors, sentences, chunk)


range_lists = st.lists(st.integers(1, 9), max_size=20).map(
    lambda lengths: [(sum(lengths[:i]), sum(lengths[: i + 1])) for i in range(len(lengths))]
)


@settings(max_examples=300, deadline=None)
@given(range_lists, st.integers(1, 30))
def test_packing_merges_whole_consecutive_ranges(ranges: list[tuple[int, int]], limit: int) -> None:
    """Packed centres are unions of consecutive ranges, within the limit unless one range alone is
    longer, and greedy: no centre could have taken the next range too."""
    packed = pack_ranges(ranges, limit)
    if not ranges:
        assert packed == []
        return
    assert [start for start, _ in packed] == sorted({start for start, _ in packed})
    edges = {edge for pair in ranges for edge in pair}
    flattened = [edge for pair in packed for edge in pair]
    assert set(flattened) <= edges
    assert (packed[0][0], packed[-1][1]) == (ranges[0][0], ranges[-1][1])
    for (_, end), (start, _) in pairwise(packed):
        assert end == start
    for index, (start, end) in enumerate(packed):
        members = [pair for pair in ranges if start <= pair[0] and pair[1] <= end]
        assert members[0][0] == start and members[-1][1] == end
        assert end - start <= limit or len(members) == 1
        if index + 1 < len(packed):
            following = next(pair for pair in ranges if pair[0] == end)
            assert following[1] - start > limit


@settings(max_examples=200, deadline=None)
@given(synthetic_tokens(), geometry)
def test_packed_windows_tile_and_never_split_a_sentence_range(
    tokens: tuple[str, list[tuple[int, int]]], shape: tuple[int, int]
) -> None:
    text, offsets = tokens
    chunk, context = shape
    anchors = token_anchors(text, offsets)
    sentences = split_sentences(text)
    packed = build_windows(anchors, sentences, WindowGeometry(chunk, context, pack_sentences=True))
    check_tiling(packed, len(offsets), chunk, context)
    check_input_ids(list(range(1000, 1000 + len(offsets))), packed)
    unpacked = centre_ranges(anchors, sentences, chunk)
    assert [(w.centre_start, w.centre_end) for w in packed] == pack_ranges(unpacked, chunk)
    assert len(packed) <= len(unpacked)


def test_packing_puts_short_sentences_in_one_centre() -> None:
    text = "Pain. No fever. Seen today."
    offsets = [(0, 4), (4, 5), (6, 8), (9, 14), (14, 15), (16, 20), (21, 26), (26, 27)]
    anchors = token_anchors(text, offsets)
    sentences = split_sentences(text)
    assert len(centre_ranges(anchors, sentences, 300)) == 3
    packed = build_windows(anchors, sentences, WindowGeometry(300, 100, pack_sentences=True))
    assert [(w.centre_start, w.centre_end) for w in packed] == [(0, 8)]
    assert [(w.centre_start, w.centre_end) for w in build_windows(
        anchors, sentences, WindowGeometry(5, 0, pack_sentences=True))] == [(0, 5), (5, 8)]


def test_geometry_round_trips_through_a_record_and_defaults_to_sentences() -> None:
    geometry = WindowGeometry(300, 100, pack_sentences=True)
    assert WindowGeometry.from_record(geometry.as_record()) == geometry
    assert WindowGeometry.from_record({"chunk_subwords": 300, "context_subwords": 100}).pack_sentences is False
    assert geometry.max_length == 502
    with pytest.raises(ValueError, match="context_subwords"):
        WindowGeometry(3, -1)


@pytest.mark.parametrize("name", sorted(TOKENIZERS))
def test_windows_on_real_tokenizers(name: str) -> None:
    tokenizer = TOKENIZERS[name]()

    @settings(max_examples=150, deadline=None)
    @given(st.one_of(plain_text, texts), geometry)
    def run(text: str, shape: tuple[int, int]) -> None:
        chunk, context = shape
        ids, offsets = token_offsets(tokenizer, text)
        anchors = token_anchors(text, offsets)
        sentences = split_sentences(text)
        windows = build_windows(anchors, sentences, WindowGeometry(chunk, context))
        check_tiling(windows, len(ids), chunk, context)
        check_input_ids(ids, windows)
        assert [(w.centre_start, w.centre_end) for w in windows] == expected_centres(anchors, sentences, chunk)

    run()


@pytest.mark.parametrize("name", sorted(TOKENIZERS))
def test_every_character_lies_in_a_centre(name: str) -> None:
    """With text a tokenizer covers, every non-whitespace character is inside some centre's
    character range, and no token's characters straddle two sentences."""
    tokenizer = TOKENIZERS[name]()

    @settings(max_examples=150, deadline=None)
    @given(plain_text, st.integers(1, 6))
    def run(text: str, chunk: int) -> None:
        _, offsets = token_offsets(tokenizer, text)
        sentences = split_sentences(text)
        anchors = token_anchors(text, offsets)
        windows = build_windows(anchors, sentences, WindowGeometry(chunk, 2))
        covered: set[int] = set()
        for window in windows:
            covered.update(range(offsets[window.centre_start][0], offsets[window.centre_end - 1][1]))
        for index, char in enumerate(text):
            if not char.isspace():
                assert index in covered, (index, char)
        for start, end in offsets:
            inside = {bisect_right(sentences, (position, len(text) + 1)) - 1
                      for position in range(start, end) if not text[position].isspace()}
            assert len(inside) <= 1, (text[start:end], sentences)

    run()


def test_anchor_skips_leading_whitespace() -> None:
    text = "a  \u00a0bc \n"
    assert anchor(text, 0, 1) == 0
    assert anchor(text, 1, 6) == 4
    assert anchor(text, 6, 8) is None
    assert anchor(text, 3, 3) is None
    assert token_anchors(text, [(0, 1), (1, 5), (5, 6), (6, 8)]) == [0, 4, 5, None]


def test_blank_tokens_join_the_following_sentence() -> None:
    #       0123456789012345
    text = "Pain.\r\nNo fever."
    offsets = [(0, 4), (4, 5), (5, 6), (6, 7), (7, 9), (9, 10), (10, 15), (15, 16)]
    anchors = token_anchors(text, offsets)
    assert anchors == [0, 4, None, None, 7, None, 10, 15]
    sentences = split_sentences(text)
    assert sentences == [(0, 5), (7, 16)]
    assert centre_ranges(anchors, sentences, chunk_subwords=300) == [(0, 2), (2, 8)]


def test_long_sentence_is_chunked_and_context_crosses_sentences() -> None:
    text = "aa bb cc dd ee ff gg. Hh ii."
    offsets = [match.span() for match in re.finditer(r"\S+", text)]
    anchors = token_anchors(text, offsets)
    assert split_sentences(text) == [(0, 21), (22, 28)]
    assert len(anchors) == 9  # 7 words | 2 words
    windows = build_windows(anchors, split_sentences(text), WindowGeometry(3, 2))
    assert windows == [
        Window(0, 3, 0, 5),
        Window(3, 6, 1, 8),
        Window(6, 7, 4, 9),
        Window(7, 9, 5, 9),
    ]
    assert windows[1].centre_positions == (3, 6)
    assert window_input_ids(list(range(9)), windows[1], CLS, SEP) == [CLS, 1, 2, 3, 4, 5, 6, 7, SEP]


def test_zero_context_and_single_token() -> None:
    windows = build_windows([0], [(0, 1)], WindowGeometry(1, 0))
    assert windows == [Window(0, 1, 0, 1)]
    assert windows[0].length == 3
    assert windows[0].centre_positions == (1, 2)


def test_empty_document_and_blank_only_tokens() -> None:
    assert build_windows([], [], WindowGeometry(4, 4)) == []
    assert centre_ranges([None, None, None], [], chunk_subwords=2) == [(0, 2), (2, 3)]


def test_chunk_must_be_positive() -> None:
    with pytest.raises(ValueError, match="chunk_subwords"):
        centre_ranges([0], [(0, 1)], chunk_subwords=0)
    with pytest.raises(ValueError, match="chunk_subwords"):
        build_windows([0], [(0, 1)], WindowGeometry(-1, 3))


def test_max_window_length() -> None:
    assert max_window_length(300, 100) == 502
    assert max_window_length(24, 8) == 42


# Paragraph breaks: blank lines (a pasted note's edge) bound packed centres, or whole windows


@pytest.mark.parametrize(("text", "expected"), [
    ("a\n\nb", [2]), ("a\r\n\r\nb", [3]), ("a\n \t\nb", [2]), ("a\nb", []), ("a\r\nb", []), ("a\n\n\nb", [2, 3]),
    ("a\u2029\u2029b", [2]), ("a\r\rb", [2]), ("a. b.", []),
])
def test_paragraph_starts(text: str, expected: list[int]) -> None:
    assert paragraph_starts(text) == expected


def _windows_of(tokenizer: Tokenizer, text: str, geometry: WindowGeometry) -> list[Window]:
    _, offsets = token_offsets(tokenizer, text)
    return build_windows(token_anchors(text, offsets), split_sentences(text), geometry, paragraph_starts(text))


@settings(max_examples=150, deadline=None)
@given(st.lists(plain_text.filter(str.strip), min_size=1, max_size=3), st.integers(0, 2), geometry,
       st.sampled_from(["centres", "windows"]))
def test_a_note_pasted_among_others_keeps_its_centres(notes: list[str], place: int, shape: tuple[int, int],
                                                      breaks: str) -> None:
    """The note's centres inside a document of notes joined by blank lines are its centres alone,
    shifted; with "windows" its context is too, so the model sees exactly the same inputs."""
    tokenizer = minilm_tokenizer()
    chunk, context = shape
    geometry = WindowGeometry(chunk, context, pack_sentences=True, paragraph_breaks=breaks)
    note = notes[0].strip("\n\r ")
    assume(note.strip() != "")
    others = [other.strip("\n\r ") or "x" for other in notes[1:]]
    before, after = others[:place], others[place:]
    document = "\n\n".join([*before, note, *after])
    shift = len(token_offsets(tokenizer, "\n\n".join([*before, ""]))[1]) if before else 0
    alone = _windows_of(tokenizer, note, geometry)
    inside = _windows_of(tokenizer, document, geometry)
    count = len(token_offsets(tokenizer, note)[1])
    mine = [w for w in inside if shift <= w.centre_start < shift + count]
    assert [(w.centre_start - shift, w.centre_end - shift) for w in mine] == [(w.centre_start, w.centre_end)
                                                                             for w in alone]
    if breaks == "windows":
        assert [(w.context_start - shift, w.context_end - shift) for w in mine] == [
            (w.context_start, w.context_end) for w in alone]


def test_paragraph_breaks_bound_packing_and_context() -> None:
    text = "Pain. No fever.\n\nSeen today. Better."
    offsets = [match.span() for match in re.finditer(r"\w+|[^\w\s]", text)]
    anchors = token_anchors(text, offsets)
    sentences = split_sentences(text)
    starts = paragraph_starts(text)
    ignored = build_windows(anchors, sentences, WindowGeometry(300, 100, True), starts)
    assert [(w.centre_start, w.centre_end) for w in ignored] == [(0, 10)]
    centres = build_windows(anchors, sentences, WindowGeometry(300, 100, True, "centres"), starts)
    assert [(w.centre_start, w.centre_end, w.context_start, w.context_end) for w in centres] == [
        (0, 5, 0, 10), (5, 10, 0, 10)]
    windows = build_windows(anchors, sentences, WindowGeometry(300, 100, True, "windows"), starts)
    assert [(w.centre_start, w.centre_end, w.context_start, w.context_end) for w in windows] == [
        (0, 5, 0, 5), (5, 10, 5, 10)]
    with pytest.raises(ValueError, match="paragraph_breaks"):
        WindowGeometry(3, 1, True, "lines")
    record = WindowGeometry(300, 100, True, "windows").as_record()
    assert WindowGeometry.from_record(record).paragraph_breaks == "windows"
    assert WindowGeometry.from_record({"chunk_subwords": 3, "context_subwords": 1}).paragraph_breaks == "none"
