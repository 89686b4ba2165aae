"""CLIN-X ensembles: K members, each trained on K-1 document-level splits of the training corpus.

Member k selects its epoch on split k, which it never trains on, so no separate dev corpus is
spent on model selection; predictions combine the members by CLIN-X's majority vote
(:func:`app.text.decode.vote`). Splits are by document, never by sentence, so no note is seen by
a member both in training and in selection. The ensemble record stores document ids, never text.
"""

from __future__ import annotations

import dataclasses
import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.text.labels import bioes_tags
from app.text.types import Document
from model_export.checkpoints import ENSEMBLE_FILE, write_json
from model_export.evaluate import checkpoint_predictor, evaluate_documents
from model_export.train import TrainConfig, TrainResult, entity_types, train

log = logging.getLogger("clinx.ensemble")
VOTE_RULE = "clinx-majority"


def member_name(index: int) -> str:
    """The directory of member ``index`` (1-based), as listed in the ensemble record."""
    return f"member-{index}"


def document_splits(ids: Sequence[str], k: int, seed: int) -> list[list[str]]:
    """``k`` disjoint splits covering ``ids``: a seeded shuffle dealt round-robin (sizes differ by at most 1).

    The shuffle starts from the sorted ids, so the splits depend on the corpus and the seed only,
    not on the order the reader returned the documents in.
    """
    if k < 2:
        raise ValueError("an ensemble needs at least 2 members")
    if len(set(ids)) != len(ids):
        raise ValueError("document ids must be unique to split a corpus by document")
    if len(ids) < k:
        raise ValueError(f"{len(ids)} documents cannot be split {k} ways")
    order = sorted(ids)
    random.Random(seed).shuffle(order)
    return [sorted(order[index::k]) for index in range(k)]


@dataclass(frozen=True)
class EnsembleResult:
    output_dir: Path
    members: list[str]
    results: list[TrainResult]
    splits: list[list[str]]
    dev: dict[str, Any] | None


def train_ensemble(config: TrainConfig, train_docs: Sequence[Document], k: int, *,
                   dev_docs: Sequence[Document] = (), tags: Sequence[str] | None = None) -> EnsembleResult:
    """Train ``k`` members into ``OUTPUT/member-1..k`` and write ``OUTPUT/clinx_ensemble.json``.

    All members share one tag list (the vote compares tag indices). Member k uses seed
    ``config.seed + k - 1`` so members also differ in initialisation and batch order. With
    ``config.resume`` finished members are kept and an interrupted one continues. When
    ``dev_docs`` are given the voted ensemble is scored on them; they play no part in selection.
    """
    tags = list(tags or bioes_tags(entity_types([*train_docs, *dev_docs])))
    splits = document_splits([document.id for document in train_docs], k, config.seed)
    by_id = {document.id: document for document in train_docs}
    names, results = [], []
    for index, held_out in enumerate(splits, start=1):
        name = member_name(index)
        held = set(held_out)
        member_train = [document for document in train_docs if document.id not in held]
        member_config = dataclasses.replace(
            config, output_dir=config.output_dir / name, seed=config.seed + index - 1,
            corpus={**config.corpus, "ensemble_member": index, "ensemble_size": k, "held_out_split": index},
        )
        log.info("%s: training on %d documents, selecting on %d", name, len(member_train), len(held_out))
        results.append(train(member_config, member_train, [by_id[doc_id] for doc_id in held_out], tags))
        names.append(name)
    record: dict[str, Any] = {
        "members": names,
        "vote_rule": VOTE_RULE,
        "seed": config.seed,
        "member_seeds": [config.seed + index for index in range(k)],
        "splits": splits,
        "tags": tags,
        **config.geometry.as_record(),
        "decode": config.decode,
        "base_model": config.base_model,
        "held_out": [{"best_epoch": result.best_epoch, "strict_f1": result.dev["strict"]["f1"]} for result in results],
        "corpus": {**config.corpus, "train_documents": len(train_docs)},
    }
    dev = None
    if dev_docs:
        predictor = checkpoint_predictor([config.output_dir / name for name in names], device=config.device)
        dev = evaluate_documents(predictor, dev_docs).scores.to_dict()
        record["dev"] = dev
    write_json(config.output_dir / ENSEMBLE_FILE, record)
    return EnsembleResult(config.output_dir, names, results, splits, dev)

