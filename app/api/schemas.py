"""Request and response bodies of the public API (see docs/api.md)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, model_validator
from pydantic.json_schema import SkipJsonSchema

OffsetEncoding = Literal["codepoint", "utf16", "utf8"]
AssertionClass = Literal["present", "absent", "possible", "conditional", "hypothetical", "associated_with_someone_else"]
AssertionSource = Literal["rules", "model"]
ASSERTION_OPTION = ("Assertion status of entities of an assertable type: true (default: the model's own source), "
                    "false (skip the stage), or the source: \"rules\" (any model; nothing to assert where it has no "
                    "assertable type) or \"model\" (422 when the model has no trained classifier).")
HISTORICAL = "True when the problem is in the patient's past; absent where the source cannot tell."


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
    timeout_s: StrictFloat | None = Field(  # strict: true/false are not seconds
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
    assertion: StrictBool | AssertionSource = Field(True, description=ASSERTION_OPTION)  # 0/1 are not booleans


class EntityOut(BaseModel):
    start: int = Field(description="Start offset in the requested encoding.")
    end: int = Field(description="End offset (exclusive) in the requested encoding.")
    text: str = Field(description="Exactly the document's text between start and end.")
    label: str
    score: float = Field(ge=0, le=1, description="Mean probability of the chosen tags over the span.")
    assertion: AssertionClass | None = Field(None, description="Only on entities of an assertable type.")
    historical: bool | None = Field(None, description=HISTORICAL)


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


class SpanIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: int = Field(ge=0, description="Start offset in the request's offset_encoding.")
    end: int = Field(ge=1, description="End offset (exclusive) in the request's offset_encoding.")
    label: str = Field(min_length=1, max_length=100, description="The caller's label, echoed back.")


class AssertionDocumentIn(DocumentIn):
    spans: list[SpanIn] = Field(description="Concepts found by the caller's own tools.")


class AssertionRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"documents": [{"id": "note-1", "text": "Patient denies chest pain.",
                                                        "spans": [{"start": 15, "end": 25, "label": "problem"}]}]}]},
    )

    documents: list[AssertionDocumentIn] = Field(description="Documents with the spans to assert.")
    offset_encoding: OffsetEncoding = Field("codepoint", description="Unit of the spans' start/end, in and out.")
    model: str | None = Field(None, description="Bundle name, when the server serves several.")
    timeout_s: StrictFloat | None = Field(None, ge=0.1, description="Deadline in seconds for this request.")
    source: AssertionSource | None = Field(None, description="rules or model; default: the model's own source.")


class SpanOut(BaseModel):
    start: int
    end: int
    label: str
    assertion: AssertionClass
    historical: bool | None = Field(None, description=HISTORICAL)


class AssertionDocumentOut(BaseModel):
    id: str
    spans: list[SpanOut]


class AssertionResponse(BaseModel):
    model: ModelOut
    documents: list[AssertionDocumentOut]


class ErrorBody(BaseModel):
    type: str
    message: str
    detail: object | None = None


class ErrorResponse(BaseModel):
    error: ErrorBody
