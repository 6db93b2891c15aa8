"""Chinese (``zh-*``): characters as syllables, pinyin sound, numerals, particles.

Tokens: each Han character is one token with its toneless pinyin (``raw``) and folded key
(pinyin.py); digits read as Chinese digits (``6`` sounds ``liu``); a Latin word inside
Chinese text is one token keyed by its letters. Sound is the sequence of folded syllables,
so 天汽/天气, 书房/苏房 and 南京/蓝京 are the same sound; ``find`` looks for a slot value's
syllables as one contiguous run of the transcript's.
"""

from __future__ import annotations

from collections.abc import Sequence

from normalizer.matching.lang.base import Language, Sound
from normalizer.matching.lang.zh import numbers
from normalizer.matching.lang.zh.pinyin import fold_syllable, pinyin_run
from normalizer.matching.numbers import Mention, Number
from normalizer.matching.tokens import Kind, Token, normalize, scan

__all__ = ["Chinese"]

# Hesitations, discourse fillers, particles ASR adds or drops, politeness: removing them
# never changes the request. Negations (不, 没, 别) are deliberately absent: they are content.
FILLERS = (
    "嗯", "啊", "呃", "哦", "呀", "嘛", "啦", "哎", "诶", "喂",
    "那个", "就是", "这个",
    "的", "了", "吧", "呢", "吗", "哈",
    "一下", "帮我", "请", "给我", "麻烦", "麻烦你", "你好",
)
# Multi-character fillers also match a homophone (folded keys): the recogniser writes
# 一夏/一吓 for 一下, 班我 for 帮我, 辣个 for 那个. Not 哪个 (which one): a question.
_SOUND_FILLER_EXCLUDED = frozenset(("哪个",))
# 得 and 地 read "de" are the particle 的 written with a homophone (关闭所有得灯); read
# otherwise (地图 di, 得 dei) they are words.
_DE_HOMOPHONES = frozenset(("得", "地"))

# Pairs whose exchange is another request even where they sound alike.
ANTONYMS = (
    ("开", "关"), ("打开", "关闭"), ("打开", "关掉"), ("开启", "关闭"), ("启动", "停止"),
    ("大", "小"), ("高", "低"), ("上", "下"), ("前", "后"), ("左", "右"), ("加", "减"),
    ("增加", "减少"), ("升", "降"), ("快", "慢"), ("多", "少"), ("进", "出"),
    ("亮", "暗"), ("冷", "热"), ("长", "短"), ("强", "弱"), ("开始", "结束"),
    ("开始", "停止"), ("播放", "暂停"), ("来", "去"), ("是", "否"), ("有", "没"),
    ("里", "外"), ("日出", "日落"), ("接听", "挂断"), ("接", "挂"), ("早上", "晚上"),
    ("东", "西"), ("南", "北"), ("锁", "解锁"), ("开启", "退出"), ("进入", "退出"),
    ("避开", "走"),
)

# Negation cues, and words that hold one without negating the request: 不错 (nice),
# 差不多 (about), 别的 (other), 无线 (wireless), 未来 (future) ...
_NEGATIONS = frozenset("不没别未无勿甭莫")
_NOT_NEGATING = ("不错", "不过", "差不多", "不少", "了不起", "不久", "不然", "不如",
                 "别的", "别人", "别处", "特别", "区别", "分别", "级别", "类别", "告别",
                 "无线", "无人", "无聊", "无论", "未来", "并且", "未接", "未读")

# What a request does to its object; synonyms in one class, the class named by its first.
ACTIONS = (
    ("添加", "加上", "加到", "加入", "添上", "记上", "放进"),
    ("删除", "删掉", "删了", "去掉", "移除", "拿掉", "划掉", "删"),
    ("取消", "撤销"),
    ("清空",),
    ("推迟", "延后", "往后推"),
    ("退出",),
    ("收藏",),
)

# A sentence-final 不/没 (before these at most) asks, like 吗: 明天下雪不, 牛奶买了没.
_QUESTION_TAIL = frozenset("呢啊呀吧嘛")

# Colloquial and written forms of one slot value: a catalog says 明天, a speaker 明儿.
EQUIVALENTS = (
    frozenset(("今天", "今儿", "今儿个")),
    frozenset(("明天", "明儿", "明儿个")),
    frozenset(("昨天", "昨儿", "昨儿个")),
    frozenset(("后天", "后儿", "后儿个")),
    frozenset(("早上", "早晨", "清早", "一早")),
    frozenset(("妈妈", "老妈", "妈", "母亲")),
    frozenset(("爸爸", "老爸", "爸", "父亲")),
    frozenset(("老婆", "媳妇", "妻子", "爱人", "太太")),
    frozenset(("卫生间", "洗手间", "浴室", "厕所")),
    frozenset(("空调", "冷气")),
    frozenset(("老公", "丈夫")),
    frozenset(("今晚", "今天晚上")),
    frozenset(("飞行模式", "航空模式")),
    frozenset(("所有", "全部")),
    frozenset(("晚上", "晚间", "夜里")),
)
# What a request means when it names no day: today's weather, today's schedule.
IMPLICIT = frozenset(("今天", "今", "现在"))


def _folded(text: str) -> tuple[str, ...]:
    return tuple(fold_syllable(s) for s in pinyin_run(text))


class Chinese(Language):
    code = "zh"
    character_tokens = True
    max_slot_tokens = 4          # characters: 卫生间, 免打扰
    min_foreign_tokens = 2
    implicit_values = IMPLICIT
    fillers = tuple(tuple(phrase) for phrase in FILLERS)
    antonyms = ANTONYMS
    equivalents = EQUIVALENTS
    actions = ACTIONS

    def __init__(self) -> None:
        super().__init__()
        # filler phrases of 2+ characters by the folded key of their first syllable
        self._sound_fillers: dict[str, tuple[tuple[str, ...], ...]] = {}
        for phrase in FILLERS:
            if len(phrase) >= 2:
                keys = _folded(phrase)
                self._sound_fillers[keys[0]] = (*self._sound_fillers.get(keys[0], ()), keys)

    def tokenize(self, text: str) -> tuple[Token, ...]:
        tokens: list[Token] = []
        han_run: list[str] = []

        def flush() -> None:
            if han_run:
                run = "".join(han_run)
                for ch, syl in zip(run, pinyin_run(run), strict=True):
                    tokens.append(Token(ch, Kind.HAN, syl, fold_syllable(syl)))
                han_run.clear()

        for piece in scan(normalize(text)):
            if piece.kind is Kind.HAN:
                han_run.append(piece.text)
                continue
            flush()
            if piece.kind is Kind.DIGITS:
                read = "".join(numbers.ZH_DIGIT_CHARS[int(d)] for d in piece.text if d.isdigit())
                tokens.append(Token(piece.text, Kind.DIGITS, piece.text, "-".join(_folded(read))))
            else:
                tokens.append(Token(piece.text, piece.kind, piece.text, piece.text))
        flush()
        return tuple(tokens)

    def find_numbers(self, tokens: Sequence[Token]) -> list[Mention]:
        return numbers.find_numbers(tokens)

    def number_sound(self, number: Number) -> tuple[str, str]:
        value = number.value
        if value != int(value) or not 0 <= value < 100_000_000:
            return super().number_sound(number)
        return number.key, "-".join(_folded(numbers.reading(int(value))))

    def filler_length(self, tokens: Sequence[Token], i: int) -> int:
        size = super().filler_length(tokens, i)
        tok = tokens[i]
        if size or tok.kind is not Kind.HAN:
            return size
        if tok.surface in _DE_HOMOPHONES and tok.raw == "de":
            return 1
        for keys in self._sound_fillers.get(tok.key, ()):
            n = len(keys)
            if i + n <= len(tokens) and all(
                tokens[i + k].kind is Kind.HAN and tokens[i + k].key == keys[k]
                for k in range(1, n)
            ) and "".join(t.surface for t in tokens[i:i + n]) not in _SOUND_FILLER_EXCLUDED:
                return n
        return 0

    def negations(self, tokens: Sequence[Token]) -> tuple[str, ...]:
        """不/没/别 ... except inside a word that does not negate (不错, 别的) and in the
        A-not-A question (冷不冷, 是不是, 有没有, 可不可以), which asks rather than denies."""
        surfaces = [t.surface for t in tokens]
        if not _NEGATIONS.intersection(surfaces):
            return ()
        masked = [False] * len(surfaces)
        for i in range(len(surfaces)):
            for word in _NOT_NEGATING:
                if "".join(surfaces[i:i + len(word)]) == word:
                    masked[i:i + len(word)] = [True] * len(word)
        cues = []
        for i, s in enumerate(surfaces):
            if s not in _NEGATIONS or masked[i] or tokens[i].kind is not Kind.HAN:
                continue
            before = surfaces[i - 1] if i else ""
            after = surfaces[i + 1] if i + 1 < len(surfaces) else ""
            if before and before == after and s in "不没":
                continue                                    # A-not-A: 冷不冷, 有没有
            if s in "不没" and all(x in _QUESTION_TAIL for x in surfaces[i + 1:]):
                continue                                    # 下雪不, 记了牛奶没: a question
            cues.append(s)
        return tuple(cues)

    def sound(self, tokens: Sequence[Token]) -> Sound:
        units: list[str] = []
        token_of: list[int] = []
        for i, tok in enumerate(tokens):
            parts = tok.key.split("@")[0].split("-") if tok.kind in (Kind.NUM, Kind.DIGITS) \
                else [tok.key]
            units.extend(parts)
            token_of.extend([i] * len(parts))
        return Sound(tuple(units), tuple(token_of))
