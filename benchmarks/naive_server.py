"""The naive baseline: what a user would write instead of clinx-serve.

FastAPI + a transformers ``pipeline("token-classification", aggregation_strategy="simple",
stride=...)`` in PyTorch fp32 on the same checkpoint, one request at a time (a lock around the
pipeline; FastAPI runs the sync endpoint in its thread pool). Same request shape as clinx-serve's
``POST /extract``; long notes are covered by the pipeline's own overlapping windows
(``model_max_length`` tokens with ``stride`` tokens of overlap).

    .venv/bin/python benchmarks/naive_server.py CHECKPOINT --port 8123 [--threads 2] [--stride 100]
"""

from __future__ import annotations

import argparse
import threading
from typing import Any

from pydantic import BaseModel


class Document(BaseModel):
    id: str | int = ""
    text: str


class ExtractRequest(BaseModel):  # module level: FastAPI resolves the endpoint's annotations here
    documents: list[Document]


def build_app(checkpoint: str, *, threads: int, stride: int, max_length: int, device: str = "cpu") -> Any:
    import torch
    from fastapi import FastAPI
    from transformers import AutoModelForTokenClassification, AutoTokenizer, pipeline

    torch.set_num_threads(threads)
    tokenizer = AutoTokenizer.from_pretrained(checkpoint)
    model = AutoModelForTokenClassification.from_pretrained(checkpoint).float().eval()
    positions = getattr(model.config, "max_position_embeddings", 512)
    if model.config.model_type in ("roberta", "xlm-roberta"):
        positions -= model.config.pad_token_id + 1  # RoBERTa position ids start after the padding index
    tokenizer.model_max_length = min(max_length, positions)  # a fast tokenizer with stride needs a real limit
    tagger = pipeline("token-classification", model=model, tokenizer=tokenizer, aggregation_strategy="simple",
                      stride=stride, device=0 if device == "cuda" else -1)
    lock = threading.Lock()

    app = FastAPI(title="naive token-classification baseline")

    @app.get("/health/ready")
    def ready() -> dict[str, str]:
        return {"status": "ready"}

    @app.post("/extract")
    def extract(request: ExtractRequest) -> dict[str, Any]:
        texts = [document.text for document in request.documents]
        with lock, torch.inference_mode():
            outputs = [tagger(text) for text in texts]
        documents = [
            {"id": str(document.id), "entities": [
                {"start": int(entity["start"]), "end": int(entity["end"]), "text": document.text[entity["start"]:
                 entity["end"]], "label": entity["entity_group"], "score": round(float(entity["score"]), 4)}
                for entity in found]}
            for document, found in zip(request.documents, outputs, strict=True)
        ]
        return {"model": {"name": "naive-baseline"}, "documents": documents}

    tagger("Warm-up: chest pain, started on aspirin.")
    return app


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoint")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--stride", type=int, default=100)
    parser.add_argument("--max-length", type=int, default=512)
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    args = parser.parse_args()
    import uvicorn

    app = build_app(args.checkpoint, threads=args.threads, stride=args.stride, max_length=args.max_length,
                    device=args.device)
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
