"""Keyed hashing: every value a de-identification derives from PHI goes through one HMAC key.

Without the key, nobody can recompute a hash, a surrogate or a date offset from the original value
(a plain hash of a name or a birth date is reversed by trying every candidate). Each use gets its
own purpose string, and parts are length-prefixed, so no two inputs share a digest by accident.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

MIN_SECRET_BYTES = 16


class MissingSecret(ValueError):
    """A keyed operator was asked for and no key is configured; never fall back to a default key."""


@dataclass(frozen=True)
class Keyring:
    """The server's de-identification secret; ``repr`` never shows it."""

    key: bytes

    def __post_init__(self) -> None:
        if len(self.key) < MIN_SECRET_BYTES:
            raise ValueError(f"the de-identification secret must be at least {MIN_SECRET_BYTES} bytes")

    def __repr__(self) -> str:
        return "Keyring(<secret>)"

    def digest(self, purpose: str, *parts: str | bytes) -> bytes:
        """HMAC-SHA256 over the purpose and the parts, each length-prefixed."""
        mac = hmac.new(self.key, digestmod=hashlib.sha256)
        for part in (purpose, *parts):
            data = part.encode("utf-8", "surrogatepass") if isinstance(part, str) else part
            mac.update(len(data).to_bytes(8, "big"))
            mac.update(data)
        return mac.digest()

    def number(self, purpose: str, *parts: str | bytes) -> int:
        """A 64-bit number from the digest: a seed or a choice that only the key holder can predict."""
        return int.from_bytes(self.digest(purpose, *parts)[:8], "big")

    def scope(self, patient_key: str | None, text: str) -> bytes:
        """Whose values stay consistent: the patient when a key is given, else this document alone."""
        if patient_key is not None:
            return self.digest("scope-patient", patient_key)
        return self.digest("scope-document", text)
