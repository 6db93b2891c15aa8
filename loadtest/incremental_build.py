"""A one-line change to a large catalog: full build against incremental rebuild.

    python -m loadtest.incremental_build [--queries 10000] [--variants 0]

Writes a synthetic catalog of ``--queries`` canonical queries (half zh-CN, half en-US,
every text distinct: device x room x action x time phrasings), then, each as a real
``normalizer index build`` process on the local embedder, in one store:

1. the full build (empty store: every text embedded);
2. the same catalog again (nothing changed: every vector from the embedding cache);
3. one line changed (one query's text), the target: at most 1/20 of the full build.

Prints each build's wall time, what it embedded and reused, and the ratios. Asserts
nothing. Run it with ``nice`` on a shared machine; the time of a build includes the
process start and the model load, which no cache removes.
"""

from __future__ import annotations

import argparse
import itertools
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent

ZH_ROOMS = ["客厅", "卧室", "主卧", "次卧", "书房", "厨房", "餐厅", "阳台", "卫生间", "走廊",
            "儿童房", "车库", "门口", "花园", "地下室", "阁楼", "玄关", "客房", "衣帽间", "洗衣房"]
ZH_DEVICES = ["灯", "空调", "电视", "窗帘", "风扇", "加湿器", "净化器", "音箱", "暖气", "热水器",
              "扫地机", "台灯", "吊灯", "插座", "冰箱"]
ZH_ACTIONS = ["打开{room}的{device}", "关闭{room}的{device}", "把{room}的{device}调高一点",
              "把{room}的{device}调低一点", "{room}的{device}开到最大", "{room}的{device}关到最小",
              "半小时后打开{room}的{device}", "一小时后关闭{room}的{device}",
              "{room}的{device}开着吗", "定时关掉{room}的{device}"]
EN_ROOMS = ["living room", "bedroom", "master bedroom", "guest room", "study", "kitchen",
            "dining room", "balcony", "bathroom", "hallway", "kids room", "garage", "porch",
            "garden", "basement", "attic", "entryway", "office", "closet", "laundry room"]
EN_DEVICES = ["lights", "air conditioner", "tv", "curtains", "fan", "humidifier",
              "air purifier", "speaker", "heater", "water heater", "vacuum", "desk lamp",
              "ceiling light", "power outlet", "fridge"]
EN_ACTIONS = ["turn on the {room} {device}", "turn off the {room} {device}",
              "turn the {room} {device} up a bit", "turn the {room} {device} down a bit",
              "set the {room} {device} to maximum", "set the {room} {device} to minimum",
              "turn on the {room} {device} in half an hour",
              "turn off the {room} {device} in an hour", "is the {room} {device} on",
              "schedule the {room} {device} to switch off"]


def _texts(actions: list[str], rooms: list[str], devices: list[str]) -> list[str]:
    return [a.format(room=r, device=d) for a, r, d in itertools.product(actions, rooms, devices)]


def write_catalog(folder: Path, queries: int, variants: int) -> tuple[Path, str, str]:
    """The catalog; returns the file with the line the benchmark changes, and that line."""
    folder.mkdir(parents=True, exist_ok=True)
    half = queries // 2
    made = {}
    for locale, texts in (("zh-CN", _texts(ZH_ACTIONS, ZH_ROOMS, ZH_DEVICES)),
                          ("en-US", _texts(EN_ACTIONS, EN_ROOMS, EN_DEVICES))):
        per_query = 1 + variants
        needed = (half if locale == "zh-CN" else queries - half) * per_query
        pool = texts
        if len(pool) < needed:       # more: suffix a polite word, still distinct
            extra = ["请", "帮我", "麻烦"] if locale == "zh-CN" else ["please", "now", "for me"]
            pool = texts + [f"{w}{t}" if locale == "zh-CN" else f"{t} {w}"
                            for w in extra for t in texts]
        if len(pool) < needed:
            raise SystemExit(f"--queries/--variants need {needed} distinct {locale} texts; "
                             f"the generator has {len(pool)}")
        lines = [f"locale: {locale}", "queries:"]
        for i in range(needed // per_query):
            group = pool[i * per_query:(i + 1) * per_query]
            lines += [f"  - id: q{i:05d}", f"    text: {group[0]}"]
            if group[1:]:
                lines.append("    variants:")
                lines += [f"      - {v}" for v in group[1:]]
        path = folder / f"{locale}.yaml"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        made[locale] = path
    changed = made["en-US"]
    line = next(line for line in changed.read_text(encoding="utf-8").splitlines()
                if line.startswith("    text: "))
    return changed, line, line + " right now"


def build(catalog: Path, store: Path) -> tuple[float, dict[str, object]]:
    started = time.perf_counter()
    result = subprocess.run([str(BIN / "normalizer"), "index", "build", "--queries",
                             str(catalog), "--out", str(store), "--quiet"],
                            capture_output=True, text=True, check=False)
    took = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"index build failed:\n{result.stderr}")
    return took, dict(json.loads(result.stdout))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=10000)
    parser.add_argument("--variants", type=int, default=0, help="variants per query")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        catalog = Path(tmp) / "catalog"
        changed, old, new = write_catalog(catalog, args.queries, args.variants)
        store = Path(tmp) / "store"
        full, first = build(catalog, store)
        same, second = build(catalog, store)
        text = changed.read_text(encoding="utf-8")
        changed.write_text(text.replace(old + "\n", new + "\n", 1), encoding="utf-8")
        one, third = build(catalog, store)
        texts = int(first["embedded"]) + int(first["reused"])  # type: ignore[call-overload]
        print(f"catalog: {args.queries} queries, {texts} texts "
              f"({args.variants} variant(s) per query)")
        for name, took, out in (("full build", full, first), ("unchanged rebuild", same, second),
                                ("one line changed", one, third)):
            print(f"{name:<20}{took:8.2f} s   embedded {out['embedded']:>6}   "
                  f"reused {out['reused']:>6}")
        changes = third["changes"]
        print(f"changes reported for the one-line rebuild: {json.dumps(changes)}")
        print(f"one-line rebuild / full build: {one / full:.4f} (1/{full / one:.1f}; "
              "target <= 1/20)")
        print(f"unchanged rebuild / full build: {same / full:.4f} (1/{full / same:.1f})")


if __name__ == "__main__":
    main()
