"""Request and response bodies of the public API (see docs/api.md)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.json_schema import SkipJsonSchema

OffsetEncoding = Literal["codepoint", "utf16", "utf8"]


class DocumentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=256, description="Caller's identifier, echoed back.")
    text: str = Field(description="The note, exactly as stored; offsets index this string.")


class DocumentsRequest(BaseModel):
    """What every model route takes: the documents (or one ``text``), offsets unit, model, deadline."""

    model_config = ConfigDict(extra="forbid")

    documents: Sequence[DocumentIn] | SkipJsonSchema[None] = Field(None, description="Documents to process.")
    text: str | SkipJsonSchema[None] = Field(None, description="Shorthand for one document with id \"0\".")
    offset_encoding: OffsetEncoding = Field(
        "codepoint",
        description="Unit of start/end: Unicode code points (Python), UTF-16 code units (Java, .NET, JS) "
        "or UTF-8 bytes.",
    )
    model: str | None = Field(None, description="Bundle name, when the server serves several.")
    timeout_s: float | None = Field(
        None, ge=0.1, description="Deadline in seconds for this request (at least 0.1), up to the server's maximum."
    )

    @model_validator(mode="after")
    def _one_form(self) -> DocumentsRequest:
        for name in ("documents", "text"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} may be left out but not null")
        if (self.documents is None) == (self.text is None):
            raise ValueError("give either documents or text, not both and not neither")
        return self

    def document_list(self) -> list[DocumentIn]:
        return list(self.documents) if self.documents is not None else [DocumentIn(id="0", text=self.text or "")]


class ExtractRequest(DocumentsRequest):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "oneOf": [{"required": ["documents"]}, {"required": ["text"]}],
            "examples": [
                {"documents": [{"id": "note-1", "text": "Started metformin for type 2 diabetes."}]},
                {"text": "CT of the chest showed no pneumonia.", "offset_encoding": "utf16"},
            ]
        },
    )

    documents: list[DocumentIn] | SkipJsonSchema[None] = Field(None, description="Documents to tag.")
    labels: list[str] | None = Field(None, description="Return only these entity labels.")


class EntityOut(BaseModel):
    start: int = Field(description="Start offset in the requested encoding.")
    end: int = Field(description="End offset (exclusive) in the requested encoding.")
    text: str = Field(description="Exactly the document's text between start and end.")
    label: str
    score: float = Field(ge=0, le=1, description="Mean probability of the chosen tags over the span.")


class DocumentStats(BaseModel):
    characters: int
    tokens: int
    windows: int
    truncated: Literal[False] = Field(False, description="Always false: nothing is ever truncated.")


class DocumentOut(BaseModel):
    id: str
    entities: list[EntityOut]
    stats: DocumentStats


class ModelOut(BaseModel):
    name: str
    version: str
    sha256: str


class ExtractResponse(BaseModel):
    model: ModelOut
    documents: list[DocumentOut]


class ErrorBody(BaseModel):
    type: str
    message: str
    detail: object | None = None


class ErrorResponse(BaseModel):
    error: ErrorBody
