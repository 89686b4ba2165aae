"""The classifier's marked rows: markers around the span, within the length, context from both sides."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from app.assertion.marking import Markers, group_by_sentence, marked_ids, sentence_of

MARKERS = Markers(cls_id=1, sep_id=2, start_id=3, end_id=4)


@st.composite
def tokens_and_span(draw: st.DrawFn) -> tuple[list[int], list[tuple[int, int]], tuple[int, int], int]:
    count = draw(st.integers(1, 60))
    offsets = [(index * 3, index * 3 + 2) for index in range(count)]
    first = draw(st.integers(0, count - 1))
    last = draw(st.integers(first, min(count - 1, first + 10)))
    return list(range(10, 10 + count)), offsets, (offsets[first][0], offsets[last][1]), draw(st.integers(5, 80))


@given(tokens_and_span())
def test_a_row_marks_the_span_once_within_the_length(case: tuple[list[int], list[tuple[int, int]],
                                                                 tuple[int, int], int]) -> None:
    ids, offsets, span, max_length = case
    row = marked_ids(ids, offsets, span, max_length, MARKERS)
    assert row[0] == 1 and row[-1] == 2 and row.count(3) == 1 and row.count(4) == 1
    assert len(row) <= max(max_length, 5)
    inside = [token for token, (begin, end) in zip(ids, offsets, strict=True) if begin < span[1] and end > span[0]]
    between = row[row.index(3) + 1 : row.index(4)]
    assert between == inside[: len(between)] and between
    context = [token for token in row[1:-1] if token not in (3, 4) and token not in between]
    assert context == sorted(context), "context keeps the sentence's order"
    if len(inside) + 4 <= max_length:
        assert between == inside
        room = max_length - 4 - len(inside)
        assert len(context) == min(room, len(ids) - len(inside)), "context fills the room there is"


def test_spans_are_grouped_by_the_project_sentences() -> None:
    text = "Denies fever. Mother had cancer.\nNo rash"
    groups = group_by_sentence(text, [(7, 12), (25, 31), (37, 41), (9, 12)])
    assert list(groups.values()) == [[0, 3], [1], [2]]
    assert sentence_of([(0, 5), (6, 10)], 3, 8) == (0, 10)
    assert sentence_of([(0, 5)], 5, 6) == (5, 6)
