"""Synthetic Chinese names for tagger training: names composed from inventories of parts.

A tagger trained on documents that repeat a few dozen names memorises them and misses names it
has never seen (the held-out names of :func:`sclm.scenarios.documents.make_corpus`).  The
generator here composes *training* names from generic inventories of name parts, so that the
training text holds thousands of distinct names of each type and a tagger has to read context
and name shape instead:

* organisations: an optional city prefix, a two-character brand (two brand characters), an
  industry word and an optional legal suffix (``有限公司``, ``集团``, …), e.g. ``宁波瑞通冷链有限公司``;
* cities: two or three place-name characters and an optional ``市``/``港``/``区``/``县``/``新区``;
* countries: two to four transliteration syllables and an optional ending (``国``, ``亚``, …);
* products: an optional material/use modifier and a head noun, e.g. ``不锈钢阀门``;
* people: a surname (single or double) and a one- or two-character given name.

The inventories are generic (common name characters, industries, product nouns); they were not
built from the held-out names.  :func:`synthetic_pools` removes every generated name that
equals, contains or is contained in a name it is told to exclude (the held-out names), or
contains the distinctive part of one (an organisation's brand, :func:`org_core`: ``宏图`` of
``宏图电子``), so neither a held-out name nor a held-out brand appears in training text; this is
tested.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

__all__ = ["org_core", "synthetic_names", "synthetic_pools"]

BRAND_CHARS = tuple(
    "安百宝北博昌长辰诚创达大德鼎东丰飞福富港光广海汉豪和恒宏鸿华汇辉吉佳嘉金锦晶京聚凯康乐"
    "力立利联龙隆美民明南宁鹏平齐启荣瑞润森晟盛世顺泰天通万威伟祥鑫新信星兴旭雅阳亿益永宇远"
    "源悦泽正志中众卓"
)  # common characters of Chinese company names (one or two form a brand)
INDUSTRIES = (
    "物流", "货运", "快运", "国际货代", "供应链", "贸易", "商贸", "实业", "制造", "机械", "电子",
    "电器", "科技", "化工", "材料", "建材", "钢铁", "五金", "塑料", "包装", "纸业", "纺织", "服装",
    "食品", "饮料", "乳业", "农业", "医药", "生物", "家居", "百货", "零售", "超市", "航运", "船务",
    "仓储", "冷链", "运输", "能源", "汽配", "玻璃", "陶瓷", "印刷", "环保",
)  # fmt: skip
ORG_SUFFIXES = (("", 0.4), ("有限公司", 0.25), ("集团", 0.1), ("股份有限公司", 0.08), ("公司", 0.07),
                ("有限责任公司", 0.05), ("控股", 0.05))  # fmt: skip
PLACE_FIRST = tuple("东西南北中上下江河湖山海宁安长阳平昌兴泰德金石白黄青乌临永新吉凤龙云桂襄洛")
PLACE_SECOND = tuple("州阳安江山宁海门口城沙川原林昌德水庆化远定平陵丰兴都浦台岛坪溪关峰湾")
PLACE_SUFFIXES = (("", 0.55), ("市", 0.2), ("港", 0.07), ("区", 0.07), ("县", 0.05), ("新区", 0.06))
SYLLABLES = tuple(
    "阿巴贝波布达多厄芬冈哥格圭洪基加喀卡科克拉莱黎卢罗毛蒙孟米摩莫墨纳尼挪帕葡萨塞斯苏索塔汤突瓦委乌希匈叙也伊约赞乍智"
)
COUNTRY_ENDINGS = (("", 0.35), ("国", 0.2), ("亚", 0.15), ("尼亚", 0.1), ("兰", 0.1), ("斯坦", 0.1))
MODIFIERS = (
    "不锈钢", "铝合金", "塑料", "橡胶", "陶瓷", "玻璃", "实木", "纯棉", "有机", "冷冻", "速溶",
    "无糖", "工业", "医用", "电动", "液压", "精密", "防水", "一次性", "高压", "低温", "环保",
    "复合", "家用", "车用", "食用", "进口", "袋装", "桶装", "散装", "加厚", "重型", "微型",
)  # fmt: skip
HEADS = (
    "螺栓", "轴承", "阀门", "管件", "垫片", "电缆", "电机", "水泵", "支架", "板材", "胶带", "手套",
    "口罩", "纸箱", "托盘", "饮料", "面粉", "大米", "食用油", "奶粉", "饼干", "果汁", "茶叶",
    "洗发水", "牙膏", "纸巾", "注射器", "绷带", "涂料", "油漆", "润滑油", "轮胎", "滤芯", "灯泡",
    "插座", "开关", "蓄电池", "钢管", "铜线", "货架", "叉车配件", "密封圈", "饲料", "化肥", "啤酒",
    "矿泉水", "罐头", "冻肉", "蔬菜", "水果", "服装", "鞋靴", "窗帘", "地板", "瓷砖", "电线",
)  # fmt: skip
SURNAMES = tuple(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
) + ("欧阳", "司马", "诸葛", "上官")
GIVEN_CHARS = tuple(
    "伟芳娜敏静丽强磊军洋勇艳杰涛明超秀英华志燕海俊梅国庆婷涵浩然欣怡宇轩子晨博文思雨佳琪鑫鹏飞"
)


def _weighted(rng: np.random.Generator, options: tuple[tuple[str, float], ...]) -> str:
    p = np.array([w for _, w in options])
    return options[int(rng.choice(len(options), p=p / p.sum()))][0]


def _pick(rng: np.random.Generator, items: tuple[str, ...]) -> str:
    return items[int(rng.integers(len(items)))]


def _org(rng: np.random.Generator, cities: list[str]) -> str:
    city = _pick(rng, tuple(cities)) if cities and rng.random() < 0.25 else ""
    brand = _pick(rng, BRAND_CHARS) + _pick(rng, BRAND_CHARS)
    return city + brand + _pick(rng, INDUSTRIES) + _weighted(rng, ORG_SUFFIXES)


def _city(rng: np.random.Generator) -> str:
    name = _pick(rng, PLACE_FIRST) + _pick(rng, PLACE_SECOND)
    if rng.random() < 0.15:
        name += _pick(rng, PLACE_SECOND)
    return name + _weighted(rng, PLACE_SUFFIXES)


def _country(rng: np.random.Generator) -> str:
    n = int(rng.integers(2, 5))
    return "".join(_pick(rng, SYLLABLES) for _ in range(n)) + _weighted(rng, COUNTRY_ENDINGS)


def _product(rng: np.random.Generator) -> str:
    return (_pick(rng, MODIFIERS) if rng.random() < 0.6 else "") + _pick(rng, HEADS)


def _person(rng: np.random.Generator) -> str:
    given = "".join(_pick(rng, GIVEN_CHARS) for _ in range(int(rng.integers(1, 3))))
    return _pick(rng, SURNAMES) + given


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


def synthetic_names(n: int, *, seed: int = 0, exclude: Iterable[str] = ()) -> dict[str, tuple[str, ...]]:
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
        name is contained in many).

    Returns
    -------
    dict
        ``orgs``, ``cities``, ``countries``, ``products``, ``people`` → tuple of names.
    """
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0x2A11]))
    excl_set = set(exclude)
    cores = {c for c in map(org_core, excl_set) if len(c) >= 2}
    excl = tuple(sorted(excl_set | cores))
    out: dict[str, tuple[str, ...]] = {}
    cities = [c for c in dict.fromkeys(_city(rng) for _ in range(n)) if not _clashes(c, excl)]
    out["cities"] = tuple(cities)
    bare = [c for c in cities if len(c) == 2]
    makers = {
        "orgs": lambda: _org(rng, bare),
        "countries": lambda: _country(rng),
        "products": lambda: _product(rng),
    }
    for key, make in makers.items():
        out[key] = tuple(x for x in dict.fromkeys(make() for _ in range(n)) if not _clashes(x, excl))
    out["people"] = tuple(p for p in dict.fromkeys(_person(rng) for _ in range(n)) if p not in excl_set)
    return out


_SYNTHETIC: dict[tuple[str, int, int], Any] = {}


def synthetic_pools(pools: Any, n: int = 4000, seed: int = 0) -> Any:
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

    Returns
    -------
    sclm.scenarios.documents.NamePools
        ``source="synthetic"``; every kind draws from the same organisations.
    """
    from sclm.scenarios.documents import NamePools

    if pools.lang != "zh":
        raise ValueError(f"synthetic names are Chinese: pools must have lang='zh', got {pools.lang!r}")
    key = (pools.fingerprint()["sha256"], int(n), int(seed))
    if key in _SYNTHETIC:
        return _SYNTHETIC[key]
    held = pools.split("heldout")
    exclude = {x for v in held.orgs.values() for x in v}
    exclude |= set(held.cities) | set(held.countries) | set(held.products)
    people = set(held.people)
    names = synthetic_names(n, seed=seed, exclude=exclude)
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
