"""Request and response bodies of ``POST /deidentify`` (see docs/api.md)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema

from app.api.schemas import DocumentIn, DocumentsRequest, ModelOut
from app.deid.operators import OperatorName

MAX_OPERATOR_KEYS = 64


class PatientDocumentIn(DocumentIn):
    patient_key: str | None = Field(
        None, min_length=1, max_length=256,
        description="Whose note this is (any stable id): surrogates and date shifts are consistent across every "
        "document with the same key. Without it they are consistent within the document only.",
    )


class _Choice(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TagChoice(_Choice):
    operator: Literal["tag"]
    by: Literal["category", "label"] = Field(
        "category", description="[CATEGORY] (default) or [LABEL] (the model's or the pattern's label).")


class MaskChoice(_Choice):
    operator: Literal["mask"]
    char: str = Field("*", min_length=1, max_length=1, description="The fill character.")


class HashChoice(_Choice):
    operator: Literal["hash"]
    length: int = Field(16, ge=8, le=64, description="Hex digits kept.")


class PlainChoice(_Choice):
    operator: Literal["redact", "surrogate", "date_shift"]


# An operator with its options; each operator takes only its own (the schema says which).
OperatorChoice = Annotated[TagChoice | MaskChoice | HashChoice | PlainChoice, Field(discriminator="operator")]


class DeidentifyRequest(DocumentsRequest):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "oneOf": [{"required": ["documents"]}, {"required": ["text"]}],
            "examples": [
                {"documents": [{"id": "note-1", "patient_key": "p-001",
                                "text": "Seen by Dr. Ann Lee on 03/04/2019. Call 617-555-0100."}],
                 "operators": {"NAME": "surrogate", "DATE": "date_shift", "ID": {"operator": "mask", "char": "#"}}},
            ],
        },
    )

    documents: list[PatientDocumentIn] | SkipJsonSchema[None] = Field(None, description="Documents to de-identify.")
    operators: dict[str, OperatorName | OperatorChoice] | None = Field(
        None, max_length=MAX_OPERATOR_KEYS,
        description="Operator per PHI category (NAME, DATE ...), subtype (PATIENT, PHONE ...), model label, or "
        "DEFAULT; the most specific key wins. Unlisted PHI is tagged: [NAME].",
    )

    def patient_keys(self) -> list[str | None]:
        return [document.patient_key for document in self.documents] if self.documents is not None else [None]


class DeidItemOut(BaseModel):
    start: int = Field(description="Start in the original text (requested encoding).")
    end: int = Field(description="End (exclusive) in the original text (requested encoding).")
    new_start: int = Field(description="Start of the replacement in the returned text (requested encoding).")
    new_end: int = Field(description="End (exclusive) of the replacement in the returned text.")
    label: str = Field(description="The model's label, or the pattern's i2b2 2014 subtype.")
    category: str = Field(description="PHI category (i2b2 2014): NAME, PROFESSION, LOCATION, AGE, DATE, CONTACT, ID.")
    operator: str = Field(description="The operator applied (tag where a date or an age could not be read).")


class DeidStats(BaseModel):
    characters: int
    tokens: int
    windows: int
    truncated: Literal[False] = Field(False, description="Always false: nothing is ever truncated.")
    items: int = Field(description="Spans replaced.")
    replaced_characters: int = Field(description="Characters of the original text inside replaced spans.")
    pattern_items: int = Field(description="Spans found by patterns alone (the model did not tag any part of them).")


class DeidDocumentOut(BaseModel):
    id: str
    text: str = Field(description="The de-identified text.")
    items: list[DeidItemOut]
    stats: DeidStats


class DeidentifyResponse(BaseModel):
    model: ModelOut
    documents: list[DeidDocumentOut]
