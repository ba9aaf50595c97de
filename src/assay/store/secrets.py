"""Encryption of stored secrets (agent credentials, provider keys given per evaluation).

Secrets are encrypted with Fernet (AES-128-CBC + HMAC) under ``ASSAY_SECRET_KEY``. When the
key is not configured, one is generated on first start and kept in ``data_dir/secret.key``
with mode 0600, so a single-machine install needs no set-up and never stores plain text.

A box holds one *current* key, which encrypts, and any number of *previous* keys, which only
decrypt (``MultiFernet``): that is what lets ``assay secrets rotate-key`` re-encrypt rows one
by one while every row stays readable. Previous keys come from ``ASSAY_SECRET_KEY_PREVIOUS``
and, in the key file, from the lines after the first (the file holds more than one key only
while a rotation is under way).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from assay.core.errors import ConfigurationError
from assay.settings import Settings

KEY_FILE = "secret.key"
_KEY_HINT = (
    "must be a Fernet key (32 url-safe base64-encoded bytes); generate one with: "
    "python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"
)


def _fernet(key: str, source: str) -> Fernet:
    try:
        return Fernet(key.encode())
    except ValueError as exc:
        raise ConfigurationError(f"{source} {_KEY_HINT}") from exc


class SecretBox:
    def __init__(
        self,
        key: str,
        previous: Sequence[str] = (),
        *,
        source: str = "ASSAY_SECRET_KEY",
    ) -> None:
        self._current = _fernet(key, source)
        older = [_fernet(k, "each of ASSAY_SECRET_KEY_PREVIOUS") for k in previous]
        self._any = MultiFernet([self._current, *older])

    def seal(self, secrets: dict[str, Any]) -> str | None:
        """Encrypt a dict of secrets under the current key; an empty dict stores nothing."""
        if not secrets:
            return None
        return self._any.encrypt(json.dumps(secrets).encode()).decode()

    def open(self, token: str | None) -> dict[str, Any]:
        """Decrypt with the current key or any previous one.

        Raises:
            ConfigurationError: no key of this box opens the token.
        """
        if not token:
            return {}
        try:
            value: dict[str, Any] = json.loads(self._any.decrypt(token.encode()))
        except InvalidToken as exc:
            raise _undecryptable() from exc
        return value

    def is_current(self, token: str) -> bool:
        """Whether the current key opens ``token``, i.e. a rotation has nothing left to do on it."""
        try:
            self._current.decrypt(token.encode())
        except InvalidToken:
            return False
        return True

    def reseal(self, token: str) -> str:
        """The same secrets encrypted under the current key (keeping the token's timestamp).

        Raises:
            ConfigurationError: no key of this box opens the token.
        """
        try:
            return self._any.rotate(token.encode()).decode()
        except InvalidToken as exc:
            raise _undecryptable() from exc


def _undecryptable() -> ConfigurationError:
    return ConfigurationError(
        "stored secrets cannot be decrypted: they were sealed with a key that is neither "
        "ASSAY_SECRET_KEY (or the key file) nor one of ASSAY_SECRET_KEY_PREVIOUS"
    )


def key_file(settings: Settings) -> Path:
    return Path(settings.data_dir) / KEY_FILE


def read_key_file(path: Path) -> list[str]:
    """The keys of the file, current first; raises ConfigurationError when it holds none."""
    keys = [line.strip() for line in path.read_text().splitlines() if line.strip()]
    if not keys:
        raise ConfigurationError(f"{path} holds no key; restore it from a backup")
    return keys


def write_key_file(path: Path, keys: Sequence[str]) -> None:
    """Replace the file atomically (mode 0600): a crash leaves the old keys or the new, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write("".join(f"{key}\n" for key in keys))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_secret_box(settings: Settings) -> SecretBox:
    """The configured key, or the one kept in ``data_dir/secret.key`` (created if missing)."""
    previous = [key.get_secret_value() for key in settings.secret_key_previous]
    if settings.secret_key is not None:
        return SecretBox(settings.secret_key.get_secret_value(), previous)
    path = key_file(settings)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(Fernet.generate_key().decode())
    current, *older = read_key_file(path)
    return SecretBox(current, [*older, *previous], source=str(path))
