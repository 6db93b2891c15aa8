"""Ablation of the matcher on what users say; prints a Markdown table.

    python scripts/ablation.py [--cases users|synthetic] [--json FILE] [--rows 1,2,...]

Fit on the dev split, measure on the test split, so no row sees its test cases. The
default cases are tests/data/users (hand-written user phrasings; zh-CN pinyin-level noise,
en-US real speech recognition); ``--cases synthetic`` takes tests/data/cases.* instead.
Each row is a real ``normalizer index build`` / ``calibrate`` / ``eval`` run on the local
embedder:

1. nearest neighbour: cosine similarity alone, one threshold per locale, no guard;
2. + slot guard: the guard's verdict (numbers, negation, slot values) vetoes, and the slot
   values it confirmed or missed are features;
3. + sound: the phonetic channel (sound similarity, margin, values heard by sound);
4. all features: wording (cover, extra, unknown words, the query's rare words or others');
5. + n-best: the recogniser's alternatives are embedded and fused;
6. self-calibrated: no labelled data at all, fitted on cases ``index build`` synthesises
   from the catalog (``--calibration self``), with every feature and the n-best.

Columns per locale: correct = share of recoverable in-domain cases rewritten to the
expected query; paraphrase = the same for the ``paraphrase`` phrasing (other words than the
catalog's); wrong = wrong rewrites among all cases; pass = out-of-domain cases left alone.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
NORMALIZER = str(Path(sys.executable).parent / "normalizer")
LOCALES = ("zh-CN", "en-US")
ALL = ("dense,margin,phonetic,agreement,cover,extra,oov,topic,foreign,unconfirmed,by_sound,"
       "confirmed,"
       "allowed")

ROWS: list[tuple[str, str | None, list[str], bool]] = [
    # name, calibrate features (None: self-calibrated at build), flags, use the n-best
    ("nearest neighbour", "dense", ["--phonetic", "false", "--guard", "false"], False),
    ("+ slot guard", "dense,unconfirmed,confirmed,allowed", ["--phonetic", "false"], False),
    ("+ sound", "dense,margin,phonetic,unconfirmed,by_sound,confirmed,allowed", [], False),
    ("all features", ALL.replace("agreement,", ""), [], False),
    ("+ n-best", ALL, [], True),
    ("self-calibrated, no labelled data", None, [], True),
]


def run(*args: str) -> str:
    done = subprocess.run([NORMALIZER, *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"normalizer {' '.join(args)} failed ({done.returncode}):\n{done.stderr}")
    return done.stdout


def case_files(kind: str, split: str) -> list[str]:
    folder = ROOT / "tests" / "data" / ("users" if kind == "users" else "")
    return [arg for loc in LOCALES
            for arg in ("--cases", str(folder / f"cases.{loc}.{split}.jsonl"))]


def pct(x: float) -> str:
    return "-" if math.isnan(x) else f"{100 * x:.1f}%"


def cells(figures: dict[str, Any], loc: str) -> list[str]:
    rec = figures["recoverable"][loc]
    para = [f for key, f in figures["phrasing_noise"].items()
            if key.startswith(f"{loc}/paraphrase/") and key.split("/")[2] not in
            ("heavy", "wer>0.5", "garbled")]
    n = sum(f["in_domain"] for f in para)
    para_correct = sum(f["correct"] * f["in_domain"] for f in para) / n if n else math.nan
    whole = figures["locales"][loc]
    return [pct(rec["correct"]), pct(para_correct), pct(whole["wrong"]),
            pct(whole["pass_through"])]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", choices=("users", "synthetic"), default="users")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--rows", help="comma-separated row numbers (default: all)")
    args = parser.parse_args()
    chosen = [int(r) for r in args.rows.split(",")] if args.rows else range(1, len(ROWS) + 1)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for number in chosen:
            name, features, flags, nbest = ROWS[number - 1]
            started = time.monotonic()
            store = Path(tmp) / f"row{number}"
            calibration = "self" if features is None else "none"
            run("index", "build", "--queries", str(ROOT / "canonical_queries"), "--out",
                str(store), "--quiet", "--calibration", calibration)
            nbest_flag = [] if nbest else ["--no-alternatives"]
            if features is not None:
                run("calibrate", "--index", str(store), *case_files(args.cases, "dev"),
                    "--features", features, *flags, *nbest_flag)
            out = Path(tmp) / f"row{number}.json"
            run("eval", "--index", str(store), *case_files(args.cases, "test"), "--plot", "",
                "--json", str(out), *flags, *nbest_flag)
            figures = json.loads(out.read_text())
            results.append({"row": name, **figures})
            print(f"done: {name} in {time.monotonic() - started:.0f} s", file=sys.stderr)
    print("| row | " + " | ".join(f"{loc} correct | {loc} paraphrase | {loc} wrong | "
                                   f"{loc} pass" for loc in LOCALES) + " |")
    print("|" + "---|" * (1 + 4 * len(LOCALES)))
    for r in results:
        print(f"| {r['row']} | " + " | ".join(c for loc in LOCALES for c in cells(r, loc))
              + " |")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
