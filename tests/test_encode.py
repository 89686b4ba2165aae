"""DocumentEncoder: whole documents, never truncated or padded, offsets into the original string."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from tokenizers import Tokenizer

from app.text.encode import DocumentEncoder, EncodedDocument, SpecialTokens
from app.text.segment import split_sentences
from app.text.windows import WindowGeometry, build_windows, max_window_length, token_anchors
from tests.text_support import minilm_tokenizer, plain_text, texts, unigram_tokenizer

UNIGRAM_SPECIAL = SpecialTokens(cls_id=0, sep_id=2, pad_id=1)
MINILM_SPECIAL = SpecialTokens(cls_id=101, sep_id=102, pad_id=0)
CHUNK, CONTEXT = 24, 8

LONG_TEXT = (
    "HISTORY OF PRESENT ILLNESS: Pt is a 67 y/o man with h/o NSTEMI, seen by Dr. Smith.\r\n"
    "He denies chest pain. BP 120/80, HR 72. Café au lait spots noted; naïve to aspirin.\r\n"
    "\U0001f600 Patient feels better \U0001f44d\U0001f3fd today.\n\n"
    "PLAN: continue metoprolol 25 mg p.o. b.i.d. and f/u in 2 wks.\u2028"
) * 9


def check_document(document: EncodedDocument, plain: Tokenizer) -> None:
    """All tokens present, offsets in code points of the original text, windows tiling the tokens."""
    text = document.text
    reference = plain.encode(text, add_special_tokens=False)
    assert document.ids == list(reference.ids)
    assert document.offsets == [(int(start), int(end)) for start, end in reference.offsets]
    assert document.token_count == len(document.ids) == len(document.offsets) == len(document.anchors)
    assert document.anchors == token_anchors(text, document.offsets)
    previous_start = 0
    for start, end in document.offsets:
        assert 0 <= previous_start <= start <= end <= len(text)
        previous_start = start
    assert document.windows == build_windows(document.anchors, split_sentences(text), WindowGeometry(CHUNK, CONTEXT))
    position = 0
    for window in document.windows:
        assert window.centre_start == position
        position = window.centre_end
    assert position == document.token_count


def plain_copy(tokenizer: Tokenizer) -> Tokenizer:
    copy = Tokenizer.from_str(tokenizer.to_str())
    copy.no_truncation()
    copy.no_padding()
    return copy


def write_with_truncation_and_padding(tokenizer: Tokenizer, path: Path) -> Path:
    """A tokenizer.json that, used as is, would cut every text to 8 tokens and pad batches to 16."""
    tokenizer.enable_truncation(max_length=8)
    tokenizer.enable_padding(pad_id=1, pad_token="<pad>", length=16)
    tokenizer.save(str(path))
    saved = json.loads(path.read_text(encoding="utf-8"))
    assert saved["truncation"]["max_length"] == 8 and saved["padding"] is not None
    return path


def test_stored_truncation_and_padding_are_switched_off(tmp_path: Path) -> None:
    path = write_with_truncation_and_padding(unigram_tokenizer(), tmp_path / "tokenizer.json")
    assert len(Tokenizer.from_file(str(path)).encode(LONG_TEXT).ids) == 16  # what the file alone would do
    encoder = DocumentEncoder.from_file(path, UNIGRAM_SPECIAL, WindowGeometry(CHUNK, CONTEXT))
    assert len(LONG_TEXT) > 2_000
    document = encoder.encode(LONG_TEXT)
    plain = plain_copy(unigram_tokenizer())
    check_document(document, plain)
    assert document.token_count > 1_000
    assert UNIGRAM_SPECIAL.pad_id not in document.ids
    # a batch of texts of different lengths is not padded to the longest either
    short, long = encoder.encode_many(["Pt seen.", LONG_TEXT])
    assert short == encoder.encode("Pt seen.") and long == document
    assert short.token_count < 16  # not padded to the stored padding length


def test_minilm_tokenizer_with_truncation_128_and_padding() -> None:
    tokenizer = minilm_tokenizer()
    assert tokenizer.truncation is not None and tokenizer.truncation["max_length"] == 128
    assert tokenizer.padding is not None
    encoder = DocumentEncoder(tokenizer, MINILM_SPECIAL, WindowGeometry(CHUNK, CONTEXT))
    document = encoder.encode(LONG_TEXT)
    check_document(document, plain_copy(minilm_tokenizer()))
    assert document.token_count > 128 * 4
    assert MINILM_SPECIAL.pad_id not in document.ids
    # the sentence-ending CRLF / U+2028 lines became separate centres
    assert len(document.windows) >= len(split_sentences(LONG_TEXT))


@pytest.mark.parametrize(
    ("name", "factory", "special"),
    [("unigram", unigram_tokenizer, UNIGRAM_SPECIAL), ("minilm", minilm_tokenizer, MINILM_SPECIAL)],
)
def test_offsets_are_code_points_of_the_original_text(
    name: str, factory: Callable[[], Tokenizer], special: SpecialTokens
) -> None:
    text = "\U0001f600 Café naïve\r\nna\u0308ive 𝐀 ﬁne ① fever chest\r\n\u00a0\U0001f44d\U0001f3fd end"
    encoder = DocumentEncoder(factory(), special, WindowGeometry(CHUNK, CONTEXT))
    document = encoder.encode(text)
    check_document(document, plain_copy(factory()))
    # words after astral characters and combining marks: their tokens start and end exactly where
    # the word does in code points (UTF-16 or UTF-8 offsets would be shifted)
    for word in ["Café", "naïve", "fever", "chest", "end"]:
        start = text.index(word)
        end = start + len(word)
        inside = [(s, e) for s, e in document.offsets if s < end and e > start]
        assert inside, (name, word)
        assert token_anchors(text, inside)[0] == start, (name, word, inside)
        assert max(e for _, e in inside) == end, (name, word, inside)


@pytest.mark.parametrize(
    ("factory", "special"), [(unigram_tokenizer, UNIGRAM_SPECIAL), (minilm_tokenizer, MINILM_SPECIAL)]
)
def test_encode_property(factory: Callable[[], Tokenizer], special: SpecialTokens) -> None:
    encoder = DocumentEncoder(factory(), special, WindowGeometry(CHUNK, CONTEXT))
    plain = plain_copy(factory())

    @settings(max_examples=100, deadline=None)
    @given(texts)
    def run(text: str) -> None:
        document = encoder.encode(text)
        check_document(document, plain)
        for window in document.windows:
            model_input = encoder.input_ids(document, window)
            assert model_input[0] == special.cls_id and model_input[-1] == special.sep_id
            assert len(model_input) == window.length <= max_window_length(CHUNK, CONTEXT)
            first, last = window.centre_positions
            assert model_input[first:last] == document.ids[window.centre_start : window.centre_end]

    run()


def test_every_non_blank_character_is_in_a_centre() -> None:
    encoder = DocumentEncoder(unigram_tokenizer(), UNIGRAM_SPECIAL, WindowGeometry(3, 2))

    @settings(max_examples=100, deadline=None)
    @given(plain_text)
    def run(text: str) -> None:
        document = encoder.encode(text)
        covered: set[int] = set()
        for window in document.windows:
            covered.update(range(document.offsets[window.centre_start][0], document.offsets[window.centre_end - 1][1]))
        assert all(index in covered for index, char in enumerate(text) if not char.isspace())

    run()


def test_ascii_tokens_match_their_text() -> None:
    encoder = DocumentEncoder(unigram_tokenizer(), UNIGRAM_SPECIAL, WindowGeometry(CHUNK, CONTEXT))
    text = "Pt seen by Dr. Smith.\r\nDenies chest pain, fever (none)."
    document = encoder.encode(text)
    for token_id, (start, end) in zip(document.ids, document.offsets, strict=True):
        piece = encoder.tokenizer.id_to_token(token_id)
        if piece in ("<unk>", "\u2581"):  # unknown, or the word-boundary marker alone (it has no text of its own)
            continue
        assert piece.replace("\u2581", " ").lstrip() == text[start:end].lstrip(), (piece, text[start:end])


def test_empty_and_blank_documents() -> None:
    encoder = DocumentEncoder(unigram_tokenizer(), UNIGRAM_SPECIAL, WindowGeometry(CHUNK, CONTEXT))
    assert encoder.encode_many([]) == []
    empty = encoder.encode("")
    assert empty.ids == [] and empty.windows == [] and empty.token_count == 0
    blank = encoder.encode(" \r\n\t ")
    assert all(position is None for position in blank.anchors)
    assert sum(w.centre_end - w.centre_start for w in blank.windows) == blank.token_count


def test_encoder_token_ids_do_not_depend_on_the_batch() -> None:
    encoder = DocumentEncoder(unigram_tokenizer(), UNIGRAM_SPECIAL, WindowGeometry(CHUNK, CONTEXT))
    batch = ["Pt seen.", "", LONG_TEXT[:500], "\U0001f600"]
    assert encoder.encode_many(batch) == [encoder.encode(text) for text in batch]
