"""Word tables of the offline instruction parser (Chinese and English), and the scanner over them.

Every table maps a label to regular-expression fragments.  Fragments without CJK characters are
matched as whole words (no letter, digit or ``_`` on either side); Chinese fragments are matched as
substrings.  :func:`scan` finds the longest non-overlapping matches of a table, so ``销售需求``
is one demand mention, not two, and ``运输成本`` (a cost) hides ``运输`` (a shipment volume) when
the cost table is scanned first.

Text reaching these tables is normalised by :func:`sclm.language.instructions.normalise`:
NFKC (full-width to half-width), lower case, and no spaces next to a CJK character.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_RE = re.compile(f"[{CJK}]")


def has_cjk(text: str) -> bool:
    """Whether ``text`` holds a CJK ideograph (the instruction is then Chinese)."""
    return bool(_CJK_RE.search(text))


def bounded(fragment: str) -> str:
    """``fragment`` as a whole-word pattern when it has no CJK character, else unchanged."""
    if _CJK_RE.search(fragment):
        return f"(?:{fragment})"
    return f"(?<![a-z0-9_])(?:{fragment})(?![a-z0-9_])"


def alternation(fragments: Iterable[str]) -> str:
    """One pattern matching any fragment, longer fragments tried first."""
    frags = sorted(set(fragments), key=len, reverse=True)
    return "(?:" + "|".join(bounded(f) for f in frags) + ")"


@dataclass(frozen=True)
class Hit:
    """One match of a table: ``text[start:end]`` is a mention of ``label``."""

    start: int
    end: int
    label: str

    @property
    def span(self) -> tuple[int, int]:
        return (self.start, self.end)


@lru_cache(maxsize=4096)
def _compiled(fragments: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile(alternation(fragments))


def scan(
    text: str,
    table: Mapping[str, Sequence[str]],
    taken: Sequence[bool] | None = None,
) -> list[Hit]:
    """Longest non-overlapping mentions of the labels of ``table`` in ``text``, in text order.

    Parameters
    ----------
    text
        Normalised instruction.
    table
        Label -> regex fragments.
    taken
        Optional mask (one flag per character): a match touching a taken character is dropped.
    """
    cands: list[Hit] = []
    for label, frags in table.items():
        pat = _compiled(tuple(frags))
        for m in pat.finditer(text):
            if m.end() > m.start():
                cands.append(Hit(m.start(), m.end(), label))
    cands.sort(key=lambda h: (-(h.end - h.start), h.start))
    chosen: list[Hit] = []
    used = [False] * len(text)
    for h in cands:
        if any(used[h.start : h.end]) or (taken is not None and any(taken[h.start : h.end])):
            continue
        chosen.append(h)
        for i in range(h.start, h.end):
            used[i] = True
    return sorted(chosen, key=lambda h: h.start)


# fmt: off
# --------------------------------------------------------------------------------------------
# Variables: what is forecast, planned or given.  Orders count as demand (the order book is the
# demand signal in every scenario); revenue words (销售额, sales) also count as demand.
VARIABLES: dict[str, list[str]] = {
    "demand": [
        "需求量", "需求", "销售需求", "市场需求", "客户需求", "客流需求", "销量", "销售量", "销售额", "销售数据", "销售", "销货量", "卖出", "卖掉",
        "售出量", "售出", "订单量", "订单数", "订单", "要货量", "购买量", "消费量", "出售量", "demands?", "sales", "sale volumes?",
        "orders?", "order volumes?", "ordered", "order book", "bookings", "units sold", "sold", "sell",
        "sells", "selling", "sell-through", "consumption", "customer demand", "purchases", "offtake",
    ],
    "production": [
        "产量", "生产量", "产出量", "产出", "出产", "生产数据", "制造量", "生产", "production", "output", "outputs",
        "manufacturing output", "production volumes?", "produced", "produce", "units produced",
        "throughput", "yield of the line",
    ],
    "inventory": [
        "库存量", "库存水平", "库存数据", "库存", "存货量", "存货", "在库量", "在库", "货存", "备货量", "断货", "缺货",
        "stockouts?", "stock-outs?", "out of stock", "inventory", "inventories", "inv", "invt",
        "stocks?", "stock levels?", "stock on hand", "on-hand", "on hand", "stockpiles?",
        "inventory levels?", "stock-on-hand", "carrying",
    ],
    "logistics": [
        "物流量", "物流数据", "物流", "出货量", "出货", "发货量", "发货", "运输量", "运输", "运量", "货运量", "出库量", "出库", "发运量", "发运",
        "装运量", "运送量", "运货量", "logistics", "logistics volumes?", "shipments?", "shipping volumes?",
        "shipping", "shipped", "ship", "outbound", "outbound volumes?", "freight volumes?",
        "transport volumes?", "transportation volumes?",
    ],
    "delivery": [
        "配送量", "配送", "送货量", "送货", "交付量", "交付", "交货量", "交货", "派送量", "派送", "送达量", "到货量", "投递量", "deliveries",
        "delivery", "delivery volumes?", "delivered", "drop-offs",
    ],
}

# Attributes that only a change can name: costs (with the kind of cost), capacity, supply,
# price and promotion.  Scanned before the variables, so ``shipping cost`` is a cost.
ATTRIBUTES: dict[str, list[str]] = {
    "cost:transport": [
        "运费", "运价", "运输成本", "运输费用", "运输费", "物流成本", "物流费用", "配送成本", "配送费用", "单位运费", "运输单价", "线路成本",
        "shipping costs?", "shipping rates?", "transport costs?", "transportation costs?",
        "freight costs?", "freight rates?", "freight", "lane costs?", "arc costs?", "delivery costs?",
        "logistics costs?", "haulage costs?", "transport rates?",
    ],
    "cost:processing": [
        "加工成本", "加工费用", "加工费", "生产成本", "制造成本", "烘焙成本", "processing costs?", "production costs?",
        "manufacturing costs?", "roasting costs?",
    ],
    "cost:handling": [
        "处理费用", "处理费", "处理成本", "仓储费用", "仓储费", "仓储成本", "操作费", "装卸费", "handling costs?", "handling fees?",
        "storage costs?", "warehousing costs?",
    ],
    "cost:purchase": [
        "原材料成本", "原料成本", "采购成本", "采购价格", "采购价", "进价", "原材料价格", "raw material costs?",
        "raw-material costs?", "purchase costs?", "purchase prices?", "purchasing costs?",
        "sourcing costs?", "material costs?",
    ],
    "cost": [
        "单位成本", "成本", "费用", "费率", "单价", "costs?", "unit costs?", "cost per unit", "per-unit costs?",
        "rates?", "tariffs?",
    ],
    "capacity": [
        "产能", "生产能力", "供应能力", "供货能力", "处理能力", "吞吐能力", "仓储能力", "仓容", "库容", "容量", "运力", "能力", "最大产量", "物流能力",
        "运输能力", "配送能力", "capacity", "capacities", "max output", "maximum output", "logistics capacity",
        "production capacity", "supply capacity", "transport capacity",
    ],
    "supply": [
        "供货量", "供应量", "供给量", "供货", "供应", "原材料供应", "原料供应", "供给", "supply", "supplies", "supplied",
        "supply volumes?",
    ],
    "price": [
        "价格", "售价", "定价", "零售价", "销售价格", "价钱", "prices?", "pricing", "selling prices?", "retail prices?",
    ],
    "promotion": [
        "促销力度", "促销活动", "促销", "推广力度", "推广", "营销投入", "营销", "promotions?", "promotion spend",
        "promotional spend", "promos?", "marketing spend", "marketing",
    ],
}

# Verbs that carry their own subject: 涨价 = the price rises.
FUSED_VERBS: dict[str, tuple[str, str]] = {
    "涨价": ("price", "up"),
    "提价": ("price", "up"),
    "降价": ("price", "down"),
    "减价": ("price", "down"),
    "扩产": ("capacity", "up"),
    "增产": ("production", "up"),
    "减产": ("production", "down"),
}

# Words that look like variables but are not ("in order to").
STOP_PHRASES: list[str] = [
    "in order to", "in order", "out of order", "made to order", "order of magnitude", "to order",
    "(?:物流|生产|销售|库存|仓储|配送|供应链)(?:专家|经理|部门|团队|人员|主管|总监|顾问|分析师)",
    "(?:logistics|production|sales|inventory|supply chain|delivery|shipping) (?:experts?|managers?|teams?|"
    "departments?|analysts?|planners?|staff|consultants?)",
    "from now on", "^output(?= (?:a|an|the|all|each|every|my|our|next|this)(?![a-z]))", "(?<=[.!?;] )output(?= (?:a|an|the)(?![a-z]))", "(?:送货|配送|运输|物流|发货)车(?:辆)?", "(?:delivery|shipping|transport|logistics) (?:vans?|trucks?|vehicles?|"
    "fleets?|drivers?)",
]

# --------------------------------------------------------------------------------------------
# Actions, with a weight: the heaviest cue wins; ties go to the first action in ACTION_PRIORITY.
ACTION_PRIORITY: tuple[str, ...] = (
    "plan_routes", "plan_production", "plan_inventory", "plan_network", "monitor", "explain", "forecast",
)

ACTION_CUES: dict[str, dict[float, list[str]]] = {
    "forecast": {
        2.0: [
            "预测", "预估", "预计", "预判", "预报", "推算", "估算", "估计", "展望", "预期", "推测", "forecast", "forecasts", "fcst", "fcast",
            "forecasting", "forecasted", "predict", "predicts", "predicted", "predicting", "prediction",
            "predictions", "project", "projected", "projection", "projections", "estimate", "estimates",
            "estimated", "outlook", "expect", "expected", "anticipate", "anticipated",
        ],
        1.0: [
            "多少", "会是", "会怎样", "会如何", "怎么样", "怎么走", "走势", "趋势", "how many", "how much", "what will",
            "will be", "look like", "looks like", "trend",
        ],
    },
    "explain": {
        3.0: [
            "解释", "归因", "归因分析", "驱动因素", "影响因素", "哪些因素", "什么因素", "主要因素", "关键因素", "原因", "为什么", "为何", "为啥",
            "怎么会", "贡献", "驱动了", "驱动", "explain", "explains", "explanation", "attribution", "attributions",
            "attribute", "what drives", "drivers?", "driving", "why", "causing", "causes?", "factors?",
            "contributions?", "feature importance", "shap", "interpret", "interpretab(?:le|ility)", "explainab(?:le|ility)", "可解释", "break down", "how come", "是什么导致",
            "什么导致", "什么原因导致", "什么造成", "为什么会", "哪些(?=.{0,8}?影响)", "什么(?=.{0,6}?影响)",
            "影响(?=.{0,10}?(?:因素|变量|原因))", "起作用", "重要性", "what caused", "what is behind", "what's behind",
            "what affects", "what influences",
            "which (?:inputs|features|factors|variables) (?:matter|affect|influence|drive)",
            "most important (?:inputs|features|factors|variables|drivers)", "matters? most", "importance",
        ],
    },
    "plan_inventory": {
        3.0: [
            "补货", "补(?:多少|点|些|一些)货", "订货", "订货量", "订货点", "再订货点", "库存策略", "库存政策", "库存计划", "库存优化", "优化库存", "安全库存", "备货计划", "补库",
            "报童", "经济订货批量", "订购策略", "补货策略", "replenish", "replenishment", "replenishing", "reorder",
            "reorders", "reordering", "reorder points?", "reorder quantit(?:y|ies)",
            "order-up-to(?: levels?)?", "order up to(?: levels?)?", "safety stocks?",
            "inventory polic(?:y|ies)", "stocking polic(?:y|ies)", "base-stock(?: polic(?:y|ies))?",
            "base stock(?: polic(?:y|ies))?", "newsvendor", "eoq", "economic order quantity", "restock",
            "restocking", "(?:s, ?s) polic(?:y|ies)", "min-max polic(?:y|ies)", "order quantit(?:y|ies)",
            "inventory plan(?:s|ning)?", "optimi[sz]e (?:the )?inventory", "inventory optimi[sz]ation",
            "plan (?:the |our )?inventory", "inventory planning", "库存规划", "规划库存", "备货", "备多少货",
            "stock(?:ing)? polic(?:y|ies)",
        ],
    },
    "plan_routes": {
        3.0: [
            "配送路线", "送货路线", "运输路线", "配送线路", "送货线路", "运输线路", "配送路径", "送货路径", "车辆调度", "车辆路径", "调度车辆", "排线",
            "派车", "路径规划", "路线规划", "最优路线", "最短路径", "排(?:一下|下)?路线", "routed", "reroute", "rerouted", "rerouting",
            "vrp", "cvrp", "vrptw", "vehicle routes?",
            "vehicle routing", "delivery routes?", "route planning", "routing", "dispatch", "dispatching",
            "traveling salesman", "tsp",
        ],
        2.0: ["路线", "路径", "routes?", "route"],
    },
    "plan_production": {
        3.0: [
            "生产计划", "生产排程", "排产", "排程", "生产调度", "生产安排", "安排.{0,12}?生产", "排(?:一下|下)?(?=.{0,12}?(?:生产|工单|工序))",
            "生产顺序", "加工顺序", "生产次序", "工单", "work orders?", "作业车间", "车间调度", "机器调度", "主生产计划",
            "工件", "工序", "production plan", "production plans", "production planning", "plan production",
            "plan the production", "production schedul(?:e|es|ing)", "schedule production",
            "schedule the production", "job[- ]?shops?", "makespan", "machine scheduling", "sequence jobs",
            "sequencing jobs", "flow[- ]?shops?", "lot[- ]siz(?:e|es|ing)",
        ],
        2.0: ["排班", "调度", "schedule", "scheduling"],
    },
    "monitor": {
        3.0: [
            "监控", "监测", "监视", "预警", "告警", "报警", "警报", "提醒", "盯一下", "盯着", "跟踪", "检测", "漂移", "monitor",
            "monitors", "monitoring", "alert", "alerts", "alerting", "alarm", "notify", "notification",
            "watch for", "watch out", "keep an eye", "drift", "drifts", "drifting", "detect", "detection",
            "flag", "flags", "keep tabs", "ping me", "let me know (?:if|when)", "looks? off",
            "something (?:is |looks |seems )?off", "warn me", "有异常(?:就|时)?告诉我",
        ],
        2.0: [
            "异常", "偏差", "偏离", "anomal(?:y|ies|ous)", "outliers?", "deviat(?:e|es|ion|ions)", "unusual",
            "abnormal",
        ],
    },
    "plan_network": {
        3.0: [
            "供应网络", "网络规划", "网络计划", "网络设计", "规划网络", "网络优化", "供应链网络", "网络方案", "网络成本", "选址", "最小费用流", "网络流",
            "(?:工厂|供应商|仓库|配送中心)(?:到|至|→|->)(?:客户|门店|工厂|仓库)", "流量分配", "流向", "分配方案",
            "采购方案", "选(?:择|哪)?(?:最优的?|最好的?|哪(?:个|些|家))?供应商", "哪(?:个|些|家)供应商",
            "(?:plants?|factories|suppliers?|warehouses?|dcs?) to (?:customers?|stores?|plants?|warehouses?)",
            "which suppliers?", "source from", "allocation plan",
            "sourcing", "network plan", "network plans", "network planning", "network design",
            "supply network", "min-cost flow", "minimum-cost flow", "flow plan", "plan the network",
            "the network", "network",
        ],
        2.0: ["最省钱", "成本最低", "最低成本", "总成本", "flows?", "cheapest", "least cost", "lowest cost",
              "minimi[sz]e (?:the )?(?:total )?costs?", "最优方案"],
        1.0: ["方案", "采购", "供应商", "the plan", "suppliers?", "plan change"],
    },
}

# --------------------------------------------------------------------------------------------
# Scenarios.  Only words that name the case or its domain set it (a variable such as 物流量 or
# "deliveries" does not).  Explicit phrases ("物流场景", "the retail case") are also the only
# ones that count in a network plan, where role words (plant, store) name nodes.
SCENARIO_EXPLICIT: dict[str, list[str]] = {
    "manufacturing": [
        "制造(?:业|场景|案例|情景|行业|企业|公司|领域|工厂)", "生产制造", "制造商",
        "manufacturing[ -](?:case|scenario|setting|company|firm|business|sector|industry|plant)",
        "manufacturers?", "manufacturing",
    ],
    "retail": [
        "零售(?:业|场景|案例|情景|行业|企业|公司|领域|商|门店)", "零售",
        "retail[ -](?:case|scenario|setting|company|firm|business|sector|industry|chain)", "retailers?",
        "retail",
    ],
    "logistics": [
        "物流(?:场景|案例|情景|行业|企业|公司|领域|中心|商)", "快递公司", "货运公司", "运输公司",
        "logistics[ -](?:case|scenario|setting|company|companies|firm|business|sector|industry|provider|operator)",
        "3pl",
    ],
}
SCENARIO_GENERAL: dict[str, list[str]] = {
    "manufacturing": [
        "制造", "工厂", "厂里", "厂区", "我们厂", "本厂", "全厂", "厂内", "各厂", "生产线", "产线", "车间", "加工厂", "factory", "factories", "plants?",
        "production lines?", "assembly lines?", "shop floor",
    ],
    "retail": [
        "门店", "超市", "商店", "便利店", "商场", "店铺", "卖场", "专卖店", "分店", "商超", "各店", "stores?", "shops?",
        "supermarkets?", "outlets?", "grocery", "groceries",
    ],
    "logistics": [
        "配送中心", "物流中心", "快递", "承运商", "承运人", "车队", "仓配", "货运", "carriers?", "carrier's", "depots?", "fleet",
        "fleets", "couriers?", "distribution cent(?:er|re)s?", "trucking compan(?:y|ies)", "hauliers?",
    ],
}

# --------------------------------------------------------------------------------------------
# Network roles, as words people use for them.
ROLE_WORDS: dict[str, list[str]] = {
    "supplier": [
        "供应商", "供货商", "原料商", "供货方", "供应方", "牧场", "奶源", "supplier", "suppliers", "vendor", "vendors",
        "farm", "ranch", "ranches", "growers?",
    ],
    "plant": [
        "工厂", "加工厂", "生产厂", "烘焙厂", "制造厂", "厂", "plant", "plants", "factory", "factories", "roastery",
        "roasteries", "mill", "mills",
    ],
    "warehouse": [
        "仓库", "配送中心", "物流中心", "仓储中心", "中转仓", "分仓", "库房", "仓", "warehouse", "warehouses", "dc", "dcs",
        "distribution cent(?:er|re)s?", "depot", "depots", "hub", "hubs",
    ],
    "customer": [
        "客户", "顾客", "门店", "商店", "买家", "经销商", "分店", "咖啡馆", "咖啡店", "酒店", "餐厅", "customer", "customers",
        "client", "clients", "store", "stores", "shop", "shops", "retailer", "retailers", "buyer", "buyers",
        "cafe", "cafes", "café", "cafés", "hotel", "hotels", "restaurant", "restaurants", "outlet", "outlets",
    ],
}
ROLE_ORDER: dict[str, int] = {"supplier": 0, "plant": 1, "warehouse": 2, "customer": 3}

# Chinese names of cities a network may name in English.
CITY_ZH: dict[str, str] = {
    "汉堡": "hamburg",
    "柏林": "berlin",
    "慕尼黑": "munich",
    "法兰克福": "frankfurt",
    "科隆": "cologne",
    "不来梅": "bremen",
    "汉诺威": "hanover",
    "斯图加特": "stuttgart",
    "杜塞尔多夫": "dusseldorf",
    "莱比锡": "leipzig",
    "德累斯顿": "dresden",
    "纽伦堡": "nuremberg",
    "多特蒙德": "dortmund",
    "鹿特丹": "rotterdam",
    "阿姆斯特丹": "amsterdam",
    "安特卫普": "antwerp",
    "布鲁塞尔": "brussels",
    "巴黎": "paris",
    "里昂": "lyon",
    "马赛": "marseille",
    "伦敦": "london",
    "曼彻斯特": "manchester",
    "伯明翰": "birmingham",
    "都柏林": "dublin",
    "马德里": "madrid",
    "巴塞罗那": "barcelona",
    "里斯本": "lisbon",
    "罗马": "rome",
    "米兰": "milan",
    "都灵": "turin",
    "维也纳": "vienna",
    "苏黎世": "zurich",
    "日内瓦": "geneva",
    "布拉格": "prague",
    "华沙": "warsaw",
    "布达佩斯": "budapest",
    "哥本哈根": "copenhagen",
    "斯德哥尔摩": "stockholm",
    "奥斯陆": "oslo",
    "赫尔辛基": "helsinki",
    "伊斯坦布尔": "istanbul",
    "莫斯科": "moscow",
    "纽约": "new york",
    "芝加哥": "chicago",
    "洛杉矶": "los angeles",
    "旧金山": "san francisco",
    "西雅图": "seattle",
    "休斯顿": "houston",
    "达拉斯": "dallas",
    "亚特兰大": "atlanta",
    "迈阿密": "miami",
    "波士顿": "boston",
    "多伦多": "toronto",
    "温哥华": "vancouver",
    "墨西哥城": "mexico city",
    "圣保罗": "sao paulo",
    "桑托斯": "santos",
    "利马": "lima",
    "波哥大": "bogota",
    "东京": "tokyo",
    "大阪": "osaka",
    "首尔": "seoul",
    "新加坡": "singapore",
    "香港": "hong kong",
    "悉尼": "sydney",
    "墨尔本": "melbourne",
    "孟买": "mumbai",
    "迪拜": "dubai",
    "北京": "beijing",
    "上海": "shanghai",
    "广州": "guangzhou",
    "深圳": "shenzhen",
    "天津": "tianjin",
    "重庆": "chongqing",
    "成都": "chengdu",
    "武汉": "wuhan",
    "杭州": "hangzhou",
    "南京": "nanjing",
    "苏州": "suzhou",
    "西安": "xian",
    "郑州": "zhengzhou",
    "长沙": "changsha",
    "青岛": "qingdao",
    "宁波": "ningbo",
    "厦门": "xiamen",
    "合肥": "hefei",
    "沈阳": "shenyang",
    "大连": "dalian",
    "昆明": "kunming",
    "呼和浩特": "hohhot",
    "哈尔滨": "harbin",
    "长春": "changchun",
    "石家庄": "shijiazhuang",
    "太原": "taiyuan",
    "济南": "jinan",
    "福州": "fuzhou",
    "南昌": "nanchang",
    "南宁": "nanning",
    "贵阳": "guiyang",
    "兰州": "lanzhou",
    "银川": "yinchuan",
    "西宁": "xining",
    "乌鲁木齐": "urumqi",
    "拉萨": "lhasa",
    "海口": "haikou",
    "无锡": "wuxi",
    "东莞": "dongguan",
    "佛山": "foshan",
    "珠海": "zhuhai",
    "烟台": "yantai",
    "唐山": "tangshan",
    "温州": "wenzhou",
    "泉州": "quanzhou",
    "常州": "changzhou",
    "徐州": "xuzhou",
    "洛阳": "luoyang",
    "澳门": "macau",
    "新德里": "new delhi",
    "德里": "delhi",
    "班加罗尔": "bangalore",
    "金奈": "chennai",
    "开罗": "cairo",
    "约翰内斯堡": "johannesburg",
    "拉各斯": "lagos",
    "蒙特利尔": "montreal",
    "费城": "philadelphia",
    "底特律": "detroit",
    "丹佛": "denver",
    "凤凰城": "phoenix",
    "孟菲斯": "memphis",
    "名古屋": "nagoya",
    "釜山": "busan",
    "横滨": "yokohama",
    "仁川": "incheon",
    "高雄": "kaohsiung",
    "奥克兰": "auckland",
    "珀斯": "perth",
    "布里斯班": "brisbane",
    "雷恩": "rennes",
    "南特": "nantes",
    "秘鲁": "peru",
    "巴西": "brazil",
    "埃塞俄比亚": "ethiopia",
    "哥伦比亚": "colombia",
    "越南": "vietnam",
    "荷兰": "netherlands",
    "德国": "germany",
    "法国": "france",
    "意大利": "italy",
    "奥地利": "austria",
    "中国": "china",
}
CITY_ZH.update({
    "哥德堡": "gothenburg", "马尔默": "malmo", "克拉科夫": "krakow", "格但斯克": "gdansk", "弗罗茨瓦夫": "wroclaw",
    "波兹南": "poznan", "波尔图": "porto", "塞维利亚": "seville", "瓦伦西亚": "valencia", "毕尔巴鄂": "bilbao",
    "里尔": "lille", "图卢兹": "toulouse", "波尔多": "bordeaux", "尼斯": "nice", "斯特拉斯堡": "strasbourg",
    "那不勒斯": "naples", "佛罗伦萨": "florence", "威尼斯": "venice", "博洛尼亚": "bologna", "热那亚": "genoa",
    "布拉迪斯拉发": "bratislava", "卢布尔雅那": "ljubljana", "萨格勒布": "zagreb", "贝尔格莱德": "belgrade",
    "布加勒斯特": "bucharest", "索非亚": "sofia", "雅典": "athens", "里加": "riga", "塔林": "tallinn",
    "维尔纽斯": "vilnius", "基辅": "kyiv", "布尔诺": "brno", "格拉茨": "graz", "萨尔茨堡": "salzburg",
    "因斯布鲁克": "innsbruck", "巴塞尔": "basel", "伯尔尼": "bern", "洛桑": "lausanne", "卢森堡": "luxembourg",
    "海牙": "the hague", "乌得勒支": "utrecht", "埃因霍温": "eindhoven", "根特": "ghent", "布鲁日": "bruges",
    "列日": "liege", "奥胡斯": "aarhus", "卑尔根": "bergen", "爱丁堡": "edinburgh", "格拉斯哥": "glasgow",
    "利兹": "leeds", "利物浦": "liverpool", "布里斯托": "bristol", "布里斯托尔": "bristol", "加的夫": "cardiff",
    "贝尔法斯特": "belfast", "科克": "cork", "麦德林": "medellin", "卡塔赫纳": "cartagena", "内罗毕": "nairobi",
    "亚的斯亚贝巴": "addis ababa", "河内": "hanoi", "胡志明市": "ho chi minh city", "雅加达": "jakarta",
    "曼谷": "bangkok", "吉隆坡": "kuala lumpur", "马尼拉": "manila", "台北": "taipei", "科纳": "kona",
    "波特兰": "portland", "奥斯陆": "oslo", "里约热内卢": "rio de janeiro", "布宜诺斯艾利斯": "buenos aires",
    "圣地亚哥": "santiago", "基多": "quito", "危地马拉城": "guatemala city", "圣何塞": "san jose",
    "瑞典": "sweden", "挪威": "norway", "芬兰": "finland", "丹麦": "denmark", "波兰": "poland", "捷克": "czechia",
    "斯洛伐克": "slovakia", "匈牙利": "hungary", "罗马尼亚": "romania", "希腊": "greece", "西班牙": "spain",
    "葡萄牙": "portugal", "比利时": "belgium", "瑞士": "switzerland", "爱尔兰": "ireland", "英国": "united kingdom",
    "美国": "united states", "加拿大": "canada", "墨西哥": "mexico", "日本": "japan", "韩国": "south korea",
    "印度": "india", "印度尼西亚": "indonesia", "印尼": "indonesia", "肯尼亚": "kenya", "危地马拉": "guatemala",
    "洪都拉斯": "honduras", "哥斯达黎加": "costa rica", "乌干达": "uganda", "卢旺达": "rwanda", "坦桑尼亚": "tanzania",
    "土耳其": "turkey", "澳大利亚": "australia", "新西兰": "new zealand", "阿根廷": "argentina", "智利": "chile",
})
# Adjectives of countries ("the Swedish roastery").
COUNTRY_ADJECTIVES: dict[str, list[str]] = {
    "sweden": ["swedish"], "norway": ["norwegian"], "finland": ["finnish"], "denmark": ["danish"],
    "poland": ["polish"], "czechia": ["czech"], "czech republic": ["czech"], "slovakia": ["slovak"],
    "hungary": ["hungarian"], "romania": ["romanian"], "greece": ["greek"], "spain": ["spanish"],
    "portugal": ["portuguese"], "belgium": ["belgian"], "switzerland": ["swiss"], "ireland": ["irish"],
    "united kingdom": ["british", "uk"], "united states": ["american", "us", "usa"], "canada": ["canadian"],
    "mexico": ["mexican"], "japan": ["japanese"], "india": ["indian"], "indonesia": ["indonesian"],
    "kenya": ["kenyan"], "guatemala": ["guatemalan"], "honduras": ["honduran"], "uganda": ["ugandan"],
    "rwanda": ["rwandan"], "tanzania": ["tanzanian"], "turkey": ["turkish"], "australia": ["australian"],
    "argentina": ["argentinian", "argentine"], "chile": ["chilean"], "germany": ["german"],
    "france": ["french"], "italy": ["italian"], "netherlands": ["dutch"], "austria": ["austrian"],
    "brazil": ["brazilian"], "colombia": ["colombian"], "ethiopia": ["ethiopian"], "peru": ["peruvian"],
    "vietnam": ["vietnamese"], "china": ["chinese"], "costa rica": ["costa rican"],
}
# Words for directions in node names ("Roastery_North" = "the northern roastery" = 北边的烘焙厂).
DIRECTIONS: dict[str, tuple[list[str], list[str]]] = {
    "north": (["north", "northern", "nord"], ["北方", "北部", "北边", "北面", "北区", "北"]),
    "south": (["south", "southern", "sud"], ["南方", "南部", "南边", "南面", "南区", "南"]),
    "east": (["east", "eastern", "ost"], ["东方", "东部", "东边", "东面", "东区", "东"]),
    "west": (["west", "western"], ["西方", "西部", "西边", "西面", "西区", "西"]),
    "central": (["central", "centre", "center", "middle"], ["中部", "中央"]),
    "northeast": (["northeast", "north-east", "northeastern"], ["东北"]),
    "northwest": (["northwest", "north-west", "northwestern"], ["西北"]),
    "southeast": (["southeast", "south-east", "southeastern"], ["东南"]),
    "southwest": (["southwest", "south-west", "southwestern"], ["西南"]),
}
# Accent-free spellings of city names.
CITY_VARIANTS: dict[str, str] = {
    "münchen": "munich",
    "muenchen": "munich",
    "köln": "cologne",
    "koeln": "cologne",
    "nürnberg": "nuremberg",
    "nuernberg": "nuremberg",
    "düsseldorf": "dusseldorf",
    "wien": "vienna",
    "milano": "milan",
    "roma": "rome",
    "praha": "prague",
    "são paulo": "sao paulo",
    "hannover": "hanover",
}

# Products named in Chinese for common English product names.
PRODUCT_ZH: dict[str, list[str]] = {
    "light": ["浅烘焙", "浅度烘焙", "浅烘", "浅焙", "浅色", "轻烘"],
    "dark": ["深烘焙", "深度烘焙", "深烘", "深焙", "深色"],
    "medium": ["中烘焙", "中度烘焙", "中烘", "中焙"],
    "espresso": ["意式浓缩", "浓缩咖啡", "浓缩"], "filter": ["滤泡咖啡", "滤泡", "滤挂"], "latte": ["拿铁"],
    "decaf": ["低因咖啡", "低因"], "standard": ["标准款", "标准型"], "premium": ["高端款", "高级款", "高端"],
    "house blend": ["招牌拼配", "拼配豆", "拼配", "综合豆", "混合豆"], "blend": ["拼配豆", "拼配", "综合豆", "混合豆"],
    "cold brew": ["冷萃咖啡", "冷萃"], "green tea": ["绿茶"], "black tea": ["红茶"], "oolong": ["乌龙茶", "乌龙"],
    "white tea": ["白茶"], "mocha": ["摩卡"], "cappuccino": ["卡布奇诺"], "americano": ["美式咖啡", "美式"],
    "organic": ["有机"],
    "baguette": ["法式长棍", "法棍", "长棍面包", "长棍"], "sourdough": ["天然酵母面包", "酸种面包", "酸面包", "酸面团"],
    "rye bread": ["黑麦面包"], "rye": ["黑麦"], "croissant": ["牛角包", "可颂"], "bread": ["面包"],
    "brioche": ["布里欧修"], "flour": ["面粉"], "milk": ["鲜牛奶", "鲜奶", "牛奶", "纯牛奶"], "fresh milk": ["鲜牛奶", "鲜奶"],
    "butter": ["黄油"], "cream": ["奶油"], "ice cream": ["冰淇淋", "雪糕"], "eggs": ["鸡蛋"], "egg": ["鸡蛋"],
    "rice": ["大米"], "sugar": ["白糖", "食糖"], "coffee": ["咖啡"], "tea": ["茶叶"], "snacks": ["零食"],
    "beverages": ["饮料"], "soft drinks": ["软饮料", "汽水"], "chocolate": ["巧克力"], "cookies": ["饼干"],
    "noodles": ["面条"], "cooking oil": ["食用油"], "steel": ["钢材"], "cement": ["水泥"], "paper": ["纸张"],
    "tires": ["轮胎"], "batteries": ["电池"], "battery": ["电池"], "laptops": ["笔记本电脑"], "phones": ["手机"],
    "chips": ["芯片"], "screws": ["螺丝"], "pallets": ["托盘"], "detergent": ["洗涤剂", "洗衣液"], "shampoo": ["洗发水"], "yogurt": ["酸奶"], "cheese": ["奶酪"],
    "juice": ["果汁"], "orange juice": ["橙汁", "橙子汁"], "apple juice": ["苹果汁"],
    "grape juice": ["葡萄汁"], "orange": ["橙子"], "apple": ["苹果"], "mineral water": ["矿泉水"],
    "soy milk": ["豆奶", "豆浆"], "milk tea": ["奶茶"], "water": ["瓶装水", "饮用水"], "beer": ["啤酒"], "wine": ["葡萄酒"],
    "red": ["红色"],
    "blue": ["蓝色"],
    "green": ["绿色"],
    "white": ["白色"],
    "black": ["黑色"],
    "small": ["小号", "小型"],
    "large": ["大号", "大型"],
}

# English words that may follow "demand for" without naming a product.
NOT_PRODUCT_WORDS: frozenset[str] = frozenset(
    """a an the all each every any both this that these those next coming following upcoming
    our their its his her my your tomorrow today tonight week weeks month months day days quarter
    year it them us me customer customers store stores product products item items goods units
    at in from to of by on and or with is are will be rise rises falls drop drops up down more
    less half double doubles triples""".split()
)

# --------------------------------------------------------------------------------------------
# Refusals.
OUT_OF_SCOPE: dict[str, list[str]] = {
    "agriculture": [
        "农业", "种植", "农作物", "庄稼", "小麦", "水稻", "稻谷", "玉米", "大豆", "亩产", "收成", "化肥", "施肥", "灌溉", "农田", "养殖",
        "畜牧", "播种", "农场", "奶牛", "牛群", "产奶量", "家畜", "牲畜", "家禽", "生猪", "agricultur(?:e|al)", "farms?", "farming", "farmers?", "crops?", "harvests?",
        "wheat", "corn", "maize", "soybeans?", "fertili[sz]ers?", "irrigation", "livestock", "cattle",
        "cows?", "herds?", "poultry", "hens", "pigs", "sheep", "milk yields?",
        "per acre", "planting", "sowing",
    ],
    "healthcare": [
        "医院", "患者", "病人", "门诊", "住院", "病床", "医生", "护士", "手术", "诊断", "医疗", "病房", "hospitals?", "patients?",
        "clinics?", "doctors?", "nurses?", "surgery", "surgeries", "diagnos(?:is|es|e)", "medical",
        "admissions", "ward", "wards",
    ],
    "finance": [
        "股票", "股价", "股市", "a股", "港股", "美股", "基金", "债券", "期货", "比特币", "加密货币", "贷款", "房贷", "信用卡", "利率", "理财",
        "汇率", "投资组合", "分红", "stock prices?", "stock market", "stock exchange", "share prices?", "shares",
        "equit(?:y|ies)", "loans?", "mortgages?", "interest rates?", "bitcoin",
        "crypto(?:currenc(?:y|ies))?", "portfolios?", "dividends?", "bonds", "forex", "exchange rates?",
        "credit cards?", "credit scores?",
    ],
    "chat": [
        "写诗", "一首诗", "诗歌", "笑话", "讲个故事", "写故事", "翻译", "菜谱", "做菜", "唱歌", "poem", "poems", "poetry", "joke",
        "jokes", "a story", "song", "lyrics", "translate", "recipe", "recipes", "essay",
    ],
    "other": [
        "选举", "足球", "篮球", "比分", "房价", "考试", "成绩单", "彩票", "elections?", "football", "soccer", "basketball",
        "lottery", "house prices?", "exam", "exams",
    ],
}
# Soft out-of-scope words: named in the refusal message when nothing in scope was found.
SOFT_OUT_OF_SCOPE: dict[str, list[str]] = {
    "weather": ["天气", "气温", "下雨", "降雨", "台风", "weather", "rain", "temperature"],
}

INJECTION: list[str] = [
    r"\b(?:ignore|disregard|forget|override|bypass|skip)\b.{0,40}?\b(?:instructions?|prompts?|rules|"
    r"guidelines|directions|context|above|previous|prior|everything)\b", r"system prompt",
    r"hidden prompt", r"\bjailbreak", r"\byou are now\b",
    r"developer mode", r"\breveal\b.{0,30}\b(?:prompt|instructions)\b",
    r"(?:忽略|无视|忘记|忘掉|不要理会|不用理会|跳过|绕过|覆盖).{0,12}?(?:指令|指示|提示|规则|要求|设定|约束|说明)", r"系统提示", r"提示词", r"越狱",
    r"你现在是", r"删(?:掉|除)?.{0,6}?数据库", r"格式化.{0,4}?(?:硬盘|磁盘)",
    r"\b(?:drop|truncate|alter)\s+(?:table|database|schema)\b", r"\bdelete\s+from\b", r"\binsert\s+into\b",
    r"\bupdate\s+\w+\s+set\b", r"\bunion\s+(?:all\s+)?select\b", r"\bselect\s+\*\s+from\b",
    r"'\s*or\s+'?1'?\s*=\s*'?1", r";\s*--", r"'\s*\)\s*;", r"\brm\s+-[rf]+\b", r"\bsudo\b", r"\bchmod\b",
    r"\bcurl\s+\S*http", r"\bwget\b", r"\$\(", r"`[^`]+`", r"\|\s*(?:sh|bash|zsh)\b", r"&&",
    r"\bos\.system\b", r"__import__", r"\beval\s*\(", r"\bexec\s*\(", r"\bimport\s+os\b",
    r"\bsubprocess\b", r"<\s*script", r"\bshutdown\s+-", r"\bmkfs\b", r":\(\)\s*\{", r"\bformat\s+c:",
]
# fmt: on
