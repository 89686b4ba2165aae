"""Offset conversion between code points, UTF-16 code units and UTF-8 bytes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.text.offsets import OffsetConverter, OffsetEncoding

ENCODINGS: tuple[OffsetEncoding, ...] = ("codepoint", "utf16", "utf8")


def all_offsets(text: str, encoding: OffsetEncoding) -> list[int]:
    converter = OffsetConverter(text)
    return [converter.convert(i, encoding) for i in range(len(text) + 1)]


def test_ascii_is_identity_for_every_encoding() -> None:
    text = "Pt denies chest pain."
    converter = OffsetConverter(text)
    assert converter.is_ascii
    for encoding in ENCODINGS:
        assert all_offsets(text, encoding) == list(range(len(text) + 1))
        assert [converter.to_codepoint(i, encoding) for i in range(len(text) + 1)] == list(range(len(text) + 1))


def test_empty_text() -> None:
    converter = OffsetConverter("")
    for encoding in ENCODINGS:
        assert converter.convert(0, encoding) == 0
        assert converter.to_codepoint(0, encoding) == 0
        assert converter.length(encoding) == 0


def test_emoji_is_two_utf16_units_and_four_utf8_bytes() -> None:
    text = "a\U0001f600b"  # a, grinning face (astral plane), b
    converter = OffsetConverter(text)
    assert not converter.is_ascii
    assert all_offsets(text, "codepoint") == [0, 1, 2, 3]
    assert all_offsets(text, "utf16") == [0, 1, 3, 4]
    assert all_offsets(text, "utf8") == [0, 1, 5, 6]
    assert converter.length("utf16") == 4
    assert converter.length("utf8") == 6
    # "b" as a JavaScript client sees it: 3..4
    assert converter.to_codepoint(3, "utf16") == 2
    assert converter.to_codepoint(4, "utf16") == 3


def test_index_inside_surrogate_pair_is_rejected() -> None:
    converter = OffsetConverter("a\U0001f600b")
    with pytest.raises(ValueError, match="inside a character"):
        converter.to_codepoint(2, "utf16")


@pytest.mark.parametrize("byte_offset", [2, 3, 4])
def test_index_inside_utf8_sequence_is_rejected(byte_offset: int) -> None:
    converter = OffsetConverter("a\U0001f600b")
    with pytest.raises(ValueError, match="inside a character"):
        converter.to_codepoint(byte_offset, "utf8")


def test_cjk_is_three_utf8_bytes_and_one_utf16_unit() -> None:
    text = "x糖尿病y"  # diabetes
    assert all_offsets(text, "utf16") == [0, 1, 2, 3, 4, 5]
    assert all_offsets(text, "utf8") == [0, 1, 4, 7, 10, 11]
    converter = OffsetConverter(text)
    assert converter.to_codepoint(7, "utf8") == 3
    for inside in (2, 3, 5, 6, 8, 9):
        with pytest.raises(ValueError):
            converter.to_codepoint(inside, "utf8")


def test_combining_marks_are_separate_code_points() -> None:
    text = "cafe\u0301 ok"  # "e" + COMBINING ACUTE ACCENT: two code points, one glyph
    assert len(text) == 8
    # The combining mark is one UTF-16 unit and two UTF-8 bytes; the boundary before it is valid.
    assert all_offsets(text, "utf16") == [0, 1, 2, 3, 4, 5, 6, 7, 8]
    assert all_offsets(text, "utf8") == [0, 1, 2, 3, 4, 6, 7, 8, 9]
    converter = OffsetConverter(text)
    assert converter.to_codepoint(4, "utf8") == 4
    with pytest.raises(ValueError):
        converter.to_codepoint(5, "utf8")


def test_crlf_counts_two_units_everywhere() -> None:
    text = "BP 120/80\r\nHR 72 – stable"  # en dash makes the text non-ASCII
    converter = OffsetConverter(text)
    hr = text.index("HR")
    assert converter.convert(hr, "utf16") == hr
    assert converter.convert(hr, "utf8") == hr
    dash = text.index("–")
    assert converter.convert(dash + 1, "utf8") == dash + 3
    assert converter.convert(dash + 1, "utf16") == dash + 1


def test_out_of_range_and_unknown_encoding() -> None:
    converter = OffsetConverter("é")
    with pytest.raises(ValueError):
        converter.convert(2, "utf8")
    with pytest.raises(ValueError):
        converter.convert(-1, "utf16")
    with pytest.raises(ValueError):
        converter.to_codepoint(3, "utf8")
    with pytest.raises(ValueError):
        converter.to_codepoint(-1, "codepoint")
    with pytest.raises(ValueError, match="unknown offset encoding"):
        converter.convert(0, "utf32")  # type: ignore[arg-type]


def test_lone_surrogate_does_not_crash() -> None:
    # A str may hold one (e.g. from a lenient JSON decoder); it counts as a single UTF-16 unit.
    text = "a\ud800b"
    assert all_offsets(text, "utf16") == [0, 1, 2, 3]
    assert all_offsets(text, "utf8") == [0, 1, 4, 5]


# Any text a client can send: every code point except lone surrogates (not encodable in UTF-8).
texts = st.text(alphabet=st.characters(exclude_categories=["Cs"]))


@given(texts, st.data())
def test_slices_agree_with_the_encoded_text(text: str, data: st.DataObject) -> None:
    i = data.draw(st.integers(0, len(text)), label="i")
    j = data.draw(st.integers(i, len(text)), label="j")
    converter = OffsetConverter(text)
    utf16 = text.encode("utf-16-le")
    utf8 = text.encode("utf-8")
    assert utf16[2 * converter.convert(i, "utf16") : 2 * converter.convert(j, "utf16")].decode("utf-16-le") == text[i:j]
    assert utf8[converter.convert(i, "utf8") : converter.convert(j, "utf8")].decode("utf-8") == text[i:j]
    assert converter.length("utf16") * 2 == len(utf16)
    assert converter.length("utf8") == len(utf8)


@given(texts)
def test_round_trip(text: str) -> None:
    converter = OffsetConverter(text)
    for encoding in ENCODINGS:
        for i in range(len(text) + 1):
            assert converter.to_codepoint(converter.convert(i, encoding), encoding) == i


@given(texts)
def test_every_unit_offset_is_either_a_boundary_or_rejected(text: str) -> None:
    converter = OffsetConverter(text)
    unit_encodings: tuple[OffsetEncoding, ...] = ("utf16", "utf8")
    for encoding in unit_encodings:
        boundaries = {converter.convert(i, encoding) for i in range(len(text) + 1)}
        for unit in range(converter.length(encoding) + 1):
            if unit in boundaries:
                assert converter.convert(converter.to_codepoint(unit, encoding), encoding) == unit
            else:
                with pytest.raises(ValueError):
                    converter.to_codepoint(unit, encoding)
