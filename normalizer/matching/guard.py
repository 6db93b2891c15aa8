"""The difference guard: would rewriting the transcript to this candidate change the request?

Embeddings cannot tell an ASR error from a different request: "打开书房的灯" and
"打开客厅的灯" are as close as "打开书房的等" and "打开书房的灯". But an ASR error keeps the
sound and breaks the meaning, while a different request keeps the form and changes the
content. The guard aligns the two texts (align.py) and judges every span where they differ:

1. **antonyms** block, even when they sound alike: on/off, open/close, 开/关, 上/下 ...
   (``ANTONYMS``, plus English un-/dis-/de-/non- prefixes and ``n't``);
2. **numbers** are slots: a span whose numbers differ blocks ("fifteen"/"fifty",
   "六点"/"七点"); the same number in another form is fine ("六点"/"6点", "twenty"/"20").
   A number word fused into a split word (``four cast``/``forecast``, ``some one``/
   ``someone``) is an ASR confusion, not a number;
3. **fillers and particles** are removed from both texts before aligning (``FILLERS``),
   so "今天天汽怎么样" vs "今天的天气怎么样" and "can you turn on the lights" vs
   "turn on lights" differ only by what is left;
4. every other differing span must be an **ASR confusion**: each substituted Chinese
   syllable in the same confusion class (``phonetic.tokens_confusable``: same pinyin once
   zh/z, ch/c, sh/s, n/l, r/l, -ng/-n are folded), each English word or split/merged word
   group with the same sound key. Anything else - a word added or dropped, a syllable
   with another sound (书房/客厅, 厨/书) - means the request differs: block.

A wrong rewrite is worse than no rewrite, so every rule errs towards blocking. Locales
other than ``zh-*`` and ``en-*`` fall back to exact (case-folded) words.

``prepare`` does the per-text work once (catalog texts at index load, the transcript once
per request). ``compare`` strips the common prefix and suffix, searches the rest for a path
made only of allowed moves (fast: most candidates fail on their first differing token), and
only when none exists aligns the difference (align.py) to name the span that blocks.
``phonetic_similarity`` compares the whole texts' sound keys, fillers and all, with each
number keyed by its value read aloud (so ``6点``/``六点`` and ``20``/``twenty`` sound alike).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from normalizer.matching.align import INDEL_COST, Edit, Span, align_range, differing_spans
from normalizer.matching.numbers import Number, collapse_numbers
from normalizer.matching.phonetic import (
    Kind,
    Lang,
    Token,
    join_surfaces,
    language,
    mergeable,
    phonetic_string,
    string_similarity,
    tokenize,
    tokens_confusable,
)

__all__ = ["ANTONYMS", "FILLERS", "Utterance", "Verdict", "compare", "prepare"]

# Fillers, hesitations, politeness and particles: removing them never changes the request.
# Matched on whole tokens (Chinese: characters; English: words), longest phrase first.
# Negations (不, 没, don't, not) are deliberately absent: they are content.
_ZH_FILLERS = (
    "嗯", "啊", "呃", "哦", "呀", "嘛", "啦", "哎",     # hesitations, interjections
    "那个", "就是",                                      # discourse fillers
    "的", "了", "吧", "呢", "吗",                        # particles ASR adds or drops
    "一下", "帮我", "请", "给我", "麻烦",                 # politeness
)
_EN_FILLERS = (
    "uh", "um", "er", "erm", "ah", "oh", "hmm",          # hesitations
    "like", "just", "hey",                               # discourse fillers
    "please", "can you", "could you", "would you", "will you",   # politeness
    "the", "a", "an",                                    # articles ASR adds or drops
)
FILLERS: dict[Lang, tuple[tuple[str, ...], ...]] = {
    "zh": tuple(tuple(phrase) for phrase in _ZH_FILLERS),
    "en": tuple(tuple(phrase.split()) for phrase in _EN_FILLERS),
    "other": (),
}

# Filler phrases by first token, longest first.
_FILLER_INDEX: dict[Lang, dict[str, tuple[tuple[str, ...], ...]]] = {
    lang: {
        first: tuple(sorted((p for p in phrases if p[0] == first), key=len, reverse=True))
        for first in {p[0] for p in phrases}
    }
    for lang, phrases in FILLERS.items()
}

# Pairs that sound alike often enough, or matter enough, to block explicitly.
_ZH_ANTONYMS = (
    ("开", "关"), ("打开", "关闭"), ("打开", "关掉"), ("开启", "关闭"), ("启动", "停止"),
    ("大", "小"), ("高", "低"), ("上", "下"), ("前", "后"), ("左", "右"), ("加", "减"),
    ("增加", "减少"), ("升", "降"), ("快", "慢"), ("多", "少"), ("进", "出"),
    ("亮", "暗"), ("冷", "热"), ("长", "短"), ("强", "弱"), ("开始", "结束"),
    ("开始", "停止"), ("播放", "暂停"), ("来", "去"), ("是", "否"), ("有", "没"),
)
_EN_ANTONYMS = (
    ("on", "off"), ("open", "close"), ("opened", "closed"), ("up", "down"), ("in", "out"),
    ("start", "stop"), ("enable", "disable"), ("lock", "unlock"), ("mute", "unmute"),
    ("increase", "decrease"), ("raise", "lower"), ("higher", "lower"), ("high", "low"),
    ("more", "less"), ("next", "previous"), ("next", "last"), ("hot", "cold"),
    ("warmer", "cooler"), ("add", "remove"), ("show", "hide"), ("play", "pause"),
    ("yes", "no"), ("left", "right"), ("before", "after"), ("max", "min"),
    ("maximum", "minimum"), ("louder", "quieter"), ("louder", "softer"),
    ("brighter", "dimmer"), ("forward", "backward"), ("forward", "back"),
    ("activate", "deactivate"), ("connect", "disconnect"), ("arm", "disarm"),
    ("all", "none"),
)
ANTONYMS: dict[Lang, tuple[tuple[str, str], ...]] = {
    "zh": _ZH_ANTONYMS,
    "en": _EN_ANTONYMS,
    "other": (),
}


def _opposites(pairs: Sequence[tuple[str, str]]) -> dict[str, frozenset[str]]:
    table: dict[str, set[str]] = {}
    for x, y in pairs:
        table.setdefault(x, set()).add(y)
        table.setdefault(y, set()).add(x)
    return {word: frozenset(opposite) for word, opposite in table.items()}


_OPPOSITES: dict[Lang, dict[str, frozenset[str]]] = {
    lang: _opposites(pairs) for lang, pairs in ANTONYMS.items()
}
_EN_NEGATING_PREFIXES = frozenset(("un", "dis", "de", "non"))
# Longest antonym phrase, in tokens (打开/关闭: 2 characters).
_ANTONYM_MAX_TOKENS = 2
# Moves of the allowed-path search: 1-1, then 2-1 and 1-2 (split/merged Latin words).
_MOVES = ((1, 1), (2, 1), (1, 2))
# Beyond this many alignment cells a blocked pair is reported without naming the span.
_ALIGN_FOR_REASON_MAX_CELLS = 16


@dataclass(frozen=True)
class Utterance:
    """A text prepared once for comparison."""

    text: str
    locale: str
    lang: Lang
    tokens: tuple[Token, ...]            # all tokens, numbers collapsed to Kind.NUM
    content: tuple[Token, ...]           # tokens without fillers: what gets aligned
    numbers: tuple[Number | None, ...]   # the Number of each content token (None if not one)
    fillers: tuple[str, ...]             # the filler phrases removed, in order
    phonetic: str                        # concatenated sound of all tokens
    content_key: str                     # content surfaces joined: equal = same content
    surfaces: tuple[str, ...]            # surface of each content token
    latin: tuple[bool, ...]              # content tokens that can split/merge (Latin, numbers)


@dataclass(frozen=True)
class Verdict:
    allowed: bool                 # False = the candidate would change the request's meaning
    phonetic_similarity: float    # in [0, 1], 1 = sounds the same
    reason: str                   # human-readable, names the spans


def prepare(text: str, locale: str) -> Utterance:
    """Tokenize, read numbers, remove fillers: everything ``compare`` needs, done once."""
    lang = language(locale)
    tokens, numbers = collapse_numbers(tokenize(text, lang), lang)
    content: list[Token] = []
    content_numbers: list[Number | None] = []
    fillers: list[str] = []
    i = 0
    while i < len(tokens):
        length = _filler_at(tokens, i, lang)
        if length:
            fillers.append(join_surfaces(tokens[i:i + length]))
            i += length
            continue
        content.append(tokens[i])
        content_numbers.append(numbers[i])
        i += 1
    return Utterance(
        text=text,
        locale=locale,
        lang=lang,
        tokens=tokens,
        content=tuple(content),
        numbers=tuple(content_numbers),
        fillers=tuple(fillers),
        phonetic=phonetic_string(tokens),
        content_key="\x1f".join(t.surface for t in content),
        surfaces=tuple(t.surface for t in content),
        latin=tuple(mergeable(t) for t in content),
    )


def _filler_at(tokens: Sequence[Token], i: int, lang: Lang) -> int:
    """Length of the longest filler phrase starting at token ``i`` (0 if none)."""
    tok = tokens[i]
    if tok.kind is not Kind.HAN and tok.kind is not Kind.WORD:
        return 0
    for phrase in _FILLER_INDEX[lang].get(tok.surface, ()):
        size = len(phrase)
        if i + size <= len(tokens) and all(
            tokens[i + k].kind in (Kind.HAN, Kind.WORD) and tokens[i + k].surface == phrase[k]
            for k in range(1, size)
        ):
            return size
    return 0


def compare(transcript: Utterance, candidate: Utterance) -> Verdict:
    """Would rewriting ``transcript`` to ``candidate`` keep the request? See the module doc.

    The common prefix and suffix are stripped; a depth-first search then looks for a way
    through the rest made only of allowed moves (1-1, and for Latin words 2-1 and 1-2, each
    an ASR confusion or the same number). Only when none exists is the difference aligned
    (align.py) to name the span that blocks.
    """
    t, c = transcript, candidate
    sim = string_similarity(t.phonetic, c.phonetic)
    if t.lang != c.lang:
        same = t.content_key == c.content_key
        return Verdict(same, sim, "same words" if same else "different languages")
    notes: list[tuple[str, str]] = []
    if t.content_key != c.content_key:
        a, b = t.surfaces, c.surfaces
        n, m = len(a), len(b)
        p = 0
        while p < n and p < m and a[p] == b[p]:
            p += 1
        s = 0
        while s < n - p and s < m - p and a[n - 1 - s] == b[m - 1 - s]:
            s += 1
        search = _Search(t, c, n - s, m - s)
        if not search.walk(p, p):
            return Verdict(False, sim, _block_reason(search, p, p))
        notes = search.notes
    filler_note = _filler_note(t.fillers, c.fillers)
    if filler_note:
        notes.append(("filler", filler_note))
    return Verdict(True, sim, _format_notes(notes) if notes else "identical")


def _format_notes(notes: Sequence[tuple[str, str]]) -> str:
    grouped: dict[str, list[str]] = {}
    for kind, detail in notes:
        grouped.setdefault(kind, []).append(detail)
    return "; ".join(f"{kind}: {', '.join(details)}" for kind, details in grouped.items())


def _filler_note(a: Sequence[str], b: Sequence[str]) -> str:
    if a == b:
        return ""
    ca, cb = Counter(a), Counter(b)
    changed = (ca - cb) + (cb - ca)
    return ", ".join(f"'{f}'" for f in sorted(changed))


class _Search:
    """Depth-first search for a path of allowed moves from (i, j) to (a_end, b_end)."""

    __slots__ = ("a_end", "b_end", "c", "deepest", "failed", "notes", "t")

    def __init__(self, t: Utterance, c: Utterance, a_end: int, b_end: int) -> None:
        self.t, self.c = t, c
        self.a_end, self.b_end = a_end, b_end
        self.failed: set[tuple[int, int]] = set()
        self.notes: list[tuple[str, str]] = []
        self.deepest = (-1, -1)

    def walk(self, i: int, j: int) -> bool:
        if i == self.a_end and j == self.b_end:
            return True
        if (i, j) in self.failed:
            return False
        if i + j > sum(self.deepest):
            self.deepest = (i, j)
        t, c = self.t, self.c
        for di, dj in _MOVES:
            if i + di > self.a_end or j + dj > self.b_end:
                continue
            if (di > 1 or dj > 1) and not (all(t.latin[i:i + di]) and all(c.latin[j:j + dj])):
                continue
            ok, kind, detail = _edit(t, c, i, i + di, j, j + dj, detail=False)
            if not ok:
                continue
            if kind:
                self.notes.append((kind, detail))
            if self.walk(i + di, j + dj):
                return True
            if kind:
                self.notes.pop()
        self.failed.add((i, j))
        return False


def _edit(
    t: Utterance, c: Utterance, i0: int, i1: int, j0: int, j1: int, detail: bool = True
) -> tuple[bool, str, str]:
    """Judge ``a[i0:i1]`` against ``b[j0:j1]``: (allowed, kind of note or reason, detail).

    With ``detail=False`` a refused edit comes back without its (costly) text.
    """
    if i1 - i0 == 1 and j1 - j0 == 1:
        if t.surfaces[i0] == c.surfaces[j0]:
            return True, "", ""
        if t.numbers[i0] is None and c.numbers[j0] is None and not detail and not (
            tokens_confusable(t.content[i0:i1], c.content[j0:j1])
        ):
            return False, "slot differs", ""
    ea = t.content[i0:i1]
    eb = c.content[j0:j1]
    na = [n for n in t.numbers[i0:i1] if n is not None]
    nb = [n for n in c.numbers[j0:j1] if n is not None]
    if na or nb:
        if len(na) == len(nb) and all(x.same_as(y) for x, y in zip(na, nb, strict=True)):
            if len(ea) == len(eb) == 1:
                return True, "number format", _pair(ea, eb, "~")
        elif not (na and nb) and _fused_number(ea, eb, na, nb):
            return True, "asr confusion", _pair(ea, eb, "~")
        else:
            text = f"{_numbers_text(na)} vs {_numbers_text(nb)}" if detail else ""
            return False, "number differs", text
    if not eb:
        return False, "dropped words", f"'{join_surfaces(ea)}'" if detail else ""
    if not ea:
        return False, "added words", f"'{join_surfaces(eb)}'" if detail else ""
    if not tokens_confusable(ea, eb):
        return False, "slot differs", _pair(ea, eb, " vs ") if detail else ""
    antonym = _antonym(ea, eb, t.lang)
    if antonym is not None:
        return False, "antonym", f"'{antonym[0]}' vs '{antonym[1]}'"
    return True, "asr confusion", _pair(ea, eb, "~")


def _pair(a: Sequence[Token], b: Sequence[Token], sep: str) -> str:
    return f"'{join_surfaces(a)}'{sep}'{join_surfaces(b)}'"


def _block_reason(search: _Search, a0: int, b0: int) -> str:
    """Name what blocks: align the difference (or what is left of it past the furthest point
    the search reached) when it is small, else name the rest as a whole."""
    t, c = search.t, search.c
    a1, b1 = search.a_end, search.b_end
    reason = _reason_in(t, c, a0, a1, b0, b1)
    if reason is not None:
        return reason
    i, j = search.deepest
    if (i, j) != (a0, b0):
        reason = _reason_in(t, c, i, a1, j, b1)
        if reason is not None:
            return reason
    antonym = _antonym(t.content[i:a1], c.content[j:b1], t.lang)
    if antonym is not None:
        return f"antonym: '{antonym[0]}' vs '{antonym[1]}'"
    if i < a1 and j < b1:
        ok, kind, detail = _edit(t, c, i, i + 1, j, j + 1)
        if not ok and kind == "number differs":
            return f"{kind}: {detail}"
    return f"slot differs: {_pair(t.content[i:a1], c.content[j:b1], ' vs ')}"


def _reason_in(t: Utterance, c: Utterance, a0: int, a1: int, b0: int, b1: int) -> str | None:
    """The block reason within ``a[a0:a1]``/``b[b0:b1]`` if it is small enough to align."""
    n, m = a1 - a0, b1 - b0
    if n == 0 or m == 0:
        edits = [Edit(a0, a1, b0, b1, INDEL_COST)]
    elif n == m:
        # same length: the diagonal is the alignment a slot substitution has
        edits = [Edit(a0 + k, a0 + k + 1, b0 + k, b0 + k + 1, 0.0) for k in range(n)]
    elif n * m <= _ALIGN_FOR_REASON_MAX_CELLS:
        edits = align_range(t.content, c.content, a0, a1, b0, b1)
    else:
        return None
    for span in differing_spans(t.content, c.content, edits):
        reason = _judge(span, t, c)
        if reason is not None:
            return reason
    return None


def _judge(span: Span, t: Utterance, c: Utterance) -> str | None:
    """The block reason of one differing span, or None if every edit in it is allowed.

    A differing number is named as such; otherwise the first run of consecutive refused
    edits is named: words only on one side are "added"/"dropped", else "slot differs".
    """
    a_toks = t.content[span.a_start:span.a_end]
    b_toks = c.content[span.b_start:span.b_end]
    antonym = _antonym(a_toks, b_toks, t.lang)
    if antonym is not None:
        return f"antonym: '{antonym[0]}' vs '{antonym[1]}'"
    run: list[Edit] = []
    for e in (*span.edits, None):
        if e is not None:
            ok, kind, detail = _edit(t, c, e.a_start, e.a_end, e.b_start, e.b_end)
            if kind == "number differs":
                return f"{kind}: {detail}"
            if not ok:
                run.append(e)
                continue
        if run:
            ra = t.content[run[0].a_start:run[-1].a_end]
            rb = c.content[run[0].b_start:run[-1].b_end]
            if not rb:
                return f"dropped words: '{join_surfaces(ra)}'"
            if not ra:
                return f"added words: '{join_surfaces(rb)}'"
            antonym = _antonym(ra, rb, t.lang)
            if antonym is not None:
                return f"antonym: '{antonym[0]}' vs '{antonym[1]}'"
            return f"slot differs: {_pair(ra, rb, ' vs ')}"
    return None


def _fused_number(
    ea: Sequence[Token], eb: Sequence[Token], na: Sequence[Number], nb: Sequence[Number]
) -> bool:
    """A number word that is only a piece of a split word: ``four cast``/``forecast``."""
    with_number, other = (ea, eb) if na else (eb, ea)
    return len(with_number) >= 2 and len(other) == 1 and tokens_confusable(ea, eb)


def _numbers_text(numbers: Sequence[Number]) -> str:
    return ", ".join(str(n) for n in numbers) if numbers else "none"


def _antonym(a: Sequence[Token], b: Sequence[Token], lang: Lang) -> tuple[str, str] | None:
    """An antonym pair between the two sides (whole spans, then single tokens), or None."""
    if not a or not b:
        return None
    opposites = _OPPOSITES[lang]
    if len(a) <= _ANTONYM_MAX_TOKENS and len(b) <= _ANTONYM_MAX_TOKENS:
        whole_a, whole_b = join_surfaces(a), join_surfaces(b)
        if whole_b in opposites.get(whole_a, ()):
            return whole_a, whole_b
    b_words = {t.surface for t in b}
    for x in a:
        for y in opposites.get(x.surface, ()):
            if y in b_words:
                return x.surface, y
    if lang == "en":
        a_words = {t.surface for t in a}
        for word in a_words:
            for other in _negated_forms(word, b_words):
                return word, other
        for word in b_words:
            for other in _negated_forms(word, a_words):
                return other, word
    return None


def _negated_forms(word: str, others: set[str]) -> list[str]:
    """Words of ``others`` that ``word`` negates by form: ``unlock`` -> lock, ``isn't`` -> is."""
    found = [word[len(p):] for p in _EN_NEGATING_PREFIXES
             if word.startswith(p) and word[len(p):] in others]
    if word.endswith("n't"):
        found.extend(w for w in (word[:-3], word[:-2]) if w in others)
    return found
