"""The vocabulary of the document generators: name pools, templates and the clause grammar.

Plain data only (no functions, no imports from the rest of :mod:`sclm`), so that the numeric
simulators (:mod:`~sclm.scenarios.manufacturing`, :mod:`~sclm.scenarios.logistics`,
:mod:`~sclm.scenarios.retail`), :mod:`sclm.scenarios._base` and the generators in
:mod:`sclm.scenarios.documents` can all import it without an import cycle.  The public names
are re-exported by :mod:`sclm.scenarios.documents`; see ``docs/architecture.md`` for the layout.

* Name pools: English (:data:`CUSTOMERS`, :data:`RETAILERS`, :data:`CARRIERS`,
  :data:`SUPPLIERS`, :data:`PEOPLE`, :data:`CITIES`, :data:`PRODUCTS`, :data:`COUNTRIES`,
  :data:`FIRST_NAMES`, :data:`LAST_NAMES`, :data:`EXTRA_CITIES`, :data:`MODES`) and Chinese
  (``ZH_*``), all invented.
* Templates: :data:`TEMPLATES` (English, space-separated tokens), :data:`ZH_TEMPLATES`
  (Chinese, slot markers inside running text), the clause grammar of composed documents
  (:data:`CLAUSES`, :data:`OPENERS`, :data:`FILLERS`, :data:`SEPARATORS`) and the held-out
  template ids (:data:`HELDOUT_TEMPLATES`).
* Tags: :data:`ENTITY_TYPES`, :data:`LABELS`, :data:`SLOT_TYPES`.
"""

from __future__ import annotations

ENTITY_TYPES: tuple[str, ...] = ("ORG", "LOC", "PER", "PRODUCT", "QTY", "DATE")
LABELS: tuple[str, ...] = ("O", *[f"{p}-{t}" for t in ENTITY_TYPES for p in ("B", "I")])
"""The 13 BIO labels of the document tagger, ``O`` first."""

CUSTOMERS: tuple[str, ...] = (
    "Meridian Components Ltd",
    "Apex Polymers",
    "Kestrel Steelworks",
    "Bluewater Foods Group",
    "Orion Retail Group",
    "Harrow & Finch Trading",
    "Vantage Appliances",
    "Lindqvist Maskin AB",
    "Costa Verde Distribuciones",
    "Pioneer Hardware Co",
    "Sakura Home Goods",
    "Northfield Builders Supply",
)
RETAILERS: tuple[str, ...] = (
    "Orion Retail Group",
    "Bluewater Foods Group",
    "Sakura Home Goods",
    "Marktplatz Handels AG",
    "Sunrise Grocers",
    "Casa Fresca Supermercados",
    "Northwind Convenience",
    "Golden Basket Stores",
)
CARRIERS: tuple[str, ...] = (
    "Nordwind Logistics",
    "Baltic Freight Lines",
    "TransAlpine Cargo",
    "Redline Express",
    "Atlas Road Haulage",
    "Harbor & Crane Shipping",
    "Silverline Transport GmbH",
    "Meseta Carga SL",
    "Blue Heron Couriers",
    "Polar Parcel Services",
    "Danube Trucking Kft",
    "Ironbridge Freight",
)
SUPPLIERS: tuple[str, ...] = (
    "Gruber Packaging",
    "Solano Resins",
    "Tamarind Chemicals",
    "Westmark Metals",
    "Ferrovia Castings SpA",
    "Greenleaf Paper Mills",
    "Hoshino Electronics",
    "Brightwater Textiles",
    "Cordova Agro Foods",
    "Kaskade Plastics",
    "Eastgate Fasteners",
    "Mistral Glassworks",
)
PEOPLE: tuple[str, ...] = (
    "Anna Schmidt",
    "Luca Bianchi",
    "Maria Garcia",
    "Wei Zhang",
    "Priya Nair",
    "Tomasz Nowak",
    "Sofia Lindberg",
    "Kenji Watanabe",
    "Fatima El Amrani",
    "James O'Connor",
    "Chloe Martin",
    "Diego Fernandez",
    "Olga Petrova",
    "Samuel Okafor",
)
CITIES: tuple[tuple[str, str], ...] = (
    ("Rotterdam", "Netherlands"),
    ("Hamburg", "Germany"),
    ("Lyon", "France"),
    ("Milan", "Italy"),
    ("Gdansk", "Poland"),
    ("Valencia", "Spain"),
    ("Porto", "Portugal"),
    ("Leipzig", "Germany"),
    ("Antwerp", "Belgium"),
    ("Brno", "Czechia"),
    ("Tampere", "Finland"),
    ("Cork", "Ireland"),
    ("Kansas City", "United States"),
    ("New York", "United States"),
    ("Sao Paulo", "Brazil"),
    ("Ho Chi Minh City", "Vietnam"),
    ("Osaka", "Japan"),
    ("Pune", "India"),
)
PRODUCTS: dict[str, tuple[str, ...]] = {
    "manufacturing": (
        "steel brackets",
        "hydraulic pumps",
        "PVC pipe fittings",
        "gear motors",
        "ceramic floor tiles",
        "aluminium profiles",
        "brake pads",
        "circuit breakers",
    ),
    "logistics": (
        "bottled water",
        "cement bags",
        "office paper",
        "cleaning supplies",
        "engine oil",
        "fresh produce crates",
        "spare tyres",
        "medical consumables",
    ),
    "retail": (
        "olive oil",
        "fusilli pasta",
        "ground coffee",
        "AA batteries",
        "laundry detergent",
        "greek yoghurt",
        "sparkling water",
        "dark chocolate",
    ),
}

COUNTRIES: tuple[str, ...] = tuple(dict.fromkeys(c for _, c in CITIES))

# Extra names for the stand-alone corpora (:func:`sclm.scenarios.documents.make_corpus`): more
# variety than the scenario lists, so that a tagger learns contexts instead of memorising a dozen
# names.
FIRST_NAMES: tuple[str, ...] = (
    "Anna",
    "Luca",
    "Maria",
    "Wei",
    "Priya",
    "Tomasz",
    "Sofia",
    "Kenji",
    "Fatima",
    "James",
    "Chloe",
    "Diego",
    "Olga",
    "Samuel",
    "Amara",
    "Lars",
    "Ines",
    "Rahul",
    "Mei",
    "Pedro",
    "Hannah",
    "Kwame",
    "Elena",
    "Yusuf",
    "Grace",
    "Matteo",
    "Aisha",
    "Jonas",
    "Lucia",
    "Tariq",
    "Nadia",
    "Oscar",
)
LAST_NAMES: tuple[str, ...] = (
    "Schmidt",
    "Bianchi",
    "Garcia",
    "Zhang",
    "Nair",
    "Nowak",
    "Lindberg",
    "Watanabe",
    "El Amrani",
    "O'Connor",
    "Martin",
    "Fernandez",
    "Petrova",
    "Okafor",
    "Mensah",
    "Johansson",
    "Moreau",
    "Gupta",
    "Chen",
    "Silva",
    "Becker",
    "Boateng",
    "Rossi",
    "Demir",
    "Kowalski",
    "Haddad",
    "Novak",
    "Larsen",
    "Dubois",
    "Kimura",
    "Costa",
    "Ivanova",
    "Mwangi",
)
EXTRA_CITIES: tuple[str, ...] = (
    "Marseille",
    "Bremen",
    "Le Havre",
    "Genoa",
    "Barcelona",
    "Lisbon",
    "Dublin",
    "Oslo",
    "Stockholm",
    "Copenhagen",
    "Warsaw",
    "Prague",
    "Vienna",
    "Budapest",
    "Bucharest",
    "Athens",
    "Istanbul",
    "Dubai",
    "Mumbai",
    "Chennai",
    "Singapore",
    "Shenzhen",
    "Busan",
    "Yokohama",
    "Manila",
    "Jakarta",
    "Lagos",
    "Nairobi",
    "Durban",
    "Casablanca",
    "Santos",
    "Buenos Aires",
    "Lima",
    "Bogota",
    "Mexico City",
    "Houston",
    "Savannah",
    "Long Beach",
    "Toronto",
    "Montreal",
)

MODES: tuple[str, ...] = ("air", "truck", "ocean", "rail", "air charter")

# --- Chinese pools (invented, plausible) ---------------------------------------------------------------

ZH_ORGS: tuple[str, ...] = (
    "华东物流有限公司",
    "顺达货运",
    "远航国际货代",
    "中联供应链",
    "海川贸易有限公司",
    "金桥制造",
    "恒通快运",
    "天禾食品集团",
    "宏图电子",
    "长江化工",
    "新丰零售",
    "安泰包装",
    "北辰钢铁",
    "南方医药",
    "瑞丰纺织",
    "万达五金",
    "广源塑料",
    "嘉华家居",
    "东方航运",
    "利民超市",
)
ZH_PEOPLE: tuple[str, ...] = (
    "张伟",
    "王芳",
    "李娜",
    "刘洋",
    "陈静",
    "杨磊",
    "赵敏",
    "黄强",
    "周杰",
    "吴霞",
    "徐明",
    "孙丽",
    "马超",
    "朱婷",
    "胡斌",
    "郭欣",
    "林涛",
    "何佳",
    "高翔",
    "罗琳",
)
ZH_CITIES: tuple[str, ...] = (
    "上海",
    "深圳",
    "宁波",
    "广州",
    "天津",
    "青岛",
    "重庆",
    "武汉",
    "成都",
    "西安",
    "苏州",
    "厦门",
    "杭州",
    "南京",
    "郑州",
    "大连",
    "长沙",
    "昆明",
    "合肥",
    "济南",
)
ZH_COUNTRIES: tuple[str, ...] = (
    "德国",
    "日本",
    "印度",
    "越南",
    "美国",
    "巴西",
    "南非",
    "肯尼亚",
    "意大利",
    "法国",
    "韩国",
    "泰国",
    "尼日利亚",
    "波兰",
    "西班牙",
)
ZH_PRODUCTS: tuple[str, ...] = (
    "钢制支架",
    "液压泵",
    "齿轮电机",
    "陶瓷地砖",
    "铝型材",
    "刹车片",
    "断路器",
    "瓶装水",
    "水泥",
    "办公用纸",
    "机油",
    "医用耗材",
    "橄榄油",
    "意大利面",
    "咖啡粉",
    "洗衣液",
    "酸奶",
    "黑巧克力",
    "电池",
    "药品试剂盒",
)
ZH_MODES: tuple[str, ...] = ("空运", "陆运", "海运", "铁路", "包机")

ZH_SURNAMES: tuple[str, ...] = tuple(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
)
ZH_GIVEN: tuple[str, ...] = (
    "伟",
    "芳",
    "娜",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "涛",
    "明",
    "超",
    "秀英",
    "建华",
    "志强",
    "晓燕",
    "海燕",
    "俊杰",
    "雪梅",
    "国庆",
    "婷婷",
    "子涵",
    "浩然",
    "欣怡",
)


# --- templates -------------------------------------------------------------------------------------------

# English templates: tokens separated by spaces; {SLOT} fills a slot.  Slots: ORG (the
# counterparty), PER, LOC (the node's city), ORIGIN (a country, tagged LOC, always after LOC),
# PRODUCT, QTY, DATE, plus untagged DOC (reference number), DAYS (a delay in days), MODE
# (shipment mode), EMAIL and PHONE.
TEMPLATES: dict[str, tuple[str, ...]] = {
    "purchase_order": (
        "Purchase order {DOC} from {ORG} : please supply {QTY} units of {PRODUCT} to our {LOC} site , "
        "order date {DATE} . Contact : {PER} .",
        "{ORG} hereby orders {QTY} units of {PRODUCT} ( ref {DOC} ) dated {DATE} for the {LOC} facility .",
        "PO {DOC} | buyer {ORG} | item {PRODUCT} | quantity {QTY} | date {DATE} | site {LOC} | approved by {PER}",
        "Dear team , {PER} of {ORG} confirms an order for {QTY} units of {PRODUCT} placed on {DATE} "
        "with {LOC} under reference {DOC} .",
        "New order received on {DATE} : {QTY} x {PRODUCT} , customer {ORG} , fulfilment site {LOC} .",
        "Order confirmation {DOC} : {ORG} orders {QTY} units of {PRODUCT} for delivery to {LOC} on {DATE} "
        ", shipped from {ORIGIN} by {MODE} . Buyer : {PER} ( {EMAIL} ) .",
        # held out
        "Please note that {ORG} requires {PRODUCT} , amount {QTY} units , at the {LOC} warehouse by {DATE} "
        "; goods originate in {ORIGIN} . Call {PER} on {PHONE} .",
        "Requisition {DOC} raised {DATE} -- {QTY} {PRODUCT} for {LOC} -- vendor {ORG} -- requested by {PER}",
    ),
    "shipping_notice": (
        "Shipping notice {DOC} : {ORG} confirms a consignment of {QTY} units of {PRODUCT} at {LOC} "
        "on {DATE} .",
        "ASN {DOC} | carrier {ORG} | {PRODUCT} | {QTY} units | {LOC} | {DATE}",
        "On {DATE} {ORG} handled {QTY} units of {PRODUCT} for the {LOC} site ; driver {PER} ( {PHONE} ) "
        "signed the delivery note {DOC} .",
        "Dispatch advice : {QTY} units of {PRODUCT} moved through {LOC} on {DATE} by {ORG} "
        "( waybill {DOC} ) .",
        "Hello , this is {PER} from {ORG} . The consignment {DOC} of {QTY} units of {PRODUCT} "
        "was completed at {LOC} on {DATE} .",
        "Advance shipping notice {DOC} from {ORG} : {QTY} units of {PRODUCT} arrive at {LOC} on {DATE} , "
        "origin {ORIGIN} , mode {MODE} .",
        # held out
        "We are pleased to inform you that your goods ( {PRODUCT} , {QTY} units ) reached {LOC} on {DATE} "
        "from {ORIGIN} . Carrier : {ORG} , contact {PER} , {EMAIL} .",
        "Notice of dispatch - date {DATE} - site {LOC} - qty {QTY} - product {PRODUCT} - forwarder {ORG} "
        "- via {MODE}",
    ),
    "delay_report": (
        "Delay report {DOC} : the consignment of {QTY} units of {PRODUCT} at {LOC} on {DATE} ran "
        "{DAYS} days behind plan , reported by {ORG} .",
        "{ORG} reports that {QTY} units of {PRODUCT} handled on {DATE} at {LOC} were delayed by "
        "{DAYS} days due to congestion .",
        "Incident {DOC} | {LOC} | {DATE} | {PRODUCT} | {QTY} units | late by {DAYS} days | carrier {ORG} "
        "| owner {PER}",
        "Dear {PER} , we regret that the load of {QTY} units of {PRODUCT} for {LOC} on {DATE} was "
        "{DAYS} days late . Regards , {ORG} .",
        "Late arrival : {ORG} consignment {DOC} , {QTY} units of {PRODUCT} , {LOC} , {DATE} , "
        "{DAYS} days behind schedule .",
        "Exception {DOC} : {ORG} flags that {QTY} units of {PRODUCT} for {LOC} dated {DATE} are held up "
        "{DAYS} days ; shipped by {MODE} from {ORIGIN} . Hotline {PHONE} .",
        # held out
        "Update from {PER} : the {PRODUCT} delivery to {LOC} ( {QTY} units , {DATE} ) slipped by {DAYS} "
        "days because {ORG} missed the cut-off .",
        "ALERT {DOC} / {DATE} / {LOC} / {QTY} units {PRODUCT} / {DAYS} days overdue / {ORG} / phone {PHONE}",
    ),
    "supplier_email": (
        "Hi {PER} , {ORG} confirms {QTY} units of {PRODUCT} for your {LOC} site on {DATE} . Best regards .",
        "Dear {PER} , please find attached the statement {DOC} : {QTY} units of {PRODUCT} , {LOC} , "
        "{DATE} . Kind regards , {ORG} .",
        "From {ORG} : the {PRODUCT} batch for {LOC} on {DATE} totalled {QTY} units . Questions to {PER} .",
        "{PER} here from {ORG} . Our records show {QTY} units of {PRODUCT} at {LOC} on {DATE} "
        "( ref {DOC} ) .",
        "Supply update {DOC} : {QTY} units of {PRODUCT} booked for {LOC} on {DATE} . {ORG} account "
        "manager {PER} .",
        "Good morning {PER} , {ORG} will ship {QTY} units of {PRODUCT} to {LOC} on {DATE} from {ORIGIN} "
        "by {MODE} . Reach me at {EMAIL} .",
        # held out
        "Subject : volumes for {DATE} . Team {LOC} , our plant dispatched {QTY} units of {PRODUCT} today "
        ". Thanks , {PER} , {ORG} , tel {PHONE}",
        "{ORG} statement {DOC} -- {PRODUCT} -- {QTY} units -- {LOC} -- {DATE} -- queries : {EMAIL}",
    ),
}

# Chinese templates: {SLOT} markers inside running text, tokenised by :func:`sclm._text.zh_tokens`.
ZH_TEMPLATES: dict[str, tuple[str, ...]] = {
    "purchase_order": (
        "采购订单{DOC}：{ORG}订购{PRODUCT}{QTY}件，送至{LOC}，订单日期{DATE}，联系人{PER}。",
        "{ORG}于{DATE}向{LOC}仓库下单{QTY}件{PRODUCT}（编号{DOC}）。",
        "订单编号{DOC}｜买方{ORG}｜品名{PRODUCT}｜数量{QTY}｜日期{DATE}｜地点{LOC}",
        # held out
        "{PER}代表{ORG}确认：{DATE}需要{PRODUCT}共{QTY}件，交货地{LOC}，原产{ORIGIN}。",
    ),
    "shipping_notice": (
        "发货通知{DOC}：{ORG}已于{DATE}将{QTY}件{PRODUCT}运抵{LOC}。",
        "提单{DOC}｜承运人{ORG}｜{PRODUCT}｜{QTY}件｜{LOC}｜{DATE}｜运输方式{MODE}",
        "{DATE}，{ORG}在{LOC}交付{PRODUCT}{QTY}件，司机{PER}签收。",
        # held out
        "您好，{LOC}站点的{PRODUCT}已到货，数量{QTY}件，到货日期{DATE}，自{ORIGIN}发出，承运商{ORG}。",
    ),
    "delay_report": (
        "延误报告{DOC}：{LOC}于{DATE}的{QTY}件{PRODUCT}延误{DAYS}天，由{ORG}报告。",
        "{ORG}通知：{DATE}在{LOC}的{PRODUCT}共{QTY}件因拥堵推迟{DAYS}天。",
        "事故{DOC}｜{LOC}｜{DATE}｜{PRODUCT}｜{QTY}件｜晚到{DAYS}天｜负责人{PER}",
        # held out
        "很抱歉，发往{LOC}的{QTY}件{PRODUCT}（{DATE}）比计划晚了{DAYS}天，承运商{ORG}，联系人{PER}。",
    ),
    "supplier_email": (
        "{PER}您好，{ORG}确认{DATE}为{LOC}供应{PRODUCT}{QTY}件。",
        "尊敬的{PER}：附件为对账单{DOC}，{LOC}，{DATE}，{PRODUCT}{QTY}件。{ORG}敬上。",
        "来自{ORG}：{DATE}发往{LOC}的{PRODUCT}合计{QTY}件，如有疑问请联系{PER}。",
        # held out
        "{ORG}的{PER}告知，{LOC}工厂{DATE}已备好{QTY}件{PRODUCT}，邮箱{EMAIL}。",
    ),
}

# Clause grammar for *composed* training documents
# (:func:`sclm.scenarios.documents.compose_template`): a kind-specific opener, then one clause per
# slot in random order (the site before any origin), joined by a random separator.  It gives a
# tagger many local contexts instead of a dozen fixed sentences; the held-out templates are
# hand-written sentences that it never produces.
CLAUSES: dict[str, dict[str, tuple[str, ...]]] = {
    "en": {
        "ORG": (
            "from {ORG}",
            "supplier {ORG}",
            "handled by {ORG}",
            "on behalf of {ORG}",
            "partner {ORG}",
            "{ORG} reports",
            "account {ORG}",
            "company : {ORG}",
        ),
        "PER": (
            "contact person {PER}",
            "signed by {PER}",
            "attn {PER}",
            "prepared by {PER}",
            "regards , {PER}",
            "ask {PER}",
            "{PER} confirmed",
            "agent : {PER}",
        ),
        "QTY": (
            "{QTY} units",
            "quantity : {QTY}",
            "{QTY} pcs",
            "total {QTY} units",
            "count {QTY}",
            "{QTY} items",
            "volume {QTY} units",
            "{QTY} cartons",
        ),
        "PRODUCT": (
            "of {PRODUCT}",
            "item : {PRODUCT}",
            "article {PRODUCT}",
            "goods : {PRODUCT}",
            "SKU {PRODUCT}",
            "material {PRODUCT}",
            "{PRODUCT} batch",
        ),
        "LOC": (
            "at {LOC}",
            "to {LOC}",
            "site : {LOC}",
            "location {LOC}",
            "destination {LOC}",
            "for the {LOC} hub",
            "in {LOC}",
            "{LOC} depot",
        ),
        "DATE": (
            "on {DATE}",
            "dated {DATE}",
            "date : {DATE}",
            "for {DATE}",
            "as of {DATE}",
            "scheduled {DATE}",
            "day {DATE}",
        ),
        "ORIGIN": (
            "from {ORIGIN}",
            "origin : {ORIGIN}",
            "made in {ORIGIN}",
            "shipped out of {ORIGIN}",
            "country of origin {ORIGIN}",
        ),
        "DOC": ("ref {DOC}", "document {DOC}", "# {DOC}", "number {DOC}"),
        "MODE": ("via {MODE}", "mode : {MODE}", "by {MODE}", "transport {MODE}"),
        "PHONE": ("tel {PHONE}", "phone : {PHONE}", "mobile {PHONE}", "call {PHONE}"),
        "EMAIL": ("email {EMAIL}", "write to {EMAIL}", "mail : {EMAIL}"),
        "DAYS": ("delay of {DAYS} days", "{DAYS} days late", "delayed {DAYS} days"),
    },
    "zh": {
        "ORG": ("客户{ORG}", "承运商{ORG}", "供应商{ORG}", "{ORG}报告", "由{ORG}负责", "公司：{ORG}"),
        "PER": ("联系人{PER}", "经办人{PER}", "签收人{PER}", "{PER}确认", "负责人：{PER}"),
        "QTY": ("{QTY}件", "数量{QTY}", "共{QTY}件", "合计{QTY}箱", "数量：{QTY}"),
        "PRODUCT": ("品名{PRODUCT}", "货物{PRODUCT}", "{PRODUCT}一批", "产品：{PRODUCT}"),
        "LOC": ("送至{LOC}", "地点{LOC}", "在{LOC}", "目的地{LOC}", "{LOC}仓库"),
        "DATE": ("日期{DATE}", "于{DATE}", "时间：{DATE}", "{DATE}当天"),
        "ORIGIN": ("产地{ORIGIN}", "从{ORIGIN}发运", "来自{ORIGIN}"),
        "DOC": ("编号{DOC}", "单号{DOC}"),
        "MODE": ("运输方式{MODE}", "经{MODE}"),
        "PHONE": ("电话{PHONE}", "手机{PHONE}"),
        "EMAIL": ("邮箱{EMAIL}", "邮件{EMAIL}"),
        "DAYS": ("延误{DAYS}天", "推迟{DAYS}天"),
    },
}
OPENERS: dict[str, dict[str, tuple[str, ...]]] = {
    "en": {
        "purchase_order": ("Purchase order", "Order", "PO", "Order request", "New order"),
        "shipping_notice": ("Shipping notice", "ASN", "Dispatch advice", "Consignment note", "Waybill"),
        "delay_report": ("Delay notice", "Late delivery", "Delay alert", "Delay report"),
        "supplier_email": ("Supplier update", "Message", "Note from supplier", "Hello team", "Information"),
    },
    "zh": {
        "purchase_order": ("采购订单", "订单", "订购单"),
        "shipping_notice": ("发货通知", "到货通知", "提单"),
        "delay_report": ("延误通知", "延误报告"),
        "supplier_email": ("供应商来函", "您好", "说明"),
    },
}
FILLERS: dict[str, tuple[str, ...]] = {
    "en": (
        "please confirm",
        "thank you",
        "see attached",
        "as agreed",
        "best regards",
        "for your records",
        "kindly note",
        "with thanks",
        "urgent",
        "no further action needed",
        "as discussed by phone",
    ),
    "zh": (
        "请查收",
        "谢谢",
        "详见附件",
        "特此通知",
        "祝好",
        "请确认",
        "已安排",
        "按计划执行",
        "本批次",
        "如有问题请回复",
        "紧急",
        "感谢配合",
    ),
}
"""Untagged phrases that composed documents may start or end with."""
SEPARATORS: dict[str, tuple[str, ...]] = {
    "en": (",", "|", ";", "-", ".", "/", ":"),
    "zh": ("，", "；", "｜", "。", "、"),
}

HELDOUT_TEMPLATES: frozenset[str] = frozenset(
    [f"{k}/{i}" for k in TEMPLATES for i in (7, 8)] + [f"zh:{k}/4" for k in ZH_TEMPLATES]
)
"""Template ids (``kind/number``, 1-based; ``zh:`` prefix for Chinese) never used by the
``"train"`` split of :func:`sclm.scenarios.documents.make_corpus`.  Scenario documents use every
English template."""

COUNTERPARTIES: dict[str, tuple[str, ...]] = {
    "purchase_order": CUSTOMERS,
    "shipping_notice": CARRIERS,
    "delay_report": CARRIERS,
    "supplier_email": SUPPLIERS,
}

DOC_PREFIX = {"purchase_order": "PO", "shipping_notice": "SN", "delay_report": "DR", "supplier_email": "SE"}

SLOT_TYPES: dict[str, str] = {
    "ORG": "ORG",
    "PER": "PER",
    "LOC": "LOC",
    "ORIGIN": "LOC",
    "PRODUCT": "PRODUCT",
    "QTY": "QTY",
    "DATE": "DATE",
}
"""Template slot → entity type (slots not listed are tagged ``O``)."""

SPLITS: tuple[str, ...] = ("train", "heldout", "all")
