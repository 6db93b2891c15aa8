"""en-US user-phrasing cases through real speech recognition (espeak-ng -> sox -> PocketSphinx).

Reads phrasings.en-US.tsv (hand-written, see README.en-US.md), validates it, speaks every
utterance with espeak-ng in each of VOICES, resamples the audio to 16 kHz mono 16-bit with
sox, recognises it with PocketSphinx's default en-US acoustic model, language model and
dictionary, and writes cases.en-US.<split>.jsonl plus cases.en-US.<split>.meta.jsonl.

    python tests/data/users/en_asr.py --check        # validate TSV + committed files (CI)
    python tests/data/users/en_asr.py --sample 20    # time 20 decodes, write nothing
    nice -n 19 python tests/data/users/en_asr.py     # full run (resumable via --cache)

Generation needs espeak-ng and sox on PATH and `pip install pocketsphinx jiwer pyyaml`;
--check needs only pyyaml. Nothing here is random: espeak-ng, sox (-R, no dither) and
PocketSphinx (cepstral mean reset before every utterance) are deterministic, so no seed
is used.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
LOCALE = "en-US"
TSV = HERE / f"phrasings.{LOCALE}.tsv"
CATALOG_DIR = ROOT / "canonical_queries" / LOCALE
HEADER = ["split", "id", "phrasing", "utterance"]
SPLITS = ("dev", "test")
PHRASINGS = ("catalog", "paraphrase", "slot_change", "out_of_domain")
OUT_OF_DOMAIN_COUNTS = {"slot_change": 240, "out_of_domain": 200}
IN_DOMAIN_ORDER = ("catalog", "paraphrase", "paraphrase", "paraphrase")

# (espeak-ng voice, words per minute); the meta "voice" field is "<voice>@<wpm>". Three
# voices (two accents, female and male, three speeds): at about 1.5 s per decode on a
# 2-core machine, 3 x 1196 decodes take 45 minutes on two shards.
VOICES: tuple[tuple[str, int], ...] = (
    ("en-us+f2", 175),  # US English, variant f2 (female), fast
    ("en-us+klatt2", 145),  # US English, Klatt synthesiser variant klatt2 (male), slowish
    ("en-gb-x-rp+f2", 130),  # British received pronunciation, variant f2 (female), slow
)
VOICE_NAMES = tuple(f"{v}@{s}" for v, s in VOICES)

NOISE_LABELS = ("wer=0", "wer<=0.25", "wer<=0.5", "wer>0.5")
NBEST_SCAN = 30  # n-best entries read from PocketSphinx's A* search
MAX_ALTERNATIVES = 4
# Alternatives' probabilities: softmax over the n-best path scores, which PocketSphinx gives
# in log units of base 1.0001, divided by this temperature: 100 units (about 0.01 nat of
# path score) between two hypotheses is a factor e between their probabilities. Chosen so
# the 1-best's probability spreads over roughly 0.3-0.7 on this set (1000 would make
# nearly every list uniform, 10 would make nearly every 1-best 1.0).
SCORE_TEMPERATURE = 100.0

UTTERANCE_RE = re.compile(r"[a-z']+( [a-z']+)*")


def fold(text: str) -> str:
    """Lower-case, drop spaces and punctuation (the spec's equality for catalog texts)."""
    return re.sub(r"[\W_]+", "", text.lower())


def clean_words(text: str) -> str:
    """A recogniser output as a transcript: lower case, only letters, apostrophes, spaces."""
    words = []
    for w in text.lower().split():
        if w.startswith(("<", "[", "+")):
            continue  # fillers and silences (<sil>, [noise], +breath+)
        w = re.sub(r"\(\d+\)$", "", w)  # alternate pronunciations: word(2)
        w = re.sub(r"[^a-z']+", " ", w)
        words.extend(w.split())
    return " ".join(words)


def word_errors(ref: str, hyp: str) -> int:
    """Word-level Levenshtein distance (substitutions + deletions + insertions)."""
    r, h = ref.split(), hyp.split()
    prev = list(range(len(h) + 1))
    for i, rw in enumerate(r, 1):
        cur = [i] + [0] * len(h)
        for j, hw in enumerate(h, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (rw != hw))
        prev = cur
    return prev[-1]


def wer_of(ref: str, hyp: str) -> float:
    return word_errors(ref, hyp) / len(ref.split())


def noise_label(wer: float) -> str:
    if wer == 0:
        return "wer=0"
    if wer <= 0.25:
        return "wer<=0.25"
    if wer <= 0.5:
        return "wer<=0.5"
    return "wer>0.5"


# --------------------------------------------------------------------------- phrasings


@dataclass(frozen=True)
class Row:
    line: int  # 1-based line number in the TSV (header is line 1)
    split: str
    id: str | None
    phrasing: str
    utterance: str


class Invalid(Exception):
    """Validation failures, each 'file:line: message'."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


def load_catalog() -> tuple[list[str], set[str]]:
    """Query ids in catalog order (files by name, queries in file order) and folded texts."""
    ids: list[str] = []
    texts: set[str] = set()
    for path in sorted(CATALOG_DIR.glob("*.yaml")):
        for q in yaml.safe_load(path.read_text(encoding="utf-8"))["queries"]:
            ids.append(q["id"])
            texts.add(fold(q["text"]))
            texts.update(fold(v) for v in q.get("variants") or [])
    return ids, texts


def read_phrasings(path: Path = TSV) -> list[Row]:
    """Parse and validate the TSV against the spec; raise Invalid listing every problem."""
    errors: list[str] = []

    def err(line: int, msg: str) -> None:
        errors.append(f"{path}:{line}: {msg}")

    if not path.exists():
        raise Invalid([f"{path}:0: file missing; write the phrasings first"])
    cat_ids, cat_texts = load_catalog()
    position = {qid: k for k, qid in enumerate(cat_ids)}
    lines = path.read_text(encoding="utf-8").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if not lines or lines[0].split("\t") != HEADER:
        raise Invalid([f"{path}:1: header must be {'<TAB>'.join(HEADER)}"])
    rows: list[Row] = []
    for n, text in enumerate(lines[1:], 2):
        cols = text.split("\t")
        if len(cols) != 4:
            err(n, f"expected 4 tab-separated columns, got {len(cols)}")
            continue
        split, qid, phrasing, utt = cols
        if split not in SPLITS:
            err(n, f"split {split!r} is not one of {', '.join(SPLITS)}")
        if phrasing not in PHRASINGS:
            err(n, f"phrasing {phrasing!r} is not one of {', '.join(PHRASINGS)}")
        if not UTTERANCE_RE.fullmatch(utt):
            err(n, f"utterance {utt!r} must be lower-case words (a-z and ') separated by"
                   " single spaces: no digits, no punctuation")
        in_domain = phrasing in ("catalog", "paraphrase")
        if in_domain and qid not in position:
            err(n, f"id {qid!r} is not a query of canonical_queries/{LOCALE}")
        if not in_domain and qid:
            err(n, f"a {phrasing} line must have an empty id, got {qid!r}")
        rows.append(Row(n, split, qid or None, phrasing, utt))

    seen: dict[str, int] = {}
    for r in rows:
        f = fold(r.utterance)
        if f in seen:
            err(r.line, f"utterance repeats line {seen[f]}: {r.utterance!r}")
        else:
            seen[f] = r.line
        if f in cat_texts:
            err(r.line, f"utterance equals a catalog text or variant: {r.utterance!r}")

    by_id: dict[str, list[Row]] = {}
    for r in rows:
        if r.id is not None and r.phrasing in ("catalog", "paraphrase"):
            by_id.setdefault(r.id, []).append(r)
    for qid in cat_ids:
        group = by_id.get(qid, [])
        if len(group) != 4:
            last = group[-1].line if group else len(lines)
            err(last, f"query {qid} has {len(group)} in-domain lines, needs 4")
            continue
        for j, r in enumerate(group):
            if r.phrasing != IN_DOMAIN_ORDER[j]:
                err(r.line, f"line {j + 1} of {qid} must be {IN_DOMAIN_ORDER[j]}")
            want = "dev" if (position[qid] + j) % 2 == 0 else "test"
            if r.split != want:
                err(r.line, f"split must be {want}: (k={position[qid]} + j={j}) % 2")
    for kind, count in OUT_OF_DOMAIN_COUNTS.items():
        group = [r for r in rows if r.phrasing == kind]
        if len(group) != count:
            err(group[-1].line if group else len(lines),
                f"{len(group)} {kind} lines, the spec asks for {count}")
        for i, r in enumerate(group):
            want = "dev" if i % 2 == 0 else "test"
            if r.split != want:
                err(r.line, f"split must be {want}: {kind} line {i + 1} alternates dev/test")
    if errors:
        raise Invalid(errors)
    return rows


# ------------------------------------------------------------------------ recognition


def tool_versions() -> dict[str, str]:
    from importlib.metadata import version

    def first_line(cmd: list[str]) -> str:
        out = subprocess.run(cmd, capture_output=True, text=True, check=True)
        return (out.stdout or out.stderr).strip().splitlines()[0]

    return {
        "espeak-ng": first_line(["espeak-ng", "--version"]),
        "sox": first_line(["sox", "--version"]),
        "pocketsphinx": version("pocketsphinx"),
        "jiwer": version("jiwer"),
        "python": sys.version.split()[0],
    }


def synthesize(text: str, voice: str, wpm: int, workdir: str) -> bytes:
    """espeak-ng -> WAV (22.05 kHz) -> sox -> raw 16 kHz mono signed 16-bit little-endian."""
    wav = os.path.join(workdir, "tts.wav")
    subprocess.run(["espeak-ng", "-v", voice, "-s", str(wpm), "-w", wav, "--", text],
                   check=True, capture_output=True)
    out = subprocess.run(
        ["sox", "-R", "-D", wav, "-r", "16000", "-c", "1", "-b", "16", "-e", "signed-integer",
         "-L", "-t", "raw", "-"],
        check=True, capture_output=True)
    return out.stdout


class Recognizer:
    """PocketSphinx with its bundled default en-US models; every utterance decoded fresh."""

    def __init__(self) -> None:
        from pocketsphinx import Decoder

        self.decoder = Decoder(samprate=16000, loglevel="FATAL")
        self.initial_cmn = self.decoder.get_cmn()
        self.logmath = self.decoder.get_logmath()

    def recognise(self, pcm: bytes) -> dict[str, Any]:
        d = self.decoder
        d.set_cmn(self.initial_cmn)  # live CMN would otherwise carry over between utterances
        d.start_utt()
        d.process_raw(pcm, full_utt=True)
        d.end_utt()
        hyp = d.hyp()
        best = clean_words(hyp.hypstr) if hyp is not None else ""
        nbest: list[tuple[str, int]] = []
        for i, h in enumerate(d.nbest() or []):
            if i >= NBEST_SCAN:
                break
            if h is None or h.score <= 0:
                continue
            nbest.append((clean_words(h.hypstr), int(self.logmath.log(h.score))))
        return {"best": best, "nbest": nbest}


def alternatives(best: str, nbest: list[tuple[str, int]]) -> list[dict[str, Any]] | None:
    """Up to MAX_ALTERNATIVES distinct texts, the 1-best first, softmax probabilities.

    Each text's log score is its best n-best path score; the 1-best (from PocketSphinx's
    best-path search, which may rank differently) gets max(its own, the highest) so it stays
    first. None when the recogniser gave no other distinct non-empty text.
    """
    if not best:
        return None
    score: dict[str, int] = {}
    for text, s in nbest:
        if text and s > score.get(text, -(2**62)):
            score[text] = s
    if not score:
        return None
    top = max(score.values())
    best_score = max(score.get(best, top), top)
    others = sorted(((s, t) for t, s in score.items() if t != best), key=lambda x: (-x[0], x[1]))
    chosen = [(best_score, best), *others[: MAX_ALTERNATIVES - 1]]
    if len(chosen) < 2:
        return None
    weights = [math.exp((s - best_score) / SCORE_TEMPERATURE) for s, _ in chosen]
    total = sum(weights)
    probs = [round(w / total, 4) for w in weights]
    probs = [max(p, 0.0001) for p in probs]
    for i in range(1, len(probs)):
        probs[i] = min(probs[i], probs[i - 1])
    return [{"text": t, "score": p} for (_, t), p in zip(chosen, probs, strict=True)]


def cache_key(voice: str, utterance: str) -> str:
    return f"{voice}\t{utterance}"


def load_cache(path: Path) -> dict[str, dict[str, Any]]:
    cache: dict[str, dict[str, Any]] = {}
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                rec = json.loads(line)
                cache[rec["key"]] = rec
    return cache


def decode_all(rows: list[Row], cache_path: Path, limit: int | None, log_every: int,
               write_cache: bool, shard: tuple[int, int] = (0, 1)
               ) -> tuple[dict[str, dict[str, Any]], float, int]:
    """Decode every (row, voice) not yet in the cache. Returns cache, seconds, decodes.

    With shard (k, n), only every n-th decode from the k-th: n processes with their own
    caches share the work, and a last run with all caches concatenated writes the cases.
    """
    cache = load_cache(cache_path)
    todo = [(r, v) for r in rows for v in VOICES if cache_key(f"{v[0]}@{v[1]}", r.utterance)
            not in cache]
    todo = todo[shard[0]::shard[1]]
    if limit is not None:
        step = max(1, len(todo) // limit)
        todo = todo[::step][:limit]
    total = len(todo)
    print(f"{len(rows) * len(VOICES)} cases, {len(cache)} cached, {total} to decode",
          file=sys.stderr, flush=True)
    if not total:
        return cache, 0.0, 0
    rec = Recognizer()
    started = time.monotonic()
    audio_seconds = 0.0
    sink = cache_path.open("a", encoding="utf-8") if write_cache else None
    try:
        with tempfile.TemporaryDirectory(prefix="en_asr_") as tmp:
            for n, (row, (voice, wpm)) in enumerate(todo, 1):
                pcm = synthesize(row.utterance, voice, wpm, tmp)
                audio_seconds += len(pcm) / 32000
                result = rec.recognise(pcm)
                entry = {"key": cache_key(f"{voice}@{wpm}", row.utterance), **result}
                cache[entry["key"]] = entry
                if sink is not None:
                    sink.write(json.dumps(entry, ensure_ascii=False) + "\n")
                    sink.flush()
                if n % log_every == 0 or n == total:
                    el = time.monotonic() - started
                    eta = el / n * (total - n)
                    print(f"[{time.strftime('%H:%M:%S')}] {n}/{total} decoded, {el:.0f} s,"
                          f" {el / n:.2f} s/decode, audio {audio_seconds / n:.2f} s/utt,"
                          f" eta {eta / 60:.1f} min | {row.utterance!r} -> {result['best']!r}",
                          file=sys.stderr, flush=True)
    finally:
        if sink is not None:
            sink.close()
    return cache, time.monotonic() - started, total


def build_cases(rows: list[Row], cache: dict[str, dict[str, Any]]
                ) -> dict[str, tuple[list[dict[str, Any]], list[dict[str, Any]]]]:
    import jiwer

    out: dict[str, tuple[list[dict[str, Any]], list[dict[str, Any]]]] = {
        s: ([], []) for s in SPLITS}
    for r in rows:
        for vname in VOICE_NAMES:
            res = cache[cache_key(vname, r.utterance)]
            best = res["best"]
            wer = float(jiwer.wer(r.utterance, best)) if best else 1.0
            if abs(wer - wer_of(r.utterance, best)) > 1e-9:
                raise AssertionError(f"jiwer and the built-in WER disagree on {r.utterance!r}")
            wer = round(wer, 3)
            case: dict[str, Any] = {"transcript": best, "expected_id": r.id, "locale": LOCALE,
                                    "noise": noise_label(wer), "phrasing": r.phrasing}
            alts = alternatives(best, [(t, s) for t, s in res["nbest"]])
            if alts:
                case["alternatives"] = alts
            meta = {"spoken": r.utterance, "voice": vname, "wer": wer, "line": r.line}
            out[r.split][0].append(case)
            out[r.split][1].append(meta)
    return out


def dump_jsonl(items: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(x, ensure_ascii=False) + "\n" for x in items)


def case_paths(split: str) -> tuple[Path, Path]:
    return (HERE / f"cases.{LOCALE}.{split}.jsonl", HERE / f"cases.{LOCALE}.{split}.meta.jsonl")


# ------------------------------------------------------------------------------ check


def read_jsonl(path: Path, errors: list[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    if not path.exists():
        errors.append(f"{path}:0: file missing; run en_asr.py to generate it")
        return
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            errors.append(f"{path}:{n}: not JSON: {e}")
            continue
        if not isinstance(obj, dict):
            errors.append(f"{path}:{n}: a line must be a JSON object")
            continue
        yield n, obj


def check_case(case: dict[str, Any], where: str, errors: list[str]) -> None:
    allowed = {"transcript", "expected_id", "locale", "noise", "phrasing", "alternatives"}
    extra = set(case) - allowed
    if extra:
        errors.append(f"{where}: unknown keys {sorted(extra)}")
    t = case.get("transcript")
    if not isinstance(t, str) or (t and not UTTERANCE_RE.fullmatch(t)):
        errors.append(f"{where}: transcript must be lower-case words without punctuation")
    if case.get("locale") != LOCALE:
        errors.append(f"{where}: locale must be {LOCALE}")
    if case.get("noise") not in NOISE_LABELS:
        errors.append(f"{where}: noise must be one of {', '.join(NOISE_LABELS)}")
    alts = case.get("alternatives")
    if alts is None:
        return
    if not isinstance(alts, list) or not 2 <= len(alts) <= MAX_ALTERNATIVES:
        errors.append(f"{where}: alternatives must be a list of 2..{MAX_ALTERNATIVES}")
        return
    texts = [a.get("text") if isinstance(a, dict) else None for a in alts]
    scores: list[Any] = [a.get("score") if isinstance(a, dict) else None for a in alts]
    if texts[0] != t:
        errors.append(f"{where}: the first alternative must be the transcript")
    if len(set(texts)) != len(texts) or not all(isinstance(x, str) and x for x in texts):
        errors.append(f"{where}: alternatives must have distinct non-empty texts")
    if not all(isinstance(s, float) and 0 < s <= 1 for s in scores):
        errors.append(f"{where}: alternative scores must be probabilities in (0, 1]")
    elif any(a < b for a, b in itertools.pairwise(scores)):
        errors.append(f"{where}: alternative scores must be descending")


def check_files(rows: list[Row]) -> list[str]:
    errors: list[str] = []
    by_line = {r.line: r for r in rows}
    for split in SPLITS:
        cpath, mpath = case_paths(split)
        cases = list(read_jsonl(cpath, errors))
        metas = list(read_jsonl(mpath, errors))
        if len(cases) != len(metas):
            errors.append(f"{mpath}:0: {len(metas)} meta lines for {len(cases)} cases")
        expected = [(r.line, v) for r in rows if r.split == split for v in VOICE_NAMES]
        if len(metas) != len(expected):
            errors.append(f"{mpath}:0: {len(metas)} lines, expected {len(expected)}"
                          f" ({len(expected) // len(VOICE_NAMES)} phrasings x"
                          f" {len(VOICE_NAMES)} voices)")
        for (n, case), (_, meta), (line, vname) in zip(cases, metas, expected, strict=False):
            where = f"{cpath}:{n}"
            check_case(case, where, errors)
            r = by_line.get(meta.get("line", -1))
            if meta.get("line") != line or r is None or meta.get("voice") != vname:
                errors.append(f"{mpath}:{n}: expected TSV line {line} voice {vname}, got"
                              f" line {meta.get('line')} voice {meta.get('voice')}")
                continue
            if meta.get("spoken") != r.utterance:
                errors.append(f"{mpath}:{n}: spoken differs from {TSV.name}:{line}")
            if case.get("expected_id") != r.id or case.get("phrasing") != r.phrasing:
                errors.append(f"{where}: expected_id/phrasing differ from {TSV.name}:{line}")
            t = case.get("transcript")
            if isinstance(t, str):
                wer = round(wer_of(r.utterance, t), 3)
                if meta.get("wer") != wer:
                    errors.append(f"{mpath}:{n}: wer {meta.get('wer')} but the transcript"
                                  f" gives {wer}")
                if case.get("noise") != noise_label(wer):
                    errors.append(f"{where}: noise {case.get('noise')} but wer is {wer}")
    return errors


# ------------------------------------------------------------------------------- main


def summarise(cases: dict[str, tuple[list[dict[str, Any]], list[dict[str, Any]]]]) -> str:
    lines = []
    counts: Counter[tuple[str, str, str]] = Counter()
    wers: list[float] = []
    by_voice: dict[str, list[float]] = {}
    empty = 0
    with_alts = 0
    for split, (cs, ms) in cases.items():
        for c, m in zip(cs, ms, strict=True):
            counts[(split, c["phrasing"], c["noise"])] += 1
            wers.append(m["wer"])
            by_voice.setdefault(m["voice"], []).append(m["wer"])
            empty += c["transcript"] == ""
            with_alts += "alternatives" in c
    lines.append("split phrasing " + " ".join(NOISE_LABELS) + " total")
    for split in SPLITS:
        for ph in PHRASINGS:
            row = [counts[(split, ph, lab)] for lab in NOISE_LABELS]
            lines.append(f"{split} {ph} " + " ".join(map(str, row)) + f" {sum(row)}")
    lines.append(f"cases {len(wers)}, mean wer {sum(wers) / len(wers):.3f}, empty transcripts"
                 f" {empty}, with alternatives {with_alts}")
    for v, ws in by_voice.items():
        lines.append(f"voice {v}: mean wer {sum(ws) / len(ws):.3f}, exact"
                     f" {sum(w == 0 for w in ws)}/{len(ws)}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--check", action="store_true",
                   help="validate the TSV and the committed case files; do not decode")
    p.add_argument("--sample", type=int, metavar="N",
                   help="decode N utterances spread over the set, print timing, write nothing")
    p.add_argument("--cache", type=Path,
                   default=Path(tempfile.gettempdir()) / "en_asr_cache.jsonl",
                   help="decode results so far (a stopped run resumes from it)")
    p.add_argument("--log-every", type=int, default=50, help="progress line every N decodes")
    p.add_argument("--shard", metavar="K/N", default="0/1",
                   help="decode only every N-th missing utterance from the K-th (0-based) into"
                        " --cache and stop; concatenate the shards' caches and run again")
    args = p.parse_args(argv)
    k, _, n = args.shard.partition("/")
    if not (k.isdigit() and n.isdigit() and 0 <= int(k) < int(n)):
        p.error(f"--shard {args.shard!r}: want K/N with 0 <= K < N, e.g. 1/2")
    shard = (int(k), int(n))
    try:
        rows = read_phrasings()
    except Invalid as e:
        print("\n".join(e.errors), file=sys.stderr)
        return 1
    if args.check:
        errors = check_files(rows)
        if errors:
            print("\n".join(errors[:200]), file=sys.stderr)
            return 1
        print(f"ok: {len(rows)} phrasings x {len(VOICES)} voices")
        return 0
    print(json.dumps(tool_versions()), file=sys.stderr)
    if args.sample:
        with tempfile.TemporaryDirectory() as tmp:
            _, secs, n = decode_all(rows, Path(tmp) / "none.jsonl", args.sample, 1, False)
        full = len(rows) * len(VOICES)
        print(f"sample: {n} decodes in {secs:.1f} s = {secs / n:.2f} s each; estimated full run"
              f" {full} decodes = {secs / n * full / 60:.0f} min")
        return 0
    cache, secs, done = decode_all(rows, args.cache, None, args.log_every, True, shard)
    print(f"decoded {done} in {secs:.0f} s", file=sys.stderr)
    if shard != (0, 1):
        return 0
    cases = build_cases(rows, cache)
    for split, (cs, ms) in cases.items():
        cpath, mpath = case_paths(split)
        cpath.write_text(dump_jsonl(cs), encoding="utf-8")
        mpath.write_text(dump_jsonl(ms), encoding="utf-8")
    errors = check_files(rows)
    if errors:
        print("\n".join(errors[:200]), file=sys.stderr)
        return 1
    print(summarise(cases))
    return 0


if __name__ == "__main__":
    sys.exit(main())
