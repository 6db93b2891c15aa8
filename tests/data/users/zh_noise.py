"""zh-CN user-phrasing cases: validate phrasings.zh-CN.tsv and add pinyin-level ASR noise.

Reads tests/data/users/phrasings.zh-CN.tsv (hand-written, see README.zh-CN.md), checks it
against canonical_queries/zh-CN/, and writes for each split `cases.zh-CN.<split>.jsonl`
(what `normalizer eval` reads) and `cases.zh-CN.<split>.meta.jsonl` (what was spoken, what
the noise did, its character error rate). Every phrasing gives four cases: `clean`, `light`
(one character edit), `medium` (two) and `heavy` (a third of the characters, at least three,
at most half). Edits imitate a Mandarin recogniser: same-sound characters, tone and near-sound
confusions, southern accent mergers, dropped or added particles. Nothing is random between
runs: each case's generator is seeded with zlib.crc32 of its utterance and noise level.

    .venv/bin/python tests/data/users/zh_noise.py           # validate and (re)write the files
    .venv/bin/python tests/data/users/zh_noise.py --check   # exit 1 if the files are stale
"""

from __future__ import annotations

import argparse
import functools
import json
import random
import sys
import unicodedata
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from pypinyin import Style, lazy_pinyin, pinyin

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
LOCALE = "zh-CN"
TSV = HERE / f"phrasings.{LOCALE}.tsv"
CATALOG_DIR = REPO / "canonical_queries" / LOCALE
HEADER = ["split", "id", "phrasing", "utterance"]
IN_DOMAIN_ORDER = ["catalog", "paraphrase", "paraphrase", "paraphrase"]
OUT_OF_DOMAIN_COUNTS = {"slot_change": 240, "out_of_domain": 200}
SPLITS = ("dev", "test")
LEVELS = ("clean", "light", "medium", "heavy")

# The 2500 most frequent simplified characters, most frequent first. Source: jieba 0.42.1's
# dict.txt (a word-frequency list) without its proper-noun entries (tags nr ns nt nz); a
# character counts the summed frequency of the words containing it; GB2312 only. A
# replacement is always one of these: a recogniser's language model writes frequent
# characters.
COMMON_CHARS = (
    "一是了不人在有为这和大他上个中年地来我以到要时出的会生说道也国们下行就于学后发成"
    "对家子之得可过自主作分方用你着多能等业部工经而长面里动都进去公事那心定同本全前还"
    "然其民起种开法现所产高如政机体好天理力与日两实当么区只重外军从又小制没代此将手名"
    "间看关者头化月最内各无见已但些建水三相她想门位性由十物点员新合第市口表使意加数样"
    "次正因身度情向场把被通并文入问量战知立资级应平任及期明系万气常回总展二路品或电提"
    "治设很比原声教元先统处形院己目老义领话世计直女给至活别首打变更果几称特儿流社决今"
    "导利权少程议结走管书术务报便题再四才反石接规条队它改色受式保司米听基解委命省组指"
    "什做运五取强清放城交选信却职风论记件号类济技眼带据真科完边质增难兵干传何空师达专"
    "每神集住即认界步死举历必游收叫官具求考车农近众海该研持转调备感花光线团让商始较造"
    "百亲型笑价单共山候金校言则布快器皇积属土际往准字根究段争火装史参非千吃育极像张约"
    "告办整构影料算马观太示半势安投图划值革士许包精热象思县西族股八息鱼怎断随群需速深"
    "党况复功编早病境源台派支推且望服格觉企容未确除片联网证标引率初响节远消项失均球白"
    "低轻般甚击红存请织落离副站创食帝律令越视足纪虽显药护试府铁照营占跟察识置列飞余案"
    "批局采广曾防另古费倒客居按责双满仅切房模突围底态武席音东负六杀村层故供美斗续似乡"
    "环破招找易查素状血致严左父终效施乐细弹尽脸演若须周习旅获写攻胜注坐夫艺验紧域航右"
    "独语户连医刻优排急适降依修射伤例留油志北弟爱害阶亿七助绝待劳养酒审压检送微兴密黑"
    "财限略配竟呢差富喜仍钱敌念林哪预怕承策拿九词执止座景赛黄谁份征银惊范冲答监刚船木"
    "核辑著男升协吧画免孩南愿材括超善母闻久味乱章背讲乎谈晚皮激架既敢草继挥封夜掌板担"
    "苦室句岁筑辖刀简块益错够充销角剧欢额退读帮楼衣阵脚某守树测异判友园坚啊练败礼呼含"
    "救星维菜货版险吗临评茶忙镇剑汉买肉沉矿遗停厂假输散否州端渐毒控笔温良互顶咱曲训娘"
    "忽录脑扩饭暗克赶诉述尚础短奇街毕宫喝卖移授痛减逐穿露朝牌植宣票召杂河堂臣吸届归姓"
    "烈侧追季陆邦班秘补姑央拉卫藏诗固怪盘贵遇靠兄刺毫督青轮附沿载妇桥警炮抗罪妈软顺序"
    "枪禁慢骨旁岸稳彩旧概熟介墙岛亮冷针丰缺折罢探恶犯款页困迎末危翻付顾屋婚宽换疑戏讨"
    "烧春析疗误闭馆献洞侵币伸跑繁借私亡拥店登跳歌汽您脱兼典烟套夺庭坏圆龙肯卷瞧购径纸"
    "墓床遍择甲掉舞售牛培嘴课驻避灯厚希爷丝绿雨拔遭束御舰粮横睡络印播混殖访吨抓鼓耳逃"
    "址纷予奴怒染摇灭怀寻波隐操威透静拍缓野迹涓距蛋健纵午融虚抵虑贸促鲜奖码巨迫硬锛坛"
    "液损哭偏累厅替综竞挂松税奔休弱聚英钢田盛睛途泥灵幅役殿刑释鬼酸港润握旗仙王潜宗谋"
    "库抱楚毛震妹尊谓宪叶享骑摆械钟频宜壁呈朋欲铺签恐爆措郡岗虫齐泛索仪缩搞幸奶胞障废"
    "鸡粉撤猛乘顿曰订纯汇普盖雪忘俗奉灰触尤胸铜篇玩雄凡奏绩啦阻暴迅捕裁截淡剂纺忍拜婆"
    "博抢桃唱贴丈阴迷呀醒剩暖贼残托闪伙倾泪贫辈疾署寒闹亦涉亚妻秀缘圣零殊华骂徒盟饮延"
    "冒诸奋斤秋患麻尖豆爹壮裂岩糖姐雕棉哥映媒倍抬挑箭圈童隔劲弄尾唯桌胆炸凭洋祭智赏盐"
    "扬绍佳储彻跃牙默毁昨磁叹询陷喊洗亩腹肥潮符抽腿援弃迁香尸净皆恢趣脉佛竹梦摸伴阅览"
    "惯浓杯勇谷穷努症伍窗旋递聘键坦貌恨腰乃晶冠冰绕番袭灾赞涨闲荡镜租荒哈湿鸟肠幕祖柱"
    "紫锅煤旨胖羊趋巧译册阔插吹贡磨绪贯辞摄虎艇珍罚巴辆戒薄粗垂拳浮腐滑袋尺绘阁渡估肩"
    "扑阿诏稀臂谢偷旦启狂牧寡悬炒稍券懂讯矛颁伏沙悲厉穴夏贷妙违撞呆刊狗誉隶敬寺森饰愈"
    "碎滚盾描永污忌烦籍盗餐仗搜堆廷冬孤魔庙扎肚浪沟恩申爸赤巡汗倘鼻舍龄暂仿扫跨碗伟忧"
    "炼衡菌珠猪漫塞赴腾悄愤哲践康振顷乏拟轰劝逼纳云葬恰辅驾邻魂俄叔庆燃迟粒陪斜涌寄返"
    "幼溶赋丧凝惨袖驱眉纲碰糊焦挺颇氧德仇拖枝岂扶棋跪孝渔档纤拒割覆僧添偶乳盆烤孙揭吓"
    "扇君悉井颗惜浅详卡循雷汤帐姊诚埋衰刘豪牵枚凉吐搭戴仰脏绣弯俱挡唐柔庄宋箱肿刷凶债"
    "锋杆莫膜筹疏遣咬填夹脊躲踏削谱狠泡牢亏扰跌弦慌岭灌勤朵爬奸娃钻艘纹壳胶滴卵炉碍齿"
    "炎鉴翼兽怨邀俘拨肌荷辩蒸挖董偿肝盈腔尘寨峰狼卒邮耗秒琴脂拆胁蛇拦披廊塑垸犹疼棒艰"
    "烂罗悠吏荐瓦壤拾励妖厘敏蒙掩耕滋猜福氏陵拱苏轨允畜辨瓶昏江丢鞋擦畅搬尝捉咨匠涂甜"
    "嘛苗肤挤遂诊窝阳辣砖洲喷尿雾辟飘塔纠忠坊屈寸惧宏笼衙稿赢剥链恭浠晃欺哩拼薪筋漠扣"
    "骗孔幽俩吊囊胎恋逆舌棺掘匆猎携缝扯耐丽祸癌栏彼函颜砍碑狱糕晨伐梯枢隆堤吞篮叛藕催"
    "牲踪遵腺慰榜咐驰歇奈赖颈洁宿鸣瓜斑莲妃漏勾阀瞎甘嫁扭恼遥荣贪逻僭胃宇氨藻杖祝宴堪"
    "疯斩闷侦亭抑闯轿扮粘啥抛傻绳漆池浑墨锁驶仔哼碱泄伪臭匹舱吟忆捧鞭瘤柄椅吻悟抖鼠敲"
    "剪冶瘦袍陶刃侨屏郁饱躺溜炭猴邪咽惩漂卑郊颤疲晋帽押饿姻缠盒掠坑蓄辱赐宅旱肾浆胀撑"
    "摔轴仆哨椒玉逢梁幻衔怜肺谨劫辐蜂镑铸趁稻姿渠兑哦舒串踢丛肃诞惑吾唤璃嫩禀狭杩筒胡"
    "湖祀贤欣疫妥韩赔摊饼账倡玻呵诱叉惟坡氛顽劣庸卧挣睁抚脾撒醉枯聪瓷秩茫纱帅棍悔霸冻"
    "晕酷纬砂矩锦吩孕津丑猫稷斥抹泊酬罐捐珊脆锐欠叠槽舆挨哄京皱钉乙涔阐柳哀唇盼棣赌擅"
    "嫌翅畏蛮泽芒雇履掷煎晓株芦摘宝鹿眠冤誓竭矮罩俺厌溃嫂迈怔宁抄肢丐寿檐艳堵拓逝羞蚀"
    "淋瞬寂娶宙挽痕麦媳欧蹈肴歼茅撰慨凑烛屁愁峡拐侍喉愧豫扔栽渗浩谐帖肆喇扁夸吵螺辰赚"
    "铅窄磷沪丫衫蜜盲饲婴柜慎韵膨碳宰泌奠瞪棚膀鼎糟裤煮蜀僚匾妄涵喘蔬耻喂佩牺妨遮陛辛"
    "贩砸惠壶郎崩竖膏雌醇罕裹聊佣浣唉掀窑惹栖叩屡卸瞒渴厮刮霜苍僵饶盯泼隙川伞窟侄鳞擒"
    "儒朴摩嘉硕崖弥坟墩浸鳍讼脖晒朕霉颠嘿咳磕怖绵钩掏滞捷洒熔哑柴巷滩衷兆叙汁娱菱攀崇"
    "蜡仁矣羽舅狮宠腕芯捞旬氢嘱晌婶赠靖粑昔饥捏缔乖蹄歪俯夕虾璇卦萄骤剿仓嘻吁锻丞蓝禽"
    "捣峻焚勒昂葡焰悦枕燥蕴禅傲茎湾兀嗯驼匪撕诺衍缚愣麋灏弓勉垄寓溪劈硫匀沸绸堡夷尔搏"
    "缴虏庞爽娇嚷躯拌贱褐募耀绑颂帜帘泳涯啡徽弊膝狐滥耍桶惶酱妆勋喃坝厨芳巩丸躬纽麓熬"
    "斋骚窃杰勘洪塌奥辉厢歧凿乌挫框哟逮镖陡垫舶煌屯凸舵酶咖蔽橡魄懒愚闸淘赦鄙菩晰灶丘"
    "鹰砌雅盏娥锥沼酿俊裙沦诈倚哎驴躁疆剖咕凛淫宾兜寰烹戚卤瑰勃旺暇铝趟爵裸搅吼呜哗骇"
    "垮炕锌拘搁斧肪愉屿蹲棵椎乞拂弧榴痴腥烘腊诵颊贝谕玄凄怯枣糯乾驳庵兔摧襟浴蟹骄犬萨"
    "哇胪拢诀璧瀹觅丁叮榨芽坠髓枉贿泣巾苹梢憾蓉蚕钙甩皖奢逸嵌秦睹谜咋缁沾傍茂贬窜锤屑"
    "胚棕瞅浏囚腻嗓淑暮薯痒葱膊诡婢逛贮暑恍菊"
)

NUMERALS = frozenset("零〇一二两俩三四五六七八九十百千万亿半廿")
NEGATIONS = frozenset("不没别甭勿未无非莫否")
# Characters a substitution never writes: numerals (a number must not become another
# number), negations (the label would flip), and words of direction or polarity that
# would make the transcript ask for the opposite of what was said.
NEVER_WRITTEN = NUMERALS | NEGATIONS | frozenset("开关大小高低亮暗上下前后进退今明昨早晚加减")
# Characters never replaced or dropped: a negation said stays said.
NEVER_TOUCHED = NEGATIONS

# Substitution kinds and their weights when a character is garbled.
KIND_WEIGHTS = {"homophone": 5.0, "tone": 2.0, "accent": 2.0, "near": 1.0}
# Within a kind, the first TOP_CANDIDATES by frequency are kept; see weighted_candidates.
TOP_CANDIDATES = 5
RANK_SMOOTHING = 100
# Share of edits that drop or add a particle (when one fits) rather than garble a character.
PARTICLE_SHARE = 0.15
DROPPABLE = {"的": "de5", "了": "le5", "吧": "ba5", "呢": "ne5", "啊": "a5", "嘛": "ma5"}
FINAL_PARTICLES = "吧呢啊嘛了"
# "一下" is added after 打开/关掉/关闭, or after a one-character verb said right after
# 帮我/给我/你 (帮我查 -> 帮我查一下), when a Han character that is no complement follows.
YIXIA_VERBS = ("打开", "关掉", "关闭")
YIXIA_SHORT_VERBS = frozenset("看查读念放听找停播")
YIXIA_LEADS = ("帮我", "给我", "你")
NOT_AFTER_VERB = frozenset("一下了个着过掉开到成高低大小亮暗上回起给完好")

INITIALS = ("zh", "ch", "sh", "b", "p", "m", "f", "d", "t", "n", "l", "g", "k", "h",
            "j", "q", "x", "r", "z", "c", "s", "y", "w")
# Southern-accent mergers: initials zh/z ch/c sh/s n/l r/l f/h; finals -n/-ng.
ACCENT_INITIALS = {"zh": ("z",), "z": ("zh",), "ch": ("c",), "c": ("ch",), "sh": ("s",),
                   "s": ("sh",), "n": ("l",), "l": ("n", "r"), "r": ("l",), "f": ("h",),
                   "h": ("f",)}
ACCENT_FINALS = {"an": ("ang",), "ang": ("an",), "en": ("eng",), "eng": ("en",),
                 "in": ("ing",), "ing": ("in",), "ian": ("iang",), "iang": ("ian",),
                 "uan": ("uang",), "uang": ("uan",)}
# Other near sounds: aspirated/unaspirated and neighbouring initials, neighbouring finals.
NEAR_INITIALS = {"b": ("p",), "p": ("b",), "d": ("t",), "t": ("d",), "g": ("k",),
                 "k": ("g",), "j": ("q",), "q": ("j", "x"), "x": ("q",), "m": ("n",)}
NEAR_FINALS = {"ai": ("ei",), "ei": ("ai", "ui"), "ui": ("ei",), "ao": ("ou",),
               "ou": ("ao",), "uo": ("o",), "o": ("uo",), "ing": ("eng",), "eng": ("ing",),
               "in": ("en",), "en": ("in",), "e": ("o",)}

COMMON_RANK = {ch: i for i, ch in enumerate(COMMON_CHARS)}


def primary_reading(ch: str) -> str:
    return pinyin(ch, style=Style.TONE3, neutral_tone_with_five=True)[0][0]


def build_sound_index() -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Common characters by toned syllable and by toneless syllable, most frequent first."""
    toned: dict[str, list[str]] = {}
    toneless: dict[str, list[str]] = {}
    for ch in COMMON_CHARS:
        syl = primary_reading(ch)
        if not syl[-1:].isdigit():
            continue
        toned.setdefault(syl, []).append(ch)
        toneless.setdefault(syl[:-1], []).append(ch)
    return toned, toneless


TONED, TONELESS = build_sound_index()


def split_syllable(base: str) -> tuple[str, str]:
    for ini in INITIALS:
        if base.startswith(ini) and len(base) > len(ini):
            return ini, base[len(ini):]
    return "", base


def variants(base: str, initials: Mapping[str, tuple[str, ...]],
             finals: Mapping[str, tuple[str, ...]]) -> list[str]:
    ini, fin = split_syllable(base)
    out = [i + fin for i in initials.get(ini, ())]
    out += [ini + f for f in finals.get(fin, ())]
    return [b for b in out if b != base]


def candidates(ch: str, syl: str) -> dict[str, list[str]]:
    """Replacement characters for `ch` read as `syl` (e.g. "tian1"), by kind."""
    base, tone = syl[:-1], syl[-1]

    def usable(chars: list[str]) -> list[str]:
        return [c for c in chars if c != ch and c not in NEVER_WRITTEN]

    def sounding(bases: list[str]) -> list[str]:
        """Characters sounding like one of `bases`, same tone first, frequency order."""
        same = [c for b in bases for c in TONED.get(b + tone, [])]
        other = [c for b in bases for c in TONELESS.get(b, []) if c not in same]
        return usable(sorted(same, key=COMMON_RANK.__getitem__)
                      + sorted(other, key=COMMON_RANK.__getitem__))

    homophones = usable(TONED.get(syl, []))
    tones = usable([c for c in TONELESS.get(base, []) if c not in TONED.get(syl, [])])
    accent = sounding(variants(base, ACCENT_INITIALS, ACCENT_FINALS))
    near = [c for c in sounding(variants(base, NEAR_INITIALS, NEAR_FINALS)) if c not in accent]
    found = {"homophone": homophones, "tone": tones, "accent": accent, "near": near}
    return {kind: chars[:TOP_CANDIDATES] for kind, chars in found.items() if chars}


@functools.cache
def weighted_candidates(ch: str, syl: str) -> tuple[tuple[str, str, float], ...]:
    """(kind, replacement, weight) for garbling `ch`: the kind's weight, times 1/(i+1) for
    the i-th most frequent candidate of that kind, times min(1, (rank(ch) + RANK_SMOOTHING)
    / (rank(new) + RANK_SMOOTHING)): a recogniser rarely writes a rarer character for a
    frequent one (我 is seldom heard as 握), readily a frequent one for a rarer one."""
    rank = COMMON_RANK.get(ch, len(COMMON_CHARS))
    out = []
    for kind, chars in candidates(ch, syl).items():
        for i, new in enumerate(chars):
            ratio = min(1.0, (rank + RANK_SMOOTHING) / (COMMON_RANK[new] + RANK_SMOOTHING))
            out.append((kind, new, KIND_WEIGHTS[kind] / (i + 1) * ratio))
    return tuple(out)


def readings(text: str) -> list[str | None]:
    """The toned syllable of every character of `text` in context, None for non-Han."""
    out: list[str | None] = [None] * len(text)
    i = 0
    while i < len(text):
        if not is_han(text[i]):
            i += 1
            continue
        j = i
        while j < len(text) and is_han(text[j]):
            j += 1
        for k, syl in enumerate(lazy_pinyin(text[i:j], style=Style.TONE3,
                                            neutral_tone_with_five=True)):
            out[i + k] = syl if syl[-1:].isdigit() else None
        i = j
    return out


def is_han(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff"


def levenshtein(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def cer(noisy: str, spoken: str) -> float:
    """Character error rate, spaces ignored: edit distance / spoken length."""
    ref = spoken.replace(" ", "")
    return levenshtein(noisy.replace(" ", ""), ref) / len(ref)


def edit_budget(level: str, spoken: str) -> int:
    """Character edits per level: light 1, medium 2, heavy a third of the characters but at
    least 3 (so it is heavier than medium) and at most half (never below medium's 2)."""
    n = len(spoken.replace(" ", ""))
    heavy = min(max(3, round(n / 3)), max(2, n // 2))
    return {"clean": 0, "light": 1, "medium": 2, "heavy": heavy}[level]


@dataclass
class Noisy:
    text: str
    edits: list[dict[str, object]]
    cer: float


@dataclass
class _Plan:
    spoken: str
    replace: dict[int, str] = field(default_factory=dict)  # position -> text ("" = dropped)
    insert_after: dict[int, str] = field(default_factory=dict)
    edits: list[dict[str, object]] = field(default_factory=list)

    def touched(self, i: int) -> bool:
        return i in self.replace or i in self.insert_after or (i - 1) in self.insert_after

    def render(self) -> str:
        out = []
        for i, ch in enumerate(self.spoken):
            out.append(self.replace.get(i, ch))
            out.append(self.insert_after.get(i, ""))
        return "".join(out)


def substitution(plan: _Plan, sounds: list[str | None], rng: random.Random) -> int:
    """Garble one untouched character; positions are drawn by their summed candidate
    weights, so rarer characters, which have more plausible confusions, go wrong more."""
    options = [(i, kind, new, w) for i, syl in enumerate(sounds)
               if syl and not plan.touched(i) and plan.spoken[i] not in NEVER_TOUCHED
               for kind, new, w in weighted_candidates(plan.spoken[i], syl)]
    if not options:
        return 0
    i, kind, new, _ = rng.choices(options, weights=[o[3] for o in options])[0]
    ch, syl = plan.spoken[i], sounds[i]
    plan.replace[i] = new
    plan.edits.append({"op": "sub", "at": i, "from": ch, "to": new, "kind": kind,
                       "pinyin": f"{syl}>{primary_reading(new)}"})
    return 1


def yixia_spots(s: str) -> list[int]:
    """Positions after which "一下" can be said."""
    ends = []
    for verb in YIXIA_VERBS:
        start = s.find(verb)
        while start >= 0:
            ends.append(start + len(verb) - 1)
            start = s.find(verb, start + 1)
    for lead in YIXIA_LEADS:
        start = s.find(lead)
        while start >= 0:
            end = start + len(lead)
            if end < len(s) and s[end] in YIXIA_SHORT_VERBS:
                ends.append(end)
            start = s.find(lead, start + 1)
    return sorted(e for e in set(ends)
                  if e + 1 < len(s) and is_han(s[e + 1]) and s[e + 1] not in NOT_AFTER_VERB)


def particle(plan: _Plan, sounds: list[str | None], rng: random.Random, budget: int) -> int:
    """Drop or add one particle costing at most `budget` edits; return its cost (0: none)."""
    s = plan.spoken
    options: list[tuple[str, int, str]] = []  # (op, position, text)
    for i, ch in enumerate(s):
        if (ch in DROPPABLE and DROPPABLE[ch] == sounds[i] and not plan.touched(i)
                and len(s.replace(" ", "")) > 2):
            options.append(("drop", i, ch))
    for i in range(len(s) - 1):
        if (s[i:i + 2] == "一下" and not plan.touched(i) and not plan.touched(i + 1)
                and budget >= 2 and (i == 0 or s[i - 1] not in NUMERALS)):
            options.append(("drop", i, "一下"))
    last = len(s) - 1
    if is_han(s[last]) and s[last] not in FINAL_PARTICLES and last not in plan.insert_after:
        options += [("insert", last, p) for p in FINAL_PARTICLES]
    if budget >= 2:
        for end in yixia_spots(s):
            if end not in plan.insert_after and not plan.touched(end + 1):
                options.append(("insert", end, "一下"))
    if not options:
        return 0
    ops = sorted({o[0] for o in options})
    op = rng.choice(ops)  # dropping and adding are equally likely when both fit
    op, i, text = rng.choice([o for o in options if o[0] == op])
    if op == "drop":
        for k in range(len(text)):
            plan.replace[i + k] = ""
    else:
        plan.insert_after[i] = text
    plan.edits.append({"op": op, "at": i, "text": text, "kind": "particle"})
    return len(text)


def add_noise(spoken: str, level: str) -> Noisy:
    """The transcript a recogniser might write for `spoken` at noise `level`."""
    budget = edit_budget(level, spoken)
    if budget == 0:
        return Noisy(spoken, [], 0.0)
    rng = random.Random(zlib.crc32(f"{spoken}\t{level}".encode()))
    sounds = readings(spoken)
    plan = _Plan(spoken)
    while budget > 0:
        cost = 0
        if rng.random() < PARTICLE_SHARE:
            cost = particle(plan, sounds, rng, budget)
        if cost == 0:
            cost = substitution(plan, sounds, rng)
        if cost == 0:
            cost = particle(plan, sounds, rng, budget)
        if cost == 0:
            break  # nothing left to change: the case keeps the edits it has
        budget -= cost
    text = plan.render()
    return Noisy(text, plan.edits, round(cer(text, spoken), 3))


# ---------------------------------------------------------------- phrasings and checks


@dataclass(frozen=True)
class Phrasing:
    line: int
    split: str
    id: str
    phrasing: str
    utterance: str


def fold(text: str) -> str:
    """Lower-case, without spaces and punctuation: how utterances are compared."""
    return "".join(ch for ch in text.lower()
                   if not ch.isspace() and not unicodedata.category(ch).startswith("P"))


def load_catalog() -> tuple[list[str], set[str]]:
    ids: list[str] = []
    texts: set[str] = set()
    for path in sorted(CATALOG_DIR.glob("*.yaml")):
        for query in yaml.safe_load(path.read_text(encoding="utf-8"))["queries"]:
            ids.append(query["id"])
            texts.update(fold(t) for t in [query["text"], *query.get("variants", [])])
    return ids, texts


SENTENCE_PUNCTUATION = frozenset("，。？！、；：,.?!;:\"'“”‘’…")


def read_phrasings(path: Path) -> tuple[list[Phrasing], list[str]]:
    errors: list[str] = []
    rows: list[Phrasing] = []
    lines = path.read_text(encoding="utf-8").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if not lines or lines[0].split("\t") != HEADER:
        errors.append(f"{path}:1: header must be {chr(9).join(HEADER)!r}")
        return rows, errors
    for n, line in enumerate(lines[1:], 2):
        cols = line.split("\t")
        if len(cols) != 4:
            errors.append(f"{path}:{n}: expected 4 tab-separated columns, found {len(cols)}")
            continue
        rows.append(Phrasing(n, *cols))
    return rows, errors


def validate(rows: list[Phrasing], path: Path) -> list[str]:
    ids, catalog_texts = load_catalog()
    known = set(ids)
    errors: list[str] = []

    def err(row: Phrasing, message: str) -> None:
        errors.append(f"{path}:{row.line}: {message}")

    seen: dict[str, int] = {}
    kinds = set(IN_DOMAIN_ORDER) | set(OUT_OF_DOMAIN_COUNTS)
    for row in rows:
        u = row.utterance
        if row.phrasing not in kinds:
            err(row, f"phrasing {row.phrasing!r} is not one of {sorted(kinds)}")
        if row.split not in SPLITS:
            err(row, f"split {row.split!r} is not dev or test")
        if not u.strip() or u != u.strip() or "  " in u:
            err(row, "utterance is empty or has leading, trailing or double spaces")
        if any(ch.isdigit() and ch.isascii() for ch in u):
            err(row, f"utterance {u!r} has digits: write numbers as spoken (六点半)")
        if SENTENCE_PUNCTUATION & set(u):
            err(row, f"utterance {u!r} has sentence punctuation: a transcript has none")
        if fold(u) in catalog_texts:
            err(row, f"utterance {u!r} equals a catalog text or variant")
        if fold(u) in seen:
            err(row, f"utterance {u!r} repeats line {seen[fold(u)]}")
        seen.setdefault(fold(u), row.line)
        in_domain = row.phrasing in IN_DOMAIN_ORDER
        if in_domain and row.id not in known:
            err(row, f"id {row.id!r} is not a {LOCALE} catalog id")
        if not in_domain and row.id:
            err(row, f"{row.phrasing} line must have an empty id, found {row.id!r}")

    in_domain_rows = [r for r in rows if r.phrasing in IN_DOMAIN_ORDER]
    expected = [(qid, kind) for qid in ids for kind in IN_DOMAIN_ORDER]
    for qid in ids:
        mine = [r for r in in_domain_rows if r.id == qid]
        if len(mine) != len(IN_DOMAIN_ORDER):
            where = f"{path}:{mine[0].line}" if mine else f"{path}:1"
            errors.append(f"{where}: query {qid} has {len(mine)} in-domain lines, "
                          f"expected {len(IN_DOMAIN_ORDER)}")
    for pos, row in enumerate(in_domain_rows):
        if pos < len(expected) and (row.id, row.phrasing) != expected[pos]:
            qid, kind = expected[pos]
            err(row, f"expected the {kind} line of {qid} here (catalog order, then "
                     f"catalog, paraphrase x3), found {row.phrasing} of {row.id!r}")
            break
        k, j = divmod(pos, len(IN_DOMAIN_ORDER))
        want = SPLITS[(k + j) % 2]
        if row.split != want:
            err(row, f"split must be {want} (query k={k}, j={j})")
    for kind, count in OUT_OF_DOMAIN_COUNTS.items():
        mine = [r for r in rows if r.phrasing == kind]
        if len(mine) != count:
            errors.append(f"{path}:1: {len(mine)} {kind} lines, expected {count}")
        for i, row in enumerate(mine):
            if row.split != SPLITS[i % 2]:
                err(row, f"split must be {SPLITS[i % 2]} ({kind} number {i + 1}, alternating)")
    return errors


# ---------------------------------------------------------------- cases


def build_cases(rows: list[Phrasing]) -> dict[Path, str]:
    """The content of every generated file, by path."""
    cases: dict[str, list[str]] = {s: [] for s in SPLITS}
    metas: dict[str, list[str]] = {s: [] for s in SPLITS}
    for row in rows:
        for level in LEVELS:
            noisy = add_noise(row.utterance, level)
            case = {"transcript": noisy.text, "expected_id": row.id or None, "locale": LOCALE,
                    "noise": level, "phrasing": row.phrasing}
            meta = {"spoken": row.utterance, "noise": level, "cer": noisy.cer,
                    "edits": noisy.edits}
            cases[row.split].append(json.dumps(case, ensure_ascii=False))
            metas[row.split].append(json.dumps(meta, ensure_ascii=False))
    out: dict[Path, str] = {}
    for split in SPLITS:
        out[HERE / f"cases.{LOCALE}.{split}.jsonl"] = "\n".join(cases[split]) + "\n"
        out[HERE / f"cases.{LOCALE}.{split}.meta.jsonl"] = "\n".join(metas[split]) + "\n"
    return out


def summary(files: dict[Path, str]) -> str:
    lines = []
    sums: dict[str, list[float]] = {level: [] for level in LEVELS}
    for path, text in files.items():
        if path.name.endswith(".meta.jsonl"):
            for line in text.splitlines():
                meta = json.loads(line)
                sums[meta["noise"]].append(meta["cer"])
    for level in LEVELS:
        values = sums[level]
        lines.append(f"{level:7s} cases={len(values):5d} mean_cer={sum(values) / len(values):.3f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="regenerate in memory; exit 1 if the files on disk differ")
    args = parser.parse_args(argv)
    rows, errors = read_phrasings(TSV)
    errors += validate(rows, TSV) if not errors else []
    if errors:
        print("\n".join(errors), file=sys.stderr)
        return 1
    files = build_cases(rows)
    if args.check:
        stale = [p for p, text in files.items()
                 if not p.exists() or p.read_text(encoding="utf-8") != text]
        for path in stale:
            print(f"{path}: differs from what {Path(__file__).name} generates; "
                  f"rerun without --check", file=sys.stderr)
        if stale:
            return 1
        print(f"{TSV.name}: {len(rows)} phrasings valid; {len(files)} case files up to date")
        return 0
    for path, text in files.items():
        path.write_text(text, encoding="utf-8")
    print(f"{TSV.name}: {len(rows)} phrasings valid; wrote "
          + ", ".join(p.name for p in files))
    print(summary(files))
    return 0


if __name__ == "__main__":
    sys.exit(main())
