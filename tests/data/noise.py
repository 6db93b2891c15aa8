"""ASR noise generators for the normalizer's labelled evaluation data.

Each generator is a pure function ``fn(text, seed=0, protect=()) -> str``: it
draws everything from ``random.Random(seed)``, so the same (text, seed) always
gives the same output, on any machine and under any ``PYTHONHASHSEED``.
``protect`` is an iterable of substrings (slot values such as a room or a city)
that the generator must leave untouched. A generator that finds nothing to do
returns the text unchanged; callers detect that and try another draw or kind.

Invariants, common to all generators (first law: a wrong rewrite is worse than
no rewrite, so the labels must be right):

* digits, number words and Chinese numerals are never a source or a target of a
  substitution, and are never dropped (``十分钟`` never becomes ``是分钟``);
* a substitution never produces a word that flips or adds meaning (no ``on`` ->
  ``off``, no ``步`` -> ``不``, no ``是`` -> ``十``): see ``ZH_NO_TARGET`` and
  ``EN_NO_TARGET``;
* ``protect`` substrings are left as they are.

Generator table (``GENERATORS`` at the bottom maps (locale, kind) -> function):

=====  ==================  =====================  ==========================================
loc.   kind (case label)   function               real ASR behaviour it imitates
=====  ==================  =====================  ==========================================
zh-CN  homophone           zh_homophone           the decoder's language model picks another
                                                  common character (or 2-character word) with
                                                  the same toneless pinyin: 气->汽, 灯->等,
                                                  度->渡, 天气->天启; 1-2 substitutions.
zh-CN  near_homophone      zh_near_homophone      accent/pronunciation confusions of Mandarin
                                                  speakers the acoustic model was not trained
                                                  on: z/zh, c/ch, s/sh, n/l, f/h initials and
                                                  -n/-ng finals: 书->苏, 城->层, 那->拉 ...
zh-CN  dropped_particle    zh_drop_particles      unstressed, short function syllables lost by
                                                  the recogniser (or endpointer): 的, 一下, 吧,
                                                  呢, 了, 啊, 吗, 请, utterance-initial 把.
zh-CN  filler              zh_fillers             disfluencies transcribed verbatim: 嗯, 啊,
                                                  呃, 那个, 就是, 帮我 at the start or at a word
                                                  boundary.
zh-CN  garbled             zh_garbled             a bad utterance (noise, far field, strong
                                                  accent): ~half of the characters replaced by
                                                  homophones / near-homophones, a particle
                                                  lost; a person can barely understand it.
zh-CN  combined            zh_combined            2-3 of the above on one utterance.
en-US  homophone           en_homophone           the language model picks an exact
                                                  sound-alike spelling: weather->whether,
                                                  lights->lites, right->write, bread->bred.
en-US  near_homophone      en_near_homophone      near sound-alikes from the acoustic model:
                                                  off->of, alarm->a lot, timer->time or,
                                                  bedroom->bad room, play->pray, next->necks,
                                                  mute->moot, kitchen->kitten, call->cole.
en-US  split_merge         en_split_merge         word-boundary errors: "bed room", "to day",
                                                  "play list" (split), "turnoff", "setan"
                                                  (merged).
en-US  filler              en_fillers             disfluencies and politeness kept in the
                                                  transcript: uh, um, er, like, hey, can you,
                                                  please.
en-US  dropped_particle    en_drop_function_words short unstressed function words swallowed:
                                                  the, a, an, to, my, for, at, please, me.
en-US  garbled             en_garbled             a bad utterance: most sound-alike
                                                  substitutions applied, function words lost,
                                                  other words respelled phonetically
                                                  (metaphone-checked: light->lite,
                                                  phone->fone, quick->kwik).
en-US  combined            en_combined            2-3 of the en-US kinds on one utterance.
=====  ==================  =====================  ==========================================

The homophone tables are built from pypinyin over ``common_chars()``: a
frequency-ordered string of common modern Chinese characters written below,
topped up to 3000 with GB2312 level-1 characters ranked by how many entries
of pypinyin's phrase dictionary use them.
"""

from __future__ import annotations

import functools
import random
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence

import jellyfish
from pypinyin import Style, lazy_pinyin, pinyin

Generator = Callable[..., str]

# --------------------------------------------------------------------------
# Chinese: common characters
# --------------------------------------------------------------------------

# Roughly the most frequent characters of modern written Chinese, most frequent
# first (after character-frequency lists of modern corpora; hand-typed, so the
# exact order is approximate, which does not matter here: the order is only a
# preference weight). Duplicates are removed when loaded.
_FREQ_ORDERED = (
    "的一是不了在人有我他这个们中来上大为和国地到以说时要就出会可也你对生能而子那得于着下自之年过发后作里用道"
    "行所然家种事成方多经么去法学如都同现当没动面起看定天分还进好小部其些主样理心她本前开但因只从想实日军者意无"
    "力它与长把机十民第公此已工使情明性知全三又关点正业外将两高间由问很最重并物手应战向头文体政美相见被利什二等"
    "产或新己制身果加西斯月话合回特代内信表化老给世位次度门任常先海通教儿原东声提立及比员解水名真论处走义各入几"
    "口认条平系气题活尔更别打女变四神总何电数安少报才结反受目太量再感建务做接必场件计管期市直德资命山金指克许统"
    "区保至队形社便空决治展马科司五基眼书非则听白却界达光放强即像难且权思王象完设式色路记南品住告类求据程北边死"
    "张该交规万取拉格望觉术领共确传师观清今切院让识候带导争运笑飞风步改收根干造言联持组每济车亲极林服快办议往元"
    "英士证近失转夫令准布始怎呢存未远叫台单影具罗字爱击流备兵连调深商算质团集百需价花党华城石级整府离况亚请技际"
    "约示复病息究线似官火断精满支视消越器容照须九增研写称企八功吗包片史委乎查轻易早曾除农找装广显吧阿李标谈吃图"
    "念六引历首医局突专费号尽另周较注语仅考落青随选列武红响虽推势参希古众构房半节土投某案黑维革划敌致陈律足态护"
    "七兴派孩验责营星够章音跟志底站严巴例防族供效续施留讲型料终答紧黄绝奇察母京段依批群项故按河米围江织害斗双境"
    "客纪采举杀攻父苏密低朝友诉止细愿千值仍男钱破网热助倒育属坐帝限船脸职速刻乐否刚威毛状率甚独球般普怕弹校苦创"
    "假久错承印晚兰试股拿脑预谁益阳若哪微尼继送急血惊伤素药适波夜省初喜卫源食险待述陆习置居劳财环排福纳欢雷警获"
    "模充负云停木游龙树疑层冷洲冲射略范竟句室异激汉村哈策演简卡罪判担州静退既衣您宗积余痛检差富灵协角占配征修皮"
    "挥胜降阶审沉坚善妈刘读啊超免压银买皇养伊怀执副乱抗犯追帮宣佛岁航优怪香著田铁控税左右份穿艺背阵草脚概恶块顿"
    "敢守酒岛托央户烈洋哥索胡款靠评版宝座释景顾弟登货互付伯慢欧换闻危忙核暗姐介坏讨丽良序升监临亮露永呼味野架域"
    "沙掉括舰鱼杂误湾吉减编楚肯测败屋跑梦散温困剑渐封救贵枪缺楼县尚毫移娘朋画班智亦耳恩短掌恐遗固席松秘谢鲁遇康"
    "虑幸均销钟诗藏赶剧票损忽巨炮旧端探湖录叶春乡附吸予礼港雨呀板庭妇归睛饭额含顺输摇招婚脱补谓督毒油疗旅泽材灭"
    "逐莫笔亡鲜词圣择寻厂睡博勒烟授诺伦岸奥唐卖俄炸载洛健堂旁宫喝借君禁阴园谋宋避抓荣姑孙逃牙束跳顶玉镇雪午练迫"
    "爷篇肉嘴馆遍凡础洞卷坦牛宁纸诸训私庄祖丝翻暴森塔默握戏隐熟骨访弱蒙歌店鬼软典欲萨伙遭盘爸扩盖弄雄稳忘亿刺拥"
    "徒姆杨齐赛趣曲刀床迎冰虚玩析窗醒妻透购替塞努休虎扬途侵刑绿兄迅套贸毕唯谷轮库迹尤竞街促延震弃甲伟麻川申缓潜"
    "闪售灯针哲络抵朱埃抱鼓植纯夏忍页杰筑折郑贝尊吴秀混臣雅振染盛怒舞圆搞狂措姓残秋培迷诚宽宇猛摆梅毁伸摩盟末乃"
    "悲拍丁赵硬麦蒋操耶阻订彩抽赞魔纷沿喊违妹浪汇币丰蓝殊献桌啦瓦莱援译夺汽烧距裁偏符勇触课敬哭懂墙袭召罚侠厅拜"
    "巧侧韩冒债曼融惯享戴童犹乘挂奖绍厚纵障讯涉彻刊丈爆乌役描洗玛患妙镜唱烦签仙彼弗症仿倾牌陷鸟轰咱菜闭奋庆撤泪"
    "茶疾缘播朗杜奶季丹狗尾仪偷奔珠虫驻孔宜艾桥淡翼恨繁寒伴叹旦愈潮粮缩罢聚径恰挑袋灰捕徐珍幕映裂泰隔启尖忠累炎"
    "暂估泛荒偿横拒瑞忆孤鼻闹羊呆厉衡胞零穷舍码赫婆魂灾洪腿胆津俗辩胸晓劲贫仁偶辑邦恢赖圈摸仰润堆碰艇稍迟辆废净"
    "凶署壁御奉旋冬矿抬蛋晨伏吹鸡倍糊秦盾杯租骑乏隆诊奴摄丧污渡旗甘耐凭扎抢绪粗肩梁幻菲皆碎宙叔岩荡综爬荷悉蒂返"
    "井壮薄悄扫敏碍殖详迪矛霍允幅撒剩凯颗骂赏液番箱贴漫酸郎腰舒眉忧浮辛恋餐吓挺励辞艘键伍峰尺昨黎辈贯侦滑券崇扰"
    "宪绕趋慈乔阅汗枝拖墨胁插箭腊粉泥氏彭拔骗凤慧媒佩愤扑龄驱惜豪掩兼跃尸肃帕驶堡届欣惠册储飘桑闲惨洁踪勃宾频仇"
    "磨递邪撞拟滚奏巡颜剂绩贡疯坡瞧截燃焦殿伪柳锁逼颇昏劝呈搜勤戒驾漂饮曹朵仔柔俩孟腐幼践籍牧凉牲佳娜浓芳稿竹腹"
    "跌逻垂遵脉貌柏狱猜怜惑陶兽帐饰贷昌叙躺钢沟寄扶铺邓寿惧询汤盗肥尝匆辉奈扣廷澳嘛董迁凝慰厌脏腾幽怨鞋丢埋泉涌"
    "辖躲晋紫艰魏吾慌祝邮吐狠鉴曰械咬邻赤挤弯椅陪割揭韦悟聪雾锋梯猫祥阔誉筹丛牵鸣沈阁穆屈旨袖猎臂蛇贺柱抛鼠瑟戈"
    "牢逊迈欺吨琴衰瓶恼燕仲诱狼池疼卢仗冠粒遥吕玄尘冯抚浅敦纠钻晶岂峡苍喷耗凌敲菌赔涂粹扁亏寂煤熊恭湿循暖糖赋抑"
    "秩帽哀宿踏烂袁侯抖夹昆肝擦猪炼恒慎搬纽纹玻渔磁铜齿跨押怖漠疲叛遣兹祭醉拳弥斜档稀捷肤疫肿豆削岗晃吞宏癌肚隶"
    "履涨耀扭坛拨沃绘伐堪仆郭牺歼墓雇廉契拼惩捉覆刷劫嫌瓜歇雕闷乳串娃缴唤赢莲霸桃妥瘦搭赴岳嘉舱俊址庞耕锐缝悔邀"
    "玲惟斥宅添挖呵讼氧浩羽斤酷掠妖祸侍乙妨贪挣汪尿莉悬唇翰仓轨枚盐览傅帅庙芬屏寺胖璃愚滴疏萧姿颤丑劣柯寸扔盯辱"
    "匹俱辨饿蜂哦腔郁溃谨糟葛苗肠忌溜鸿爵鹏鹰笼丘桂滋聊挡纲肌茨壳痕碗穴膀卓贤卧膜毅锦欠哩函茫昂薛皱夸豫胃舌剥傲"
    "拾窝睁携陵哼棉晴铃填饲渴吻扮逆脆喘罩卜炉柴愉绳胎蓄眠竭喂傻慕浑奸扇柜悦拦诞饱乾泡贼亭夕爹酬儒姻卵氛泄杆挨僧"
    "蜜吟猩遂狭肖甜霞驳裕顽於摘矮秒卿畜咽披辅勾盆疆赌塑畏吵囊嗯泊肺骤缠冈羞瞪吊贾漏斑涛悠鹿俘锡卑葬铭滩嫁催璇翅"
    "盒蛮矣潘歧赐鲍锅廊拆灌勉盲宰佐啥胀扯禧辽抹筒棋裤唉朴咐孕誓喉妄拘链驰栏逝窃艳臭纤玑棵趁匠盈翁愁瞬婴孝颈倘浙"
    "谅蔽畅赠妮莎尉冻跪闯葡厨鸭颠遮谊圳吁仑辟瘤嫂陀框谭亨钦庸歉芝吼甫衫摊宴嘱衷娇陕矩浦讶耸裸碧摧薪淋耻胶屠鹅"
    "饥盼脖虹翠崩账萍逢赚撑翔倡绵猴枯巫昭怔渊凑溪蠢禅阐旺寓藤匪伞碑挪琼脂谎慨菩萄狮掘抄岭晕逮砍掏狄晰罕挽脾舟痴"
    "蔡剪脊弓懒叉拐喃僚捐姊骚拓歪粘柄坑陌窄湘兆崖骄刹鞭芒筋聘钩棍嚷腺弦焰耍俯厘愣厦恳饶钉寡憾摔叠惹喻谱愧煌徽溶"
    "坠煞巾滥洒堵瓷咒姨棒郡浴媚稣淮哎屁漆淫巢吩撰啸滞玫硕钓蝶膝姚茂躯吏猿寨恕渠戚辰舶颁惶狐讽笨袍嘲啡泼衔倦涵雀"
    "旬僵撕肢垄夷逸茅侨舆窑涅蒲谦杭噢弊勋刮郊凄捧浸砖鼎篮蒸饼亩肾陡爪兔殷贞荐哑炭坟眨搏咳拢舅昧擅爽咖搁禄雌哨巩"
    "绢螺裹昔轩谬谍龟媳姜瞎冤鸦蓬巷琳栽沾诈斋瞒彪厄咨纺罐桶壤糕颂膨谐垒咕隙辣绑宠嘿兑霉挫稽辐乞纱裙嘻哇绣杖塘衍"
    "轴攀膊譬斌祈踢肆坎轿棚泣屡躁邱凰溢椎砸趟帘帆栖窜丸斩堤塌贩厢掀喀乖谜捏阎滨虏匙芦苹卸沼钥株祷剖熙哗劈怯棠胳"
    "桩瑰娱娶沫嗓蹲焚淘嫩韵衬匈钧竖峻豹捞菊鄙魄兜哄颖镑屑蚁壶怡渗秃迦旱哟咸焉谴宛稻铸锻伽詹毙恍贬烛骇芯汁桓坊驴"
    "朽靖佣汝碌迄冀荆崔雁绅珊榜诵傍彦醇笛禽勿娟瞄幢寇睹贿踩霆呜拱妃蔑谕缚诡篷淹腕煮倩卒勘馨逗甸贱炒灿敞蜡囚栗辜"
    "垫妒魁谣寞蜀甩涯枕丐泳奎泌逾叮黛燥掷藉枢憎鲸弘倚侮藩拂鹤蚀浆芙垃烤晒霜剿蕴圾绸屿氢驼妆捆铅逛淑榴丙痒钞蹄犬"
    "躬昼藻蛛褐颊奠募耽蹈陋侣魅岚侄虐堕陛莹荫狡阀绞膏垮茎缅喇绒搅凳梭丫姬诏钮棺耿缔懈嫉灶匀嗣鸽澡凿纬沸畴刃遏烁"
    "嗅叭熬瞥骸奢拙栋毯桐砂莽泻坪梳杉晤稚蔬蝇捣顷尴镖诧尬硫嚼羡沦沪旷彬芽狸冥碳咧惕暑咯萝汹腥窥俺潭崎麟捡拯厥"
    "澄萎哉涡滔暇溯鳞酿茵愕瞅暮衙诫斧兮焕棕佑嘶妓喧蓉删樱伺嗡娥梢坝蚕敷澜杏绥冶庇挠搂倏聂婉噪稼鳍菱盏匿吱寝揽髓"
    "秉哺矢啪帜邵嗽挟缸揉腻驯缆晌瘫贮觅朦僻隋蔓咋嵌虔畔琐碟涩胧嘟蹦冢浏裔襟叨诀旭虾簿啤擒枣嘎苑牟呕骆凸熄兀喔裳"
    "凹赎屯膛浇灼裘砰棘橡碱聋姥瑜毋娅沮萌俏黯撇粟粪尹苟癫蚂禹廖俭帖煎缕窦簇棱叩呐瑶墅莺烫蛙歹伶葱哮眩坤廓讳啼乍"
    "瓣矫跋枉梗厕琢讥釉窟敛轼庐胚呻绰扼懿炯竿慷虞锤栓桨蚊磅孽惭戳禀鄂馈垣溅咚钙礁彰豁眯磷雯墟迂瞻颅琉悼蝴拣渺眷"
    "悯汰慑婶斐嘘镶炕宦趴绷窘襄珀嚣拚酌浊毓撼嗜扛峭磕翘槽淌栅颓熏瑛颐忖"
)

N_COMMON = 3000


def _is_han(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff"


def _gb2312_level1(ch: str) -> bool:
    try:
        b = ch.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return len(b) == 2 and 0xB0 <= b[0] <= 0xD7


@functools.lru_cache(maxsize=1)
def common_chars() -> str:
    """The ``N_COMMON`` common characters, most frequent first.

    ``_FREQ_ORDERED`` (deduplicated) first, then GB2312 level-1 characters
    ranked by their number of occurrences in pypinyin's phrase dictionary.
    """
    from pypinyin.phrases_dict import phrases_dict

    seen: dict[str, None] = {}
    for ch in _FREQ_ORDERED:
        if _is_han(ch):
            seen.setdefault(ch, None)
    counts: dict[str, int] = {}
    for phrase in phrases_dict:
        for ch in phrase:
            counts[ch] = counts.get(ch, 0) + 1
    extra = sorted(
        (c for c in counts if _gb2312_level1(c) and c not in seen), key=lambda c: (-counts[c], c)
    )
    for ch in extra:
        if len(seen) >= N_COMMON:
            break
        seen[ch] = None
    return "".join(list(seen)[:N_COMMON])


# Chinese numerals (and digits) are never touched.
ZH_NUMERALS = set("零〇一二三四五六七八九十百千万亿两半廿") | set("0123456789０１２３４５６７８９")
# Characters a substitution must never produce: numerals, negations, and
# command / direction / degree words whose appearance would change the request.
ZH_NO_TARGET = ZH_NUMERALS | set(
    "不没别无非未否勿莫开关停启闭大小高低上下前后左右加减增降升多少亮暗冷热暖凉早晚明昨今第再"
    "快慢长短强弱点分秒时度"
)
# Characters that are never a substitution source (negations).
ZH_NO_SOURCE = ZH_NUMERALS | set("不没别勿莫")

ZH_PARTICLES = ("一下", "的", "吧", "呢", "了", "啊", "吗", "请")
ZH_FILLERS_START = ("嗯", "呃", "啊", "那个", "就是", "嗯那个", "呃就是", "嗯", "那个", "帮我")
ZH_FILLERS_MID = ("嗯", "呃", "那个", "就是", "啊")
ZH_FILLERS_END = ("啊", "呢", "嗯")

# Pinyin confusions: initials, then finals (non-native or regional Mandarin).
_ZH_INITIAL_CONFUSIONS = {
    "zh": "z",
    "z": "zh",
    "ch": "c",
    "c": "ch",
    "sh": "s",
    "s": "sh",
    "n": "l",
    "l": "n",
    "f": "h",
    "h": "f",
}
_ZH_FINAL_CONFUSIONS = {
    "an": "ang",
    "ang": "an",
    "en": "eng",
    "eng": "en",
    "in": "ing",
    "ing": "in",
    "ian": "iang",
    "iang": "ian",
    "uan": "uang",
    "uang": "uan",
}
_INITIALS = (
    "zh",
    "ch",
    "sh",
    "b",
    "p",
    "m",
    "f",
    "d",
    "t",
    "n",
    "l",
    "g",
    "k",
    "h",
    "j",
    "q",
    "x",
    "r",
    "z",
    "c",
    "s",
    "y",
    "w",
)


def _tone3_split(py: str) -> tuple[str, int]:
    """'qi4' -> ('qi', 4); neutral tone -> 5."""
    if py and py[-1].isdigit():
        return py[:-1], int(py[-1])
    return py, 5


@functools.lru_cache(maxsize=1)
def _char_index() -> tuple[dict[str, list[tuple[str, int, int]]], dict[str, int]]:
    """toneless pinyin -> [(char, tone, frequency rank)], and char -> rank."""
    index: dict[str, list[tuple[str, int, int]]] = {}
    rank: dict[str, int] = {}
    for i, ch in enumerate(common_chars()):
        rank[ch] = i
        syl, tone = _tone3_split(lazy_pinyin(ch, style=Style.TONE3, neutral_tone_with_five=True)[0])
        index.setdefault(syl, []).append((ch, tone, i))
    return index, rank


@functools.lru_cache(maxsize=1)
def _word_index() -> dict[tuple[str, str], list[str]]:
    """Two-character words of pypinyin's phrase dictionary made of common characters,
    keyed by toneless pinyin."""
    from pypinyin.phrases_dict import phrases_dict

    _, rank = _char_index()
    out: dict[tuple[str, str], list[str]] = {}
    for word, readings in phrases_dict.items():
        if len(word) != 2 or any(c not in rank or c in ZH_NO_TARGET for c in word):
            continue
        key = tuple(_strip_tone(r[0]) for r in readings)
        if len(key) == 2:
            out.setdefault(key, []).append(word)  # type: ignore[arg-type]
    for words in out.values():
        words.sort(key=lambda w: (rank[w[0]] + rank[w[1]], w))
    return out


def _strip_tone(py: str) -> str:
    py = py.replace("ü", "v")
    return "".join(c for c in unicodedata.normalize("NFD", py) if not unicodedata.combining(c))


def _han_count(text: str) -> int:
    return sum(1 for c in text if _is_han(c))


def _zh_readings(text: str) -> list[tuple[str, int]]:
    """Per-character (toneless pinyin, tone) in context; non-Han chars -> ('', 0)."""
    out = pinyin(
        text, style=Style.TONE3, neutral_tone_with_five=True, errors=lambda s: [[c] for c in s]
    )
    flat = [item[0] for item in out]
    if len(flat) != len(text):  # alignment lost: fall back to per-character readings
        flat = [lazy_pinyin(c, style=Style.TONE3, neutral_tone_with_five=True)[0] for c in text]
    res = []
    for ch, py in zip(text, flat, strict=True):
        res.append(_tone3_split(py) if _is_han(ch) else ("", 0))
    return res


def _protected_positions(text: str, protect: Iterable[str]) -> set[int]:
    pos: set[int] = set()
    for p in protect:
        if not p:
            continue
        start = 0
        while True:
            i = text.find(p, start)
            if i < 0:
                break
            pos.update(range(i, i + len(p)))
            start = i + 1
    return pos


def _weighted_choice(rng: random.Random, items: Sequence[str], weights: Sequence[float]) -> str:
    return rng.choices(list(items), weights=list(weights), k=1)[0]


def _pick_homophone_char(rng: random.Random, ch: str, syl: str, tone: int) -> str | None:
    index, _ = _char_index()
    cands = [(c, t, r) for c, t, r in index.get(syl, []) if c != ch and c not in ZH_NO_TARGET]
    if not cands:
        return None
    # Same tone is what an LM-driven substitution usually keeps; frequent characters win.
    weights = [(4.0 if t == tone else 1.0) / (1.0 + r / 300.0) for c, t, r in cands]
    return _weighted_choice(rng, [c for c, _, _ in cands], weights)


def _near_syllables(syl: str) -> list[str]:
    out = []
    ini = next((i for i in _INITIALS if syl.startswith(i)), "")
    fin = syl[len(ini) :]
    if ini in _ZH_INITIAL_CONFUSIONS:
        out.append(_ZH_INITIAL_CONFUSIONS[ini] + fin)
    if fin in _ZH_FINAL_CONFUSIONS:
        out.append(ini + _ZH_FINAL_CONFUSIONS[fin])
    # keep only syllables that some common character has
    index, _ = _char_index()
    return [s for s in dict.fromkeys(out) if s in index and s != syl]


def _pick_near_char(rng: random.Random, ch: str, syl: str, tone: int) -> str | None:
    index, _ = _char_index()
    items: list[str] = []
    weights: list[float] = []
    for s in _near_syllables(syl):
        for c, t, r in index[s]:
            if c != ch and c not in ZH_NO_TARGET:
                items.append(c)
                weights.append((4.0 if t == tone else 1.0) / (1.0 + r / 300.0))
    if not items:
        return None
    return _weighted_choice(rng, items, weights)


def _zh_sub_positions(text: str, protect: Iterable[str]) -> tuple[list[int], list[tuple[str, int]]]:
    prot = _protected_positions(text, protect)
    readings = _zh_readings(text)
    pos = [
        i
        for i, ch in enumerate(text)
        if _is_han(ch) and ch not in ZH_NO_SOURCE and i not in prot and readings[i][0]
    ]
    return pos, readings


def _zh_substitute(
    text: str,
    rng: random.Random,
    n: int,
    near_p: float,
    protect: Iterable[str],
    word_p: float = 0.0,
) -> str:
    """Replace up to ``n`` characters; ``near_p`` = share of near-homophones."""
    pos, readings = _zh_sub_positions(text, protect)
    chars = list(text)
    rng.shuffle(pos)
    done = 0
    used: set[int] = set()
    for i in pos:
        if done >= n:
            break
        if i in used:
            continue
        syl, tone = readings[i]
        # Word-level homophone: an existing 2-character word with the same pinyin.
        if (
            word_p
            and rng.random() < word_p
            and i + 1 < len(text)
            and (i + 1) in pos
            and (i + 1) not in used
        ):
            key = (syl, readings[i + 1][0])
            words = [
                w
                for w in _word_index().get(key, [])
                if w != text[i : i + 2] and w[0] != text[i] and w[1] != text[i + 1]
            ]
            if words:
                w = words[min(int(rng.expovariate(0.5)), len(words) - 1)]
                chars[i], chars[i + 1] = w[0], w[1]
                used.update((i, i + 1))
                done += 1
                continue
        rep = _pick_near_char(rng, text[i], syl, tone) if rng.random() < near_p else None
        if rep is None:
            rep = _pick_homophone_char(rng, text[i], syl, tone)
        if rep is not None:
            chars[i] = rep
            used.add(i)
            done += 1
    return "".join(chars)


def zh_homophone(text: str, seed: int = 0, protect: Iterable[str] = ()) -> str:
    """Same-pinyin substitution (toneless), 1-2 characters or one 2-character word.

    Imitates the commonest Mandarin ASR error: the acoustics are right, the
    language model picks another character (气->汽, 灯->等, 度->渡) or another
    word (天气->天启) with the same syllables.
    """
    rng = random.Random(seed)
    n = rng.choice((1, 1, 2)) if _han_count(text) > 4 else 1
    return _zh_substitute(text, rng, n, near_p=0.0, protect=protect, word_p=0.3)


def zh_near_homophone(text: str, seed: int = 0, protect: Iterable[str] = ()) -> str:
    """Near-homophone substitution, 1-2 characters: z/zh, c/ch, s/sh, n/l, f/h, -n/-ng.

    Imitates speakers of southern Mandarin varieties (no retroflexes, n/l merged,
    -n/-ng merged) recognised by a model trained on standard Mandarin: 书->苏,
    城->层 (cheng->ceng), 那->拉 (na->la), 房->番 (fang->fan).
    """
    rng = random.Random(seed)
    n = rng.choice((1, 1, 2)) if _han_count(text) > 4 else 1
    pos, readings = _zh_sub_positions(text, protect)
    chars = list(text)
    rng.shuffle(pos)
    done = 0
    for i in pos:
        if done >= n:
            break
        rep = _pick_near_char(rng, text[i], *readings[i])
        if rep is not None:
            chars[i] = rep
            done += 1
    return "".join(chars)


def _zh_drop(text: str, rng: random.Random, n: int, protect: Iterable[str]) -> str:
    prot = _protected_positions(text, protect)
    spans = []
    for p in ZH_PARTICLES:
        start = 0
        while (i := text.find(p, start)) >= 0:
            start = i + 1
            if any(j in prot for j in range(i, i + len(p))):
                continue
            # 一下 keeps 一 out of numbers only when it is the particle: not 一下午.
            if p == "一下" and text[i + 2 : i + 3] == "午":
                continue
            if p == "了" and text[i + 1 : i + 2] == "解":
                continue
            if p == "的" and text[i + 1 : i + 2] in ("士", "确"):
                continue
            spans.append((i, len(p)))
    if text.startswith("把") and 0 not in prot and len(text) > 3:
        spans.append((0, 1))  # utterance-initial 把 is often swallowed
    # drop overlapping spans (一下 vs 下)
    spans.sort()
    clean: list[tuple[int, int]] = []
    for s in spans:
        if clean and s[0] < clean[-1][0] + clean[-1][1]:
            continue
        clean.append(s)
    if not clean:
        return text
    chosen = rng.sample(clean, min(n, len(clean)))
    out = text
    for i, ln in sorted(chosen, reverse=True):
        out = out[:i] + out[i + ln :]
    return out if out.strip() else text


def zh_drop_particles(text: str, seed: int = 0, protect: Iterable[str] = ()) -> str:
    """Drop 1-2 unstressed particles (的, 一下, 吧, 呢, 了, 啊, 吗, 请, initial 把).

    Imitates the recogniser (or the end-pointer, for a final particle) losing
    short neutral-tone syllables in fast speech.
    """
    rng = random.Random(seed)
    return _zh_drop(text, rng, rng.choice((1, 1, 2)), protect)


# Common words (assistant domains first) for word-boundary detection: fillers go
# between words, never inside one. pypinyin's phrase list only holds words whose
# reading is ambiguous, so it is merged with this hand-written list.
ZH_WORDS = """
今天 明天 后天 昨天 今晚 明晚 早上 上午 中午 下午 晚上 傍晚 周末 现在
一会儿 马上 天气 气温 温度 下雨 下雪 刮风 雨伞 带伞 晴天 阴天 多云 空气
质量 湿度 预报 怎么样 怎么 什么 多少 多久 几点 哪里 哪儿 为什么 如何 打开
关闭 关掉 关上 开启 开一下 调高 调低 调到 调成 调亮 调暗 设置 设定 定个
定一个 取消 删除 暂停 继续 播放 停止 切换 上一首 下一首 上一个 下一个 重新
添加 加到 加入 放到 提醒 叫我 叫醒 起床 睡觉 闹钟 计时器 倒计时 分钟 小时
秒钟 点钟 半小时 卧室 主卧 次卧 客厅 厨房 书房 卫生间 洗手间 浴室 餐厅 走廊
阳台 车库 门口 全部 所有 电灯 台灯 灯光 吊灯 夜灯 空调 暖气 风扇 电视 窗帘
加湿器 净化器 扫地机 扫地机器人 洗衣机 热水器 冰箱 音量 声音 大声 小声 静音
音乐 歌曲 一首 歌单 专辑 歌手 电台 新闻 播客 有声书 随机 循环 单曲 收藏
喜欢 打电话 电话 拨打 给我 帮我 我要 我想 想要 需要 可以 能不能 一下 一点
一些 妈妈 爸爸 老婆 老公 爷爷 奶奶 姥姥 姥爷 哥哥 姐姐 弟弟 妹妹 儿子 女儿
老板 同事 朋友 购物 清单 购物车 列表 牛奶 鸡蛋 面包 苹果 香蕉 大米 酸奶
咖啡 啤酒 纸巾 洗发水 牙膏 导航 路线 回家 公司 机场 火车站 附近 加油站
停车场 医院 超市 餐厅 路况 堵车 距离 公里 多远 北京 上海 广州 深圳 杭州
南京 天津 重庆 武汉 西安 苏州 城市 外面 出门 穿什么 日程 会议 安排 日历
提醒我 短信 消息 发消息 微信 邮件 回复 翻译 英文 中文 笑话 故事 时间 日期
星期 几号 电量 亮度 屏幕 蓝牙 网络 无线 模式 睡眠 勿扰 晚安 早安 你好 谢谢
再见 开灯 关灯 开门 关门 锁门
"""


@functools.lru_cache(maxsize=1)
def _zh_lexicon() -> frozenset[str]:
    from pypinyin.phrases_dict import phrases_dict

    words = {w for w in phrases_dict if 2 <= len(w) <= 4}
    words.update(w for w in ZH_WORDS.split() if len(w) >= 2)
    return frozenset(words)


_ZH_HELP_ME_BEFORE = (
    "打开",
    "关",
    "把",
    "设",
    "定",
    "播放",
    "放",
    "导航",
    "查",
    "读",
    "念",
    "取消",
    "删除",
    "开",
    "拉",
    "锁",
    "解锁",
    "切换",
    "暂停",
    "继续",
    "停止",
    "收藏",
    "清空",
    "回拨",
    "接",
    "挂",
    "快进",
    "后退",
    "调",
)
_ZH_FUNCTION_CHARS = set("把给让将在到和跟请帮我你的了吧呢吗啊")


def _zh_word_boundaries(text: str) -> list[int]:
    """Safe word boundaries: forward maximum matching on the lexicon, keeping a
    boundary only where both neighbours are known words or function characters
    (an unknown single character may be part of an unknown word)."""
    lex = _zh_lexicon()
    segs: list[tuple[int, int, bool]] = []  # (start, end, known)
    i = 0
    while i < len(text):
        step, known = 1, False
        if _is_han(text[i]):
            for ln in (5, 4, 3, 2):
                if text[i : i + ln] in lex:
                    step, known = ln, True
                    break
            if not known and text[i] in _ZH_FUNCTION_CHARS:
                known = True
        else:
            while i + step < len(text) and not _is_han(text[i + step]):
                step += 1
            known = True
        segs.append((i, i + step, known))
        i += step
    return [
        segs[k][1]
        for k in range(len(segs) - 1)
        if segs[k][2] and segs[k + 1][2] and text[segs[k][1]] not in "的了吧呢吗啊"
    ]


def zh_fillers(text: str, seed: int = 0, protect: Iterable[str] = ()) -> str:
    """Insert 1-2 fillers (嗯, 啊, 呃, 那个, 就是, 帮我) at the start or a word boundary.

    Imitates hesitations and false starts that a verbatim ASR transcribes.
    Never inside a word, a protected value or a number+unit.
    """
    rng = random.Random(seed)
    prot = _protected_positions(text, protect)
    n = rng.choice((1, 1, 2))
    inserts: list[tuple[int, str]] = []
    bounds = [
        b
        for b in _zh_word_boundaries(text)
        if not (text[b - 1] in ZH_NUMERALS or text[b - 1].isdigit())
        and not (b in prot and b - 1 in prot)
    ]
    for k in range(n):
        r = rng.random()
        if k == 0 and r < 0.55:
            f = rng.choice(ZH_FILLERS_START)
            if f.endswith("帮我") and not text.startswith(_ZH_HELP_ME_BEFORE):
                f = "嗯"  # "帮我" only makes sense before a command verb
            inserts.append((0, f))
        elif r < 0.85 and bounds:
            inserts.append((rng.choice(bounds), rng.choice(ZH_FILLERS_MID)))
        else:
            inserts.append((len(text), rng.choice(ZH_FILLERS_END)))
    out = text
    for i, f in sorted(inserts, key=lambda x: -x[0]):
        out = out[:i] + f + out[i:]
    return out


def zh_garbled(text: str, seed: int = 0, protect: Iterable[str] = ()) -> str:
    """Wholly garbled: about half of the eligible characters replaced (at least 3),
    40% of them by near-homophones, and maybe a particle lost.

    Imitates a far-field / noisy / strongly accented utterance: every syllable
    is roughly right, but a reader can barely tell what was asked.
    """
    rng = random.Random(seed)
    pos, _ = _zh_sub_positions(text, protect)
    n = max(3, round(len(pos) * rng.uniform(0.45, 0.6)))
    out = _zh_substitute(text, rng, n, near_p=0.4, protect=protect, word_p=0.15)
    if rng.random() < 0.4:
        out = _zh_drop(out, rng, 1, protect)
    return out


def zh_combined(text: str, seed: int = 0, protect: Iterable[str] = ()) -> str:
    """Two or three of: homophone, near-homophone, dropped particle, filler.

    Imitates an ordinary real-world transcript, where several small errors co-occur.
    """
    rng = random.Random(seed)
    kinds = [zh_homophone, zh_near_homophone, zh_drop_particles, zh_fillers]
    rng.shuffle(kinds)
    k = rng.choice((2, 2, 3))
    out = text
    applied = 0
    for fn in kinds:
        if applied >= k:
            break
        new = fn(out, rng.randrange(1 << 30), protect)
        if new != out:
            out = new
            applied += 1
    return out


# --------------------------------------------------------------------------
# English
# --------------------------------------------------------------------------

EN_NUMBER_WORDS = frozenset(
    "zero oh one two three four five six seven eight nine ten eleven twelve thirteen "
    "fourteen fifteen sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty "
    "seventy eighty ninety hundred thousand half quarter first second third fourth fifth "
    "once twice double single couple dozen noon midnight".split()
)
# Words that a substitution / split / merge must never produce: numbers,
# toggles, directions and other words that are slot values or change the request.
EN_NO_TARGET = EN_NUMBER_WORDS | frozenset(
    "on off up down in out next previous last stop start play pause resume open close "
    "lock unlock mute unmute louder quieter higher lower brighter dimmer warmer cooler "
    "hotter colder hot cold heat cool warm yes no not don't never nothing cancel delete "
    "remove add set reset snooze skip red blue green white yellow purple orange pink all "
    "none every morning evening night afternoon tonight today tomorrow yesterday weekend "
    "am pm minute minutes hour hours second seconds degree degrees percent max min "
    "maximum minimum more less".split()
)

# Exact sound-alikes: the LM picks another spelling of the same sounds.
EN_HOMOPHONES: dict[str, tuple[str, ...]] = {
    "weather": ("whether", "wether"),
    "lights": ("lites",),
    "light": ("lite",),
    "two": ("to", "too"),  # number word: protected, kept for completeness
    "four": ("for",),  # number word: protected
    "eight": ("ate",),  # number word: protected
    "to": ("too",),
    "for": ("fore",),
    "right": ("write", "rite"),
    "bread": ("bred",),
    "route": ("root",),
    "hour": ("our",),
    "hours": ("ours",),
    "new": ("knew",),
    "week": ("weak",),
    "whole": ("hole",),
    "buy": ("by", "bye"),
    "tea": ("tee",),
    "meet": ("meat",),
    "meat": ("meet",),
    "flour": ("flower",),
    "flower": ("flour",),
    "flowers": ("flours",),
    "sale": ("sail",),
    "mail": ("male",),
    "rain": ("reign", "rein"),
    "raining": ("reigning",),
    "wait": ("weight",),
    "weight": ("wait",),
    "there": ("their",),
    "their": ("there",),
    "here": ("hear",),
    "hear": ("here",),
    "see": ("sea",),
    "sun": ("son",),
    "sunny": ("sonny",),
    "blue": ("blew",),
    "break": ("brake",),
    "brake": ("break",),
    "pair": ("pear",),
    "pear": ("pair",),
    "peace": ("piece",),
    "plane": ("plain",),
    "where": ("wear",),
    "wear": ("where",),
    "which": ("witch",),
    "would": ("wood",),
    "night": ("knight", "nite"),
    "tonight": ("tonite",),
    "through": ("threw",),
    "time": ("thyme",),
    "cell": ("sell",),
    "dear": ("deer",),
    "do": ("due", "dew"),
    "fair": ("fare",),
    "fare": ("fair",),
    "great": ("grate",),
    "high": ("hi",),
    "way": ("weigh",),
    "road": ("rode", "rowed"),
    "roll": ("role",),
    "scene": ("seen",),
    "steel": ("steal",),
    "sweet": ("suite",),
    "knows": ("nose",),
    "poor": ("pour",),
    "cereal": ("serial",),
    "allowed": ("aloud",),
    "chilly": ("chili",),
    "mist": ("missed",),
    "need": ("knead",),
    "pray": ("prey",),
    "warn": ("worn",),
    "your": ("you're",),
    "you're": ("your",),
    "it's": ("its",),
    "morning": ("mourning",),
    "board": ("bored",),
    "close": ("clothes",),
    "choose": ("chews",),
    "what": ("watt",),
    "story": ("storey",),
    "team": ("teem",),
    "channel": ("chanel",),
    "find": ("fined",),
    "read": ("reed",),
    "phone": ("fone",),
    "I": ("eye",),
    "by": ("buy",),
}

# Near sound-alikes: acoustic-model confusions of similar-sounding words.
EN_NEAR_HOMOPHONES: dict[str, tuple[str, ...]] = {
    "off": ("of",),
    "lights": ("like", "likes", "lice"),
    "light": ("like", "lied"),
    "alarm": ("a lot", "a larm", "alarmed"),
    "alarms": ("a lot", "alarmed"),
    "timer": ("time or", "timber", "time her"),
    "timers": ("time hers", "timbers"),
    "bedroom": ("bad room", "bed rum"),
    "bathroom": ("bath rum", "bat room"),
    "kitchen": ("kitten", "chicken"),
    "living": ("leaving",),
    "room": ("rum", "roam"),
    "garage": ("garbage",),
    "hallway": ("hollow way",),
    "office": ("awful's",),
    "play": ("pray", "played"),
    "next": ("necks", "nest"),
    "previous": ("previews",),
    "song": ("sung", "sawn"),
    "volume": ("valium", "volumes"),
    "louder": ("lauder", "loader"),
    "quieter": ("quite her", "quitter"),
    "mute": ("moot", "mood"),
    "route": ("rout",),
    "directions": ("direction",),
    "navigate": ("navy gate",),
    "home": ("hum", "hone"),
    "work": ("werk",),
    "call": ("cole", "cal", "col"),
    "mom": ("mum", "ma"),
    "dad": ("dat", "did"),
    "text": ("tax", "techs"),
    "message": ("massage",),
    "send": ("sand",),
    "remind": ("remained",),
    "reminder": ("remainder",),
    "tomorrow": ("tamara",),
    "forecast": ("for cast",),
    "snow": ("snowed",),
    "umbrella": ("um brella",),
    "temperature": ("temper sure", "temper tour"),
    "thermostat": ("thermal stat", "thermos tat"),
    "heater": ("heeder", "eater"),
    "fan": ("fun", "van"),
    "curtains": ("cur tins", "certains"),
    "blinds": ("blends",),
    "door": ("dour",),
    "lock": ("look", "luck"),
    "milk": ("melk",),
    "eggs": ("ex",),
    "bread": ("bret", "breath"),
    "apples": ("apple's",),
    "bananas": ("banana's",),
    "shopping": ("chopping", "shipping"),
    "list": ("lest", "lift"),
    "grocery": ("grosser",),
    "coffee": ("coffin", "copy"),
    "order": ("odor", "older"),
    "weather": ("feather", "wetter"),
    "wind": ("wined",),
    "windy": ("wendy",),
    "sunny": ("funny",),
    "news": ("noose", "nose"),
    "radio": ("ready oh", "radios"),
    "shuffle": ("scuffle", "shovel"),
    "repeat": ("report",),
    "start": ("star", "stark"),
    "stop": ("stock", "stomp"),
    "cancel": ("council", "candle"),
    "delete": ("delight",),
    "turn": ("torn", "term", "tern"),
    "switch": ("swish", "which"),
    "set": ("sit", "said", "sat"),
    "wake": ("make", "rake"),
    "minutes": ("minute", "minnows"),
    "please": ("police", "pleas"),
    "what's": ("what", "was"),
    "hot": ("hut", "hat"),
    "cold": ("coal", "called"),
    "brightness": ("bright mess",),
    "brighter": ("bright her",),
    "dimmer": ("dinner", "dimer"),
    "dim": ("them", "tim"),
    "lamp": ("lamb", "limp"),
    "lamps": ("lambs",),
    "fridge": ("bridge",),
    "oven": ("often",),
    "robot": ("rowboat",),
    "battery": ("bad tree", "battering"),
    "find": ("fine",),
    "phone": ("foam",),
    "my": ("me", "mai"),
    "is": ("his", "as"),
    "the": ("da", "duh"),
    "and": ("an",),
    "for": ("fer",),
    "at": ("it",),
    "up": ("app",),
    "down": ("town", "done"),
    "traffic": ("graphic",),
    "restaurant": ("rest a rant",),
    "nearest": ("dearest",),
    "calendar": ("colander",),
    "meeting": ("meting", "eating"),
    "schedule": ("shed jewel",),
    "appointment": ("a point meant",),
    "events": ("evens", "vents"),
    "email": ("a mail",),
    "contact": ("contract",),
    "translate": ("trans late",),
    "define": ("the fine",),
    "joke": ("choke", "jock"),
    "story": ("sorry",),
    "game": ("gain", "gem"),
    "screen": ("scream",),
    "wifi": ("why fi", "wife eye"),
    "bluetooth": ("blew tooth",),
    "television": ("tell a vision",),
    "netflix": ("net flicks",),
    "spotify": ("spot if i",),
    "jazz": ("jags", "chaz"),
    "rock": ("rack",),
    "classical": ("classic all",),
    "relaxing": ("relaxin",),
    "sleep": ("slip",),
    "music": ("magic",),
    "podcast": ("pot cast",),
    "playlist": ("play lust",),
    "morning": ("morn in",),
    "evening": ("even ing",),
    "outside": ("outsight",),
    "humidity": ("humility",),
    "degrees": ("decrees", "the grease"),
    "warmer": ("warner", "wormer"),
    "cooler": ("culler",),
    "brew": ("bro",),
    "vacuum": ("vacuüm",),
    "weekend": ("we can",),
    "check": ("cheque", "chuck"),
    "show": ("shoe", "so"),
    "open": ("hoping",),
    "tell": ("tall", "till"),
    "me": ("mi",),
    "how": ("hal",),
    "good": ("could",),
    "goodnight": ("good knight",),
}

EN_SPLITS: dict[str, str] = {
    "bedroom": "bed room",
    "bathroom": "bath room",
    "today": "to day",
    "tonight": "to night",
    "tomorrow": "to morrow",
    "anything": "any thing",
    "playlist": "play list",
    "goodnight": "good night",
    "weekend": "week end",
    "everything": "every thing",
    "something": "some thing",
    "outside": "out side",
    "upstairs": "up stairs",
    "downstairs": "down stairs",
    "bluetooth": "blue tooth",
    "youtube": "you tube",
    "podcast": "pod cast",
    "podcasts": "pod casts",
    "airport": "air port",
    "nearby": "near by",
    "alarm": "a larm",
    "umbrella": "um brella",
    "forecast": "fore cast",
    "thermostat": "thermo stat",
    "headphones": "head phones",
    "doorbell": "door bell",
    "sunrise": "sun rise",
    "sunset": "sun set",
    "hallway": "hall way",
    "into": "in to",
    "cannot": "can not",
    "myself": "my self",
    "dishwasher": "dish washer",
    "microwave": "micro wave",
    "email": "e mail",
    "wifi": "wi fi",
    "laptop": "lap top",
    "birthday": "birth day",
    "reminder": "re minder",
    "remind": "re mind",
    "timer": "tie mer",
    "whatsapp": "what's app",
    "netflix": "net flix",
    "spotify": "spot ify",
    "downtown": "down town",
    "supermarket": "super market",
    "toothpaste": "tooth paste",
    "weekday": "week day",
    "nightlight": "night light",
    "lightbulb": "light bulb",
    "cupboard": "cup board",
    "backyard": "back yard",
    "driveway": "drive way",
    "shopping": "shop ping",
    "grocery": "gro cery",
    "groceries": "gro ceries",
    "temperature": "temp rature",
    "volume": "vol ume",
    "humidity": "humid ity",
    "directions": "di rections",
    "navigation": "navi gation",
    "television": "tele vision",
    "rainfall": "rain fall",
    "snowfall": "snow fall",
    "homework": "home work",
    "workout": "work out",
    "checkout": "check out",
    "whatever": "what ever",
}
# Adjacent word pairs that ASR tends to glue together.
EN_MERGES: dict[tuple[str, str], str] = {
    ("turn", "off"): "turnoff",
    ("turn", "on"): "turnon",
    ("set", "an"): "setan",
    ("set", "a"): "seta",
    ("wake", "up"): "wakeup",
    ("living", "room"): "livingroom",
    ("good", "night"): "goodnight",
    ("lights", "off"): "lightsoff",
    ("lights", "on"): "lightson",
    ("switch", "off"): "switchoff",
    ("switch", "on"): "switchon",
    ("play", "some"): "playsome",
    ("alarm", "for"): "alarmfor",
    ("timer", "for"): "timerfor",
    ("add", "to"): "addto",
    ("call", "my"): "callmy",
    ("to", "the"): "tothe",
    ("in", "the"): "inthe",
    ("of", "the"): "ofthe",
    ("pick", "up"): "pickup",
    ("set", "up"): "setup",
    ("shut", "off"): "shutoff",
    ("what", "is"): "whatis",
    ("what's", "the"): "what'sthe",
    ("is", "it"): "isit",
    ("going", "to"): "gonna",
    ("want", "to"): "wanna",
    ("let", "me"): "lemme",
    ("give", "me"): "gimme",
    ("turn", "up"): "turnup",
    ("turn", "down"): "turndown",
    ("bed", "room"): "bedroom",
    ("play", "list"): "playlist",
    ("dining", "room"): "diningroom",
    ("front", "door"): "frontdoor",
    ("back", "door"): "backdoor",
    ("weather", "for"): "weatherfor",
    ("remind", "me"): "remindme",
    ("check", "the"): "checkthe",
    ("the", "lights"): "thelights",
    ("the", "light"): "thelight",
    ("how's", "the"): "how'sthe",
    ("a", "timer"): "atimer",
    ("an", "alarm"): "analarm",
    ("my", "mom"): "mymom",
    ("my", "dad"): "mydad",
}
EN_FILLERS_START = ("uh", "um", "er", "hey", "can you", "um can you", "uh hey", "so", "okay um")
EN_FILLERS_MID = ("uh", "um", "er", "like", "uh like")
EN_FILLERS_END = ("please", "uh", "um", "thanks")
EN_DROPPABLE = ("the", "a", "an", "to", "my", "for", "at", "please", "me")

_TOKEN_RE = re.compile(r"^([^\w']*)([\w'’-]*)([^\w']*)$")


def _split_tok(tok: str) -> tuple[str, str, str]:
    m = _TOKEN_RE.match(tok)
    if not m:
        return "", tok, ""
    return m.group(1), m.group(2), m.group(3)


def _en_protected_idx(tokens: list[str], protect: Iterable[str]) -> set[int]:
    out: set[int] = set()
    low = [_split_tok(t)[1].lower() for t in tokens]
    for p in protect:
        pw = [w.lower() for w in p.split()]
        if not pw:
            continue
        for i in range(len(low) - len(pw) + 1):
            if low[i : i + len(pw)] == pw:
                out.update(range(i, i + len(pw)))
    for i, w in enumerate(low):
        if (
            any(c.isdigit() for c in w)
            or w in EN_NUMBER_WORDS
            or w in ("am", "pm", "a.m.", "p.m.", "o'clock")
        ):
            out.add(i)
    return out


def _target_ok(target: str) -> bool:
    return not any(w.lower() in EN_NO_TARGET for w in target.split())


def _match_case(src: str, rep: str) -> str:
    if src[:1].isupper() and src[1:].islower():
        return rep[:1].upper() + rep[1:]
    if src.isupper() and len(src) > 1:
        return rep.upper()
    return rep


def _en_substitute(
    text: str, rng: random.Random, table: dict[str, tuple[str, ...]], n: int, protect: Iterable[str]
) -> str:
    tokens = text.split()
    prot = _en_protected_idx(tokens, protect)
    cands = []
    for i, t in enumerate(tokens):
        if i in prot:
            continue
        word = _split_tok(t)[1]
        key = word if word == "I" else word.lower()
        reps = [r for r in table.get(key, ()) if _target_ok(r)]
        if reps:
            cands.append((i, reps))
    if not cands:
        return text
    rng.shuffle(cands)
    for i, reps in cands[:n]:
        pre, word, post = _split_tok(tokens[i])
        tokens[i] = pre + _match_case(word, rng.choice(reps)) + post
    return " ".join(tokens)


def en_homophone(text: str, seed: int = 0, protect: Iterable[str] = ()) -> str:
    """Exact sound-alike spelling, 1-2 words (weather->whether, lights->lites, right->write).

    Imitates the language model choosing the wrong spelling of correctly heard sounds.
    """
    rng = random.Random(seed)
    return _en_substitute(text, rng, EN_HOMOPHONES, rng.choice((1, 1, 2)), protect)


def en_near_homophone(text: str, seed: int = 0, protect: Iterable[str] = ()) -> str:
    """Near sound-alike, 1-2 words (off->of, alarm->a lot, timer->time or, play->pray).

    Imitates acoustic confusions: reduced vowels, lost final consonants,
    accent, a word heard as two.
    """
    rng = random.Random(seed)
    return _en_substitute(text, rng, EN_NEAR_HOMOPHONES, rng.choice((1, 1, 2)), protect)


def en_split_merge(text: str, seed: int = 0, protect: Iterable[str] = ()) -> str:
    """One word-boundary error: a word split in two ("bed room", "to day") or two
    words glued ("turnoff", "setan").

    Imitates the decoder putting a word boundary in the wrong place, which
    embedding tokenisers then see as different tokens.
    """
    rng = random.Random(seed)
    tokens = text.split()
    prot = _en_protected_idx(tokens, protect)
    ops: list[tuple[str, int, str]] = []
    for i, t in enumerate(tokens):
        if i in prot:
            continue
        pre, w, post = _split_tok(t)
        if w.lower() in EN_SPLITS:
            ops.append(("split", i, pre + _match_case(w, EN_SPLITS[w.lower()]) + post))
        if i + 1 < len(tokens) and (i + 1) not in prot:
            w2 = _split_tok(tokens[i + 1])[1].lower()
            post1 = _split_tok(t)[2]
            if not post1 and (w.lower(), w2) in EN_MERGES:
                ops.append(
                    (
                        "merge",
                        i,
                        pre
                        + _match_case(w, EN_MERGES[(w.lower(), w2)])
                        + _split_tok(tokens[i + 1])[2],
                    )
                )
    if not ops:
        return text
    n = 2 if len(ops) > 2 and rng.random() < 0.3 else 1
    rng.shuffle(ops)
    chosen: list[tuple[str, int, str]] = []
    used: set[int] = set()
    for op in ops:
        span = {op[1], op[1] + 1} if op[0] == "merge" else {op[1]}
        if span & used:
            continue
        chosen.append(op)
        used |= span
        if len(chosen) >= n:
            break
    for kind, i, rep in sorted(chosen, key=lambda o: -o[1]):
        if kind == "split":
            tokens[i] = rep
        else:
            tokens[i : i + 2] = [rep]
    return " ".join(tokens)


def en_fillers(text: str, seed: int = 0, protect: Iterable[str] = ()) -> str:
    """Insert 1-2 fillers: uh, um, er, like, hey, can you (start), please (end).

    Imitates hesitations and politeness that a verbatim ASR keeps.
    """
    rng = random.Random(seed)
    tokens = text.split()
    prot = _en_protected_idx(tokens, protect)
    n = rng.choice((1, 1, 2))
    inserts: list[tuple[int, str]] = []
    low = text.lower()
    for k in range(n):
        r = rng.random()
        if k == 0 and r < 0.5:
            f = rng.choice(EN_FILLERS_START)
            if "can you" in f and (
                low.startswith(
                    (
                        "can you",
                        "could you",
                        "what",
                        "how",
                        "is ",
                        "will",
                        "who",
                        "when",
                        "where",
                        "do ",
                        "does",
                    )
                )
            ):
                f = "um"
            inserts.append((0, f))
        elif r < 0.8 and len(tokens) > 2:
            # between words, not inside a protected value or a number phrase
            pos = [
                i
                for i in range(1, len(tokens))
                if not (i in prot and i - 1 in prot) and (i - 1) not in prot
            ]
            if pos:
                inserts.append((rng.choice(pos), rng.choice(EN_FILLERS_MID)))
            else:
                inserts.append((0, rng.choice(EN_FILLERS_START[:3])))
        else:
            if "please" in low:
                inserts.append((len(tokens), "uh"))
            else:
                inserts.append((len(tokens), rng.choice(EN_FILLERS_END)))
    for i, f in sorted(inserts, key=lambda x: -x[0]):
        tokens[i:i] = f.split()
    return " ".join(tokens)


def _en_drop(text: str, rng: random.Random, n: int, protect: Iterable[str]) -> str:
    tokens = text.split()
    prot = _en_protected_idx(tokens, protect)
    cands = [
        i
        for i, t in enumerate(tokens)
        if i not in prot and _split_tok(t)[1].lower() in EN_DROPPABLE
    ]
    if not cands or len(tokens) - 1 < 2:
        return text
    chosen = sorted(rng.sample(cands, min(n, len(cands), len(tokens) - 2)), reverse=True)
    for i in chosen:
        post = _split_tok(tokens[i])[2]
        del tokens[i]
        if post and i > 0:  # keep trailing punctuation
            tokens[i - 1] += post
    return " ".join(tokens)


def en_drop_function_words(text: str, seed: int = 0, protect: Iterable[str] = ()) -> str:
    """Drop 1-2 unstressed function words (the, a, an, to, my, for, at, please, me).

    Not "of": a substitution off->of followed by a drop would lose the request's "off".

    Imitates short reduced words lost by the recogniser in fast speech.
    """
    rng = random.Random(seed)
    return _en_drop(text, rng, rng.choice((1, 1, 2)), protect)


# Phonetic respelling rules for garbled English: (regex, replacement).
_RESPELL = (
    (r"ph", "f"),
    (r"ight", "ite"),
    (r"ck", "k"),
    (r"ee", "ea"),
    (r"tion", "shun"),
    (r"^wh", "w"),
    (r"^c(?=[aou])", "k"),
    (r"qu", "kw"),
    (r"y$", "ie"),
    (r"er$", "ur"),
    (r"oo", "u"),
    (r"([bdfglmnprt])\1", r"\1"),
    (r"s$", "z"),
    (r"ou", "ow"),
    (r"ea", "ee"),
    (r"x", "ks"),
    (r"th", "d"),
    (r"ing$", "in"),
    (r"o$", "oh"),
    (r"ai", "ay"),
    (r"ue$", "oo"),
    (r"a(?=[^aeiou]e$)", "ay"),
)


def _respell(word: str, rng: random.Random) -> str:
    rules = list(_RESPELL)
    rng.shuffle(rules)
    for pat, rep in rules:
        new = re.sub(pat, rep, word, count=1)
        if new != word and new.lower() not in EN_NO_TARGET:
            # keep it sounding alike: same metaphone key, or very close
            a, b = jellyfish.metaphone(word), jellyfish.metaphone(new)
            if a == b or jellyfish.jaro_winkler_similarity(a, b) >= 0.85:
                return new
    return word


def en_garbled(text: str, seed: int = 0, protect: Iterable[str] = ()) -> str:
    """Wholly garbled: most applicable sound-alike substitutions, function words
    dropped, the remaining words respelled phonetically.

    Imitates a far-field / noisy / heavily accented utterance; a person can
    barely tell what was asked. At least 3 words (or half the words) differ.
    """
    rng = random.Random(seed)
    out = text
    table = {**EN_HOMOPHONES}
    for k, v in EN_NEAR_HOMOPHONES.items():
        table[k] = tuple(dict.fromkeys(table.get(k, ()) + v))
    tokens = out.split()
    out = _en_substitute(out, rng, table, max(2, round(len(tokens) * 0.6)), protect)
    if rng.random() < 0.6:
        out = _en_drop(out, rng, 1, protect)
    toks = out.split()
    prot = _en_protected_idx(toks, protect)
    orig_words = {w.lower() for w in text.split()}
    changed = sum(1 for t in toks if t.lower() not in orig_words)
    need = max(3, len(text.split()) // 2)
    idx = [
        i
        for i, t in enumerate(toks)
        if i not in prot and t.lower() in orig_words and len(_split_tok(t)[1]) > 2
    ]
    rng.shuffle(idx)
    for i in idx:
        if changed >= need:
            break
        pre, w, post = _split_tok(toks[i])
        new = _respell(w, rng)
        if new != w:
            toks[i] = pre + new + post
            changed += 1
    return " ".join(toks)


def en_combined(text: str, seed: int = 0, protect: Iterable[str] = ()) -> str:
    """Two or three of: homophone, near-homophone, split/merge, filler, dropped word.

    Imitates an ordinary real-world transcript, where several small errors co-occur.
    """
    rng = random.Random(seed)
    kinds = [en_homophone, en_near_homophone, en_split_merge, en_fillers, en_drop_function_words]
    rng.shuffle(kinds)
    k = rng.choice((2, 2, 3))
    out = text
    applied = 0
    for fn in kinds:
        if applied >= k:
            break
        new = fn(out, rng.randrange(1 << 30), protect)
        if new != out:
            out = new
            applied += 1
    return out


def clean(text: str, seed: int = 0, protect: Iterable[str] = ()) -> str:
    """No noise: a perfect transcript of a catalog phrasing."""
    return text


GENERATORS: dict[tuple[str, str], Generator] = {
    ("zh-CN", "clean"): clean,
    ("zh-CN", "homophone"): zh_homophone,
    ("zh-CN", "near_homophone"): zh_near_homophone,
    ("zh-CN", "dropped_particle"): zh_drop_particles,
    ("zh-CN", "filler"): zh_fillers,
    ("zh-CN", "garbled"): zh_garbled,
    ("zh-CN", "combined"): zh_combined,
    ("en-US", "clean"): clean,
    ("en-US", "homophone"): en_homophone,
    ("en-US", "near_homophone"): en_near_homophone,
    ("en-US", "split_merge"): en_split_merge,
    ("en-US", "filler"): en_fillers,
    ("en-US", "dropped_particle"): en_drop_function_words,
    ("en-US", "garbled"): en_garbled,
    ("en-US", "combined"): en_combined,
}

NOISE_KINDS: dict[str, tuple[str, ...]] = {
    loc: tuple(k for (lc, k) in GENERATORS if lc == loc) for loc in ("zh-CN", "en-US")
}


def apply(locale: str, kind: str, text: str, seed: int = 0, protect: Iterable[str] = ()) -> str:
    """Run the ``kind`` generator of ``locale`` on ``text``."""
    return GENERATORS[(locale, kind)](text, seed, tuple(protect))
