"""All server configuration in one place: environment variables ``CLINX_*`` or CLI flags."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Server settings; each field is ``CLINX_<NAME>`` in the environment and ``--name`` on the CLI."""

    model_config = SettingsConfigDict(env_prefix="CLINX_", extra="ignore")

    bundle: str = Field(
        "models/demo", description="Bundle directory to serve; several separated by commas (chosen by `model`)."
    )
    host: str = Field("127.0.0.1", description="Address to listen on (0.0.0.0 in containers).")
    port: int = Field(8000, ge=1, le=65535)
    device: Literal["auto", "cpu", "cuda"] = Field(
        "auto", description="auto: CUDA when a usable GPU is found, else CPU; cuda: fail without a GPU."
    )
    device_id: int = Field(0, ge=0, description="CUDA device ordinal.")
    variant: Literal["auto", "fp32", "fp16", "int8"] = Field(
        "auto", description="auto: fp16 on CUDA, int8 on CPU, each when the bundle has it, else fp32."
    )
    tensorrt: bool = Field(False, description="Use the TensorRT execution provider when it is present.")
    intra_op_threads: int = Field(0, ge=0, description="ONNX Runtime threads on CPU; 0 = available cores.")
    max_batch_tokens: int = Field(
        0, ge=0, description="Padded tokens (rows x longest) per batch; 0 = auto: 8192 on CUDA, 512 on CPU."
    )
    max_padding_ratio: float = Field(
        0.1, ge=0, description="Padding a batch may carry (padded / real tokens - 1); lower = smaller batches."
    )
    max_queue_delay_ms: float = Field(5.0, ge=0, description="Longest a window waits for a batch to fill.")
    max_reorder_ms: float = Field(
        2000.0, ge=0,
        description="Half-life of a waiting request's queued work for the scheduler (0 = first come, first served).",
    )
    max_queue_tokens: int = Field(262144, ge=1, description="Admission bound on queued tokens; beyond: 429.")
    client_queue_share: float = Field(
        0.0, ge=0, le=1,
        description="Fraction of the queued-token bound one client may hold; 0 = the bound split evenly among "
        "the clients that have work queued.",
    )
    request_timeout_s: float = Field(60.0, gt=0, description="Default per-request deadline.")
    max_request_timeout_s: float = Field(300.0, gt=0, description="Largest deadline a request may ask for.")
    max_documents: int = Field(64, ge=1, description="Documents per request.")
    max_document_chars: int = Field(200_000, ge=1, description="Characters per document.")
    max_body_bytes: int = Field(8_000_000, ge=1, description="Request body size.")
    body_timeout_s: float = Field(
        30.0, gt=0, description="Time a client has to send the whole body; beyond: 408 (slow or stalled clients)."
    )
    api_keys: str = Field(
        "", description="Comma-separated plain API keys (development), clients env-1, env-2, ...; "
        "with no keys file either: no auth."
    )
    api_keys_file: Path | None = Field(
        None, description="Named clients, one `name:sha256-of-key` per line (`clinx keys add`); re-read when it "
        "changes or on SIGHUP."
    )
    keys_reload_s: float = Field(2.0, gt=0, description="How often the keys file is checked for changes.")
    deid_secret: SecretStr | None = Field(
        None, description="HMAC key for /deidentify's hash, surrogate and date_shift (at least 16 characters); "
        "unset = those operators are refused. Prefer deid_secret_file.")
    deid_secret_file: Path | None = Field(None, description="File holding the de-identification secret.")
    deid_patterns: bool = Field(
        True, description="Join the model's PHI spans with pattern matches (phones, emails, IDs, dates ...)."
    )
    protect_health: bool = Field(False, description="Require a key for health probes too.")
    protect_metrics: bool = Field(False, description="Require a key for /metrics too.")
    cors_origins: str = Field("", description="Comma-separated allowed CORS origins; empty = CORS off.")
    ui: bool = Field(
        True, description="Serve the try-a-model page at / (static files from the package; false: / answers 404)."
    )
    drain_grace_s: float = Field(30.0, ge=0, description="Seconds in-flight requests get after SIGTERM.")
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    audit_log_level: Literal["debug", "info", "warning", "error", "off"] = Field(
        "info", description="Level of the audit trail (logger clinx.audit, one line per model request); "
        "off = none."
    )
    audit_log_file: Path | None = Field(
        None, description="Append the audit trail to this file (JSON lines) instead of stderr."
    )
    tls_cert_file: Path | None = Field(
        None, description="Serve HTTPS with this PEM certificate (chain); needs tls_key_file. Off: plain HTTP."
    )
    tls_key_file: Path | None = Field(None, description="The certificate's PEM private key.")

    @model_validator(mode="after")
    def _tls_pair(self) -> Settings:
        if (self.tls_cert_file is None) != (self.tls_key_file is None):
            raise ValueError("tls_cert_file and tls_key_file go together: give both or neither")
        return self

    def bundle_paths(self) -> list[Path]:
        return [Path(part.strip()) for part in self.bundle.split(",") if part.strip()]

    @field_validator("deid_secret")
    @classmethod
    def _secret_long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        """A bad secret stops start-up with one line, not the first request that needs it."""
        if value is not None and value.get_secret_value():
            _check_secret(value.get_secret_value())
        return value

    @field_validator("deid_secret_file")
    @classmethod
    def _secret_file_usable(cls, value: Path | None) -> Path | None:
        if value is not None:
            _check_secret(_read_secret(value))
        return value

    def deid_key(self) -> bytes | None:
        """The de-identification secret, from ``deid_secret`` or ``deid_secret_file``; None if neither."""
        secret = self.deid_secret.get_secret_value() if self.deid_secret is not None else None
        if not secret and self.deid_secret_file is not None:
            secret = _read_secret(self.deid_secret_file)
        return _check_secret(secret) if secret else None


def _read_secret(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError as error:
        raise ValueError(f"cannot read the de-identification secret file: {error.strerror}") from None


def _check_secret(secret: str) -> bytes:
    """A short key is guessable, and a keyed hash of a name under a guessable key protects nothing.

    The secret itself never appears in a message.
    """
    from app.deid.keys import MIN_SECRET_BYTES

    key = secret.encode("utf-8")
    if len(key) < MIN_SECRET_BYTES:
        raise ValueError(f"the de-identification secret must be at least {MIN_SECRET_BYTES} bytes")
    return key
