"""The bounded document reader against the reading it replaced, in the same run.

    .venv/bin/python bench/documents.py [--repeat 5]

Before, every YAML or JSON document was parsed twice by PyYAML's pure-Python loader (``yaml.compose`` for
line numbers, then ``yaml.safe_load`` for the data), with no limits. Now ``clearance.documents`` parses YAML
once (libyaml's C scanner and parser, a counting composer in Python) and reads ``.json`` files with the C
``json`` module, finding line numbers only when an error needs them. Prints CPU seconds and the ratio
new / old (below 1.0 is faster) for the example records, a 10,000-item publish manifest in YAML, and the
same manifest in JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "core"))

from clearance.documents import load_document  # noqa: E402


def old_load(path: Path) -> object:
    """What 0.1 did: the file read whole, composed for line numbers, then loaded again for the data."""
    text = path.read_bytes().decode("utf-8-sig")
    if path.suffix == ".json":
        json.loads(text)
    yaml.compose(text, Loader=yaml.SafeLoader)
    return yaml.safe_load(text)


def cpu(fn: Callable[[Path], object], paths: list[Path], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        for path in paths:
            fn(path)
        best = min(best, time.process_time() - start)
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    examples = sorted((ROOT / "core" / "clearance" / "examples" / "EXAMPLE_S01").glob("*.yaml"))
    with tempfile.TemporaryDirectory(prefix="clearance-bench-") as tmp:
        items = [{"name": f"sh{i:05d}", "files": [f"plates/sh{i:05d}.exr"], "records": [f"records/r{i % 50}.yaml"]}
                 for i in range(10_000)]
        manifest = {"production": "BENCH_S01", "family": "render", "destination": "out", "items": items}
        as_yaml = Path(tmp) / "publish.yaml"
        as_yaml.write_text(yaml.safe_dump(manifest, sort_keys=False), encoding="utf-8")
        as_json = Path(tmp) / "publish.json"
        as_json.write_text(json.dumps(manifest, indent=1), encoding="utf-8")
        cases = [("15 example records (YAML)", examples * 20, args.repeat),
                 ("10,000-item manifest (YAML)", [as_yaml], max(1, args.repeat // 2)),
                 ("10,000-item manifest (JSON)", [as_json], max(1, args.repeat // 2))]
        print("| documents | old CPU s | new CPU s | new / old |")
        print("|---|---|---|---|")
        for label, paths, repeat in cases:
            old = cpu(old_load, paths, repeat)
            new = cpu(load_document, paths, repeat)
            print(f"| {label} | {old:.3f} | {new:.3f} | {new / old:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
