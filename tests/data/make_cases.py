#!/usr/bin/env python3
"""Build the labelled evaluation cases of the normalizer from the catalog.

    python tests/data/make_cases.py            # rewrite the four case files, print the counts
    python tests/data/make_cases.py --check    # regenerate in memory, fail if the files differ

Reads ``canonical_queries/<locale>/*.yaml`` directly (pyyaml; the ``normalizer``
package is not imported) and writes, for zh-CN and en-US, a ``dev`` and a
``test`` JSON Lines file next to this script (format: CONTRACT.md section 4, plus
``noise`` and, for about 30% of cases, ``alternatives``).

* In-domain cases: every canonical query gets the same number of cases per
  split; each is one of its phrasings (text or a variant) with one noise kind of
  ``noise.py`` applied. Dev and test use different seeds and, where a query has
  two or more phrasings, different phrasings (dev: the text and even variants,
  test: the odd ones), so the test split is unseen. A few cases are clean.
* Out-of-domain cases (``expected_id: null``): near-domain slot changes from the
  hand-made templates and value lists below (values differ between dev and
  test and appear in no catalog text of the locale; checked here), and general
  requests from the hand-written lists below (split between dev and test
  without overlap). Some of both get ASR noise too.

Every random draw comes from ``random.Random`` seeded with a CRC32 of the case's
coordinates, so a run regenerates exactly the committed files.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import re
import sys
import unicodedata
import zlib
from collections import Counter
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.dont_write_bytecode = True  # leave no __pycache__ in tests/data
import noise  # noqa: E402

ROOT = HERE.parent.parent
CATALOG = ROOT / "canonical_queries"
LOCALES = ("zh-CN", "en-US")
SPLITS = ("dev", "test")
SPLIT_SEED = {"dev": 20240611, "test": 90417733}

CASES_PER_QUERY = 3  # in-domain cases per canonical query and split
CLEAN_SHARE = 0.06  # share of in-domain cases left clean (an exact catalog phrasing)
OOD_SHARE = 0.29  # target share of out-of-domain cases in a file
SLOT_SHARE_OF_OOD = 0.56  # share of the out-of-domain cases that are slot changes
NOISED_OOD_SHARE = 0.3  # share of out-of-domain cases that also get ASR noise
ALT_SHARE = 0.3  # share of cases with an n-best list
MAX_TRIES = 12

NOISE_LABELS = (
    "clean",
    "homophone",
    "near_homophone",
    "split_merge",
    "filler",
    "dropped_particle",
    "garbled",
    "combined",
    "slot_change",
    "out_of_domain",
)

# ---------------------------------------------------------------------------
# Near-domain slot changes: templates (close to catalog phrasings) and values
# that no catalog query of the locale covers. Values differ between dev and test.
# ---------------------------------------------------------------------------

SLOT_TEMPLATES: dict[str, dict[str, dict]] = {
    "zh-CN": {
        "room": {
            "templates": [
                "打开{v}的灯",
                "关闭{v}的灯",
                "把{v}的灯打开",
                "把{v}的灯关掉",
                "开一下{v}的灯",
                "{v}开灯",
                "{v}关灯",
                "关掉{v}的灯",
            ],
            "dev": ["阳台", "儿童房", "阁楼", "地下室", "衣帽间", "露台"],
            "test": ["储藏室", "花园", "玄关", "健身房", "洗衣房", "客房"],
        },
        "device": {
            "templates": ["打开{v}", "关掉{v}", "把{v}打开", "把{v}关了", "开{v}"],
            "dev": ["加湿器", "电饭煲", "投影仪", "热水器"],
            "test": ["空气净化器", "洗碗机", "电暖气", "烤箱"],
        },
        "minutes": {
            "templates": [
                "设一个{v}分钟的计时器",
                "倒计时{v}分钟",
                "{v}分钟后提醒我开会",
                "设一个{v}分钟的计时器吧",
            ],
            "dev": ["二十五", "四十五", "七十", "40"],
            "test": ["三十五", "十八", "五十五", "90"],
        },
        "hours": {
            "templates": ["设一个{v}小时的计时器", "倒计时{v}小时"],
            "dev": ["两个", "三个"],
            "test": ["四个", "五个"],
        },
        "alarm_time": {
            "templates": [
                "设一个早上{v}的闹钟",
                "定一个早上{v}的闹钟",
                "早上{v}叫我起床",
                "取消早上{v}的闹钟",
                "设一个明天早上{v}的闹钟",
            ],
            "dev": ["五点半", "九点", "四点", "六点四十"],
            "test": ["四点半", "十点", "九点二十", "五点"],
        },
        "temperature": {
            "templates": ["把空调调到{v}度", "空调温度调到{v}度", "把温度设成{v}度"],
            "dev": ["十九", "二十八", "21"],
            "test": ["二十三", "二十九", "27"],
        },
        "person": {
            "templates": [
                "给{v}打电话",
                "打电话给{v}",
                "呼叫{v}",
                "给{v}发消息",
                "给{v}打视频电话",
                "今晚提醒我给{v}打电话",
                "发消息给{v}",
            ],
            "dev": ["奶奶", "小王", "舅舅", "张老师"],
            "test": ["外婆", "小李", "表哥", "王医生"],
        },
        "city": {
            "templates": [
                "{v}今天的天气怎么样",
                "今天{v}天气怎么样",
                "{v}明天的天气怎么样",
                "{v}明天天气如何",
                "{v}今天会下雨吗",
            ],
            "dev": ["成都", "昆明", "哈尔滨", "杭州"],
            "test": ["厦门", "青岛", "长沙", "南京"],
        },
        "world_city": {
            "templates": ["{v}现在几点了", "现在{v}是几点", "{v}现在几点"],
            "dev": ["东京", "纽约"],
            "test": ["巴黎", "悉尼"],
        },
        "item": {
            "templates": [
                "把{v}加到购物清单里",
                "购物清单里加上{v}",
                "在购物清单里添加{v}",
                "把{v}从购物清单里删掉",
                "购物清单里有{v}吗",
                "明天提醒我买{v}",
            ],
            "dev": ["黄油", "酱油", "大米", "橄榄油"],
            "test": ["奶酪", "土豆", "洗洁精", "猫粮"],
        },
        "artist": {
            "templates": ["播放{v}的歌", "我想听{v}的歌", "来点{v}的歌"],
            "dev": ["五月天", "林俊杰", "王菲"],
            "test": ["陈奕迅", "孙燕姿", "李荣浩"],
        },
        "genre": {
            "templates": ["播放{v}", "放点{v}", "来点{v}"],
            "dev": ["摇滚乐", "民谣", "轻音乐"],
            "test": ["嘻哈音乐", "蓝调", "儿歌"],
        },
        "place": {
            "templates": ["导航到最近的{v}", "带我去最近的{v}", "去最近的{v}"],
            "dev": ["药店", "超市", "银行"],
            "test": ["地铁站", "咖啡馆", "电影院"],
        },
        "seek": {
            "templates": ["快进{v}秒", "后退{v}秒", "往前快进{v}秒"],
            "dev": ["九十", "四十五"],
            "test": ["四十", "六十"],
        },
        "volume_pct": {
            "templates": ["把音量调到百分之{v}", "音量调到百分之{v}"],
            "dev": ["七十", "八十"],
            "test": ["六十五", "九十五"],
        },
        "language": {
            "templates": ["把语言切换成{v}", "把系统语言改成{v}", "切换成{v}"],
            "dev": ["日文", "法语"],
            "test": ["韩语", "德文"],
        },
        "task": {
            "templates": ["明天提醒我{v}", "今晚提醒我{v}", "提醒我明天早上{v}"],
            "dev": ["交房租", "取快递"],
            "test": ["给花浇水", "去健身"],
        },
        "meeting_time": {
            "templates": ["明天下午{v}安排一个会议", "今天下午{v}安排一个会议"],
            "dev": ["四点", "两点"],
            "test": ["五点", "一点半"],
        },
        "weekday": {
            "templates": ["我{v}下午有空吗", "{v}下午我有安排吗"],
            "dev": ["周三", "周一"],
            "test": ["周四", "周二"],
        },
        "weather_day": {
            "templates": ["{v}的天气怎么样", "{v}会下雨吗"],
            "dev": ["后天", "下周一"],
            "test": ["大后天", "周六"],
        },
    },
    "en-US": {
        "room": {
            "templates": [
                "turn on the {v} lights",
                "turn off the {v} lights",
                "turn the {v} lights on",
                "switch off the {v} lights",
                "turn on the lights in the {v}",
                "turn the {v} lights off",
                "switch on the {v} lights",
            ],
            "dev": ["balcony", "porch", "nursery", "basement", "attic", "sunroom"],
            "test": ["hallway", "patio", "guest room", "laundry room", "dining room", "kids' room"],
        },
        "device": {
            "templates": [
                "turn on the {v}",
                "turn off the {v}",
                "switch on the {v}",
                "turn the {v} off",
            ],
            "dev": ["dishwasher", "heater", "humidifier", "coffee maker"],
            "test": ["oven", "air purifier", "projector", "sprinklers"],
        },
        "minutes": {
            "templates": [
                "set a timer for {v} minutes",
                "set a {v} minute timer",
                "remind me about the meeting in {v} minutes",
            ],
            "dev": ["25", "45", "2", "forty five"],
            "test": ["35", "12", "40", "fifty five"],
        },
        "hours": {
            "templates": ["set a timer for {v} hours", "set a {v} hour timer"],
            "dev": ["two"],
            "test": ["three"],
        },
        "alarm_time": {
            "templates": [
                "set an alarm for {v}",
                "wake me up at {v}",
                "cancel my {v} alarm",
                "set an alarm for {v} tomorrow",
            ],
            "dev": ["5:30 am", "9 am", "6:45 am", "4 am"],
            "test": ["5 am", "9:15 am", "10 am", "4:30 am"],
        },
        "temperature": {
            "templates": [
                "set the temperature to {v} degrees",
                "set the thermostat to {v} degrees",
                "set the thermostat to {v}",
            ],
            "dev": ["19", "21", "27"],
            "test": ["18", "23", "28"],
        },
        "relation": {
            "templates": [
                "call my {v}",
                "give my {v} a call",
                "send a message to my {v}",
                "text my {v}",
                "phone my {v}",
            ],
            "dev": ["grandma", "sister", "boss"],
            "test": ["grandpa", "brother", "doctor"],
        },
        "name": {
            "templates": [
                "call {v}",
                "give {v} a call",
                "send a message to {v}",
                "video call {v}",
                "remind me to call {v} tonight",
            ],
            "dev": ["Sarah", "uncle Bob", "Kevin"],
            "test": ["John", "aunt Lisa", "Maria"],
        },
        "city": {
            "templates": [
                "what's the weather like in {v} today",
                "how's the weather in {v} tomorrow",
                "what's the weather in {v} today",
                "what's the weather like in {v} tomorrow",
            ],
            "dev": ["Denver", "Miami", "Phoenix", "Atlanta"],
            "test": ["Houston", "Portland", "Dallas", "San Diego"],
        },
        "world_city": {
            "templates": ["what time is it in {v}", "what's the time in {v}"],
            "dev": ["Tokyo", "Paris"],
            "test": ["Sydney", "Berlin"],
        },
        "item": {
            "templates": [
                "add {v} to my shopping list",
                "put {v} on my shopping list",
                "remove {v} from my shopping list",
                "is {v} on my shopping list",
                "remind me to buy {v} tomorrow",
                "add {v} to the shopping list",
            ],
            "dev": ["butter", "cheese", "rice", "coffee"],
            "test": ["orange juice", "yogurt", "chicken", "paper towels"],
        },
        "artist": {
            "templates": ["play some {v}", "play songs by {v}", "play music by {v}"],
            "dev": ["Adele", "Drake", "Beyonce"],
            "test": ["Coldplay", "Bruno Mars", "Billie Eilish"],
        },
        "genre": {
            "templates": ["play some {v}", "play {v} music", "put on some {v}"],
            "dev": ["rock", "country", "hip hop"],
            "test": ["blues", "reggae", "metal"],
        },
        "place": {
            "templates": [
                "navigate to the nearest {v}",
                "take me to the nearest {v}",
                "directions to the closest {v}",
            ],
            "dev": ["pharmacy", "grocery store", "bank"],
            "test": ["coffee shop", "post office", "car wash"],
        },
        "destination": {
            "templates": ["navigate to the {v}", "take me to the {v}", "directions to the {v}"],
            "dev": ["zoo", "mall"],
            "test": ["museum", "stadium"],
        },
        "seek": {
            "templates": [
                "skip ahead {v} seconds",
                "go back {v} seconds",
                "fast forward {v} seconds",
            ],
            "dev": ["90"],
            "test": ["60"],
        },
        "volume_pct": {
            "templates": ["set the volume to {v} percent", "set volume to {v} percent"],
            "dev": ["70"],
            "test": ["80"],
        },
        "language": {
            "templates": ["change the language to {v}", "switch the language to {v}"],
            "dev": ["Spanish", "French"],
            "test": ["German", "Japanese"],
        },
        "task": {
            "templates": [
                "remind me to {v} tomorrow",
                "remind me to {v} tonight",
                "remind me tomorrow to {v}",
            ],
            "dev": ["water the plants", "pay the rent"],
            "test": ["walk the dog", "pick up the kids"],
        },
        "meeting_time": {
            "templates": [
                "schedule a meeting for tomorrow at {v}",
                "set up a meeting today at {v}",
            ],
            "dev": ["4 pm", "11 am"],
            "test": ["2 pm", "noon"],
        },
        "weekday": {
            "templates": ["am i free on {v} afternoon", "do i have anything on {v} afternoon"],
            "dev": ["Monday", "Wednesday"],
            "test": ["Tuesday", "Thursday"],
        },
        "weather_day": {
            "templates": ["what's the weather like on {v}", "is it going to rain on {v}"],
            "dev": ["Saturday"],
            "test": ["Sunday"],
        },
    },
}

# ---------------------------------------------------------------------------
# General out-of-domain requests, hand-written: nothing in the catalog covers
# them. Even positions go to dev, odd positions to test.
# ---------------------------------------------------------------------------

GENERAL_OOD: dict[str, list[str]] = {
    "zh-CN": """
珠穆朗玛峰有多高
哈姆雷特是谁写的
帮我订一张两个人的桌子
人生的意义是什么
澳大利亚的首都是哪里
一斤等于多少克
帮我订一张去巴黎的机票
红烧肉怎么做
一百四十四的平方根是多少
上一届世界杯冠军是谁
推荐一本好看的小说
宇宙有多少岁了
光合作用是什么意思
帮我找个修水管的师傅
月亮离地球有多远
给我讲讲罗马帝国的历史
今天美元兑人民币汇率是多少
帮我买两张电影票
日本有多少人口
法国总统是谁
埃菲尔铁塔是哪一年建的
我的信用卡还欠多少钱
帮我交一下电费
给张三转五十块钱
一个苹果有多少卡路里
给我的猫起个名字
领带怎么系
五英里是多少公里
苹果公司的股价是多少
我的快递到哪儿了
药店几点关门
流感有哪些症状
路由器怎么重启
蜘蛛有几条腿
天空为什么是蓝色的
光速是多少
特斯拉多少钱一辆
写一首关于大海的诗
青蛙和蟾蜍有什么区别
护照怎么办理
周末帮我租一辆车
帮我订一家上海的酒店
车胎爆了怎么办
水的沸点是多少度
讲一个关于章鱼的冷知识
怎么学吉他
帮我策划一个生日派对
李白是哪个朝代的
地球上有多少个国家
长城有多长
怎么减肥最快
番茄炒蛋怎么做
帮我写一封请假条
明天股市会涨吗
最近有什么好看的电影
西瓜是水果还是蔬菜
一年有多少秒
谁发明了电话
恐龙是怎么灭绝的
帮我预约一个理发
附近的牙医诊所电话多少
我的手机号码是多少
怎么做一个网站
太阳系有几颗行星
世界上最长的河是哪条
猫能吃巧克力吗
北极熊住在哪里
怎么煮米饭
中国有多少个省
鲁迅的原名叫什么
帮我查一下航班CA1234
下个月的房贷还了吗
给我推荐一个旅游的地方
怎么把照片传到电脑上
一加一等于几
帮我点一份外卖
你觉得我穿哪件衣服好看
足球比赛一场多长时间
如何提高睡眠质量
帮我订一束玫瑰花
孔子是哪里人
金字塔是怎么建成的
怎么考驾照
给我讲一个睡前故事
二的十次方是多少
狗为什么喜欢摇尾巴
咖啡喝多了有什么坏处
今年是什么生肖年
帮我叫一辆出租车
最近的地震在哪里
怎么学好英语
帮我算一下房贷利息
鲸鱼是鱼吗
诺贝尔奖是谁设立的
什么是人工智能
帮我挂一个明天的专家号
哪个星座最多
唐朝的首都在哪里
怎么养多肉植物
火星上有水吗
帮我查一下社保余额
给我推荐几本理财的书
人一天要喝多少水
牛顿三大定律是什么
帮我翻一下我的相册
我应该买哪款笔记本电脑
怎么写简历
宫保鸡丁是哪个地方的菜
帮我给这个视频点赞
中国第一个皇帝是谁
为什么会有四季
怎么种西红柿
帮我退掉昨天买的衣服
大熊猫吃什么
银行卡丢了怎么办
冬天去哪里旅游好
莎士比亚写过哪些剧本
帮我查一下违章
一公斤等于多少磅
海水为什么是咸的
怎么做蛋糕
彩虹有几种颜色
帮我申请一张信用卡
黑洞是什么
学钢琴要多久
""".split(),
    "en-US": [
        s.strip()
        for s in """
how tall is mount everest
who wrote hamlet
book a table for two
what's the meaning of life
what is the capital of australia
how many ounces are in a pound
book a flight to paris
how do i make pancakes
what's the square root of 144
who won the last world cup
recommend a good book
how old is the universe
what does photosynthesis mean
find me a plumber
how far away is the moon
tell me about the roman empire
what's the exchange rate for euros
buy two tickets for the new batman movie
what's the population of japan
how do you spell necessary
who is the president of france
when was the eiffel tower built
what's my credit card balance
pay my electricity bill
send fifty dollars to john on venmo
how many calories are in a banana
what's a good name for a cat
how do i tie a tie
convert 5 miles to kilometers
what's the stock price of apple
track my amazon package
when does the pharmacy close
what are the symptoms of the flu
how do i reset my router
how many legs does a spider have
why is the sky blue
what's the speed of light
how much does a tesla cost
write a poem about the ocean
what's the difference between a frog and a toad
how do i get a passport
rent a car for the weekend
book a hotel in london
how do i change a flat tire
what is the boiling point of water
tell me a fun fact about octopuses
what's the best way to learn guitar
help me plan a birthday party
how many countries are there in the world
how long is the great wall of china
what's the fastest way to lose weight
how do you make scrambled eggs
write a sick note for my boss
will the stock market go up tomorrow
what are some good movies to watch
is a tomato a fruit or a vegetable
how many seconds are in a year
who invented the telephone
how did the dinosaurs die
book me a haircut
what's the phone number of the nearest dentist
what's my phone number
how do i build a website
how many planets are in the solar system
what is the longest river in the world
can cats eat chocolate
where do polar bears live
how do i cook rice
how many states are in the us
who painted the mona lisa
check the status of flight ua 567
did i pay my mortgage this month
suggest a vacation spot
how do i transfer photos to my computer
what's one plus one
order a pepperoni pizza
which shirt should i wear today
how long is a soccer game
how can i sleep better
send a dozen roses to my girlfriend
where was shakespeare born
how were the pyramids built
how do i get a driver's license
tell me a bedtime story
what's two to the power of ten
why do dogs wag their tails
is too much coffee bad for you
what's the chinese zodiac animal this year
call me an uber
where was the last earthquake
how can i improve my english
calculate the interest on a loan
is a whale a fish
who founded the nobel prize
what is artificial intelligence
make a doctor's appointment for tomorrow
what's the most common zodiac sign
what was the capital of the roman empire
how do i take care of succulents
is there water on mars
what's my social security balance
recommend some books about investing
how much water should i drink a day
what are newton's three laws
show me my photos from last summer
which laptop should i buy
how do i write a resume
where does kung pao chicken come from
like this video
who was the first emperor of china
why are there four seasons
how do i grow tomatoes
return the shirt i bought yesterday
what do pandas eat
i lost my debit card what should i do
where should i travel this winter
what plays did shakespeare write
do i have any parking tickets
how many pounds is a kilogram
why is the ocean salty
how do i bake a cake
how many colors are in a rainbow
apply for a credit card
what is a black hole
how long does it take to learn piano
what's the tallest building in the world
who sang bohemian rhapsody
how do i unclog a drain
order more printer ink
what's the best pizza place in town
how do i say thank you in japanese
what's the gdp of germany
""".strip().splitlines()
    ],
}

# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------


def load_catalog(locale: str) -> list[dict]:
    """[{id, phrasings: [text, *variants]}] in file order (files sorted by name)."""
    out = []
    for path in sorted((CATALOG / locale).glob("*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for q in doc.get("queries") or []:
            phr = [str(q["text"])] + [str(v) for v in (q.get("variants") or [])]
            out.append({"id": str(q["id"]), "phrasings": phr})
    return out


def norm_key(text: str) -> str:
    """Lower-case, drop punctuation, symbols and spaces."""
    return "".join(
        c
        for c in unicodedata.normalize("NFKC", text).lower()
        if unicodedata.category(c)[0] not in "PZS" and not c.isspace()
    )


def soft_key(text: str) -> str:
    """Lower-case, drop punctuation and symbols, keep single spaces between words."""
    t = "".join(
        c if unicodedata.category(c)[0] not in "PS" else " "
        for c in unicodedata.normalize("NFKC", text).lower().replace("'", "")
    )
    return " ".join(t.split())


def asr_surface(locale: str, text: str) -> str:
    """What a streaming ASR emits: no sentence punctuation; en-US lower-cased."""
    if locale == "zh-CN":
        text = re.sub(r"[，。？！、；：,.?!;]", "", text)
        return re.sub(r"\s+", " ", text).strip()
    text = text.lower().replace("’", "'")
    text = re.sub(r"[,?!;\"]", "", text)
    text = re.sub(r"\.(\s|$)", r"\1", text)
    return re.sub(r"\s+", " ", text).strip()


def crc_seed(*parts: object) -> int:
    return zlib.crc32("|".join(str(p) for p in parts).encode("utf-8"))


EN_STOP = frozenset(
    "the a an to my for of at in on is it i me you your this that and or with be are am "
    "pm what's what how's how do does did can will please by from up".split()
)
EN_FILLER_TOKENS = frozenset("uh um er like hey can you please thanks so okay".split())
ZH_FILLER_CHARS = set("嗯啊呃那个就是帮我")


class Catalog:
    def __init__(self, locale: str):
        self.locale = locale
        self.queries = load_catalog(locale)
        self.keys: set[str] = set()
        self.soft_keys: set[str] = set()
        self.texts: list[str] = []
        self.own: dict[str, set[str]] = {}  # id -> bigrams (zh) or content words (en)
        self.all_units: set[str] = set()
        for q in self.queries:
            units: set[str] = set()
            for p in q["phrasings"]:
                self.keys.add(norm_key(p))
                self.soft_keys.add(soft_key(p))
                self.texts.append(p)
                units |= self.units(p)
            self.own[q["id"]] = units
            self.all_units |= units
        self.lower_texts = [t.lower() for t in self.texts]

    def units(self, text: str) -> set[str]:
        if self.locale == "zh-CN":
            t = norm_key(text)
            return {t[i : i + 2] for i in range(len(t) - 1)}
        return {w for w in re.findall(r"[a-z0-9']+", text.lower()) if w not in EN_STOP}

    def value_in_catalog(self, value: str) -> bool:
        if self.locale == "zh-CN":
            return any(value in t for t in self.texts)
        pat = re.compile(r"(?<![a-z0-9])" + re.escape(value.lower()) + r"(?![a-z0-9])")
        return any(pat.search(t) for t in self.lower_texts)

    def noised_ok(self, out: str, base: str, qid: str | None, kind: str) -> bool:
        """Reject a noised text that is empty, unchanged, equal to a catalog
        phrasing, that altered a number, or that introduced another query's words."""
        if qid is None:  # out of domain: must differ from every catalog phrasing, spaces ignored
            k = norm_key(out)
            if not k or k == norm_key(base) or k in self.keys:
                return False
        else:  # in domain: must differ from the catalog, but a moved word boundary counts
            k = soft_key(out)
            if not norm_key(out) or k == soft_key(base) or k in self.soft_keys:
                return False
        if self.locale == "zh-CN":
            nums = lambda s: [c for c in s if c in noise.ZH_NUMERALS]  # noqa: E731
            if nums(out) != nums(base):
                return False
            if kind in ("filler", "dropped_particle"):
                return True
            base_chars = set(norm_key(base))
            new = self.units(out) - self.units(base)
            own = self.own.get(qid, set()) if qid else set()
            for bg in new:
                if not any(c not in base_chars for c in bg):
                    continue  # re-joined neighbours (a dropped particle), not a substitution
                if all(c in ZH_FILLER_CHARS for c in bg):
                    continue
                if bg in self.all_units and bg not in own:
                    return False
            return True
        numre = re.compile(r"\d+(?::\d+)?")
        if numre.findall(out) != numre.findall(base):
            return False
        bw = [w.lower() for w in base.split()]
        if [w for w in out.lower().split() if w in noise.EN_NUMBER_WORDS] != [
            w for w in bw if w in noise.EN_NUMBER_WORDS
        ]:
            return False
        base_units = self.units(base) | {w.lower() for w in base.split()}
        new = self.units(out) - base_units
        own = self.own.get(qid, set()) if qid else set()
        for w in new:
            if kind == "filler" and w in EN_FILLER_TOKENS:
                continue
            if any(w in b or b in w for b in base_units if len(b) > 2):
                continue  # a piece of a split word or a merge of two: not a new word
            if w in self.all_units and w not in own:
                return False
        return True


def noise_kinds(locale: str) -> list[str]:
    return [k for k in noise.NOISE_KINDS[locale] if k != "clean"]


def draw(cat: Catalog, kind: str, base: str, qid: str | None, seed: int, protect=()) -> str | None:
    """One noised surface text of ``base``, or None if no acceptable draw."""
    for attempt in range(MAX_TRIES):
        out = noise.apply(cat.locale, kind, base, seed + 7919 * attempt, protect)
        out = asr_surface(cat.locale, out)
        if cat.noised_ok(out, asr_surface(cat.locale, base), qid, kind):
            return out
    return None


def nbest(
    cat: Catalog,
    rng: random.Random,
    one_best: str,
    base: str,
    qid: str | None,
    kind: str,
    protect=(),
    allow_clean: bool = True,
) -> list[dict]:
    """A 3-5 entry n-best: the 1-best first, other noise draws of the same
    utterance after it, sometimes the clean phrasing at rank 2 or 3."""
    size = rng.choice((3, 3, 4, 5))
    texts = [one_best]
    clean_text = asr_surface(cat.locale, base)
    clean_rank = (
        rng.choice((1, 2)) if allow_clean and kind != "clean" and rng.random() < 0.45 else None
    )
    kinds = noise_kinds(cat.locale)
    tries = 0
    while len(texts) < size and tries < 40:
        tries += 1
        if clean_rank is not None and len(texts) == clean_rank and clean_text not in texts:
            texts.append(clean_text)
            continue
        k = rng.choice(kinds[:-2] if rng.random() < 0.8 else kinds)  # mostly mild alternatives
        alt = draw(cat, k, base, qid, rng.randrange(1 << 30), protect)
        if alt and alt not in texts:
            texts.append(alt)
    scores = []
    s = rng.uniform(0.55, 0.97)
    for _ in texts:
        scores.append(round(s, 3))
        s = max(0.01, s * rng.uniform(0.55, 0.92))
    for i in range(1, len(scores)):  # strictly descending after rounding
        if scores[i] >= scores[i - 1]:
            scores[i] = round(max(0.001, scores[i - 1] - 0.01), 3)
    return [{"text": t, "score": sc} for t, sc in zip(texts, scores, strict=True)]


# ---------------------------------------------------------------------------
# Builders
# ---------------------------------------------------------------------------


def split_phrasings(phr: list[str], split: str) -> list[str]:
    if len(phr) < 2:
        return phr
    return phr[0::2] if split == "dev" else phr[1::2]


def build_in_domain(cat: Catalog, split: str, taken: set[str]) -> list[dict]:
    kinds = noise_kinds(cat.locale)
    n_total = CASES_PER_QUERY * len(cat.queries)
    n_clean = round(CLEAN_SHARE * n_total)
    clean_every = n_total / n_clean if n_clean else math.inf
    cases = []
    used: Counter[str] = Counter()
    slot = 0
    next_clean = clean_every / 2
    for q in cat.queries:
        phr = split_phrasings(q["phrasings"], split)
        for j in range(CASES_PER_QUERY):
            base = phr[j % len(phr)]
            seed = crc_seed(SPLIT_SEED[split], cat.locale, q["id"], j)
            if slot >= next_clean:
                next_clean += clean_every
                text = asr_surface(cat.locale, base)
                if text not in taken:
                    cases.append(
                        dict(
                            transcript=text,
                            expected_id=q["id"],
                            locale=cat.locale,
                            noise="clean",
                            _base=base,
                        )
                    )
                    taken.add(text)
                    slot += 1
                    continue
            # the least used kind first (ties: round-robin), so kinds spread evenly
            order = sorted(kinds, key=lambda k: (used[k], (kinds.index(k) - slot) % len(kinds)))
            made = None
            for kind in order:
                for b in (
                    [base]
                    + [p for p in phr if p != base]
                    + [p for p in q["phrasings"] if p not in phr]
                ):
                    out = draw(cat, kind, b, q["id"], seed + crc_seed(kind, b))
                    if out and out not in taken:
                        made = dict(
                            transcript=out,
                            expected_id=q["id"],
                            locale=cat.locale,
                            noise=kind,
                            _base=b,
                        )
                        break
                if made:
                    break
            if made is None:
                raise SystemExit(f"no noised case for {q['id']} in {split}")
            taken.add(made["transcript"])
            cases.append(made)
            used[made["noise"]] += 1
            slot += 1
    return cases


def slot_values(cat: Catalog, split: str) -> list[tuple[str, str, str]]:
    """(slot type, template, value) for the split, values checked against the catalog."""
    spec_all = SLOT_TEMPLATES[cat.locale].values()
    dev_v = {v.lower() for sp in spec_all for v in sp["dev"]}
    test_v = {v.lower() for sp in spec_all for v in sp["test"]}
    assert not dev_v & test_v, f"slot values in both dev and test: {sorted(dev_v & test_v)}"
    out = []
    for stype, spec in SLOT_TEMPLATES[cat.locale].items():
        for v in spec[split]:
            if cat.value_in_catalog(v):
                print(
                    f"  [{cat.locale}] slot value {v!r} ({stype}) occurs in the catalog: skipped",
                    file=sys.stderr,
                )
                continue
            for t in spec["templates"]:
                out.append((stype, t, v))
    return out


def build_ood(cat: Catalog, split: str, n_in: int, taken: set[str]) -> list[dict]:
    n_ood = math.ceil(n_in * OOD_SHARE / (1 - OOD_SHARE))
    n_slot = math.ceil(n_ood * SLOT_SHARE_OF_OOD)
    n_gen = n_ood - n_slot
    rng = random.Random(crc_seed("ood", SPLIT_SEED[split], cat.locale))
    kinds = noise_kinds(cat.locale)

    # slot changes: interleave slot types so every type is represented
    combos = slot_values(cat, split)
    by_type: dict[str, list[tuple[str, str, str]]] = {}
    for c in combos:
        by_type.setdefault(c[0], []).append(c)
    for lst in by_type.values():
        rng.shuffle(lst)
    queue = []
    while any(by_type.values()):
        for stype in list(by_type):
            if by_type[stype]:
                queue.append(by_type[stype].pop())
    cases: list[dict] = []
    n_noised = round(n_slot * NOISED_OOD_SHARE)
    qi = 0
    while len([c for c in cases if c["noise"] == "slot_change"]) < n_slot:
        if qi >= len(queue):
            raise SystemExit(f"not enough slot-change combinations for {cat.locale} {split}")
        stype, tmpl, v = queue[qi]
        qi += 1
        base = tmpl.replace("{v}", v)
        clean_t = asr_surface(cat.locale, base)
        if norm_key(clean_t) in cat.keys or cat.value_in_catalog(v) is True:
            raise SystemExit(f"slot change equals the catalog: {base}")
        text = clean_t
        idx = len(cases)
        if idx % max(1, round(1 / NOISED_OOD_SHARE)) == 1 and n_noised > 0:
            kind = kinds[idx % len(kinds)]
            noised = draw(cat, kind, base, None, crc_seed(split, base, kind), protect=(v,))
            if noised and v.lower() in noised.lower():
                text = noised
                n_noised -= 1
        if text in taken:
            continue
        taken.add(text)
        cases.append(
            dict(
                transcript=text,
                expected_id=None,
                locale=cat.locale,
                noise="slot_change",
                _base=base,
                _protect=(v,),
            )
        )

    # general out-of-domain requests
    gen = GENERAL_OOD[cat.locale][0::2] if split == "dev" else GENERAL_OOD[cat.locale][1::2]
    for g in gen:
        if norm_key(g) in cat.keys:
            raise SystemExit(f"general out-of-domain request equals the catalog: {g}")
    gcases = []
    for g in gen[:n_gen]:
        t = asr_surface(cat.locale, g)
        if t not in taken:
            taken.add(t)
            gcases.append(
                dict(
                    transcript=t,
                    expected_id=None,
                    locale=cat.locale,
                    noise="out_of_domain",
                    _base=g,
                    _protect=(),
                )
            )
    k = 0
    while len(gcases) < n_gen:  # noised copies of general requests
        g = gen[k % len(gen)]
        kind = kinds[k % len(kinds)]
        k += 1
        t = draw(cat, kind, g, None, crc_seed(split, g, kind, k))
        if t and t not in taken:
            taken.add(t)
            gcases.append(
                dict(
                    transcript=t,
                    expected_id=None,
                    locale=cat.locale,
                    noise="out_of_domain",
                    _base=g,
                    _protect=(),
                )
            )
        if k > 20 * len(gen):
            raise SystemExit("cannot make enough general out-of-domain cases")
    return cases + gcases


def interleave(in_dom: list[dict], ood: list[dict], rng: random.Random) -> list[dict]:
    allc = in_dom + ood
    rng.shuffle(allc)
    return allc


def build_split(cat: Catalog, split: str, taken: set[str]) -> list[dict]:
    ind = build_in_domain(cat, split, taken)
    ood = build_ood(cat, split, len(ind), taken)
    rng = random.Random(crc_seed("order", SPLIT_SEED[split], cat.locale))
    cases = interleave(ind, ood, rng)
    # n-best lists for ~ALT_SHARE of the cases
    for i, c in enumerate(cases):
        r = random.Random(crc_seed("alt", SPLIT_SEED[split], cat.locale, i, c["transcript"]))
        if r.random() < ALT_SHARE:
            c["alternatives"] = nbest(
                cat,
                r,
                c["transcript"],
                c["_base"],
                c["expected_id"],
                c["noise"],
                c.get("_protect", ()),
                allow_clean=True,
            )
    return cases


def serialise(cases: list[dict]) -> str:
    lines = []
    for c in cases:
        rec = {
            "transcript": c["transcript"],
            "expected_id": c["expected_id"],
            "locale": c["locale"],
            "noise": c["noise"],
        }
        if "alternatives" in c:
            rec["alternatives"] = c["alternatives"]
        lines.append(json.dumps(rec, ensure_ascii=False))
    return "\n".join(lines) + "\n"


def verify(cat: Catalog, split: str, cases: list[dict]) -> None:
    ids = {q["id"] for q in cat.queries}
    assert len(cases) >= 600, (cat.locale, split, len(cases))
    ood = [c for c in cases if c["expected_id"] is None]
    assert len(ood) >= 0.25 * len(cases)
    slot = [c for c in ood if c["noise"] == "slot_change"]
    assert len(slot) * 2 >= len(ood)
    assert len({c["transcript"] for c in cases}) == len(cases)
    for c in cases:
        assert c["noise"] in NOISE_LABELS
        assert c["expected_id"] is None or c["expected_id"] in ids
        if c["expected_id"] is None:
            assert norm_key(c["transcript"]) not in cat.keys, c
        for a in c.get("alternatives", []):
            assert 0 < a["score"] <= 1
        alts = c.get("alternatives")
        if alts:
            assert alts[0]["text"] == c["transcript"]
            assert all(alts[i]["score"] > alts[i + 1]["score"] for i in range(len(alts) - 1))
            assert 3 <= len(alts) <= 5
            if c["expected_id"] is None:
                assert all(norm_key(a["text"]) not in cat.keys for a in alts)
    for c in slot:
        assert norm_key(c["_base"]) not in cat.keys
        assert not cat.value_in_catalog(c["_protect"][0])
    clean = sum(c["noise"] == "clean" for c in cases)
    assert clean <= 0.10 * len(cases)


def counts_table(all_cases: dict[tuple[str, str], list[dict]]) -> str:
    cols = list(all_cases)
    head = "| noise | " + " | ".join(f"{loc} {sp}" for loc, sp in cols) + " |"
    sep = "| --- |" + " ---: |" * len(cols)
    rows = [head, sep]
    cnt = {k: Counter(c["noise"] for c in v) for k, v in all_cases.items()}
    for lab in NOISE_LABELS:
        rows.append(f"| {lab} | " + " | ".join(str(cnt[k].get(lab, 0)) for k in cols) + " |")

    def row(name, f):
        return f"| {name} | " + " | ".join(str(f(all_cases[k])) for k in cols) + " |"

    rows.append(row("**total**", len))
    rows.append(row("in domain", lambda v: sum(c["expected_id"] is not None for c in v)))
    rows.append(row("out of domain", lambda v: sum(c["expected_id"] is None for c in v)))
    rows.append(
        row(
            "out of domain, noised",
            lambda v: sum(
                c["expected_id"] is None and norm_key(c["transcript"]) != norm_key(c["_base"])
                for c in v
            ),
        )
    )
    rows.append(row("with alternatives", lambda v: sum("alternatives" in c for c in v)))
    rows.append(
        row("canonical queries", lambda v: len({c["expected_id"] for c in v if c["expected_id"]}))
    )
    return "\n".join(rows)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument(
        "--check", action="store_true", help="fail if the committed files differ from a fresh build"
    )
    args = ap.parse_args()
    all_cases: dict[tuple[str, str], list[dict]] = {}
    status = 0
    for loc in LOCALES:
        cat = Catalog(loc)
        taken: set[str] = set()  # no transcript in two splits
        for split in SPLITS:
            cases = build_split(cat, split, taken)
            verify(cat, split, cases)
            all_cases[(loc, split)] = cases
            path = HERE / f"cases.{loc}.{split}.jsonl"
            text = serialise(cases)
            if args.check:
                if not path.exists() or path.read_text(encoding="utf-8") != text:
                    print(f"{path.name}: differs from a fresh build", file=sys.stderr)
                    status = 1
            else:
                path.write_text(text, encoding="utf-8")
    print(counts_table(all_cases))
    return status


if __name__ == "__main__":
    sys.exit(main())
