"""Encryption of stored secrets (agent credentials, provider keys given per evaluation).

Secrets are encrypted with Fernet (AES-128-CBC + HMAC) under ``ASSAY_SECRET_KEY``. When the
key is not configured, one is generated on first start and kept in the data directory with
mode 0600, so a single-machine install needs no set-up and never stores plain text.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken

from assay.core.errors import ConfigurationError
from assay.settings import Settings


class SecretBox:
    def __init__(self, key: str) -> None:
        try:
            self._fernet = Fernet(key.encode())
        except ValueError as exc:
            raise ConfigurationError(
                "ASSAY_SECRET_KEY must be a Fernet key (32 url-safe base64-encoded bytes); "
                "generate one with: python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())'"
            ) from exc

    def seal(self, secrets: dict[str, Any]) -> str | None:
        """Encrypt a dict of secrets; an empty dict stores nothing."""
        if not secrets:
            return None
        return self._fernet.encrypt(json.dumps(secrets).encode()).decode()

    def open(self, token: str | None) -> dict[str, Any]:
        if not token:
            return {}
        try:
            value: dict[str, Any] = json.loads(self._fernet.decrypt(token.encode()))
        except InvalidToken as exc:
            raise ConfigurationError(
                "stored secrets cannot be decrypted: ASSAY_SECRET_KEY differs from the key they were sealed with"
            ) from exc
        return value


def load_secret_box(settings: Settings) -> SecretBox:
    """The configured key, or the one kept in ``data_dir/secret.key`` (created if missing)."""
    if settings.secret_key is not None:
        return SecretBox(settings.secret_key.get_secret_value())
    path = Path(settings.data_dir) / "secret.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(Fernet.generate_key().decode())
    return SecretBox(path.read_text().strip())
