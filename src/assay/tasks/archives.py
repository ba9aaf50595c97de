"""Task folders uploaded as a tar.gz or zip archive, read without trusting the archive.

Only regular files are taken (no links, devices or absolute or ``..`` paths: each is refused
naming the member); the number of members and the bytes they unpack to are capped before
anything is written, so a crafted archive cannot fill the disk. The archive may hold the task
folders at its top or inside one wrapping folder.
"""

from __future__ import annotations

import io
import tarfile
import tempfile
import zipfile
from pathlib import Path, PurePosixPath

from assay.core.errors import ValidationFailed
from assay.tasks.format import MAX_TASK_BYTES, Task, load_tasks

MAX_MEMBERS = 5000
MAX_UNPACKED_BYTES = 64 * MAX_TASK_BYTES


def _refuse(msg: str) -> ValidationFailed:
    return ValidationFailed.for_field(("archive",), msg)


def _safe_name(name: str) -> PurePosixPath:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        raise _refuse(f"member {name!r} leaves the archive")
    return path


def _files_of_tar(data: bytes) -> dict[PurePosixPath, bytes]:
    files: dict[PurePosixPath, bytes] = {}
    total = 0
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as archive:
        members = archive.getmembers()
        if len(members) > MAX_MEMBERS:
            raise _refuse(f"more than {MAX_MEMBERS} members")
        for member in members:
            path = _safe_name(member.name)
            if member.isdir():
                continue
            if not member.isfile():
                raise _refuse(f"member {member.name!r} is not a regular file")
            total += member.size
            if total > MAX_UNPACKED_BYTES:
                raise _refuse(f"unpacks to more than {MAX_UNPACKED_BYTES} bytes")
            extracted = archive.extractfile(member)
            assert extracted is not None
            files[path] = extracted.read()
    return files


def _files_of_zip(data: bytes) -> dict[PurePosixPath, bytes]:
    files: dict[PurePosixPath, bytes] = {}
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        infos = archive.infolist()
        if len(infos) > MAX_MEMBERS:
            raise _refuse(f"more than {MAX_MEMBERS} members")
        if sum(i.file_size for i in infos) > MAX_UNPACKED_BYTES:
            raise _refuse(f"unpacks to more than {MAX_UNPACKED_BYTES} bytes")
        for info in infos:
            path = _safe_name(info.filename)
            if info.is_dir():
                continue
            if (info.external_attr >> 16) & 0o170000 not in (0, 0o100000):
                raise _refuse(f"member {info.filename!r} is not a regular file")
            files[path] = archive.read(info)
    return files


def tasks_from_archive(data: bytes) -> list[Task]:
    """The tasks of a tar.gz (or tar) or zip archive of task folders; ValidationFailed else."""
    try:
        if zipfile.is_zipfile(io.BytesIO(data)):
            files = _files_of_zip(data)
        else:
            files = _files_of_tar(data)
    except (tarfile.TarError, zipfile.BadZipFile, EOFError, OSError) as exc:
        raise _refuse(f"is not a readable tar.gz or zip archive ({type(exc).__name__})") from None
    with tempfile.TemporaryDirectory(prefix="assay-upload-") as tmp:
        root = Path(tmp)
        for path, content in files.items():
            target = root.joinpath(*path.parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
        entries = [p for p in root.iterdir()]
        if len(entries) == 1 and entries[0].is_dir() and not (entries[0] / "task.toml").exists():
            root = entries[0]
        tasks = load_tasks(root)
    if not tasks:
        raise _refuse("holds no task folder (a folder with a task.toml)")
    return tasks
