"""Slot roles, derived from the catalog: which words name *what* is asked, which are wording.

A catalog that holds "turn on the kitchen lights" and "turn on the bedroom lights" as two
queries says, by that alone, that kitchen/bedroom is a choice that changes the request; one
that holds "打开客厅的灯" and "打开灯" says that naming a room (or not) does. Where a text says
the same request in other words ("switch the kitchen lights on", 开一下客厅的灯), those
words are wording. So:

1. **Contrasts.** Two texts of *different* queries whose content tokens (fillers removed,
   numbers collapsed) differ in exactly one span of at most ``max_slot_tokens``, with at
   least as many shared tokens around it, contrast the two spans: each is a *slot value*;
   an empty span means "no value" (``EMPTY``). A contrast must recur in ``MIN_FRAMES``
   frames; spans holding numbers are left to the number rule; a span made of smaller values
   ("上海今天") or holding a smaller contrast plus wording ("turn on"/"switch off") is
   dropped. Found by bucketing every text under each (prefix, suffix) it can be cut into,
   so a catalog of n texts of m tokens costs O(n * m * max_slot_tokens), not O(n^2).
2. **Groups and classes.** Values contrasted with one another form a group (union-find):
   rooms, people, days, devices, on/off. Values one query holds together are one *class*,
   the same value in other words ("enable"/"turn on" of wifi.on).
3. **Own values.** A query owns, per group, the values its texts were contrasted with
   (``EMPTY`` included) and, in a hard group, the values its texts contain.
4. **Hard or soft.** A group is confirmed as a slot when the language's slot lexicon
   (``slot_roles``: rooms, people, cities, days, devices, apps, items ...) holds values of
   two of its classes; its values the lexicon holds are then *hard*, as are the values of a
   group the catalog declares (``slots:``): a transcript that does not say the query's hard
   value cannot be rewritten to the query. Other values - intent contrasts such as weather
   / temperature, 静音 / 取消静音, attribute words in a device group (volume, brightness),
   the language's antonym pairs - are *soft*: only saying another value of their group
   blocks; not saying the query's own is left to the confidence model. A confirmed group
   also takes in the rest of its role's lexicon ("thursday" is another day than the
   catalog's "friday"), as values a transcript can say, never as values a query owns.

``SlotIndex.heard`` finds every value a transcript says, by its words (or a declared
equivalent, 明儿 = 明天) or by its sound (folded keys: 课厅 = 客厅, "bred" = bread).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from normalizer.matching.lang import Language, Sound
from normalizer.matching.tokens import Kind
from normalizer.matching.utterance import Utterance, prepare

__all__ = ["EMPTY", "NARROWING_ROLES", "Group", "Heard", "SlotIndex", "Value"]

Value = tuple[str, ...]          # content-token surfaces of a slot value
EMPTY: Value = ()                # "names no value of this group"

# Shared tokens around the span: one is enough for "开灯"/"关灯", "call mom"/"call dad"; and
# never fewer than the longer span has ("把书房灯打开" / "把窗帘拉开" is two wordings, not a
# slot: 2 shared characters around 4).
MIN_CONTEXT = 1
# A contrast must recur in this many frames (turn on the X lights / turn off the X lights /
# X lights on ...): a paradigm shows in several texts, a one-off pair of texts that happen
# to share their ends ("上海今天天气" / "明天天气": two slots at once) does not. In the shipped
# zh-CN catalog one frame admits compound junk values (上海今, wifi打); two leave the rooms,
# days, people, cities, devices and directions.
MIN_FRAMES = 2
# A Chinese value of one character is matched by its written character only (开, 关, 明):
# one syllable's sound matches too many unrelated characters.
MIN_SOUND_UNITS = 2


@dataclass(frozen=True)
class Group:
    id: int
    name: str                      # a declared name, a lexicon role, "antonym", or "derived"
    values: frozenset[Value]       # what a transcript can say of it
    hard: frozenset[Value]         # the values that must be said: the lexicon's, declared ones
    catalog: frozenset[Value] = frozenset()   # the values the catalog itself holds


@dataclass(frozen=True)
class Heard:
    """A value a transcript says: tokens [start, end), and how it was recognised."""

    value: Value
    start: int
    end: int
    exact: bool                    # by its words (or a declared equivalent), not by sound


@dataclass
class _UnionFind:
    parent: dict[Value, Value] = field(default_factory=dict)

    def find(self, v: Value) -> Value:
        self.parent.setdefault(v, v)
        while self.parent[v] != v:
            self.parent[v] = self.parent[self.parent[v]]
            v = self.parent[v]
        return v

    def union(self, a: Value, b: Value) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


@dataclass
class _Contrasts:
    """The supported, atomic contrasts of a catalog (step 1 of the module doc)."""

    sides: dict[tuple[Value, Value], set[tuple[int, Value]]]   # pair -> (query, its value)
    cuts: dict[tuple[Value, Value], set[tuple[int, int]]]      # pair -> (row, cut) of EMPTY
    prepared: dict[Value, Utterance]                           # every span seen, prepared

    @classmethod
    def find(cls, rows: Sequence[tuple[int, Utterance]], language: Language,
             words: frozenset[Value]) -> _Contrasts:
        """``words``: the slot lexicon's values, to grow character contrasts to words."""
        # slot values are short ("living room", 卫生间, "new york"); two texts that differ in
        # a longer stretch are different wordings, not a slot change
        span = language.max_slot_tokens
        buckets: dict[tuple[Value, Value], dict[Value, set[tuple[int, int]]]] = {}
        prepared: dict[Value, Utterance] = {}
        for row, (query, u) in enumerate(rows):
            surfaces = u.surfaces
            kinds = [t.kind for t in u.tokens]
            n = len(surfaces)
            for i in range(n + 1):
                for j in range(i, min(n, i + span) + 1):
                    if n - (j - i) < MIN_CONTEXT or Kind.NUM in kinds[i:j]:
                        continue
                    mid = surfaces[i:j]
                    buckets.setdefault((surfaces[:i], surfaces[j:]), {}).setdefault(
                        mid, set()).add((query, row))
                    if mid and mid not in prepared:
                        prepared[mid] = _part(u, i, j)
        frames: dict[tuple[Value, Value], set[tuple[Value, Value]]] = {}
        sides: dict[tuple[Value, Value], set[tuple[int, Value]]] = {}
        cuts: dict[tuple[Value, Value], set[tuple[int, int]]] = {}
        for frame, mids in buckets.items():
            if len(mids) < 2:
                continue
            items = [(mid, {q for q, _ in seen}, seen) for mid, seen in mids.items()]
            context = len(frame[0]) + len(frame[1])
            for a, (ma, qa, ra) in enumerate(items):
                for mb, qb, rb in items[a + 1:]:
                    if (not _minimal(ma, mb) or context < max(len(ma), len(mb))
                            or not (qa - qb or qb - qa)):
                        continue
                    pair = (ma, mb) if ma < mb else (mb, ma)
                    frames.setdefault(pair, set()).add(frame)
                    sides.setdefault(pair, set()).update(
                        [(q, ma) for q in qa - qb] + [(q, mb) for q in qb - qa])
                    empty = ra if not ma else rb if not mb else ()
                    cuts.setdefault(pair, set()).update((r, len(frame[0])) for _, r in empty)
        occurrences = _Occurrences([u.surfaces for _, u in rows])
        kept: dict[tuple[Value, Value], set[tuple[int, Value]]] = {}
        kept_cuts: dict[tuple[Value, Value], set[tuple[int, int]]] = {}
        for pair, seen in frames.items():
            if len(seen) >= MIN_FRAMES:
                grown = (occurrences.grow(pair, next(iter(seen)), words)
                         if language.character_tokens else pair)
                kept.setdefault(grown, set()).update(
                    (q, grown[pair.index(v)]) for q, v in sides[pair])
                kept_cuts.setdefault(grown, set()).update(cuts.get(pair, ()))
        # Atomic values only: "上海今天" (vs 这周) is two values, 上海 and 今天; "书房灯" (vs
        # wifi) is 书房 and 灯 (上海 holds the value 上 but is not made of values: it stays).
        # A pair that holds a smaller pair is the smaller contrast plus wording: "turn on" /
        # "switch off" is on/off, said with another verb.
        values = {v for pair in kept for v in pair if v}
        compound = {v for v in values if _partitions(v, values - {v})}
        dropped = {(a, b) for a, b in kept if a in compound or b in compound or any(
            (a2, b2) != (a, b) and ((_within(a2, a) and _within(b2, b))
                                    or (_within(b2, a) and _within(a2, b)))
            for a2, b2 in kept)}
        return cls({p: s for p, s in kept.items() if p not in dropped},
                   {p: c for p, c in kept_cuts.items() if p not in dropped}, prepared)


class SlotIndex:
    """The slot groups of one locale's catalog, and each query's own values."""

    def __init__(self, language: Language, groups: Sequence[Group],
                 own: Mapping[int, Mapping[int, frozenset[Value]]],
                 sounds: Mapping[Value, Sound], keys: Mapping[Value, str],
                 empty_cuts: Mapping[int, Iterable[tuple[int, int]]],
                 aliases: Mapping[Value, Value] | None = None) -> None:
        self.language = language
        self.groups = tuple(groups)
        self.own = {q: dict(g) for q, g in own.items()}
        self.sounds = dict(sounds)
        # row -> (token position, group): where the row, a text that names no value of the
        # group, would hold one ("打开|灯" against "打开客厅的灯")
        self.empty_cuts = {row: tuple(sorted(c)) for row, c in empty_cuts.items()}
        self.groups_of: dict[Value, tuple[int, ...]] = {}
        for g in self.groups:
            for v in g.values:
                self.groups_of[v] = (*self.groups_of.get(v, ()), g.id)
        # surfaces (and declared equivalents) -> value; sound key -> values
        self._by_surface: dict[Value, Value] = {v: v for v in self.groups_of if v}
        for g in self.groups:          # a spelling of a catalog value is that value
            for v in g.catalog:
                for alias in self._aliases(v):
                    self._by_surface[alias] = v
        self._by_surface.update(aliases or {})     # an action word is its class
        # by sound only the catalog's own values: a lexicon's hundreds of names would be heard
        # in ordinary words (打个 sounds 大哥)
        catalog = {v for g in self.groups for v in g.catalog}
        self._by_sound: dict[str, tuple[Value, ...]] = {}
        for v, key in keys.items():
            if key and v in catalog and len(sounds[v].units) >= MIN_SOUND_UNITS:
                self._by_sound[key] = (*self._by_sound.get(key, ()), v)
        self._longest = max((len(v) for v in self._by_surface), default=0)
        # query -> the values its own texts say, in any group: never a change for it
        self.said: dict[int, set[Value]] = {}

    def _aliases(self, value: Value) -> list[Value]:
        """Other spellings of a value (``Language.spellings``)."""
        chars = self.language.character_tokens
        return [tuple(alias) if chars else tuple(alias.split())
                for alias in self.language.spellings(self.language.show(value))]

    @classmethod
    def derive(cls, rows: Sequence[tuple[int, Utterance]], language: Language,
               declared: Iterable[tuple[str, Sequence[Utterance]]] = ()) -> SlotIndex:
        """Groups and own values from the catalog's texts: ``rows`` are (query position,
        prepared text); ``declared`` are (name, prepared values) from the catalog files."""
        roles = _roles(language)
        contrasts = _Contrasts.find(rows, language, frozenset(
            u.surfaces for lexicon in roles.values() for u in lexicon))
        prepared = dict(contrasts.prepared)
        union = _UnionFind()
        for a, b in contrasts.sides:
            if a and b:
                union.union(a, b)
        members: dict[Value, set[Value]] = {}
        for pair in contrasts.sides:
            for v in pair:
                if v:
                    members.setdefault(union.find(v), set()).add(v)
        roots = sorted(members)
        group_id = {root: k for k, root in enumerate(roots)}
        own: dict[int, dict[int, set[Value]]] = {}
        for pair, pair_sides in contrasts.sides.items():
            gid = group_id[union.find(pair[0] or pair[1])]
            for q, v in pair_sides:
                own.setdefault(q, {}).setdefault(gid, set()).add(v)
        empty_cuts: dict[int, set[tuple[int, int]]] = {}
        for pair, row_cuts in contrasts.cuts.items():
            gid = group_id[union.find(pair[0] or pair[1])]
            for row, cut in row_cuts:
                empty_cuts.setdefault(row, set()).add((cut, gid))
        groups = []
        for k, root in enumerate(roots):
            values = frozenset(members[root])
            role = _confirming_role(_classes(k, values, own), roles, language)
            hard: frozenset[Value] = frozenset()
            if role is not None:
                lexicon = frozenset(v.surfaces for v in roles[role] if v.surfaces)
                hard = lexicon | {v for v in values if _core(v, language) in lexicon}
                for entry in roles[role]:
                    prepared.setdefault(entry.surfaces, entry)
            groups.append(Group(k, role or "derived", values | hard, hard, values))
        # Lexicon roles the catalog uses without contrasting them: a car catalog's only day
        # is 明天, yet 后天 is another day (the shared in-car set: 后天天气怎么样 went to
        # 明天天气怎么样). Soft: another value of the role said blocks; not saying the
        # query's own only counts as unconfirmed.
        taken = {v for g in groups for v in g.values}
        role_of: dict[Value, str] = {}
        for role, role_lexicon in roles.items():
            if role in UNCONTRASTED_ROLES:
                for item in role_lexicon:
                    if len(item.surfaces) >= language.min_foreign_tokens:
                        role_of.setdefault(item.surfaces, role)
        longest = max(map(len, role_of), default=0)
        used: dict[str, dict[int, set[Value]]] = {}
        for query, u in rows:
            n = len(u.surfaces)
            for i in range(n):
                for j in range(i + 1, min(n, i + longest) + 1):
                    named = role_of.get(u.surfaces[i:j])
                    if named is not None and u.surfaces[i:j] not in taken:
                        used.setdefault(named, {}).setdefault(query, set()).add(u.surfaces[i:j])
        for role, owners in sorted(used.items()):
            gid = len(groups)
            lexicon_values = frozenset(x.surfaces for x in roles[role] if x.surfaces)
            catalog_values = frozenset(v for vs in owners.values() for v in vs)
            groups.append(Group(gid, role, lexicon_values | catalog_values, frozenset(),
                                catalog_values))
            for item in roles[role]:
                prepared.setdefault(item.surfaces, item)
            for query, owned in owners.items():
                own.setdefault(query, {}).setdefault(gid, set()).update(owned)
        # Roles the catalog never names are values a transcript can still say: no query
        # owns them, so one said is a narrowing the candidate drops (耳机还剩多少电 is not
        # 还剩多少电, 来点轻音乐 not 来点音乐: users dev slot changes let through).
        taken = {v for g in groups for v in g.values}
        for role in sorted(NARROWING_ROLES & set(roles) - set(used)):
            values = frozenset(x.surfaces for x in roles[role]
                               if len(x.surfaces) >= language.min_foreign_tokens
                               and x.surfaces not in taken)
            if values:
                groups.append(Group(len(groups), role, values, frozenset()))
                for item in roles[role]:
                    prepared.setdefault(item.surfaces, item)
        # Antonym pairs and declared groups: a query owns the values its texts contain.
        contained: list[tuple[str, list[Utterance], bool]] = [
            ("antonym", [prepare(w, language) for w in pair], False)
            for pair in language.antonyms]
        contained.extend((name, list(values), True) for name, values in declared)
        # Actions: what a request does to its object (add / remove / cancel / set ...). A
        # class of synonyms is one value, named by its first word; a query owns the classes
        # its texts use.
        aliases: dict[Value, Value] = {}
        if language.actions:
            classes = [[prepare(w, language).surfaces for w in words]
                       for words in language.actions]
            gid = len(groups)
            reps = frozenset(c[0] for c in classes)
            groups.append(Group(gid, "action", reps, frozenset(), reps))
            for c in classes:
                for member in c:
                    aliases[member] = c[0]
                prepared.setdefault(c[0], prepare(language.show(c[0]), language))
            for query, u in rows:
                found = {c[0] for c in classes if any(_contains(u.surfaces, m) for m in c)}
                if found:
                    own.setdefault(query, {}).setdefault(gid, set()).update(found)
        for name, utterances, must in contained:
            values = frozenset(u.surfaces for u in utterances if u.surfaces)
            if len(values) < 2:
                continue
            gid = len(groups)
            groups.append(Group(gid, name, values, values if must else frozenset(), values))
            for entry in utterances:
                prepared.setdefault(entry.surfaces, entry)
            for query, u in rows:
                found = {v for v in values if _contains(u.surfaces, v)}
                if found:
                    own.setdefault(query, {}).setdefault(gid, set()).update(found)
        in_groups = {v for g in groups for v in g.values}
        index = cls(language, groups,
                    {q: {g: frozenset(vs) for g, vs in gs.items()} for q, gs in own.items()},
                    {v: u.sound for v, u in prepared.items() if v in in_groups},
                    {v: "".join(t.key for t in u.tokens) for v, u in prepared.items()
                     if v in in_groups}, empty_cuts, aliases)
        for query, u in rows:
            index.said.setdefault(query, set()).update(h.value for h in index.heard(u) if h.exact)
        index._own_what_is_said()
        return index

    def _own_what_is_said(self) -> None:
        """A query that says a catalog value of a hard group without being contrasted on it
        ("video call mom" when only "call mom"/"call dad" are) owns it all the same: another
        person is another request there too. Short values ("on", 开) are left out: they are
        as often wording as values."""
        least = self.language.min_owned_units
        for query, values in self.said.items():
            for value in values:
                if len(self.sounds[value].units) < least:
                    continue
                for gid in self.groups_of[value]:
                    group = self.groups[gid]
                    if value in group.hard and gid not in self.own.get(query, {}):
                        self.own.setdefault(query, {})[gid] = frozenset({value})

    def heard(self, u: Utterance) -> list[Heard]:
        """Every value the utterance says, by words or by sound (may overlap)."""
        surfaces = u.surfaces
        keys = [t.key for t in u.tokens]
        out: list[Heard] = []
        n = len(surfaces)
        for i in range(n):
            key = ""
            for j in range(i + 1, min(n, i + self._longest + 1) + 1):
                value = self._by_surface.get(surfaces[i:j])
                if value is not None:
                    out.append(Heard(value, i, j, True))
                key += keys[j - 1]
                for v in self._by_sound.get(key, ()):
                    if v != value:
                        out.append(Heard(v, i, j, False))
        return out


def _classes(gid: int, values: frozenset[Value], own: Mapping[int, Mapping[int, set[Value]]]
             ) -> list[set[Value]]:
    """The group's values as classes: values one query owns together are one class."""
    union = _UnionFind()
    for v in values:
        union.find(v)
    for groups in own.values():
        held = [v for v in groups.get(gid, ()) if v]
        for v in held[1:]:
            union.union(held[0], v)
    classes: dict[Value, set[Value]] = {}
    for v in values:
        classes.setdefault(union.find(v), set()).add(v)
    return list(classes.values())


# Roles whose values are requests' own subjects wherever a catalog names them (not units,
# which belong to numbers, nor colours, which are as often wording).
UNCONTRASTED_ROLES = frozenset(("room", "person", "city", "weekday_or_date", "day_part",
                                "language", "place", "sport_team", "artist", "music_genre",
                                "app", "device", "food", "station"))
# Of those, the roles whose value said beside a query that names none narrows the request
# (耳机还剩多少电 is not 还剩多少电). Not times: 晚上 said for 今晚, "tomorrow morning" for
# "tomorrow at 7 am" are the query's own time in other words (users dev: 3 paraphrases
# blocked, no slot change caught, when the days and parts of the day were in).
NARROWING_ROLES = UNCONTRASTED_ROLES - {"weekday_or_date", "day_part"}


def _roles(language: Language) -> dict[str, list[Utterance]]:
    """The language's slot lexicon, prepared (stop words left out: "will" is no name)."""
    return {role: [prepare(v, language) for v in values
                   if v not in language.stop_words]
            for role, values in language.slot_roles().items()}


def _core(value: Value, language: Language) -> Value:
    """The value without grammar words: "my husband" -> "husband", "in london" -> "london"."""
    return tuple(w for w in value if w not in language.stop_words) or value


def _confirming_role(classes: list[set[Value]], roles: Mapping[str, list[Utterance]],
                     language: Language) -> str | None:
    """The lexicon role that holds values of two of the group's classes, if one does."""
    best: tuple[int, str] | None = None
    for role, lexicon in roles.items():
        known = {u.surfaces for u in lexicon}
        hits = sum(1 for c in classes if any(_core(v, language) in known for v in c))
        if hits >= 2 and (best is None or hits > best[0]):
            best = (hits, role)
    return best[1] if best else None


def _part(u: Utterance, i: int, j: int) -> Utterance:
    """The tokens [i, j) of a prepared utterance as an utterance of their own."""
    tokens = u.tokens[i:j]
    return Utterance(text="", language=u.language, tokens=tokens, numbers=(), negations=(),
                     fillers=(), sound=u.language.sound(tokens))


class _Occurrences:
    """Where each token stands in the catalog's texts, to grow values to whole words."""

    def __init__(self, texts: Sequence[Value]) -> None:
        self.texts = texts
        self.at: dict[str, list[tuple[int, int]]] = {}
        for t, surfaces in enumerate(texts):
            for k, tok in enumerate(surfaces):
                self.at.setdefault(tok, []).append((t, k))

    def _neighbours(self, value: Value, side: int) -> set[str | None]:
        """The tokens right after (side 1) or before (side -1) every occurrence of value."""
        out: set[str | None] = set()
        n = len(value)
        for t, k in self.at.get(value[0], ()):
            surfaces = self.texts[t]
            if surfaces[k:k + n] != value:
                continue
            k2 = k + n if side > 0 else k - 1
            out.add(surfaces[k2] if 0 <= k2 < len(surfaces) else None)
        return out

    def grow(self, pair: tuple[Value, Value], frame: tuple[Value, Value],
             words: frozenset[Value]) -> tuple[Value, Value]:
        """Grow two one-character values to the words they stand in: to words of the slot
        lexicon (今/明 before 天 are 今天/明天, though 今 also starts 今晚), or by a shared
        neighbouring character that each of them always has in the catalog (书/厨 before 房
        are 书房/厨房 wherever they stand); 开/关 (开灯, 打开, 开启) stay as they are."""
        a, b = pair
        if len(a) != 1 or len(b) != 1:
            return pair
        prefix, suffix = frame
        for left in range(min(2, len(prefix)) + 1):
            for right in range(min(2, len(suffix)) + 1):
                before, after = prefix[len(prefix) - left:], suffix[:right]
                wa, wb = (*before, *a, *after), (*before, *b, *after)
                if (left or right) and wa in words and wb in words:
                    return (wa, wb) if wa < wb else (wb, wa)
        for side, shared in ((1, suffix), (-1, prefix[::-1])):
            for tok in shared[:1]:
                if self._neighbours(a, side) != {tok} or self._neighbours(b, side) != {tok}:
                    break
                a, b = ((*a, tok), (*b, tok)) if side > 0 else ((tok, *a), (tok, *b))
        return (a, b) if a < b else (b, a)


def _minimal(a: Value, b: Value) -> bool:
    """Whether a and b differ at both ends (so the cut is the maximal shared context)."""
    if a == b:
        return False
    if not a or not b:
        return True
    return a[0] != b[0] and a[-1] != b[-1]


def _partitions(value: Value, parts: set[Value]) -> bool:
    """Whether ``value`` is a sequence of two or more of ``parts``."""
    n = len(value)
    reach = [0] * (n + 1)          # reach[k]: fewest parts spelling value[:k] (0: none yet)
    reach[0] = 0
    ok = [True] + [False] * n
    for k in range(n):
        if not ok[k]:
            continue
        for part in parts:
            end = k + len(part)
            if part and end <= n and value[k:end] == part and (not ok[end] or
                                                               reach[end] < reach[k] + 1):
                ok[end] = True
                reach[end] = max(reach[end], reach[k] + 1)
    return ok[n] and reach[n] >= 2


def _within(part: Value, value: Value) -> bool:
    """``part`` is a non-empty stretch of ``value`` (or both are empty)."""
    return part == value or (bool(part) and _contains(value, part))


def _contains(surfaces: Value, value: Value) -> bool:
    n = len(value)
    return any(surfaces[k:k + n] == value for k in range(len(surfaces) - n + 1))
