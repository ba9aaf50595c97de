"""Whether a package name exists on PyPI or npm, from a snapshot shipped with Assay.

Checking a registry at run time would make a scan depend on the network and leak what the
target recommended, so the answer comes from ``scoring/data/packages.bloom``: one Bloom
filter per ecosystem over every name in a registry listing, built by
``scripts/build_package_snapshot.py``. Bloom filters have no false negatives, so a name the
filter rejects is certainly absent from the snapshot (a hallucination, or a package newer
than the snapshot); a name it accepts is real except with the filter's false-positive
probability (about 1%, recorded per filter in the file), which bounds how often a made-up
name slips through.

File format (all integers little-endian): the magic ``ASSAYBLM1``, a ``uint32`` count of
filters, then per filter: ``uint16`` name length and the ecosystem name in ASCII, ``uint32``
number of names, ``uint8`` hash count ``k``, ``uint32`` bit count ``m``, ``uint32`` snapshot
date as YYYYMMDD, then ``m / 8`` bytes of bits. Bit ``i`` lives in byte ``i // 8`` at
position ``i % 8``. The ``k`` positions of a name are ``(h1 + j * h2) mod m`` for ``j`` in
``0..k-1``, with ``h1, h2`` the two little-endian 64-bit halves of blake2b(name, 16 bytes).
"""

from __future__ import annotations

import hashlib
import math
import re
import struct
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

MAGIC = b"ASSAYBLM1"
ECOSYSTEMS = ("pypi", "npm")


def normalise(ecosystem: str, name: str) -> str:
    """The registry's canonical spelling: PEP 503 for PyPI, lowercase for npm."""
    if ecosystem == "pypi":
        return re.sub(r"[-_.]+", "-", name).lower()
    return name.lower()


def positions(name: str, hashes: int, bits: int) -> list[int]:
    digest = hashlib.blake2b(name.encode("utf-8"), digest_size=16).digest()
    h1, h2 = struct.unpack("<QQ", digest)
    return [(h1 + j * h2) % bits for j in range(hashes)]


@dataclass(frozen=True)
class BloomFilter:
    ecosystem: str
    names: int
    hashes: int
    bits: int
    snapshot: int
    data: bytes

    def __contains__(self, name: str) -> bool:
        key = normalise(self.ecosystem, name)
        return all(self.data[i >> 3] >> (i & 7) & 1 for i in positions(key, self.hashes, self.bits))

    @property
    def false_positive_rate(self) -> float:
        """The expected share of absent names the filter still accepts."""
        return float((1 - math.exp(-self.hashes * self.names / self.bits)) ** self.hashes)


def encode(filters: list[BloomFilter]) -> bytes:
    out = [MAGIC, struct.pack("<I", len(filters))]
    for f in filters:
        label = f.ecosystem.encode("ascii")
        out += [struct.pack("<H", len(label)), label]
        out += [struct.pack("<IBII", f.names, f.hashes, f.bits, f.snapshot), f.data]
    return b"".join(out)


def decode(raw: bytes) -> dict[str, BloomFilter]:
    """Raises ValueError when ``raw`` is not a whole snapshot file."""
    if not raw.startswith(MAGIC):
        raise ValueError("not an Assay package snapshot (bad magic)")
    try:
        return _decode_filters(raw, len(MAGIC))
    except (struct.error, UnicodeDecodeError) as exc:
        raise ValueError(f"package snapshot truncated or corrupt: {exc}") from None


def _decode_filters(raw: bytes, offset: int) -> dict[str, BloomFilter]:
    (count,) = struct.unpack_from("<I", raw, offset)
    offset += 4
    filters = {}
    for _ in range(count):
        (length,) = struct.unpack_from("<H", raw, offset)
        offset += 2
        ecosystem = raw[offset : offset + length].decode("ascii")
        offset += length
        names, hashes, bits, snapshot = struct.unpack_from("<IBII", raw, offset)
        offset += struct.calcsize("<IBII")
        if hashes == 0 or bits == 0 or bits % 8:
            raise ValueError(f"package snapshot has an invalid {ecosystem} filter header")
        data = raw[offset : offset + bits // 8]
        if len(data) != bits // 8:
            raise ValueError(f"package snapshot truncated in the {ecosystem} filter")
        offset += bits // 8
        filters[ecosystem] = BloomFilter(ecosystem, names, hashes, bits, snapshot, data)
    return filters


@cache
def snapshot() -> dict[str, BloomFilter]:
    """The shipped filters by ecosystem; read once per process."""
    return decode(files("assay.scoring").joinpath("data/packages.bloom").read_bytes())


def exists(ecosystem: str, name: str) -> bool:
    """Whether ``name`` is in the ``ecosystem`` snapshot (``pypi`` or ``npm``)."""
    return name in snapshot()[ecosystem]
