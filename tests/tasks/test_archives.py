"""Uploaded archives of task folders are read without trusting them."""

from __future__ import annotations

import io
import tarfile
import zipfile
from pathlib import Path

import pytest

from assay.core.errors import ValidationFailed
from assay.tasks import archives
from assay.tasks.format import BUILTIN_DATASETS


def _tar(files: dict[str, bytes], extra: list[tarfile.TarInfo] | None = None) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, content in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
        for info in extra or []:
            archive.addfile(info)
    return buffer.getvalue()


def _shipped(name: str, prefix: str) -> dict[str, bytes]:
    root = BUILTIN_DATASETS["security"] / name
    return {
        f"{prefix}{name}/{p.relative_to(root)}": p.read_bytes()
        for p in root.rglob("*")
        if p.is_file()
    }


def test_a_tar_gz_of_task_folders_in_a_wrapping_folder_loads():
    files = _shipped("base64-once", "bench/") | _shipped("sudoers-audit", "bench/")
    tasks = archives.tasks_from_archive(_tar(files))
    assert [t.name for t in tasks] == ["base64-once", "sudoers-audit"]


def test_a_zip_loads(tmp_path: Path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in _shipped("patch-sql-injection", "").items():
            archive.writestr(name, content)
    [task] = archives.tasks_from_archive(buffer.getvalue())
    assert task.verifier.type == "test"


@pytest.mark.parametrize("name", ["../evil/task.toml", "/etc/task.toml"])
def test_members_leaving_the_archive_are_refused(name: str):
    with pytest.raises(ValidationFailed, match="leaves the archive"):
        archives.tasks_from_archive(_tar({name: b"x"}))


def test_links_are_refused():
    link = tarfile.TarInfo("t/instruction.md")
    link.type = tarfile.SYMTYPE
    link.linkname = "/etc/passwd"
    with pytest.raises(ValidationFailed, match="not a regular file"):
        archives.tasks_from_archive(_tar({}, [link]))


def test_an_archive_that_unpacks_too_big_is_refused_before_writing(tmp_path: Path):
    big = b"\0" * (archives.MAX_UNPACKED_BYTES + 1)
    with pytest.raises(ValidationFailed, match="unpacks to more than"):
        archives.tasks_from_archive(_tar({"t/environment/big.bin": big}))


def test_garbage_is_refused_naming_the_archive():
    with pytest.raises(ValidationFailed) as caught:
        archives.tasks_from_archive(b"not an archive")
    assert caught.value.errors[0]["loc"] == ["archive"]
