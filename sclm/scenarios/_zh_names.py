"""Synthetic Chinese names for tagger training: names composed from inventories of parts.

A tagger trained on documents that repeat a few dozen names memorises them and misses names it
has never seen (the held-out names of :func:`sclm.scenarios.documents.make_corpus`).  The
generator here composes *training* names from generic inventories of name parts, so that the
training text holds thousands of distinct names of each type and a tagger has to read context
and name shape instead:

* organisations of several shapes (:data:`ORG_SHAPES`): an optional city prefix, a trade name
  of two to four brand characters, an industry word (or two, or ``国际`` and one, or none) and
  an optional legal suffix (``有限公司``, ``集团``, …), e.g. ``宁波瑞通冷链有限公司``,
  ``鸿泰科技贸易``, ``启明集团``;
* cities: two or three place-name characters and an optional ``市``/``港``/``区``/``县``/``新区``;
* countries: two to four transliteration syllables and an optional ending (``国``, ``亚``, …);
* products: compounds of one to three words (:data:`PRODUCT_WORDS`) — a material, use or form
  word before a product noun, a use or form word and a material before it, or a kit word after
  it — e.g. ``不锈钢阀门``, ``家用铝合金水壶``, ``轴承配件``;
* people: a surname (single or double) and a one- or two-character given name.

The inventories are generic (common name characters, industries, product nouns); they were not
built from the held-out names.  :func:`synthetic_pools` removes every generated name that
equals, contains or is contained in a name it is told to exclude (the held-out names), or
contains the distinctive part of one (an organisation's brand, :func:`org_core`: ``宏图`` of
``宏图电子``), so neither a held-out name nor a held-out brand appears in training text, and
composes products only of words that no held-out name contains (:func:`product_inventories`:
no part of a held-out product is drawn); this is tested.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import numpy as np

__all__ = ["org_core", "product_inventories", "synthetic_names", "synthetic_pools"]

BRAND_CHARS = tuple(
    "安百宝北博昌长辰诚创达大德鼎东丰飞福富港光广海汉豪和恒宏鸿华汇辉吉佳嘉金锦晶京聚凯康乐"
    "力立利联龙隆美民明南宁鹏平齐启荣瑞润森晟盛世顺泰天通万威伟祥鑫新信星兴旭雅阳亿益永宇远"
    "源悦泽正志中众卓邦帆峰冠航浩弘骏开朗霖麟茂铭诺奇睿尚升腾拓维翔欣耀毅盈优裕越臻智"
)  # common characters of Chinese company names (two to four form a trade name)
BRAND_LENGTHS = ((2, 0.65), (3, 0.25), (4, 0.10))
INDUSTRIES = (
    "物流", "货运", "快运", "国际货代", "供应链", "贸易", "商贸", "实业", "制造", "机械", "电子",
    "电器", "科技", "化工", "材料", "建材", "钢铁", "五金", "塑料", "包装", "纸业", "纺织", "服装",
    "食品", "饮料", "乳业", "农业", "医药", "生物", "家居", "百货", "零售", "超市", "航运", "船务",
    "仓储", "冷链", "运输", "能源", "汽配", "玻璃", "陶瓷", "印刷", "环保", "机电", "电气", "光电",
    "新材料", "精工", "重工", "汽车", "船舶", "港务", "速递", "快递", "配送", "进出口", "外贸",
    "日化", "家电", "通信", "光伏", "新能源", "石化", "橡塑", "木业", "粮油", "茶业", "酒业",
    "水产", "肉业", "工贸", "集装箱", "药业", "器械", "仪器", "网络", "信息", "文具", "鞋业",
)  # fmt: skip
ORG_SUFFIXES = (("", 0.4), ("有限公司", 0.25), ("集团", 0.1), ("股份有限公司", 0.08), ("公司", 0.07),
                ("有限责任公司", 0.05), ("控股", 0.05))  # fmt: skip
LEGAL_SUFFIXES = (("有限公司", 0.45), ("集团", 0.2), ("股份有限公司", 0.15), ("公司", 0.1),
                  ("集团有限公司", 0.1))  # fmt: skip
# organisation shapes: (city prefix?) trade name + industry (+ suffix); trade name + two
# industries; trade name + legal suffix only; trade name + 国际 + industry
ORG_SHAPES = (("brand+industry", 0.7), ("brand+industry+industry", 0.1), ("brand+legal", 0.1),
              ("brand+intl+industry", 0.1))  # fmt: skip
PLACE_FIRST = tuple("东西南北中上下江河湖山海宁安长阳平昌兴泰德金石白黄青乌临永新吉凤龙云桂襄洛盘丹嘉莱齐汾")
PLACE_SECOND = tuple("州阳安江山宁海门口城沙川原林昌德水庆化远定平陵丰兴都浦台岛坪溪关峰湾泉桥源河")
PLACE_SUFFIXES = (("", 0.55), ("市", 0.2), ("港", 0.07), ("区", 0.07), ("县", 0.05), ("新区", 0.06))
SYLLABLES = tuple(
    "阿巴贝波布达多厄芬冈哥格圭洪基加喀卡科克拉莱黎卢罗毛蒙孟米摩莫墨纳尼挪帕葡萨塞斯苏索塔汤突瓦委乌希匈叙也伊约赞乍智"
)
COUNTRY_ENDINGS = (("", 0.35), ("国", 0.2), ("亚", 0.15), ("尼亚", 0.1), ("兰", 0.1), ("斯坦", 0.1))
# products: one to three words, a material and/or a use or form word before a product noun,
# optionally followed by a kit word (``配件``); generic inventories of common product words
MATERIALS = (
    "不锈钢", "铝合金", "碳钢", "镀锌", "铸铁", "黄铜", "紫铜", "钛合金", "塑料", "尼龙", "橡胶",
    "硅胶", "陶瓷", "玻璃", "实木", "竹制", "纯棉", "涤纶", "亚麻", "真皮", "纸质", "碳纤维",
    "聚乙烯", "合金", "复合", "牛皮", "羊毛", "无纺布", "铜芯", "钢化",
)  # fmt: skip
USES = (
    "工业", "医用", "家用", "车用", "食用", "办公", "实验室", "户外", "厨房", "卫浴", "农用", "船用",
    "电动", "液压", "气动", "手动", "防水", "防爆", "耐高温", "一次性", "便携", "儿童", "宠物",
    "建筑", "冷冻", "速冻", "速溶", "无糖", "低脂", "脱脂", "有机", "进口", "环保", "商用", "学生",
    "婴儿", "军用", "民用", "消防", "安全", "医疗", "诊断", "美容", "运动", "野营", "汽车", "工程",
)  # fmt: skip
FORMS = (
    "袋装", "桶装", "瓶装", "盒装", "罐装", "散装", "箱装", "加厚", "重型", "微型", "迷你", "大号",
    "小号", "精密", "高压", "低温", "超薄", "大容量", "多功能", "标准", "特级", "优质", "精装",
)  # fmt: skip
HEADS = (
    "螺栓", "螺母", "轴承", "阀门", "管件", "垫片", "电缆", "电机", "水泵", "支架", "板材", "胶带",
    "手套", "口罩", "纸箱", "托盘", "饮料", "面粉", "大米", "食用油", "奶粉", "饼干", "果汁", "茶叶",
    "洗发水", "牙膏", "纸巾", "注射器", "绷带", "涂料", "油漆", "润滑油", "轮胎", "滤芯", "灯泡",
    "插座", "开关", "蓄电池", "钢管", "铜线", "货架", "密封圈", "饲料", "化肥", "啤酒", "矿泉水",
    "罐头", "冻肉", "蔬菜", "水果", "服装", "鞋靴", "窗帘", "地板", "瓷砖", "电线", "齿轮", "链条",
    "弹簧", "法兰", "接头", "滤网", "传感器", "继电器", "变压器", "灯管", "文件夹", "订书机",
    "笔记本", "打印纸", "复印纸", "墨盒", "硒鼓", "签字笔", "信封", "便签", "档案盒", "纱布",
    "试管", "培养皿", "检测卡", "试纸", "消毒液", "输液器", "导管", "针头", "糖果", "调味料",
    "酱油", "香肠", "火腿", "奶酪", "黄油", "面条", "清洁剂", "洗洁精", "胶水", "溶剂", "树脂",
    "颜料", "编织袋", "周转箱", "保温箱", "床单", "毛巾", "水壶", "餐具", "刀具", "量杯", "风扇",
    "空调", "冰柜", "显示器", "键盘", "鼠标", "充电器", "硬盘", "路由器", "钢板", "铝板", "木板",
    "管道", "水管", "护目镜", "安全帽", "工作服", "雨衣", "背包", "帐篷", "药片", "胶囊", "疫苗",
    "血压计", "体温计", "奶瓶", "尿布", "玩具", "牛奶", "橙汁", "花生油", "白糖", "食盐", "蜂蜜",
)  # fmt: skip
KITS = ("配件", "套装", "组件", "总成", "套件", "零件", "系列", "原料", "半成品", "成品")
PRODUCT_WORDS = ((1, 0.25), (2, 0.55), (3, 0.20))  # words per product name
SURNAMES = tuple(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
    "常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季"
) + ("欧阳", "司马", "诸葛", "上官", "慕容", "令狐", "皇甫", "尉迟")
GIVEN_CHARS = tuple(
    "伟芳娜敏静丽强磊军洋勇艳杰涛明超秀英华志燕海俊梅国庆婷涵浩然欣怡宇轩子晨博文思雨佳琪鑫鹏飞"
    "建平红玉兰凤春桂云霞辉刚健斌波宁彬亮成林峰琳莉雪倩颖慧琦玲萍晶丹璐瑶悦蕾薇岚楠翔龙昊睿泽"
    "凯瑞嘉诚毅航坤锋铭阳晓东永伦宏安康顺福荣贵生正义德"
)
GIVEN_LENGTHS = ((1, 0.4), (2, 0.6))
# Latin-script organisations (foreign suppliers in Chinese documents): a pseudo-word trade name
# of two or three syllables, optionally a second one, an optional English industry word and a
# legal form; a fifth in capitals; some with a Chinese industry and suffix instead
LATIN_ONSETS = ("b", "c", "d", "f", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z",
                "br", "cr", "dr", "fl", "gr", "kl", "pr", "st", "tr", "vr")  # fmt: skip
LATIN_VOWELS = ("a", "e", "i", "o", "u", "ae", "io", "ea", "y")
LATIN_CODAS = ("", "", "", "n", "r", "s", "x", "l", "m", "nt", "rk", "th", "v")
LATIN_INDUSTRIES = (
    "Logistics", "Trading", "Industries", "Pharma", "Pharmaceuticals", "Medical", "Supply", "Chemicals",
    "Electronics", "Foods", "Shipping", "Freight", "Materials", "Technologies", "Labs", "Healthcare",
    "Biotech", "Diagnostics", "Packaging", "Machinery", "Textiles", "Distribution", "Solutions",
)  # fmt: skip
LATIN_FORMS = (("", 0.2), ("Ltd", 0.12), ("Ltd.", 0.08), ("Inc.", 0.1), ("Co., Ltd.", 0.1),
               ("LLC", 0.08), ("GmbH", 0.06), ("S.A.", 0.06), ("SRL", 0.04), ("AG", 0.04),
               ("B.V.", 0.04), ("Pvt. Ltd", 0.04), ("Corp.", 0.04))  # fmt: skip


def _weighted(rng: np.random.Generator, options: tuple[tuple[Any, float], ...]) -> Any:
    p = np.array([w for _, w in options])
    return options[int(rng.choice(len(options), p=p / p.sum()))][0]


def _pick(rng: np.random.Generator, items: tuple[str, ...]) -> str:
    return items[int(rng.integers(len(items)))]


def _brand(rng: np.random.Generator) -> str:
    return "".join(_pick(rng, BRAND_CHARS) for _ in range(_weighted(rng, BRAND_LENGTHS)))


def _org(rng: np.random.Generator, cities: list[str]) -> str:
    city = _pick(rng, tuple(cities)) if cities and rng.random() < 0.15 else ""
    shape, brand = _weighted(rng, ORG_SHAPES), _brand(rng)
    if shape == "brand+legal":
        return city + brand + _weighted(rng, LEGAL_SUFFIXES)
    if shape == "brand+industry+industry":
        first, second = (_pick(rng, INDUSTRIES) for _ in range(2))
        return city + brand + first + (second if second != first else "") + _weighted(rng, ORG_SUFFIXES)
    middle = "国际" if shape == "brand+intl+industry" else ""
    return city + brand + middle + _pick(rng, INDUSTRIES) + _weighted(rng, ORG_SUFFIXES)


def _city(rng: np.random.Generator) -> str:
    name = _pick(rng, PLACE_FIRST) + _pick(rng, PLACE_SECOND)
    if rng.random() < 0.15:
        name += _pick(rng, PLACE_SECOND)
    return name + _weighted(rng, PLACE_SUFFIXES)


def _country(rng: np.random.Generator) -> str:
    n = int(rng.integers(2, 5))
    return "".join(_pick(rng, SYLLABLES) for _ in range(n)) + _weighted(rng, COUNTRY_ENDINGS)


def _product(rng: np.random.Generator, inv: dict[str, tuple[str, ...]]) -> str:
    """One to three words (:data:`PRODUCT_WORDS`): a head noun, after a material, use or form word
    (two words), or after a use/form word and a material, or before a kit word (three words)."""
    head, n = _pick(rng, inv["HEADS"]), _weighted(rng, PRODUCT_WORDS)
    if n == 1:
        return head
    if n == 2:
        if rng.random() < 0.1:
            return head + _pick(rng, inv["KITS"])
        return _pick(rng, inv[_pick(rng, ("MATERIALS", "USES", "FORMS"))]) + head
    if rng.random() < 0.25:
        return _pick(rng, inv[_pick(rng, ("MATERIALS", "USES"))]) + head + _pick(rng, inv["KITS"])
    return _pick(rng, inv[_pick(rng, ("USES", "FORMS"))]) + _pick(rng, inv["MATERIALS"]) + head


def _person(rng: np.random.Generator) -> str:
    given = "".join(_pick(rng, GIVEN_CHARS) for _ in range(_weighted(rng, GIVEN_LENGTHS)))
    return _pick(rng, SURNAMES) + given


def _latin_word(rng: np.random.Generator) -> str:
    word = "".join(
        _pick(rng, LATIN_ONSETS) + _pick(rng, LATIN_VOWELS) for _ in range(int(rng.integers(2, 4)))
    )
    return (word + _pick(rng, LATIN_CODAS)).capitalize()


def _latin_org(rng: np.random.Generator) -> str:
    """A Latin-script organisation: ``Varotin Medical GmbH``, ``KLEOSA PHARMA, LTD``, ``Dravex物流有限公司``."""
    brand = _latin_word(rng) + (f" {_latin_word(rng)}" if rng.random() < 0.2 else "")
    if rng.random() < 0.15:
        return brand + _pick(rng, INDUSTRIES) + _weighted(rng, LEGAL_SUFFIXES)
    parts = [brand] + ([_pick(rng, LATIN_INDUSTRIES)] if rng.random() < 0.7 else [])
    form = _weighted(rng, LATIN_FORMS)
    name = " ".join(parts) + ((", " if rng.random() < 0.3 else " ") + form if form else "")
    return name.upper() if rng.random() < 0.2 else name


def _latin_clash(name: str, exclude: Iterable[str]) -> bool:
    """Case-insensitive: ``name`` equals, contains or is contained in an excluded name, or its
    trade-name words (before any industry word or legal form) are a word of one."""
    low = name.lower()
    words = {w for x in exclude for w in x.lower().replace(",", " ").split()}
    brand = re.split(r"[\u4e00-\u9fff]", name)[0].replace(",", " ").split()
    generic = {w.lower() for w in LATIN_INDUSTRIES} | {w.lower() for f, _ in LATIN_FORMS for w in f.split()}
    brand_words = {w.lower() for w in brand} - generic
    return any(x and (x.lower() in low or low in x.lower()) for x in exclude) or bool(brand_words & words)


def product_inventories(exclude: Iterable[str] = ()) -> dict[str, tuple[str, ...]]:
    """The product word inventories without any word contained in an excluded name.

    Parameters
    ----------
    exclude
        Names (the held-out ones): a material, use, form, head or kit word that is contained in
        one of them (``办公`` in ``办公用纸``) is dropped, so no part of a held-out product is drawn.

    Returns
    -------
    dict
        ``MATERIALS``, ``USES``, ``FORMS``, ``HEADS``, ``KITS`` → tuple of words.
    """
    excl = tuple(x for x in exclude if x)
    inv = {"MATERIALS": MATERIALS, "USES": USES, "FORMS": FORMS, "HEADS": HEADS, "KITS": KITS}
    return {k: tuple(w for w in v if not any(w in x for x in excl)) for k, v in inv.items()}


def org_core(name: str) -> str:
    """An organisation's distinctive part: the name without its trailing legal suffixes and
    industry words (``海川贸易有限公司`` → ``海川``); the whole name when nothing is left."""
    core, ends = name, sorted({*INDUSTRIES, *(s for s, _ in ORG_SUFFIXES if s)}, key=len, reverse=True)
    changed = True
    while changed:
        changed = False
        for end in ends:
            if core.endswith(end) and len(core) > len(end):
                core, changed = core[: -len(end)], True
                break
    return core


def _clashes(name: str, exclude: Iterable[str]) -> bool:
    return any(x and (x in name or name in x) for x in exclude)


def synthetic_names(
    n: int, *, seed: int = 0, exclude: Iterable[str] = (), latin: float = 0.0
) -> dict[str, tuple[str, ...]]:
    """Up to ``n`` distinct synthetic Chinese names per type.

    Parameters
    ----------
    n
        Names drawn per type (duplicates and excluded names are dropped, so a pool may be
        shorter; the small inventories of countries and cities cap them at a few thousand).
    seed
        Same seed → same names.
    exclude
        Names that must not appear: a generated name equal to, containing or contained in one
        of them, or containing the distinctive part (:func:`org_core`, two characters or more)
        of one of them, is dropped (for people only the exact name, since a two-character
        name is contained in many); products are composed only of words contained in none of
        them (:func:`product_inventories`).
    latin
        Share of the organisations written in Latin script (:func:`_latin_org`; a generated name
        is dropped when it equals, contains or is contained in an excluded name, ignoring case,
        or when one of its trade-name words is a word of one).  0 (default) draws exactly the
        names of earlier versions.

    Returns
    -------
    dict
        ``orgs``, ``cities``, ``countries``, ``products``, ``people`` → tuple of names.
    """
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0x2A11]))
    excl_set = set(exclude)
    cores = {c for c in map(org_core, excl_set) if len(c) >= 2}
    excl = tuple(sorted(excl_set | cores))
    inv = product_inventories(excl_set)
    out: dict[str, tuple[str, ...]] = {}
    cities = [c for c in dict.fromkeys(_city(rng) for _ in range(n)) if not _clashes(c, excl)]
    out["cities"] = tuple(cities)
    bare = [c for c in cities if len(c) == 2]
    makers = {
        "orgs": lambda: _org(rng, bare),
        "countries": lambda: _country(rng),
        "products": lambda: _product(rng, inv),
    }
    for key, make in makers.items():
        out[key] = tuple(x for x in dict.fromkeys(make() for _ in range(n)) if not _clashes(x, excl))
    out["people"] = tuple(p for p in dict.fromkeys(_person(rng) for _ in range(n)) if p not in excl_set)
    if latin:
        if not 0.0 < latin <= 1.0:
            raise ValueError(f"latin must be in [0, 1], got {latin}")
        lrng = np.random.default_rng(np.random.SeedSequence([seed, 0x1A71]))
        n_latin = int(round(latin * len(out["orgs"]) / (1.0 - latin))) if latin < 1.0 else len(out["orgs"])
        cand = dict.fromkeys(_latin_org(lrng) for _ in range(n_latin))
        lat = [x for x in cand if not _latin_clash(x, excl_set) and not _clashes(x, excl)]
        out["orgs"] = tuple(dict.fromkeys(out["orgs"] + tuple(lat))) if latin < 1.0 else tuple(lat)
    return out


_SYNTHETIC: dict[tuple[str, int, int, float], Any] = {}


def synthetic_pools(pools: Any, n: int = 4000, seed: int = 0, latin: float = 0.0) -> Any:
    """Chinese training pools of synthetic names (:func:`synthetic_names`).

    Every name of ``pools.split("heldout")`` (all types) is excluded: no synthetic name equals,
    contains or is contained in a held-out name (people: no exact match).  Modes stay those of
    ``pools``.

    Parameters
    ----------
    pools
        Chinese :class:`sclm.scenarios.documents.NamePools` (their held-out part is what is
        excluded).
    n, seed
        Names drawn per type and the generator's seed.
    latin
        Share of Latin-script organisations (:func:`synthetic_names`).

    Returns
    -------
    sclm.scenarios.documents.NamePools
        ``source="synthetic"``; every kind draws from the same organisations.
    """
    from sclm.scenarios.documents import NamePools

    if pools.lang != "zh":
        raise ValueError(f"synthetic names are Chinese: pools must have lang='zh', got {pools.lang!r}")
    key = (pools.fingerprint()["sha256"], int(n), int(seed), float(latin))
    if key in _SYNTHETIC:
        return _SYNTHETIC[key]
    held = pools.split("heldout")
    exclude = {x for v in held.orgs.values() for x in v}
    exclude |= set(held.cities) | set(held.countries) | set(held.products)
    people = set(held.people)
    names = synthetic_names(n, seed=seed, exclude=exclude, latin=latin)
    names["people"] = tuple(p for p in names["people"] if p not in people)
    out = NamePools(
        orgs={k: names["orgs"] for k in pools.orgs},
        people=names["people"],
        cities=names["cities"],
        countries=names["countries"],
        products=names["products"],
        modes=pools.modes,
        source="synthetic",
        lang="zh",
    )
    _SYNTHETIC[key] = out
    return out
