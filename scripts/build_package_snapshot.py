"""Build ``src/assay/scoring/data/packages.bloom`` from registry listings (no network).

Usage::

    .venv/bin/python scripts/build_package_snapshot.py \
        --pypi pypi-names.tsv --npm npm-names.tsv

Each listing is a TSV whose first column is a package name (a header row is skipped). Each
filter gets about 9.6 bits per name and the best hash count for it, which puts the false
positive rate (a made-up name accepted as real) near 1%; the script prints each filter's
expected rate. Refresh the snapshot by running it on newer listings; names registered after
the snapshot are reported as not found, the only source of false alarms.
"""

from __future__ import annotations

import argparse
import datetime
import math
import sys
from pathlib import Path

from assay.scoring.packages import BloomFilter, encode, normalise, positions

OUT = Path(__file__).resolve().parent.parent / "src/assay/scoring/data/packages.bloom"


def read_names(path: Path, ecosystem: str) -> set[str]:
    names = set()
    with path.open(encoding="utf-8", errors="replace") as handle:
        next(handle, None)
        for line in handle:
            name = line.split("\t", 1)[0].strip()
            if name:
                names.add(normalise(ecosystem, name))
    return names


def build(ecosystem: str, names: set[str], snapshot: int) -> BloomFilter:
    bits = max(64, math.ceil(len(names) * 9.6 / 64) * 64)
    hashes = max(1, round(bits / len(names) * math.log(2)))
    data = bytearray(bits // 8)
    for name in names:
        for i in positions(name, hashes, bits):
            data[i >> 3] |= 1 << (i & 7)
    return BloomFilter(ecosystem, len(names), hashes, bits, snapshot, bytes(data))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--pypi", type=Path, required=True)
    parser.add_argument("--npm", type=Path, required=True)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    today = int(datetime.datetime.now(tz=datetime.UTC).strftime("%Y%m%d"))
    filters = [
        build(eco, read_names(path, eco), today)
        for eco, path in (("pypi", args.pypi), ("npm", args.npm))
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(encode(filters))
    for f in filters:
        sys.stdout.write(
            f"{f.ecosystem}: {f.names} names, {f.bits // 8} bytes, k={f.hashes}, "
            f"expected false positive rate {f.false_positive_rate:.4f}\n"
        )
    sys.stdout.write(f"wrote {args.out} ({args.out.stat().st_size} bytes)\n")


if __name__ == "__main__":
    main()
