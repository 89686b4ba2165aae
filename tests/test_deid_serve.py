"""``POST /deidentify`` against real ``clinx serve`` processes: operators, consistency, date shifts,
overlaps, offset encodings, the secret, the model type."""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.text.offsets import OffsetConverter
from tests.support import ServerProcess

SECRET = "deid-test-secret-0123456789abcdef"
# Clinical terms (the tiny tagger's spans, named as PHI categories by TINY_PHI_CATEGORIES) and
# identifiers the patterns find.
NOTE = ("Patient: John Smith    MRN: 0042-1337\nAdmitted 03/04/2019 with chest pain and shortness of breath. "
        "Started aspirin 81 mg; CT of the chest showed pneumonia. Call 617-555-0100 or email "
        "john.smith@example.org. Discharged on 03/18/2019.\n")
PHONE, MRN = "617-555-0100", "0042-1337"
PATTERN_VALUES = (PHONE, MRN, "03/04/2019", "03/18/2019", "john.smith@example.org")


@pytest.fixture(scope="module")
def server(tiny_bundle: Path, tiny_deid_bundle: Path, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[ServerProcess]:
    """Concepts first (the default model), de-identification second, a secret configured."""
    with ServerProcess.start(f"{tiny_bundle},{tiny_deid_bundle}", tmp_path_factory.mktemp("deid-logs"),
                             deid_secret=SECRET) as server:
        yield server


def deid(server: ServerProcess, body: dict[str, Any], status: int = 200) -> dict[str, Any]:
    response = httpx.post(server.url + "/deidentify", json=body, timeout=60)
    assert response.status_code == status, response.text
    answer: dict[str, Any] = response.json()
    return answer


def item_holding(text: str, document: dict[str, Any], value: str) -> dict[str, Any]:
    """The one item whose original span holds ``value`` (patterns make sure there is one)."""
    start = text.index(value)
    found = [item for item in document["items"] if item["start"] <= start and start + len(value) <= item["end"]]
    assert len(found) == 1, (value, document["items"])
    return found[0]


def replacement(document: dict[str, Any], item: dict[str, Any]) -> str:
    return str(document["text"][item["new_start"] : item["new_end"]])


def model_entities(server: ServerProcess, text: str) -> list[dict[str, Any]]:
    response = httpx.post(server.url + "/extract", json={"text": text, "model": "tiny-deid"}, timeout=60)
    entities: list[dict[str, Any]] = response.json()["documents"][0]["entities"]
    return entities


def originals(text: str, document: dict[str, Any]) -> list[str]:
    return [text[item["start"] : item["end"]] for item in document["items"]]


def replacements(document: dict[str, Any]) -> list[str]:
    return [document["text"][item["new_start"] : item["new_end"]] for item in document["items"]]


def test_default_is_the_first_deid_model_and_tags_by_category(server: ServerProcess) -> None:
    answer = deid(server, {"documents": [{"id": "n1", "text": NOTE}]})
    assert answer["model"]["name"] == "tiny-deid"
    document = answer["documents"][0]
    assert set(document) == {"id", "text", "items", "stats"}
    assert all(set(item) == {"start", "end", "new_start", "new_end", "label", "category", "operator"}
               for item in document["items"])
    assert all(r == f"[{item['category']}]" for r, item in zip(replacements(document), document["items"], strict=True))
    for value in PATTERN_VALUES:
        assert item_holding(NOTE, document, value)["category"] in ("CONTACT", "ID", "DATE")
        assert value not in document["text"]
    assert model_entities(server, NOTE), "the tiny tagger found nothing in the note: the test would prove little"
    stats = document["stats"]
    assert stats["items"] == len(document["items"]) and stats["truncated"] is False
    assert stats["replaced_characters"] == sum(item["end"] - item["start"] for item in document["items"])
    assert 0 < stats["pattern_items"] < stats["items"]
    info = httpx.get(server.url + "/info").json()
    assert [(m["name"], m["task_type"]) for m in info["models"]] == [("tiny-xlmr", "concepts"), ("tiny-deid", "deid")]
    assert info["models"][1]["phi_categories"]["problem"] == "NAME/PATIENT"
    assert info["deidentify"] == {"operators": ["tag", "redact", "mask", "hash", "surrogate", "date_shift"],
                                  "secret_configured": True, "patterns": True}


def test_every_operator(server: ServerProcess) -> None:
    def run(operators: dict[str, Any]) -> dict[str, Any]:
        return deid(server, {"documents": [{"id": "n", "text": NOTE, "patient_key": "p1"}],
                             "operators": operators})["documents"][0]

    redacted = run({"DEFAULT": "redact"})
    assert all(item["new_start"] == item["new_end"] for item in redacted["items"])
    assert len(redacted["text"]) == len(NOTE) - redacted["stats"]["replaced_characters"]
    masked = run({"DEFAULT": {"operator": "mask", "char": "#"}})
    assert len(masked["text"]) == len(NOTE) and all(set(r) == {"#"} for r in replacements(masked))
    hashed = run({"CONTACT": {"operator": "hash", "length": 12}, "ID": "hash"})
    for item, value in zip(hashed["items"], replacements(hashed), strict=True):
        digits = {"CONTACT": 12, "ID": 16}.get(item["category"])
        assert re.fullmatch(rf"[0-9a-f]{{{digits}}}", value) if digits else value == f"[{item['category']}]"
    assert {item["operator"] for item in hashed["items"]} == {"hash", "tag"}
    labelled = run({"DEFAULT": {"operator": "tag", "by": "label"}})
    assert all(r == f"[{item['label']}]" for r, item in zip(replacements(labelled), labelled["items"], strict=True))
    surrogate = run({"DEFAULT": "surrogate"})
    for item, value in zip(surrogate["items"], replacements(surrogate), strict=True):
        assert value != NOTE[item["start"] : item["end"]]
    phone = item_holding(NOTE, surrogate, PHONE)
    if NOTE[phone["start"] : phone["end"]] == PHONE:
        assert re.fullmatch(r"\d{3}-\d{3}-\d{4}", replacement(surrogate, phone))
    email = replacement(surrogate, item_holding(NOTE, surrogate, "john.smith@example.org"))
    assert re.fullmatch(r"[^@\s]+@example\.(com|org|net)", email)
    assert {item["operator"] for item in surrogate["items"]} <= {"surrogate", "tag"}


def test_same_patient_key_is_consistent_across_documents_and_requests(server: ServerProcess) -> None:
    other = f"Follow-up for chest pain. Phone {PHONE}. Seen 03/04/2019.\n"
    body = {"documents": [{"id": "a", "text": NOTE, "patient_key": "p-42"},
                          {"id": "b", "text": other, "patient_key": "p-42"},
                          {"id": "c", "text": other, "patient_key": "p-43"}],
            "operators": {"DEFAULT": "surrogate"}}
    first, again = deid(server, body), deid(server, body)
    assert first == again  # same input, key and patient: byte-identical
    a, b, c = first["documents"]
    in_a = dict(zip(originals(NOTE, a), replacements(a), strict=True))
    in_b = dict(zip(originals(other, b), replacements(b), strict=True))
    shared = set(in_a) & set(in_b)
    assert shared, "the two notes share no replaced value"
    assert all(in_a[value] == in_b[value] for value in shared)
    for value in (PHONE, "03/04/2019"):
        assert replacement(a, item_holding(NOTE, a, value)) == replacement(b, item_holding(other, b, value))
        assert replacement(c, item_holding(other, c, value)) != replacement(b, item_holding(other, b, value))


def test_date_shift_keeps_intervals_and_formats(server: ServerProcess) -> None:
    text = "Admitted 03/04/2019. Discharged 2019-03-18. Seen Mar. 21st, 2019 and on March 4, 2020."
    forms = {"03/04/2019": "%m/%d/%Y", "2019-03-18": "%Y-%m-%d", "March 4, 2020": "%B %-d, %Y"}
    document = deid(server, {"documents": [{"id": "d", "text": text, "patient_key": "p-9"}],
                             "operators": {"DATE": "date_shift"}})["documents"][0]
    shifted = dict(zip(originals(text, document), replacements(document), strict=True))
    days = []
    for written, form in forms.items():
        before = dt.datetime.strptime(written, form.replace("%-d", "%d")).date()
        after = dt.datetime.strptime(shifted[written], form.replace("%-d", "%d")).date()
        days.append((after - before).days)
    assert len(set(days)) == 1 and days[0] != 0 and days[0] % 7 == 0
    assert re.fullmatch(r"[A-Z][a-z]{2}\. \d{1,2}(st|nd|rd|th), \d{4}", shifted["Mar. 21st, 2019"])


def test_model_and_pattern_spans_join_without_overlap(server: ServerProcess) -> None:
    """Items are disjoint and cover every span the model found (/extract) and every pattern match."""
    text = NOTE + "Chest pain again 617-555-0199, fax 617-555-0198, SSN 123-45-6789, AB123456, aspirin 2019-05-06.\n"
    entities = model_entities(server, text)
    items = deid(server, {"text": text})["documents"][0]["items"]
    assert entities
    assert all(a["end"] <= b["start"] for a, b in itertools.pairwise(items))
    covered = {i for item in items for i in range(item["start"], item["end"])}
    for span in entities:
        assert set(range(span["start"], span["end"])) <= covered
    for value in ("617-555-0199", "617-555-0198", "123-45-6789", "AB123456", "2019-05-06"):
        start = text.index(value)
        assert set(range(start, start + len(value))) <= covered
    # Where a model span and a pattern span overlap, one item covers both.
    for span in entities:
        holding = [item for item in items if item["start"] <= span["start"] and span["end"] <= item["end"]]
        assert len(holding) == 1


@pytest.mark.parametrize("encoding", ["codepoint", "utf16", "utf8"])
def test_offsets_in_every_encoding(server: ServerProcess, encoding: str) -> None:
    text = "😀 Naïve note 😀 call 617-555-0100, seen 03/04/2019 — résumé 𝔸 MRN: 0042-1337. Chest pain 😀."
    answer = deid(server, {"documents": [{"id": "u", "text": text}], "offset_encoding": encoding})
    document = answer["documents"][0]
    before, after = OffsetConverter(text), OffsetConverter(document["text"])
    found = []
    old_position = new_position = 0
    for item in document["items"]:
        start, end = (before.to_codepoint(item[k], encoding) for k in ("start", "end"))  # type: ignore[arg-type]
        new_start, new_end = (after.to_codepoint(item[k], encoding) for k in ("new_start", "new_end"))  # type: ignore[arg-type]
        found.append(text[start:end])
        assert document["text"][new_start:new_end] == f"[{item['category']}]"
        assert text[old_position:start] == document["text"][new_position:new_start]  # untouched between items
        old_position, new_position = end, new_end
    assert text[old_position:] == document["text"][new_position:]
    assert {"617-555-0100", "03/04/2019", "0042-1337"} <= set(found)


def test_wrong_model_type_unknown_keys_and_bad_options(server: ServerProcess) -> None:
    wrong = deid(server, {"text": NOTE, "model": "tiny-xlmr"}, 422)["error"]
    assert wrong["type"] == "not_a_deid_model" and wrong["detail"]["deid_models"] == ["tiny-deid"]
    unknown = deid(server, {"text": NOTE, "operators": {"NAME": "tag", "PLACE": "tag"}}, 422)["error"]
    assert unknown["type"] == "unknown_phi_category" and unknown["detail"]["loc"] == [["operators", 1]]
    assert "PLACE" not in str(unknown)
    bad = deid(server, {"text": NOTE, "operators": {"NAME": {"operator": "tag", "char": "#"}}}, 422)["error"]
    assert bad["type"] == "validation_error"
    assert deid(server, {"text": NOTE, "operators": {"NAME": "scramble"}}, 422)["error"]["type"] == "validation_error"
    assert deid(server, {"text": NOTE, "model": "nope"}, 404)["error"]["type"] == "unknown_model"
    metrics = httpx.get(server.url + "/metrics").text
    assert re.search(r'clinx_deid_items_total\{category="CONTACT",model="tiny-deid",operator="tag",'
                     r'source="(model|pattern)"\}', metrics)


def test_without_a_secret_keyed_operators_are_refused(tiny_deid_bundle: Path, tmp_path: Path) -> None:
    with ServerProcess.start(tiny_deid_bundle, tmp_path) as server:
        refused = deid(server, {"text": NOTE, "operators": {"NAME": "surrogate", "DATE": "date_shift",
                                                            "ID": "mask"}}, 422)["error"]
        assert refused["type"] == "deid_secret_missing"
        assert refused["detail"] == {"keys": ["DATE", "NAME"], "operators": ["date_shift", "surrogate"]}
        assert deid(server, {"text": NOTE, "operators": {"DEFAULT": "hash"}}, 422)["error"]["detail"]["keys"] == [
            "DEFAULT"]
        assert PHONE not in deid(server, {"text": NOTE, "operators": {"ID": "mask"}})["documents"][0]["text"]
        detail = deid(server, {"text": NOTE, "operators": {"PATIENT": "surrogate"}}, 422)["error"]["detail"]
        assert detail["keys"] == ["PATIENT"]


def test_a_server_without_a_deid_model_says_so(tiny_bundle: Path, tmp_path: Path) -> None:
    with ServerProcess.start(tiny_bundle, tmp_path) as server:
        error = deid(server, {"text": NOTE}, 422)["error"]
    assert error["type"] == "not_a_deid_model" and error["detail"]["deid_models"] == []


def test_a_short_secret_stops_start_up_with_one_line(tiny_deid_bundle: Path, tmp_path: Path) -> None:
    secret_file = tmp_path / "secret"
    secret_file.write_text("too-short\n")
    server = ServerProcess.launch(tiny_deid_bundle, tmp_path, deid_secret_file=secret_file)
    try:
        assert server.wait_exit(60) != 0
    finally:
        server.stop()
    assert "at least 16 bytes" in server.log() and "too-short" not in server.log()
