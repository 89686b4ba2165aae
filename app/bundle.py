"""The model bundle contract: ``manifest.json`` and the files it names, loaded and verified.

A server that starts on a bundle trusts it completely, so everything is checked up front and any
defect stops start-up with one line naming the file or field that is wrong.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from app.assertion.classes import ASSERTION_CLASSES, default_assertable
from app.deid.categories import PhiType
from app.text.decode import SUBWORD_DECODING, DecodeRule
from app.text.encode import DocumentEncoder, SpecialTokens
from app.text.labels import bioes_tags
from app.text.segment import SEGMENTER_NAME, SEGMENTER_VERSION
from app.text.windows import WindowGeometry

BUNDLE_FORMAT = 1
MANIFEST = "manifest.json"
Precision = Literal["fp32", "fp16", "int8"]


class BundleError(Exception):
    """A bundle that must not be served; the message names the file or field at fault."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FileEntry(_Strict):
    file: str = Field(description="Path relative to the bundle directory.")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    bytes: int = Field(ge=0)


class Variant(FileEntry):
    precision: Precision
    external_data: list[FileEntry] = Field(default_factory=list, description="ONNX external data files.")
    optimization: dict[str, Any] = Field(default_factory=dict)


class Member(_Strict):
    name: str
    variants: dict[Precision, Variant]

    @model_validator(mode="after")
    def _fp32_present(self) -> Member:
        if "fp32" not in self.variants:
            raise ValueError(f"member {self.name!r} has no fp32 variant")
        for key, variant in self.variants.items():
            if variant.precision != key:
                raise ValueError(f"member {self.name!r}: variant {key!r} says precision {variant.precision!r}")
        return self


class Segmenter(_Strict):
    name: str
    version: str


class AssertionModel(_Strict):
    """A trained assertion classifier in the bundle: the marked sentence in, one row of logits out."""

    base_model: str
    classes: list[str] = Field(min_length=2, description="Assertion classes in logit order.")
    historical: bool = Field(False, description="Two more logits after the classes: not historical, historical.")
    max_length: int = Field(gt=4, description="Longest marked sequence, special tokens and markers included.")
    tokenizer: FileEntry
    special_tokens: dict[Literal["cls_id", "sep_id", "pad_id", "start_id", "end_id"], int]
    members: list[Member] = Field(min_length=1)
    evaluation: dict[str, Any] = Field(default_factory=dict)
    parity: dict[str, Any] = Field(default_factory=dict)
    training: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _known(self) -> AssertionModel:
        unknown = [name for name in self.classes if name not in ASSERTION_CLASSES]
        if unknown or len(set(self.classes)) != len(self.classes):
            raise ValueError(f"field classes: must be distinct names out of {list(ASSERTION_CLASSES)}")
        if {"cls_id", "sep_id", "pad_id", "start_id", "end_id"} - set(self.special_tokens):
            raise ValueError("field special_tokens: needs cls_id, sep_id, pad_id, start_id and end_id")
        return self

    def precisions(self) -> set[str]:
        return set.intersection(*({str(precision) for precision in member.variants} for member in self.members))


class AssertionSpec(_Strict):
    """Which entity types carry an assertion status, and what decides it (see docs/contracts.md)."""

    types: list[str] | None = Field(None, description="Assertable entity types; absent: problem-like types.")
    source: Literal["rules", "model"] | None = Field(None, description="The default source; absent: the model "
                                                     "when the bundle has one, else the rules.")
    model: AssertionModel | None = None
    evaluation: dict[str, Any] = Field(default_factory=dict, description="Figures of the rules (and the model).")


ASSERTION_STAGE = "assertion"


class Manifest(_Strict):
    """What ``clinx export`` writes; see docs/contracts.md for every field."""

    bundle_format: Literal[1]
    name: str = Field(min_length=1)
    version: str = Field(min_length=1)
    task: str
    task_type: Literal["concepts", "deid"] = "concepts"
    phi_categories: dict[str, str] = Field(default_factory=dict)
    description: str = ""
    demo: bool = False
    base_model: str
    label_scheme: Literal["BIOES"]
    tags: list[str] = Field(min_length=1)
    entity_types: list[str] = Field(min_length=1)
    max_length: int = Field(gt=2)
    chunk_subwords: int = Field(gt=0)
    context_subwords: int = Field(ge=0)
    pack_sentences: bool = False
    paragraph_breaks: Literal["none", "centres", "windows"] = "none"
    segmenter: Segmenter
    tokenizer: FileEntry
    special_tokens: dict[Literal["cls_id", "sep_id", "pad_id"], int]
    members: list[Member] = Field(min_length=1)
    vote_rule: Literal["clinx-majority"] = "clinx-majority"
    decode: DecodeRule = Field(
        default=SUBWORD_DECODING,
        description="word-viterbi: the most probable valid BIOES sequence over the subwords, then per word "
                    "(what training writes now); word: a word takes its first subword's tag, then BIOES repair; "
                    "both keep words whole. subword: every subword decoded alone (bundles written before the "
                    "field existed).",
    )
    stages: list[str] = Field(
        default_factory=lambda: ["encode", "tag", "decode"],
        description="The model's stages in order: encode, tag, decode, then any that work on the spans.",
    )
    assertion: AssertionSpec = Field(default_factory=AssertionSpec)
    evaluation: dict[str, Any] = Field(default_factory=dict)
    parity: dict[str, Any] = Field(default_factory=dict)
    training: dict[str, Any] = Field(default_factory=dict)
    created_at: str = ""
    clinx_version: str = ""

    @model_validator(mode="before")
    @classmethod
    def _assertion_stage(cls, data: Any) -> Any:
        """A bundle with an assertable type runs the assertion stage, even one written before it existed."""
        if not isinstance(data, dict) or not isinstance(data.get("entity_types"), list):
            return data
        spec = data.get("assertion")
        types = spec.get("types") if isinstance(spec, dict) else None
        assertable = types if isinstance(types, list) else default_assertable(
            [label for label in data["entity_types"] if isinstance(label, str)])
        stages = data.get("stages", ["encode", "tag", "decode"])
        if assertable and isinstance(stages, list) and ASSERTION_STAGE not in stages:
            data = {**data, "stages": [*stages, ASSERTION_STAGE]}
        return data

    @property
    def assertable_types(self) -> list[str]:
        """Entity types that carry an assertion status (the spec's, or the problem-like types)."""
        types = self.assertion.types
        return list(types) if types is not None else default_assertable(self.entity_types)

    @model_validator(mode="after")
    def _consistent(self) -> Manifest:
        if self.tags != bioes_tags(self.entity_types):
            raise ValueError("field tags: not the BIOES tag list of entity_types (O, then B/I/E/S per sorted type)")
        if self.geometry.max_length > self.max_length:
            raise ValueError("field max_length: smaller than chunk_subwords + 2 * context_subwords + 2")
        missing = {"cls_id", "sep_id", "pad_id"} - set(self.special_tokens)
        if missing:
            raise ValueError(f"field special_tokens: missing {sorted(missing)}")
        if self.task_type == "deid" and set(self.phi_categories) != set(self.entity_types):
            raise ValueError("field phi_categories: a deid bundle names the PHI category of every entity type, "
                             f"and only those (missing: {sorted(set(self.entity_types) - set(self.phi_categories))})")
        if self.task_type != "deid" and self.phi_categories:
            raise ValueError("field phi_categories: only for task_type deid")
        for label, category in self.phi_categories.items():
            try:
                PhiType.parse(category)
            except ValueError as error:
                raise ValueError(f"field phi_categories.{label}: {error}") from None
        names = [member.name for member in self.members]
        if len(set(names)) != len(names):
            raise ValueError("field members: names must be unique")
        if not set(self.assertable_types) <= set(self.entity_types):
            raise ValueError("field assertion.types: every assertable type must be one of entity_types")
        if self.assertion.source == "model" and self.assertion.model is None:
            raise ValueError("field assertion.source: 'model' needs assertion.model")
        return self

    @property
    def geometry(self) -> WindowGeometry:
        return WindowGeometry(self.chunk_subwords, self.context_subwords, self.pack_sentences, self.paragraph_breaks)

    @property
    def special(self) -> SpecialTokens:
        return SpecialTokens(
            self.special_tokens["cls_id"], self.special_tokens["sep_id"], self.special_tokens["pad_id"]
        )

    def phi_types(self) -> dict[str, PhiType]:
        """Each label's PHI category (empty for a concept tagger)."""
        return {label: PhiType.parse(category) for label, category in self.phi_categories.items()}

    def precisions(self) -> set[str]:
        """Variants every member has: only those can be served."""
        return set.intersection(*({str(precision) for precision in member.variants} for member in self.members))


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_entry(root: Path, relative: str) -> FileEntry:
    path = root / relative
    return FileEntry(file=relative, sha256=sha256_file(path), bytes=path.stat().st_size)


def bundle_digest(manifest_path: Path) -> str:
    """The bundle's identity: the manifest's sha256, which pins every file's checksum in turn."""
    return sha256_file(manifest_path)


def read_manifest(root: Path) -> Manifest:
    """Parse and validate ``manifest.json`` without touching the other files."""
    if not root.is_dir():
        raise BundleError(f"bundle directory {root} does not exist or is not a directory")
    path = root / MANIFEST
    if not path.is_file():
        raise BundleError(f"{path}: missing (every bundle has a {MANIFEST})")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise BundleError(f"{path}: not valid JSON ({error})") from None
    if not isinstance(raw, dict):
        raise BundleError(f"{path}: must hold a JSON object")
    if raw.get("bundle_format") != BUNDLE_FORMAT:
        raise BundleError(
            f"{path}: field bundle_format is {raw.get('bundle_format')!r}; this server reads format {BUNDLE_FORMAT}"
        )
    try:
        manifest = Manifest.model_validate(raw)
    except ValidationError as error:
        first = error.errors()[0]
        message = str(first["msg"]).removeprefix("Value error, ")
        if first["loc"]:
            message = f"field {'.'.join(str(part) for part in first['loc'])}: {message}"
        raise BundleError(f"{path}: {message}") from None
    if (manifest.segmenter.name, manifest.segmenter.version) != (SEGMENTER_NAME, SEGMENTER_VERSION):
        raise BundleError(
            f"{path}: field segmenter is {manifest.segmenter.name} {manifest.segmenter.version}; this server "
            f"segments with {SEGMENTER_NAME} {SEGMENTER_VERSION} and would not feed the model what it was trained on"
        )
    return manifest


def verify_file(root: Path, entry: FileEntry) -> Path:
    path = root / entry.file
    if not path.resolve().is_relative_to(root.resolve()):
        raise BundleError(f"{root / MANIFEST}: file {entry.file!r} lies outside the bundle")
    if not path.is_file():
        raise BundleError(f"{path}: missing (named in {MANIFEST})")
    if path.stat().st_size != entry.bytes:
        raise BundleError(f"{path}: size {path.stat().st_size} bytes, manifest says {entry.bytes}")
    if sha256_file(path) != entry.sha256:
        raise BundleError(f"{path}: sha256 does not match the manifest (file changed or corrupted)")
    return path


def verify_variant(root: Path, variant: Variant) -> Path:
    for data in variant.external_data:
        verify_file(root, data)
    return verify_file(root, variant)


def verify_bundle(root: Path, precisions: set[str] | None = None) -> Manifest:
    """Manifest plus checksums of the tokenizer and of the variants to be loaded (all by default)."""
    manifest = read_manifest(root)
    verify_file(root, manifest.tokenizer)
    classifier = manifest.assertion.model
    if classifier is not None:
        verify_file(root, classifier.tokenizer)
    for member in [*manifest.members, *(classifier.members if classifier is not None else [])]:
        for precision, variant in member.variants.items():
            if precisions is None or precision in precisions:
                verify_variant(root, variant)
    return manifest


def bundle_encoder(root: Path, manifest: Manifest) -> DocumentEncoder:
    """The bundle's tokenizer (checksum verified) with the window geometry its model was trained on."""
    return DocumentEncoder.from_file(verify_file(root, manifest.tokenizer), manifest.special, manifest.geometry)
