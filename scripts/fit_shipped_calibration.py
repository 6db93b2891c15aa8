"""Refit the calibration shipped for the embedded default model.

    python scripts/fit_shipped_calibration.py

Builds the shipped catalog with the local embedder into a temporary store, runs
``normalizer calibrate`` on the dev splits of tests/data/users (what users say; real
recogniser output for en-US) at a 1% wrong-rate target, and writes the result into
normalizer/matching/shipped_calibration.json, keyed by model, dimensions and text format.
Rerun it whenever the matcher's features, the guard, the catalog or the dev cases change;
report quality on the test split, never on dev.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "normalizer" / "matching" / "shipped_calibration.json"
NORMALIZER = str(Path(sys.executable).parent / "normalizer")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp) / "store"
        subprocess.run([NORMALIZER, "index", "build", "--queries", str(ROOT / "canonical_queries"),
                        "--out", str(store), "--quiet", "--calibration", "none"], check=True,
                       stdout=subprocess.DEVNULL)
        data = ROOT / "tests" / "data"
        # Not the synthetic dev split too: pooled with it (easier cases, few wrong), the 1%
        # budget let en-US users test go to 1.3% wrong (35.5% normalized) against 0.9%
        # (31.6%) fitted on the users alone.
        dev = sorted(data.glob("users/cases.*.dev.jsonl"))
        cases = [arg for path in dev for arg in ("--cases", str(path))]
        subprocess.run([NORMALIZER, "calibrate", "--index", str(store), *cases,
                        "--max-wrong-rate", "0.01"], check=True, stdout=subprocess.DEVNULL)
        version = (store / "CURRENT").read_text().strip()
        manifest = json.loads((store / "versions" / version / "manifest.json").read_text())
    emb = manifest["embedding"]
    calibration = manifest["calibration"]
    calibration["fitted_on"] = [str(Path(p).relative_to(ROOT)) for p in calibration["fitted_on"]]
    calibration["source"] = "shipped"
    key = f"{emb['model']}|{emb['dimensions']}|{emb['text_format']['name']}"
    TARGET.write_text(json.dumps({key: calibration}, indent=2, ensure_ascii=False) + "\n",
                      encoding="utf-8")
    print(f"wrote {TARGET.relative_to(ROOT)} for {key}: " + ", ".join(
        f"{loc} threshold {c['threshold']:.3f}" for loc, c in calibration["locales"].items()))


if __name__ == "__main__":
    main()
