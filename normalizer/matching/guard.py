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

Narrow leniencies on top (each keeps slots, numbers and antonyms blocking):

* **optional words** (``OPTIONAL_WORDS``: English to/for/my/me/is/are/it, Chinese 把) stay
  content, so a homophone of one aligns as a confusion (too/to, 罢/把), but the search may
  also drop one on either side ("take home" / "take me home");
* zh multi-character fillers also match a homophone (一夏 = 一下, 班我 = 帮我), 得/地 read
  ``de`` are the particle 的;
* a number read from exactly the words the other side has (一点 after 调消 reads as 1
  o'clock, after 调小 as "a bit") is the same words, not a different number;
* with a catalog **vocabulary** (``prepare(..., vocabulary=vocabulary(texts, locale))`` on
  the candidate), an English word outside it may be a vowel-only misspelling of the
  candidate's word when its key has 4+ symbols (melk/milk, tern/turn; not dan/don), or a
  dropped made-up spelling of a function word (mi, mai, his, fer);
* a ``Vocabulary`` (what ``vocabulary()`` returns) also counts the catalog texts holding
  each word. A **carrier** (in ``CARRIER_MIN_SHARE`` of the texts: set, turn, call, play,
  what, do, lights, timer, music ...) is no slot value, so an out-of-vocabulary transcript
  word may stand for it when it sounds close (``phonetic.confusion_cost``: sit/set,
  cole/call, pray/play, term/turn, likes/lights, magic/music; up to 1 from 4-symbol keys,
  below 1 for shorter ones, so tom/mom and pay/play stay apart), is a regular inflection of
  it (played/play, alarmed/alarms) or has an article glued on (setan). A **fixed** word
  (in CARRIER_MIN_TEXTS+ texts, but with at most ``FIXED_MAX_PARTNERS`` words the catalog
  puts in its place: tell, time, rain, news, song, traffic, home) admits only the closest
  confusions (cost <= 0.5, 3+ symbols: rein/rain, thyme/time, nose/news). Slot values come
  in paradigms (mom/dad/wife, kitchen/bedroom/study) and get neither. Never numbers,
  protected words (on/off/of/up/down/in/out/open/close/not ...), or a transcript word of
  the catalog. With a vocabulary, "you are"/"your", "gonna"/"going to", "wanna"/"want to"
  and "gotta"/"got to" are one sound.

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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType

from normalizer.matching.align import INDEL_COST, Edit, Span, align_range, differing_spans
from normalizer.matching.numbers import Number, collapse_numbers
from normalizer.matching.phonetic import (
    Kind,
    Lang,
    Token,
    confusion_cost,
    consonant_skeleton,
    english_key,
    join_surfaces,
    language,
    mergeable,
    phonetic_string,
    string_similarity,
    tokenize,
    tokens_confusable,
    vowel_variant,
)

__all__ = [
    "ANTONYMS", "CARRIER_MIN_SHARE", "CARRIER_MIN_TEXTS", "FILLERS", "FIXED_MAX_PARTNERS",
    "OPTIONAL_WORDS",
    "Utterance", "Verdict", "Vocabulary", "compare", "prepare", "vocabulary",
]

# Fillers, hesitations, politeness and particles: removing them never changes the request.
# Matched on whole tokens (Chinese: characters; English: words), longest phrase first.
# Negations (不, 没, don't, not) are deliberately absent: they are content.
_ZH_FILLERS = (
    "嗯", "啊", "呃", "哦", "呀", "嘛", "啦", "哎",     # hesitations, interjections
    "那个", "就是",                                      # discourse fillers
    "的", "了", "吧", "呢", "吗",                        # particles ASR adds or drops
    "一下", "帮我", "请", "给我", "麻烦",                 # politeness
)
# Multi-character fillers also match a homophone (folded syllable keys): the recogniser
# writes 一夏/一吓 for 一下, 班我 for 帮我, 就司 for 就是, 辣个 for 那个. These sound-alikes
# are not: 哪个 (which one) is a question, not the filler 那个.
_ZH_SOUND_FILLER_EXCLUDED = frozenset(("哪个",))
# 得 and 地 read "de" are the particle 的 written with a homophone (关闭所有得灯); read
# otherwise (地图 di, 得 dei) they are words.
_ZH_DE_HOMOPHONES = frozenset(("得", "地"))
_EN_FILLERS = (
    "uh", "um", "er", "erm", "ah", "oh", "hmm",          # hesitations
    "like", "just", "hey",                               # discourse fillers
    "please", "can you", "could you", "would you", "will you",   # politeness
    "okay", "ok", "thanks", "thank you",                 # politeness
    "the", "a", "an",                                    # articles ASR adds or drops
    "duh", "da", "thuh",                                 # ... and spells for "the"
)
FILLERS: dict[Lang, tuple[tuple[str, ...], ...]] = {
    "zh": tuple(tuple(phrase) for phrase in _ZH_FILLERS),
    "en": tuple(tuple(phrase.split()) for phrase in _EN_FILLERS),
    "other": (),
}

# zh filler phrases of 2+ characters by the folded key of their first syllable.
_ZH_SOUND_FILLERS: dict[str, tuple[tuple[str, ...], ...]] = {}
for _phrase in _ZH_FILLERS:
    if len(_phrase) >= 2:
        _keys = tuple(t.key for t in tokenize(_phrase, "zh"))
        _ZH_SOUND_FILLERS[_keys[0]] = (*_ZH_SOUND_FILLERS.get(_keys[0], ()), _keys)

# English function words whose misspellings the guard may drop when the recogniser made them
# up (a word outside the catalog's vocabulary): "mi"/"mai" (my), "his"/"as" (is), "fer" (for).
_EN_FUNCTION_WORDS = ("the", "a", "an", "to", "for", "my", "me", "is", "are", "it")
_EN_FUNCTION_SKELETONS = frozenset(
    consonant_skeleton(english_key(w)) for w in _EN_FUNCTION_WORDS) - {""}
# An out-of-vocabulary word may stand for a catalog word with other vowels ("melk"/"milk",
# "tern"/"turn") only from this many key symbols on: short keys are names (dan/don, sun/son).
_OOV_VOWEL_VARIANT_MIN_KEY = 4
# Never lenient: particles and verbs whose change is a different request.
_EN_PROTECTED = frozenset(("on", "off", "of", "up", "down", "in", "out", "open", "close",
                           "not", "no", "yes"))

# Carrier words: the words a query family shares ("set a timer", "turn on the", "call",
# "play", "what is") are in many catalog texts; slot values (dad, bedroom, milk, jazz,
# chicago) are in few. In the shipped en-US catalog (519 texts) the most frequent slot value
# is "mom" (14 texts, 2.7%); the carriers set/turn/what/lights/timer/my/do/play/call/alarm/
# volume/music are in 16 to 93. A word is a carrier from this share of the texts on, and
# from CARRIER_MIN_TEXTS texts (small catalogs).
CARRIER_MIN_SHARE = 0.03
CARRIER_MIN_TEXTS = 3
# Slot values come in paradigms: the catalog holds the same text with another value in
# their place ("call mom"/"call dad", "kitchen"/"bedroom" lights: 3+ such partners each).
# A word of CARRIER_MIN_TEXTS+ texts with at most this many partners is fixed phrasing
# ("tell me a joke", "what time is it", "is it going to rain", "stop navigation") and
# admits the closest confusions (``_FIXED_MAX_COST``) from 3-symbol keys on.
FIXED_MAX_PARTNERS = 1
_FIXED_MAX_COST = 0.5
_FIXED_MIN_KEY = 3
# How far (``phonetic.confusion_cost``) an out-of-vocabulary word may sound from a carrier:
# up to 1 when both keys have 4+ symbols (term/turn 0.75, stomp/stop 1), below 1 for
# shorter keys (sit/set, cole/call, pray/play, but not tom/mom or pay/play: one whole
# consonant added or changed in a short word is another word).
_CARRIER_MAX_COST = 1.0
_CARRIER_MAX_COST_SHORT = 0.75
_CARRIER_LONG_KEY = 4
# Regular inflections: an out-of-vocabulary "played"/"alarmed" is the carrier "play"/
# "alarm(s)" when the stems agree (3+ letters).
_EN_INFLECTIONS = ("ing", "ed", "es", "s", "d")
_INFLECTION_MIN_STEM = 3
# Articles the recogniser glues onto a carrier ("setan alarm" = "set an alarm").
_EN_GLUED_ARTICLES = ("an", "a", "the", "da")
# Spellings of one sound in other words: contractions and their homophones. Applied, like
# every vocabulary rule, only when a vocabulary is known.
_EN_SAME_SOUND_PHRASES: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (("you", "are"), ("your",)),          # "you're" spelt out by the tokenizer
    (("gonna",), ("going", "to")),
    (("wanna",), ("want", "to")),
    (("gotta",), ("got", "to")),
)

# Optional words: content (they align, and a homophone of one is an ASR confusion: too/to,
# 罢/把), but the search may drop one on either side. English function words ASR adds or
# drops ("add eggs the list", "take home", "what reminders"); never on/off/of/up/down/in/
# out/open/close, which are content. Chinese 把, the disposal particle (把灯关了 = 灯关了).
OPTIONAL_WORDS: dict[Lang, frozenset[str]] = {
    "zh": frozenset(("把",)),
    "en": frozenset(("to", "for", "my", "me", "is", "are", "it")),
    "other": frozenset(),
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
# A number read from words spans at most this many tokens (一点, 一 点 ...).
_NUMBER_READING_MAX_TOKENS = 4
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
    optional: tuple[bool, ...]           # content tokens the search may drop (OPTIONAL_WORDS)
    # The catalog's words for this locale (``vocabulary()``), or None: unknown. When the
    # candidate (or else the transcript) carries one, a transcript word outside it is taken
    # for ASR noise in a few narrow cases (see the module doc). A plain frozenset knows no
    # carriers; a ``Vocabulary`` does.
    vocabulary: frozenset[str] | None = None


@dataclass(frozen=True)
class Verdict:
    allowed: bool                 # False = the candidate would change the request's meaning
    phonetic_similarity: float    # in [0, 1], 1 = sounds the same
    reason: str                   # human-readable, names the spans


class Vocabulary(frozenset[str]):
    """The words of a catalog (a frozenset of token surfaces) with, for each, the number of
    catalog texts that hold it (``counts``), and the ``carriers``: the words in at least
    ``CARRIER_MIN_SHARE`` of the texts (and ``CARRIER_MIN_TEXTS``)."""

    counts: Mapping[str, int]
    texts: int
    carriers: frozenset[str]
    fixed: frozenset[str]

    def __new__(cls, counts: Mapping[str, int], texts: int,
                partners: Mapping[str, int] | None = None) -> Vocabulary:
        self = super().__new__(cls, counts)
        self.counts = MappingProxyType(dict(counts))
        self.texts = texts
        floor = max(CARRIER_MIN_TEXTS, CARRIER_MIN_SHARE * texts)
        self.carriers = frozenset(w for w, n in counts.items() if n >= floor)
        self.fixed = frozenset() if partners is None else frozenset(
            w for w, n in counts.items()
            if CARRIER_MIN_TEXTS <= n < floor and partners.get(w, 0) <= FIXED_MAX_PARTNERS)
        return self


def vocabulary(texts: Iterable[str], locale: str) -> Vocabulary:
    """The words of a locale's catalog texts and how many texts hold each, for
    ``prepare(vocabulary=)``."""
    lang = language(locale)
    counts: Counter[str] = Counter()
    size = 0
    holes: dict[tuple[tuple[str, ...], tuple[str, ...]], set[str]] = {}
    for text in texts:
        words = tuple(tok.surface for tok in tokenize(text, lang))
        counts.update(set(words))
        size += 1
        for k, word in enumerate(words):
            holes.setdefault((words[:k], words[k + 1:]), set()).add(word)
    partners: dict[str, set[str]] = {}
    for filled in holes.values():
        for word in filled:
            partners.setdefault(word, set()).update(filled - {word})
    return Vocabulary(counts, size, {w: len(p) for w, p in partners.items()})


def prepare(text: str, locale: str, vocabulary: frozenset[str] | None = None) -> Utterance:
    """Tokenize, read numbers, remove fillers: everything ``compare`` needs, done once.

    ``vocabulary`` (``guard.vocabulary(catalog_texts, locale)``) is stored on the utterance;
    pass it when preparing catalog texts. None (the default) keeps every rule strict.
    """
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
        optional=tuple(t.surface in OPTIONAL_WORDS[lang] and t.kind is not Kind.NUM
                       for t in content),
        vocabulary=vocabulary,
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
    if lang == "zh" and tok.kind is Kind.HAN:
        if tok.surface in _ZH_DE_HOMOPHONES and tok.raw == "de":
            return 1
        for keys in _ZH_SOUND_FILLERS.get(tok.key, ()):
            size = len(keys)
            if i + size <= len(tokens) and all(
                tokens[i + k].kind is Kind.HAN and tokens[i + k].key == keys[k]
                for k in range(1, size)
            ) and join_surfaces(tokens[i:i + size]) not in _ZH_SOUND_FILLER_EXCLUDED:
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
        known = c.vocabulary if c.vocabulary is not None else t.vocabulary
        search = _Search(t, c, n - s, m - s, known if t.lang == "en" else None)
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

    __slots__ = ("a_end", "b_end", "c", "deepest", "failed", "known", "notes", "t")

    def __init__(self, t: Utterance, c: Utterance, a_end: int, b_end: int,
                 known: frozenset[str] | None = None) -> None:
        self.t, self.c = t, c
        self.a_end, self.b_end = a_end, b_end
        self.known = known
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
            ok, kind, detail = _edit(t, c, i, i + di, j, j + dj, detail=False,
                                     known=self.known)
            if ok and self._take(i + di, j + dj, kind, detail):
                return True
        for di, dj, kind, detail in self._extra_moves(i, j):
            if self._take(i + di, j + dj, kind, detail):
                return True
        self.failed.add((i, j))
        return False

    def _take(self, i: int, j: int, kind: str, detail: str) -> bool:
        if kind:
            self.notes.append((kind, detail))
        if self.walk(i, j):
            return True
        if kind:
            self.notes.pop()
        return False

    def _extra_moves(self, i: int, j: int) -> list[tuple[int, int, str, str]]:
        """Moves beyond 1-1/2-1/1-2: a number read from the very words the other side has
        (一点 after 调消 is "one o'clock", after 调小 "a bit": the same words either way),
        dropping an optional word, and, with a vocabulary, a made-up spelling of a function
        word (mi, mai)."""
        t, c = self.t, self.c
        moves: list[tuple[int, int, str, str]] = []
        if i < self.a_end and j < self.b_end:
            if t.numbers[i] is not None and c.numbers[j] is None:
                k = _same_words(t.surfaces[i], c, j, self.b_end)
                if k:
                    moves.append((1, k, "number reading", f"'{t.surfaces[i]}'"))
            elif c.numbers[j] is not None and t.numbers[i] is None:
                k = _same_words(c.surfaces[j], t, i, self.a_end)
                if k:
                    moves.append((k, 1, "number reading", f"'{c.surfaces[j]}'"))
        known = self.known
        if known is not None:
            for x, y in _EN_SAME_SOUND_PHRASES:
                for pa, pb in ((x, y), (y, x)):
                    if (t.surfaces[i:i + len(pa)] == pa and c.surfaces[j:j + len(pb)] == pb
                            and i + len(pa) <= self.a_end and j + len(pb) <= self.b_end):
                        moves.append((len(pa), len(pb), "asr confusion",
                                      f"'{' '.join(pa)}'~'{' '.join(pb)}'"))
        if i < self.a_end and (t.optional[i] or (
                known is not None and _made_up_function_word(t.content[i], known))):
            moves.append((1, 0, "optional word", f"'{t.surfaces[i]}'"))
        if j < self.b_end and (c.optional[j] or (
                known is not None and _made_up_function_word(c.content[j], known))):
            moves.append((0, 1, "optional word", f"'{c.surfaces[j]}'"))
        return moves


def _same_words(text: str, u: Utterance, j: int, end: int) -> int:
    """How many word tokens of ``u`` from ``j`` spell ``text`` exactly (none a number), or 0."""
    spelt = ""
    for k in range(j, min(end, j + _NUMBER_READING_MAX_TOKENS)):
        if u.numbers[k] is not None:
            return 0
        spelt = join_surfaces(u.content[j:k + 1])
        if spelt == text:
            return k + 1 - j
        if not text.startswith(spelt):
            return 0
    return 0


def _made_up_function_word(tok: Token, known: frozenset[str]) -> bool:
    """A word outside the catalog's vocabulary that is a function word with other vowels
    (``mi``/``mai`` for my, ``fer`` for for) or a dropped h (``his`` for is)."""
    if tok.kind is not Kind.WORD or tok.surface in known or tok.surface in _EN_PROTECTED:
        return False
    skeleton = consonant_skeleton(tok.key)
    return skeleton in _EN_FUNCTION_SKELETONS or (
        skeleton.startswith("H") and skeleton[1:] in _EN_FUNCTION_SKELETONS)


def _oov_vowel_variant(a: Token, b: Token, known: frozenset[str]) -> bool:
    """One word outside the catalog's vocabulary, the other the same consonants with other
    vowels (``melk``/``milk``, ``tern``/``turn``): the recogniser's spelling, not a slot."""
    return (
        a.kind is Kind.WORD and b.kind is Kind.WORD
        and (a.surface not in known or b.surface not in known)
        and a.surface not in _EN_PROTECTED and b.surface not in _EN_PROTECTED
        and len(a.key) >= _OOV_VOWEL_VARIANT_MIN_KEY
        and vowel_variant(a.key, b.key)
    )


def _carrier_confusion(a: Token, b: Token, known: frozenset[str]) -> bool:
    """A transcript word ``a`` outside the catalog's vocabulary for a carrier word ``b`` of
    the catalog (``Vocabulary.carriers``): it sounds close (``confusion_cost``), is an
    inflection of it (played/play, alarmed/alarms), or is it with an article glued on
    (setan); or for a fixed word (``Vocabulary.fixed``) that it sounds very close to.
    Never for protected words; numbers never reach here (``_edit`` checks them first)."""
    if a.surface in known or not isinstance(known, Vocabulary):
        return False
    carriers = known.carriers
    if (a.kind is not Kind.WORD or b.kind is not Kind.WORD
            or a.surface in _EN_PROTECTED or b.surface in _EN_PROTECTED):
        return False
    stem = _stem(b.surface)
    if (stem in carriers or b.surface in carriers) and len(stem) >= _INFLECTION_MIN_STEM \
            and _stem(a.surface) == stem:
        return True      # an inflection: played/play, alarmed/alarms (of the carrier alarm)
    shortest = min(len(a.key), len(b.key))
    if b.surface in known.fixed:
        return shortest >= _FIXED_MIN_KEY and confusion_cost(a.key, b.key) <= _FIXED_MAX_COST
    if b.surface not in carriers:
        return False
    limit = _CARRIER_MAX_COST if shortest >= _CARRIER_LONG_KEY else _CARRIER_MAX_COST_SHORT
    if shortest and confusion_cost(a.key, b.key) <= limit:
        return True
    return any(a.surface == b.surface + article for article in _EN_GLUED_ARTICLES)


@lru_cache(maxsize=16384)
def _stem(word: str) -> str:
    """``word`` without one regular suffix (-ing, -ed, -es, -s, -d), a doubled final
    consonant undone: played -> play, stopped -> stop, alarms -> alarm."""
    for suffix in _EN_INFLECTIONS:
        if word.endswith(suffix) and len(word) - len(suffix) >= _INFLECTION_MIN_STEM:
            stem = word[:-len(suffix)]
            if len(stem) >= 2 and stem[-1] == stem[-2] and stem[-1] not in "aeiousl":
                stem = stem[:-1]
            return stem
    return word


def _edit(
    t: Utterance, c: Utterance, i0: int, i1: int, j0: int, j1: int, detail: bool = True,
    known: frozenset[str] | None = None,
) -> tuple[bool, str, str]:
    """Judge ``a[i0:i1]`` against ``b[j0:j1]``: (allowed, kind of note or reason, detail).

    With ``detail=False`` a refused edit comes back without its (costly) text. ``known``
    (the catalog vocabulary, English only) admits ``_oov_vowel_variant`` substitutions.
    """
    variant = False
    if i1 - i0 == 1 and j1 - j0 == 1:
        if t.surfaces[i0] == c.surfaces[j0]:
            return True, "", ""
        if t.numbers[i0] is None and c.numbers[j0] is None and not (
            tokens_confusable(t.content[i0:i1], c.content[j0:j1])
        ):
            variant = known is not None and (
                _oov_vowel_variant(t.content[i0], c.content[j0], known)
                or _carrier_confusion(t.content[i0], c.content[j0], known))
            if not variant and not detail:
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
    if not variant and not tokens_confusable(ea, eb):
        return False, "slot differs", _pair(ea, eb, " vs ") if detail else ""
    antonym = _antonym(ea, eb, t.lang)
    if antonym is not None:
        return False, "antonym", f"'{antonym[0]}' vs '{antonym[1]}'"
    return True, "asr noise" if variant else "asr confusion", _pair(ea, eb, "~")


def _pair(a: Sequence[Token], b: Sequence[Token], sep: str) -> str:
    return f"'{join_surfaces(a)}'{sep}'{join_surfaces(b)}'"


def _block_reason(search: _Search, a0: int, b0: int) -> str:
    """Name what blocks: align the difference (or what is left of it past the furthest point
    the search reached) when it is small, else name the rest as a whole."""
    t, c = search.t, search.c
    a1, b1 = search.a_end, search.b_end
    known = search.known
    reason = _reason_in(t, c, a0, a1, b0, b1, known)
    if reason is not None:
        return reason
    i, j = search.deepest
    if (i, j) != (a0, b0):
        reason = _reason_in(t, c, i, a1, j, b1, known)
        if reason is not None:
            return reason
    antonym = _antonym(t.content[i:a1], c.content[j:b1], t.lang)
    if antonym is not None:
        return f"antonym: '{antonym[0]}' vs '{antonym[1]}'"
    if i < a1 and j < b1:
        ok, kind, detail = _edit(t, c, i, i + 1, j, j + 1, known=known)
        if not ok and kind == "number differs":
            return f"{kind}: {detail}"
    return f"slot differs: {_pair(t.content[i:a1], c.content[j:b1], ' vs ')}"


def _reason_in(t: Utterance, c: Utterance, a0: int, a1: int, b0: int, b1: int,
               known: frozenset[str] | None = None) -> str | None:
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
        reason = _judge(span, t, c, known)
        if reason is not None:
            return reason
    return None


def _judge(span: Span, t: Utterance, c: Utterance,
           known: frozenset[str] | None = None) -> str | None:
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
            ok, kind, detail = _edit(t, c, e.a_start, e.a_end, e.b_start, e.b_end,
                                     known=known)
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
