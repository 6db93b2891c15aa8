"""Ablation of the matcher on the held-out test split; prints a Markdown table.

    python scripts/ablation.py [--store DIR] [--json FILE]

Each row adds one mechanism. Every calibrated row fits its confidence model and
threshold on the dev split (``normalizer calibrate``, target 1% wrong) and is then
measured on the test split (``normalizer eval``), so no row sees its test cases:

1. plain nearest neighbour: cosine similarity only, one threshold per locale;
2. + phonetic: phonetic similarity and margin fused into the confidence;
3. + guard: the difference guard vetoes slot changes (and is a feature);
4. + n-best: the ASR alternatives are embedded and fused (agreement feature);
5. full system, uncalibrated: the default model of an index never calibrated,
   to show what calibration itself adds over row 4.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
NORMALIZER = str(Path(sys.executable).parent / "normalizer")
LOCALES = ("zh-CN", "en-US")

ROWS = [
    # name, calibrate features (None = leave uncalibrated), serve flags, use n-best
    ("plain nearest neighbour", "dense", ["--phonetic", "false", "--guard", "false"], False),
    ("+ phonetic", "dense,margin,phonetic", ["--guard", "false"], False),
    ("+ guard", "dense,margin,phonetic,allowed", [], False),
    ("+ n-best", "dense,margin,phonetic,agreement,allowed", [], True),
    ("full, uncalibrated", None, [], True),
]


def run(*args: str) -> str:
    return subprocess.run([NORMALIZER, *args], check=True, capture_output=True,
                          text=True).stdout


def cases(split: str) -> list[str]:
    return [arg for loc in LOCALES for arg in ("--cases", str(DATA / f"cases.{loc}.{split}.jsonl"))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, features, flags, nbest in ROWS:
            store = Path(tmp) / name.replace(" ", "_").replace(",", "").replace("+", "p")
            run("index", "build", "--queries", str(ROOT / "canonical_queries"), "--out",
                str(store), "--quiet", "--uncalibrated")
            nbest_flag = [] if nbest else ["--no-alternatives"]
            if features is not None:
                run("calibrate", "--index", str(store), *cases("dev"), "--features", features,
                    *flags, *nbest_flag)
            out = Path(tmp) / "figures.json"
            run("eval", "--index", str(store), *cases("test"), "--plot", "", "--json", str(out),
                *flags, *nbest_flag)
            figures = json.loads(out.read_text())
            results.append({"row": name, "locales": figures["locales"],
                            "thresholds": figures["thresholds"]})
            print(f"done: {name}", file=sys.stderr)
    header = "| row | " + " | ".join(
        f"{loc} correct | {loc} wrong | {loc} pass-through" for loc in LOCALES) + " |"
    print(header)
    print("|" + "---|" * (1 + 3 * len(LOCALES)))
    for r in results:
        cells = []
        for loc in LOCALES:
            f = r["locales"][loc]
            cells += [f"{100 * f['correct']:.1f}%", f"{100 * f['wrong']:.1f}%",
                      f"{100 * f['pass_through']:.1f}%"]
        print(f"| {r['row']} | " + " | ".join(cells) + " |")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
