"""BIO-tagged business documents: scenario documents consistent with the truth, and tagger corpora.

Two generators share the templates and name pools of this module:

* :func:`make_documents` — the ``documents`` of a scenario.  Each document states one truth cell:
  a (node, day, variable) and its quantity.  A purchase order states the orders of that node and
  day, a shipping notice its outbound (or inbound, per scenario) quantity, and so on — the mapping
  kind → variable is given by the scenario.
* :func:`make_corpus` — a stand-alone corpus for training and scoring a tagger, in English
  (``lang="en"``) or Chinese (``lang="zh"``), split into **training** and **held-out** parts:
  the held-out part uses only templates (:data:`HELDOUT_TEMPLATES`) *and* names (every fifth
  entry of each name pool) that the training part never uses, so a score on it measures
  generalisation, not memorised templates.  Half of the training documents are *composed* from a
  clause grammar (:func:`compose_template`: ``quantity : 120``, ``site : Lyon``, ... in random
  order) so that a tagger learns local contexts rather than a dozen fixed sentences.

Tags
----
Slots are filled with multi-token names; each slot's tokens get ``B-<TYPE>``/``I-<TYPE>`` tags and
every literal token ``O``.  Entity types (:data:`ENTITY_TYPES`): ``ORG`` (the counterparty),
``LOC`` (the node's city, and in some templates an origin country after it), ``PER``,
``PRODUCT``, ``QTY`` (the quantity, one integer token), ``DATE``.  Reference numbers, delays in
days, shipment modes, e-mail addresses and phone numbers are untagged (``O``) text.

Invariants (tested): every document has exactly one ``QTY`` span (the stated quantity); its first
``DATE`` span is the day of that quantity; its first ``LOC`` span is the node's city; English
texts satisfy ``text == " ".join(tokens)``; Chinese texts are the tokens joined without spaces
except between two Latin/digit tokens (:func:`join_zh`); the same seed gives identical documents.

Names from real data
--------------------
When the real-data folder holds ``shipments_usaid_scms`` (USAID SCMS delivery history), the
pools add its 72 vendor names (parenthetical remarks removed) to the suppliers, its 43
destination countries to the origins, its shipment modes (Air, Truck, Air Charter, Ocean), and
its item descriptions (e.g. ``Efavirenz 600mg tablets``) and molecule names to the products of
:func:`make_corpus`.  When the folder is absent (offline / synthetic-only), the built-in lists
below are used alone, so scenarios and corpora still work — but their texts then differ from a
run with the data: pass ``pools=name_pools("builtin")`` where texts must not depend on the data.
Scenario documents always state the node's own city and product, so only the counterparties,
origins and modes draw on the data there.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

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

MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)

COUNTRIES: tuple[str, ...] = tuple(dict.fromkeys(c for _, c in CITIES))

# Extra names for the stand-alone corpora (:func:`make_corpus`): more variety than the scenario
# lists, so that a tagger learns contexts instead of memorising a dozen names.
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

# Chinese templates: {SLOT} markers inside running text, tokenised by :func:`zh_tokens`.
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

# Clause grammar for *composed* training documents (:func:`compose_template`): a kind-specific
# opener, then one clause per slot in random order (the site before any origin), joined by a
# random separator.  It gives a tagger many local contexts instead of a dozen fixed sentences;
# the held-out templates are hand-written sentences that it never produces.
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


def compose_template(rng: np.random.Generator, kind: str, lang: str = "en") -> str:
    """A random template from :data:`CLAUSES`: opener, the six entity clauses (origin after the
    site) and a few untagged extras (reference, mode, phone, e-mail; a delay for delay reports),
    in random order, joined by one separator.  Same format as :data:`TEMPLATES` / :data:`ZH_TEMPLATES`."""
    grammar = CLAUSES[lang]
    slots = ["ORG", "PER", "QTY", "PRODUCT", "LOC", "DATE"]
    slots = [s for s in slots if s in ("QTY", "DATE", "LOC", "PRODUCT") or rng.random() < 0.85]
    slots += [s for s in ("ORIGIN", "DOC", "MODE", "PHONE", "EMAIL") if rng.random() < 0.35]
    if kind == "delay_report":
        slots.append("DAYS")
    order = [slots[i] for i in rng.permutation(len(slots))]
    if "ORIGIN" in order and order.index("ORIGIN") < order.index("LOC"):
        i, j = order.index("ORIGIN"), order.index("LOC")
        order[i], order[j] = order[j], order[i]
    clauses = [grammar[s][int(rng.integers(len(grammar[s])))] for s in order]
    opener = _pick(rng, OPENERS[lang][kind])
    sep = _pick(rng, SEPARATORS[lang])
    if rng.random() < 0.5:
        clauses.insert(0 if rng.random() < 0.5 else len(clauses), _pick(rng, FILLERS[lang]))
    if lang == "zh":
        return opener + "：" + sep.join(clauses) + "。"
    return f"{opener} : " + f" {sep} ".join(clauses) + " ."


HELDOUT_TEMPLATES: frozenset[str] = frozenset(
    [f"{k}/{i}" for k in TEMPLATES for i in (7, 8)] + [f"zh:{k}/4" for k in ZH_TEMPLATES]
)
"""Template ids (``kind/number``, 1-based; ``zh:`` prefix for Chinese) never used by the
``"train"`` split of :func:`make_corpus`.  Scenario documents use every English template."""

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

# --- name pools --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NamePools:
    """The names documents draw from (one language).

    Attributes
    ----------
    orgs
        Document kind → organisation names (the counterparty of that kind).
    people, cities, countries, products, modes
        Person names, node cities, origin countries, product names, shipment modes.
    source
        ``"scms"`` (built-in lists plus the SCMS shipments data) or ``"builtin"``.
    lang
        ``"en"`` or ``"zh"``.
    """

    orgs: Mapping[str, tuple[str, ...]]
    people: tuple[str, ...]
    cities: tuple[str, ...]
    countries: tuple[str, ...]
    products: tuple[str, ...]
    modes: tuple[str, ...]
    source: str = "builtin"
    lang: str = "en"
    extra: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def split(self, part: str) -> NamePools:
        """Every fifth name of each pool (``"heldout"``), the others (``"train"``), or all (``"all"``)."""
        if part not in SPLITS:
            raise ValueError(f"split must be one of {list(SPLITS)}, got {part!r}")
        if part == "all":
            return self

        def pick(names: Sequence[str]) -> tuple[str, ...]:
            keep = [n for i, n in enumerate(names) if (i % 5 == 4) == (part == "heldout")]
            return tuple(keep) or tuple(names)

        return NamePools(
            orgs={k: pick(v) for k, v in self.orgs.items()},
            people=pick(self.people),
            cities=pick(self.cities),
            countries=pick(self.countries),
            products=pick(self.products),
            modes=self.modes,
            source=self.source,
            lang=self.lang,
            extra=self.extra,
        )


_PAREN = re.compile(r"\s*\([^)]*\)?")


def _clean_vendor(name: str) -> str:
    name = _PAREN.sub("", name).replace(")", "")
    return " ".join(name.split()).strip(" ,")


def _clean_item(desc: str) -> str:
    desc = _PAREN.sub("", desc)
    desc = re.sub(r",\s*\d+\s*[A-Za-z]+\s*$", "", desc)  # drop the pack size ", 30 Tabs"
    return " ".join(desc.replace(",", " ").split())


@functools.lru_cache(maxsize=4)
def _scms_names(data_dir: str | None) -> dict[str, tuple[str, ...]] | None:
    """Vendors, countries, modes, products and product groups from the SCMS data (None if absent)."""
    from sclm import config
    from sclm.datasets import load_dataset

    if not (config.data_dir(data_dir, must_exist=False) / "shipments_usaid_scms").is_dir():
        return None
    table = load_dataset("shipments_usaid_scms", data_dir=data_dir).table

    def uniq(values) -> tuple[str, ...]:
        return tuple(sorted({v for v in values if v and v.lower() not in ("n/a", "scms from rdc")}))

    vendors = uniq(_clean_vendor(v) for v in table["vendor"].dropna())
    items = uniq(_clean_item(v) for v in table["item_description"].dropna() if len(v) <= 60)
    molecules = uniq(_clean_item(m) for m in table["molecule_test_type"].dropna() if len(m) <= 30)
    return {
        "vendors": vendors,
        "countries": uniq(table["country"].dropna()),
        "modes": uniq(m.lower() for m in table["shipment_mode"].dropna()),
        "products": tuple(dict.fromkeys(items + molecules)),
        "product_groups": uniq(table["product_group"].dropna()),
    }


def _combos(first: Sequence[str], last: Sequence[str], n: int, *, sep: str) -> tuple[str, ...]:
    """``n`` deterministic first × last combinations (a fixed stride through the grid)."""
    out = []
    for i in range(n):
        out.append(f"{first[i % len(first)]}{sep}{last[(i * 5 + i // len(first)) % len(last)]}")
    return tuple(dict.fromkeys(out))


def name_pools(source: str = "auto", *, lang: str = "en", data_dir: str | None = None) -> NamePools:
    """The name pools documents draw from.

    Parameters
    ----------
    source
        ``"auto"`` (SCMS names when the data folder holds them, else built-in), ``"scms"`` (raise
        when the data is missing) or ``"builtin"`` (never read data: texts independent of it).
    lang
        ``"en"`` or ``"zh"``.  Chinese pools are built-in Chinese names plus, with SCMS, the
        (Latin) vendor names among the suppliers.
    data_dir
        The real-data folder (default: :func:`sclm.config.data_dir`).

    Raises
    ------
    ValueError
        Unknown ``source`` or ``lang``.
    FileNotFoundError
        ``source="scms"`` and the data set is missing.
    """
    if source not in ("auto", "scms", "builtin"):
        raise ValueError(f"source must be 'auto', 'scms' or 'builtin', got {source!r}")
    if lang not in ("en", "zh"):
        raise ValueError(f"lang must be 'en' or 'zh', got {lang!r}")
    scms = None if source == "builtin" else _scms_names(None if data_dir is None else str(data_dir))
    if source == "scms" and scms is None:
        raise FileNotFoundError(
            "source='scms' needs the data set 'shipments_usaid_scms' in the data folder "
            "(see sclm.config.data_dir); use source='auto' to fall back to the built-in names"
        )
    vendors = scms["vendors"] if scms else ()
    if lang == "zh":
        orgs = {
            k: tuple(ZH_ORGS[i::2] if k != "supplier_email" else ZH_ORGS) for i, k in enumerate(TEMPLATES)
        }
        orgs["supplier_email"] = tuple(dict.fromkeys(orgs["supplier_email"] + vendors[::3]))
        return NamePools(
            orgs=orgs,
            people=tuple(dict.fromkeys(ZH_PEOPLE + _combos(ZH_SURNAMES, ZH_GIVEN, 160, sep=""))),
            cities=ZH_CITIES,
            countries=ZH_COUNTRIES,
            products=ZH_PRODUCTS,
            modes=ZH_MODES,
            source="scms" if scms else "builtin",
            lang="zh",
        )
    orgs = {k: tuple(v) for k, v in COUNTERPARTIES.items()}
    orgs["purchase_order"] = tuple(dict.fromkeys(CUSTOMERS + RETAILERS))
    orgs["supplier_email"] = tuple(dict.fromkeys(SUPPLIERS + vendors))
    products = tuple(dict.fromkeys(p for ps in PRODUCTS.values() for p in ps))
    return NamePools(
        orgs=orgs,
        people=tuple(dict.fromkeys(PEOPLE + _combos(FIRST_NAMES, LAST_NAMES, 200, sep=" "))),
        cities=tuple(dict.fromkeys(tuple(c for c, _ in CITIES) + EXTRA_CITIES)),
        countries=tuple(dict.fromkeys(COUNTRIES + (scms["countries"] if scms else ()))),
        products=tuple(dict.fromkeys(products + (scms["products"] if scms else ()))),
        modes=tuple(dict.fromkeys(MODES + (scms["modes"] if scms else ()))),
        source="scms" if scms else "builtin",
        lang="en",
        extra={"product_groups": scms["product_groups"]} if scms else {},
    )


# --- tokens ----------------------------------------------------------------------------------------------

_EN_NAME = re.compile(r"[^\s,;:()]+|[,;:()]")
_ZH_TOKEN = re.compile(r"\+?[A-Za-z0-9][A-Za-z0-9@._/'+&-]*|\S")
_CJK_CHAR = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]")


def name_tokens(name: str, lang: str = "en") -> list[str]:
    """Split a name into tokens: English on spaces with ``, ; : ( )`` apart; Chinese per
    character with Latin/digit runs kept whole (:func:`zh_tokens`)."""
    return zh_tokens(name) if lang == "zh" else _EN_NAME.findall(name)


def zh_tokens(text: str) -> list[str]:
    """Chinese tokens: one per CJK character or punctuation mark, Latin/digit runs whole.

    >>> zh_tokens("华东物流于2024年3月5日发货 Aurobindo Pharma")
    ['华', '东', '物', '流', '于', '2024', '年', '3', '月', '5', '日', '发', '货', 'Aurobindo', 'Pharma']
    """
    return _ZH_TOKEN.findall(text)


def join_zh(tokens: Sequence[str]) -> str:
    """Join Chinese tokens: no spaces, except one between two non-CJK tokens (``Aurobindo Pharma``)."""
    out: list[str] = []
    for i, tok in enumerate(tokens):
        if i and not _CJK_CHAR.match(tok[:1]) and not _CJK_CHAR.match(tokens[i - 1][-1:]):
            out.append(" ")
        out.append(tok)
    return "".join(out)


@dataclass(frozen=True)
class NodeInfo:
    """What documents say about a node: its city and product."""

    city: str
    product: str


def _fmt_date(ts: pd.Timestamp, style: int, lang: str = "en") -> list[str]:
    if lang == "zh":
        if style == 0:
            return [ts.strftime("%Y-%m-%d")]
        return [str(ts.year), "年", str(ts.month), "月", str(ts.day), "日"]
    if style == 0:
        return [ts.strftime("%Y-%m-%d")]
    if style == 1:
        return [str(ts.day), MONTHS[ts.month - 1], str(ts.year)]
    if style == 2:
        return [MONTHS[ts.month - 1][:3], str(ts.day), str(ts.year)]
    return [ts.strftime("%Y/%m/%d")]


def render(
    template: str, slots: Mapping[str, Sequence[str]], labels: Mapping[str, str]
) -> tuple[list[str], list[str]]:
    """Fill a template; return tokens and BIO tags.

    Parameters
    ----------
    template
        Space-separated tokens; ``{NAME}`` is replaced by ``slots[NAME]`` (a token list).
    slots
        Slot name → tokens.
    labels
        Slot name → entity type (slots missing here are tagged ``O``).
    """
    tokens: list[str] = []
    tags: list[str] = []
    for piece in template.split():
        if piece.startswith("{") and piece.endswith("}"):
            _extend(tokens, tags, list(slots[piece[1:-1]]), labels.get(piece[1:-1]))
        else:
            tokens.append(piece)
            tags.append("O")
    return tokens, tags


def _extend(tokens: list[str], tags: list[str], words: list[str], label: str | None) -> None:
    tokens.extend(words)
    if label is None:
        tags.extend(["O"] * len(words))
    else:
        tags.extend([f"B-{label}"] + [f"I-{label}"] * (len(words) - 1))


_SLOT = re.compile(r"\{([A-Z]+)\}")


def render_zh(
    template: str, slots: Mapping[str, Sequence[str]], labels: Mapping[str, str]
) -> tuple[list[str], list[str]]:
    """Fill a Chinese template (slot markers inside running text); return tokens and BIO tags."""
    tokens: list[str] = []
    tags: list[str] = []
    for i, part in enumerate(_SLOT.split(template)):
        if i % 2:  # a slot name
            _extend(tokens, tags, list(slots[part]), labels.get(part))
        elif part:
            _extend(tokens, tags, zh_tokens(part), None)
    return tokens, tags


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())[:18] or "mail"


def _phone(rng: np.random.Generator) -> list[str]:
    cc = ("+49", "+44", "+33", "+39", "+86", "+27", "+1", "+91")[int(rng.integers(8))]
    return [
        cc,
        str(int(rng.integers(10, 1000))),
        str(int(rng.integers(1000, 10_000))),
        str(int(rng.integers(1000, 10_000))),
    ]


def _email(per: str, org: str) -> str:
    local = ".".join(_slug(w) for w in per.split()[:2]) if per.isascii() else "contact"
    return f"{local}@{_slug(org) if org.isascii() else 'supplier'}.com"


def _pick(rng: np.random.Generator, names: Sequence[str]) -> str:
    return names[int(rng.integers(len(names)))]


def compose(
    rng: np.random.Generator,
    *,
    kind: str,
    template: int | str,
    city: str,
    product: str,
    qty: int,
    ts: pd.Timestamp,
    pools: NamePools,
    org_pool: Sequence[str] | None = None,
) -> tuple[list[str], list[str]]:
    """One document: fill template number ``template`` (0-based) of ``kind`` in ``pools.lang``, or a
    template string (e.g. from :func:`compose_template`).

    Returns
    -------
    tokens, tags : list[str]
        Equal length; BIO tags over :data:`ENTITY_TYPES`.
    """
    lang = pools.lang
    orgs = org_pool if org_pool is not None else pools.orgs[kind]
    org = _pick(rng, orgs)
    per = _pick(rng, pools.people)
    slots = {
        "ORG": name_tokens(org, lang),
        "PER": name_tokens(per, lang),
        "LOC": name_tokens(city, lang),
        "ORIGIN": name_tokens(_pick(rng, pools.countries), lang),
        "PRODUCT": name_tokens(product, lang),
        "QTY": [str(qty)],
        "DATE": _fmt_date(ts, int(rng.integers(4 if lang == "en" else 2)), lang),
        "DOC": [f"{DOC_PREFIX[kind]}-{ts.year}-{int(rng.integers(10_000, 100_000))}"],
        "DAYS": [str(int(rng.integers(2, 7)))],
        "MODE": name_tokens(_pick(rng, pools.modes), lang),
        "EMAIL": [_email(per, org)],
        "PHONE": _phone(rng),
    }
    if isinstance(template, str):
        text = template
    else:
        text = (ZH_TEMPLATES if lang == "zh" else TEMPLATES)[kind][template]
    if lang == "zh":
        return render_zh(text, slots, SLOT_TYPES)
    return render(text, slots, SLOT_TYPES)


def make_documents(
    rng: np.random.Generator,
    *,
    truth: Mapping[str, np.ndarray],
    names: Sequence[str],
    info: Sequence[NodeInfo],
    dates: pd.DatetimeIndex,
    spec: Mapping[str, str],
    n_documents: int,
    counterparties: Mapping[str, Sequence[str]] | None = None,
    pools: NamePools | None = None,
) -> pd.DataFrame:
    """Generate ``n_documents`` BIO-tagged English documents that state truth values.

    Parameters
    ----------
    rng
        The documents stream.
    truth
        Variable → ``(N, T)`` array (integer counts as float64).
    names, info
        Length N: node names (sorted) and their city/product.
    dates
        Length T.
    spec
        Document kind (a key of :data:`TEMPLATES`) → the truth variable it states.
    n_documents
        How many documents (kinds in turn, then shuffled).
    counterparties
        Kind → organisation names, overriding the pools for that kind.
    pools
        Name pools (default :func:`name_pools` ``("auto")``: SCMS names when the data is present).

    Returns
    -------
    pandas.DataFrame
        Columns ``doc_id, kind, template, node, ts, lang, text, tokens, tags, variable,
        quantity``; one row per document, sorted by (ts, node, kind); ``tokens`` and ``tags``
        are lists of equal length.  ``template`` is ``kind/number`` (1-based), every template used.
    """
    from sclm.scenarios._base import DOCUMENT_COLUMNS

    kinds = list(spec)
    unknown = [k for k in kinds if k not in TEMPLATES]
    if unknown:
        raise ValueError(f"unknown document kind(s) {unknown}; expected some of {list(TEMPLATES)}")
    pools = pools if pools is not None else name_pools("auto")
    orgs = {**pools.orgs, **(counterparties or {})}
    rows = []
    if n_documents and kinds:
        assigned = np.asarray(kinds, dtype=object)[np.arange(n_documents) % len(kinds)]
        assigned = assigned[rng.permutation(n_documents)]
        n_days = len(dates)
        positive = {v: np.flatnonzero(truth[v].reshape(-1) > 0) for v in dict.fromkeys(spec.values())}
        for j, kind in enumerate(assigned):
            variable = spec[kind]
            values = truth[variable]
            cells = positive[variable]
            if not len(cells):
                continue
            cell = int(cells[rng.integers(len(cells))])
            n, t = divmod(cell, n_days)
            qty = int(values[n, t])
            ts = dates[t]
            tpl_id = int(rng.integers(len(TEMPLATES[kind])))
            tokens, tags = compose(
                rng,
                kind=kind,
                template=tpl_id,
                city=info[n].city,
                product=info[n].product,
                qty=qty,
                ts=ts,
                pools=pools,
                org_pool=orgs[kind],
            )
            rows.append(
                {
                    "kind": kind,
                    "template": f"{kind}/{tpl_id + 1}",
                    "node": names[n],
                    "ts": ts,
                    "lang": "en",
                    "text": " ".join(tokens),
                    "tokens": tokens,
                    "tags": tags,
                    "variable": variable,
                    "quantity": float(qty),
                    "_order": j,
                }
            )
    if not rows:
        empty = pd.DataFrame({c: pd.Series(dtype=object) for c in DOCUMENT_COLUMNS})
        return empty.astype({"ts": "datetime64[ns]", "quantity": np.float64})
    df = pd.DataFrame(rows)
    df = df.sort_values(["ts", "node", "kind", "_order"], kind="stable").reset_index(drop=True)
    df.insert(0, "doc_id", [f"doc-{i + 1:05d}" for i in range(len(df))])
    df["ts"] = df["ts"].astype("datetime64[ns]")
    return df[list(DOCUMENT_COLUMNS)]


CORPUS_COLUMNS: tuple[str, ...] = (
    "doc_id",
    "kind",
    "template",
    "lang",
    "split",
    "text",
    "tokens",
    "tags",
    "ts",
    "quantity",
    "city",
    "product",
)
"""Columns of :func:`make_corpus`."""


def make_corpus(
    n_documents: int,
    *,
    seed: int = 0,
    lang: str = "en",
    split: str = "train",
    pools: NamePools | None = None,
    start: str = "2015-01-01",
    n_days: int = 3650,
    composed: float | None = None,
    names: str | None = None,
) -> pd.DataFrame:
    """A stand-alone BIO-tagged corpus for training or scoring a document tagger.

    Parameters
    ----------
    n_documents
        Number of documents (>= 0); kinds in turn, then shuffled.
    seed
        Same seed (and pools) → identical corpus.
    lang
        ``"en"`` or ``"zh"``.
    split
        ``"train"`` (training templates, four fifths of every name pool), ``"heldout"``
        (only :data:`HELDOUT_TEMPLATES` and the other fifth of the names) or ``"all"``.
    pools
        Name pools of ``lang`` (default :func:`name_pools` ``("auto", lang=lang)``).
    start, n_days
        Dates are drawn uniformly from ``n_days`` days from ``start``.
    composed
        Share of documents built from the clause grammar (:func:`compose_template`, template id
        ``kind/composed``) instead of a fixed template; default 0.5 for ``"train"``, else 0.
        Composed documents are never in the held-out split.
    names
        Which part of the name pools to draw from (``"train"``, ``"heldout"``, ``"all"``);
        default: the same as ``split``.  ``split="heldout", names="train"`` scores unseen
        templates with familiar names.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`CORPUS_COLUMNS`, one row per document: ``tokens``/``tags`` lists of equal
        length, ``text`` (English: tokens joined by spaces; Chinese: :func:`join_zh`), ``ts`` (the
        stated day), ``quantity`` (the stated quantity, float), ``city`` and ``product`` (the
        stated site and product).

    Raises
    ------
    ValueError
        Bad ``n_documents``, ``lang``, ``split`` or a ``pools`` of another language.
    """
    if isinstance(n_documents, bool) or not isinstance(n_documents, int | np.integer) or n_documents < 0:
        raise ValueError(f"n_documents must be an int >= 0, got {n_documents!r}")
    if lang not in ("en", "zh"):
        raise ValueError(f"lang must be 'en' or 'zh', got {lang!r}")
    if split not in SPLITS:
        raise ValueError(f"split must be one of {list(SPLITS)}, got {split!r}")
    composed = (0.5 if split == "train" else 0.0) if composed is None else float(composed)
    if not 0.0 <= composed <= 1.0 or (composed and split == "heldout"):
        raise ValueError(f"composed must be in [0, 1] (and 0 for the held-out split), got {composed}")
    pools = pools if pools is not None else name_pools("auto", lang=lang)
    if pools.lang != lang:
        raise ValueError(f"pools are for lang={pools.lang!r} but lang={lang!r}")
    if names is not None and names not in SPLITS:
        raise ValueError(f"names must be one of {list(SPLITS)}, got {names!r}")
    part = pools.split(split if names is None else names)
    templates = ZH_TEMPLATES if lang == "zh" else TEMPLATES
    prefix = "zh:" if lang == "zh" else ""
    allowed = {
        k: [
            i
            for i in range(len(tpls))
            if split == "all" or ((f"{prefix}{k}/{i + 1}" in HELDOUT_TEMPLATES) == (split == "heldout"))
        ]
        for k, tpls in templates.items()
    }
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0x5C1D0C, 1 if lang == "zh" else 0]))
    kinds = np.asarray(list(templates), dtype=object)[np.arange(n_documents) % len(templates)]
    kinds = kinds[rng.permutation(n_documents)]
    day0 = pd.Timestamp(start)
    rows = []
    for j, kind in enumerate(kinds):
        tpl: int | str = allowed[kind][int(rng.integers(len(allowed[kind])))]
        if composed and rng.random() < composed:
            tpl = compose_template(rng, kind, lang)
        ts = day0 + pd.Timedelta(days=int(rng.integers(n_days)))
        qty = int(np.ceil(np.exp(rng.uniform(np.log(2), np.log(50_000)))))
        city = _pick(rng, part.cities)
        product = _pick(rng, part.products)
        tokens, tags = compose(
            rng, kind=kind, template=tpl, city=city, product=product, qty=qty, ts=ts, pools=part
        )
        rows.append(
            {
                "doc_id": f"{lang}-{split}-{j + 1:05d}",
                "kind": kind,
                "template": f"{prefix}{kind}/" + ("composed" if isinstance(tpl, str) else str(tpl + 1)),
                "lang": lang,
                "split": split,
                "text": join_zh(tokens) if lang == "zh" else " ".join(tokens),
                "tokens": tokens,
                "tags": tags,
                "ts": ts,
                "quantity": float(qty),
                "city": city,
                "product": product,
            }
        )
    df = pd.DataFrame(rows, columns=list(CORPUS_COLUMNS))
    df["ts"] = df["ts"].astype("datetime64[ns]")
    return df
