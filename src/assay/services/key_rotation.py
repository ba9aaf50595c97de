"""Rotating the key that encrypts stored secrets (``assay secrets rotate-key``).

Where the current key lives decides the procedure:

- **Key file** (``ASSAY_SECRET_KEY`` unset, the key generated into ``data_dir/secret.key``):
  one run. A new key is written as the file's first line with the old key kept below it,
  every stored secret is re-encrypted under the new key, then the old line is dropped. A run
  that is interrupted leaves both keys in the file, so everything stays readable, and the
  next run finishes with the same new key instead of making another.
- **Environment** (``ASSAY_SECRET_KEY``): Assay cannot change the environment of the
  processes that read it, so it takes two runs. Without ``ASSAY_SECRET_KEY_PREVIOUS`` a run
  only proposes a fresh key and changes nothing. The operator sets ``ASSAY_SECRET_KEY`` to it
  and ``ASSAY_SECRET_KEY_PREVIOUS`` to the old key on every server and worker, restarts them
  (they now encrypt with the new key and read both), and runs the command again: with
  previous keys set it re-encrypts every secret under ``ASSAY_SECRET_KEY``. Then the previous
  keys can be removed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cryptography.fernet import Fernet

from assay.settings import Settings
from assay.store.db import create_engine
from assay.store.key_rotation import RotationReport, reseal_all
from assay.store.migrate import upgrade
from assay.store.secrets import (
    SecretBox,
    key_file,
    load_secret_box,
    read_key_file,
    write_key_file,
)


@dataclass(frozen=True)
class KeyProposal:
    """Environment mode, first run: nothing was changed; this is the key to install."""

    new_key: str


@dataclass(frozen=True)
class Rotated:
    """Every stored secret opens with the current key alone."""

    report: RotationReport
    #: The key file that now holds only the new key; None when the key is in the environment.
    key_file: Path | None


async def rotate_key(settings: Settings) -> KeyProposal | Rotated:
    """Re-encrypt every stored secret under a new key (see the module docstring).

    Raises:
        ConfigurationError: a key is malformed, or a stored secret opens with no known key
            (named by table, column and row; the key file keeps both keys).
    """
    if settings.secret_key is not None:
        if not settings.secret_key_previous:
            return KeyProposal(Fernet.generate_key().decode())
        return Rotated(await _reseal(settings, load_secret_box(settings)), None)
    load_secret_box(settings)  # creates the key file on a fresh install
    path = key_file(settings)
    keys = read_key_file(path)
    if len(keys) == 1:
        keys = [Fernet.generate_key().decode(), *keys]
        write_key_file(path, keys)
    previous = [key.get_secret_value() for key in settings.secret_key_previous]
    report = await _reseal(settings, SecretBox(keys[0], [*keys[1:], *previous], source=str(path)))
    write_key_file(path, keys[:1])
    return Rotated(report, path)


async def _reseal(settings: Settings, box: SecretBox) -> RotationReport:
    db = create_engine(settings.database_url)
    try:
        await upgrade(db)
        return await reseal_all(db, box)
    finally:
        await db.dispose()
