"""Templates of the recommendation (:func:`sclm.language.narrative.recommend`), Chinese and English.

One function per action; each returns paragraphs built only from the answer's result, baseline
and delta (and the task), so every number it writes is one of the answer's values.  The
paragraphs follow one order: the question as understood, the decision (or answer), the numbers
that matter with their confidence, the drivers where there are attributions, and what to watch.
No template writes a literal number: counts, percentages and differences come from the results.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["render"]

_ZH_NAMES = {
    "production": "产量",
    "inventory": "库存",
    "logistics": "物流量",
    "demand": "需求",
    "delivery": "配送量",
    "shipments": "发货量",
    "sales": "销量",
    "orders": "订单量",
    "price": "价格",
    "promotion": "促销",
    "capacity": "产能",
    "ambient_temp": "环境温度",
    "humidity": "湿度",
    "web_traffic": "网站流量",
    "day_of_week": "星期效应",
    "season": "季节",
}
_EN_NAMES = {
    "logistics": "logistics (outbound flow)",
    "day_of_week": "day of week",
    "delivery": "deliveries",
    "ambient_temp": "ambient temperature",
    "web_traffic": "web traffic",
}
_ZH_SCENARIO = {"manufacturing": "制造", "logistics": "物流", "retail": "零售"}
_ZH_ROLE = {"supplier": "供应商", "plant": "工厂", "warehouse": "仓库", "arc": "线路", "customer": "客户"}


class W:
    """Number and word formatting for one language."""

    def __init__(self, lang: str) -> None:
        if lang not in ("zh", "en"):
            raise ValueError(f"lang must be 'zh' or 'en', got {lang!r}")
        self.zh = lang == "zh"

    def t(self, en: str, zh: str) -> str:
        return zh if self.zh else en

    @staticmethod
    def _digits(v: float) -> int:
        a = abs(v)
        return 0 if a >= 100 or float(a).is_integer() else (1 if a >= 10 else 2)

    def n(self, v: float, d: int | None = None, *, signed: bool = False) -> str:
        """A number (English: thousands separators; Chinese: none), ``d`` decimals (default by size)."""
        d = self._digits(v) if d is None else d
        spec = ("+" if signed else "") + ("" if self.zh else ",") + f".{d}f"
        return format(float(v), spec)

    def abs(self, v: float, d: int | None = None) -> str:
        return self.n(abs(float(v)), d)

    def pct(self, v: float, d: int | None = None, *, signed: bool = False) -> str:
        """``v`` (a share) as a percentage; default decimals: none for whole percents, else one
        (two below 1 %)."""
        x = float(v) * 100
        if d is None:
            d = 0 if abs(x - round(x)) < 1e-9 else (1 if abs(x) >= 1 else 2)
        return format(x, ("+" if signed else "") + f".{d}f") + "%"

    def cap(self, s: str) -> str:
        return s[:1].upper() + s[1:] if not self.zh else s

    def name(self, var: str) -> str:
        planned = var.endswith(" (planned)")
        base = var.removesuffix(" (planned)")
        if self.zh:
            return ("计划" if planned else "") + _ZH_NAMES.get(base, base)
        return _EN_NAMES.get(base, base) + (" (planned)" if planned else "")

    def label(self, generic: str, column: str | None = None) -> str:
        if column is None or column == generic or (generic == "delivery" and column == "delivery"):
            return self.name(generic)
        return (
            f"{self.name(generic)}（{self.name(column)}）" if self.zh else f"{self.name(generic)} ({column})"
        )

    def scenario(self, name: str | None) -> str:
        if name is None:
            return ""
        return f"{_ZH_SCENARIO.get(name, name)}场景" if self.zh else f"the {name} scenario"

    def join(self, items: list[str]) -> str:
        items = [i for i in items if i]
        if not items:
            return ""
        if self.zh:
            return "、".join(items)
        return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]

    def period(self, h: int, first: str, last: str) -> str:
        if first == last:
            return self.t(f"tomorrow ({first})", f"明天（{first}）")
        return self.t(f"the next {h} days ({first} to {last})", f"未来{h}天（{first}至{last}）")

    def units(self, v: float, d: int | None = None) -> str:
        return self.t(f"{self.n(v, d)} units", f"{self.n(v, d)}件")

    def role(self, role: str) -> str:
        return _ZH_ROLE.get(role, role) if self.zh else role


def _get(a: Any, key: str, default: Any = None) -> Any:
    if isinstance(a, Mapping):
        return a.get(key, default)
    return getattr(a, key, default)


def _task(a: Any) -> dict[str, Any]:
    """The answer's task as plain JSON data (edits as dicts)."""
    from sclm.assistant import TaskView

    t = _get(a, "task")
    return TaskView.of(t).as_dict() if t is not None else {}


def _what_if_phrase(w: W, what_if: Mapping[str, Any]) -> str:
    parts = []
    for var, info in what_if.items():
        ch = info["change"] if isinstance(info, Mapping) else float(info) - 1.0
        parts.append(f"{w.name(var)}{'' if w.zh else ' '}{w.pct(ch, signed=True)}")
    return w.join(parts)


def _trend(w: W, change: float | None) -> str:
    if change is None:
        return ""
    return w.pct(change, signed=True)


# --------------------------------------------------------------------------------------------
# forecast
# --------------------------------------------------------------------------------------------


def _nodes_en(r: Mapping[str, Any]) -> str:
    t, n = r.get("node_type", "node"), r["n_nodes"]
    noun = "node" if n == 1 else "nodes"
    return f"{n} {t} {noun}" if t != "node" else f"{n} {noun}"


def _nodes_zh(r: Mapping[str, Any]) -> str:
    t = r.get("node_type", "node")
    return f"{r['n_nodes']}个{t}节点" if t != "node" else f"{r['n_nodes']}个节点"


def _target_line(w: W, g: str, r: Mapping[str, Any], res: Mapping[str, Any]) -> str:
    """The target's total over its main node type, then each other type apart (never summed)."""
    s = _main_line(w, g, r, res)
    for o in r.get("other_types") or []:
        s += " " + w.t(
            f"Apart from these, the {_nodes_en(o)}: {w.n(o['mean'])} ({w.n(o['low'])} to {w.n(o['high'])}).",
            f"另外，{_nodes_zh(o)}：{w.n(o['mean'])}（{w.n(o['low'])}至{w.n(o['high'])}）。",
        )
    return s


def _main_line(w: W, g: str, r: Mapping[str, Any], res: Mapping[str, Any]) -> str:
    lab = w.cap(w.label(g, r["variable"]))
    band = w.pct(res["interval"], 0)
    ch = r.get("change")
    if r["kind"] == "level":
        s = w.t(
            f"{lab}: {w.units(r['mean'])} in total on {res['last_day']} across {_nodes_en(r)} "
            f"({band} band {w.n(r['low'])} to {w.n(r['high'])})",
            f"{lab}：{res['last_day']}共{w.units(r['mean'])}（{_nodes_zh(r)}合计，"
            f"{band}区间{w.n(r['low'])}至{w.n(r['high'])}）",
        )
        if ch is not None:
            s += w.t(
                f", {_trend(w, ch)} against {w.n(r['history'])} on {res['model']['origin']}",
                f"，较{res['model']['origin']}的{w.n(r['history'])}变化{_trend(w, ch)}",
            )
        if r.get("lowest_day_total") is not None:
            s += w.t(
                f"; the lowest day total is {w.n(r['lowest_day_total'])}",
                f"；期间最低的单日合计为{w.n(r['lowest_day_total'])}",
            )
        return s + w.t(".", "。")
    one = res["first_day"] == res["last_day"]
    if one:
        s = w.t(
            f"{lab}: {w.units(r['mean'])} across {_nodes_en(r)} ({band} band {w.n(r['low'])} to {w.n(r['high'])})",
            f"{lab}：共{w.units(r['mean'])}（{_nodes_zh(r)}合计，{band}区间{w.n(r['low'])}至{w.n(r['high'])}）",
        )
    else:
        s = w.t(
            f"{lab}: {w.units(r['mean'])} over {res['horizon']} days across {_nodes_en(r)} "
            f"({band} band {w.n(r['low'])} to {w.n(r['high'])}; {w.n(r['daily_mean'])} a day)",
            f"{lab}：{res['horizon']}天共{w.units(r['mean'])}（{_nodes_zh(r)}合计，"
            f"{band}区间{w.n(r['low'])}至{w.n(r['high'])}；日均{w.n(r['daily_mean'])}）",
        )
    if ch is not None:
        s += w.t(
            f", {_trend(w, ch)} against the last day of history ({w.n(r['history'])})"
            if one
            else f", {_trend(w, ch)} against the previous {res['horizon']} days ({w.n(r['history'])})",
            f"，较历史最后一天（{w.n(r['history'])}）变化{_trend(w, ch)}"
            if one
            else f"，较前{res['horizon']}天（{w.n(r['history'])}）变化{_trend(w, ch)}",
        )
    return s + w.t(".", "。")


def _drivers_line(w: W, lab: str, rows: list[Mapping[str, Any]]) -> str:
    if not rows:
        return ""
    items = []
    for r in rows:
        eff = w.t(
            "raises it" if r["direction"] == "+" else "lowers it", "正向" if r["direction"] == "+" else "负向"
        )
        items.append(
            f"{w.name(r['channel'])} ({w.pct(r['share'])}, {eff})"
            if not w.zh
            else f"{w.name(r['channel'])}（{w.pct(r['share'])}，{eff}）"
        )
    return w.t(
        f"What drives the {lab} forecast (share of the IntegratedGradients attribution): {w.join(items)}.",
        f"{lab}预测的主要驱动因素（IntegratedGradients归因占比）：{w.join(items)}。",
    )


def _watch_node(w: W, g: str, r: Mapping[str, Any]) -> str:
    nodes = [n for n in r["nodes"] if n.get("change") is not None]
    if not nodes:
        return ""
    n = max(nodes, key=lambda x: abs(x["change"]))
    lab = w.label(g, r["variable"])
    return w.t(
        f"Watch {n['node']}: its {lab} forecast moves {_trend(w, n['change'])} "
        f"({w.n(n['history'])} to {w.n(n['mean'])}, band {w.n(n['low'])} to {w.n(n['high'])}).",
        f"重点关注{n['node']}：其{lab}预计变化{_trend(w, n['change'])}"
        f"（{w.n(n['history'])}→{w.n(n['mean'])}，区间{w.n(n['low'])}至{w.n(n['high'])}）。",
    )


def _model_line(w: W, res: Mapping[str, Any], cache_used: bool) -> str:
    m = res["model"]
    src = w.t(
        "loaded from the cache" if cache_used else "trained for this question",
        "使用缓存中的模型" if cache_used else "本次新训练",
    )
    return w.t(
        f"Model M (a transformer forecaster, {src}) learned from {m['history_days']} days of history up to {m['origin']}.",
        f"模型M（Transformer预测模型，{src}）基于截至{m['origin']}的{m['history_days']}天历史数据。",
    )


def _forecast(w: W, a: Any) -> list[str]:
    res, base, delta = _get(a, "result"), _get(a, "baseline"), _get(a, "delta")
    targets = res["targets"]
    labs = w.join([w.label(g, r["variable"]) for g, r in targets.items()])
    q = w.t(
        f"Question: forecast {labs} for {w.period(res['horizon'], res['first_day'], res['last_day'])} "
        f"in {w.scenario(_get(a, 'scenario'))}",
        f"问题：预测{w.scenario(_get(a, 'scenario'))}{w.period(res['horizon'], res['first_day'], res['last_day'])}的{labs}",
    )
    if res.get("what_if"):
        q += w.t(f", if {_what_if_phrase(w, res['what_if'])}", f"，假设{_what_if_phrase(w, res['what_if'])}")
    out = [q + w.t(".", "。")]
    out.append(" ".join(_target_line(w, g, r, res) for g, r in targets.items()))
    if base is not None and delta is not None:
        lines = []
        for g, d in delta["targets"].items():
            lab = w.label(g, targets[g]["variable"])
            lines.append(
                w.t(
                    f"Against the forecast without the change ({w.n(base['targets'][g]['mean'])}), the {lab} "
                    f"forecast moves by {w.n(d['mean'], signed=True)}"
                    + (f" ({w.pct(d['change'], signed=True)})" if d.get("change") is not None else "")
                    + ".",
                    f"与不做调整的预测（{w.n(base['targets'][g]['mean'])}）相比，{lab}变化{w.n(d['mean'], signed=True)}"
                    + (f"（{w.pct(d['change'], signed=True)}）" if d.get("change") is not None else "")
                    + "。",
                )
            )
        out.append(" ".join(lines))
    out.append(
        " ".join(
            _drivers_line(w, w.label(g, targets[g]["variable"]), rows) for g, rows in res["drivers"].items()
        )
    )
    watch = [_watch_node(w, g, r) for g, r in targets.items()]
    out.append(" ".join(x for x in watch if x) + " " + _model_line(w, res, bool(_get(a, "cache_used"))))
    return out


# --------------------------------------------------------------------------------------------
# explain
# --------------------------------------------------------------------------------------------


def _explain(w: W, a: Any) -> list[str]:
    res = _get(a, "result")
    lab = w.label(res["target"], res["variable"])
    ck = res["checks"]
    out = [
        w.t(
            f"Question: what drives the {lab} forecast over the next {ck['steps']} days in {w.scenario(_get(a, 'scenario'))}?",
            f"问题：{w.scenario(_get(a, 'scenario'))}未来{ck['steps']}天的{lab}预测由哪些因素驱动？",
        )
    ]
    rows = res["drivers"]
    top = rows[0]
    rest = [
        f"{w.name(r['channel'])} ({w.pct(r['share'])})"
        if not w.zh
        else f"{w.name(r['channel'])}（{w.pct(r['share'])}）"
        for r in rows[1:]
    ]
    eff = w.t(
        "raises the forecast" if top["direction"] == "+" else "lowers the forecast",
        "正向" if top["direction"] == "+" else "负向",
    )
    out.append(
        w.t(
            f"Answer: {w.name(top['channel'])} carries {w.pct(top['share'])} of the attribution ({eff}), then {w.join(rest)}.",
            f"回答：{w.name(top['channel'])}贡献了{w.pct(top['share'])}的归因（{eff}），其次是{w.join(rest)}。",
        )
    )
    true = [w.name(x) for x in res["true_drivers"]]
    hits = [w.name(r["channel"]) for r in rows if r.get("driver")]
    if true:
        out.append(
            w.t(
                f"In the simulator, {lab} truly depends on {w.join(true)}"
                + (
                    f"; the ranking finds {w.join(hits)}."
                    if hits
                    else "; none of them ranks near the top, so read the ranking with care."
                ),
                f"在仿真器中，{lab}真正取决于{w.join(true)}"
                + (f"；归因排序找到了{w.join(hits)}。" if hits else "；它们都未排在前列，请谨慎解读。"),
            )
        )
    checks = []
    passes = ck.get("passes", {})
    if ck.get("completeness_error") is not None:
        ok = passes.get("completeness")
        checks.append(
            w.t(
                f"completeness error {w.pct(ck['completeness_error'], 2)} ({'passes' if ok else 'fails'})",
                f"完备性误差{w.pct(ck['completeness_error'], 2)}（{'通过' if ok else '未通过'}）",
            )
        )
    if ck.get("aup") is not None:
        ok = passes.get("drivers")
        checks.append(
            w.t(
                f"precision against the known driver cells (AUP) {w.n(ck['aup'], 2)} ({'passes' if ok else 'fails'})",
                f"与已知驱动单元对照的精度AUP为{w.n(ck['aup'], 2)}（{'通过' if ok else '未通过'}）",
            )
        )
    if checks:
        out.append(
            w.t(
                f"Can the explanation be trusted? On {ck['n_windows']} windows: {w.join(checks)}.",
                f"解释是否可信？在{ck['n_windows']}个窗口上：{w.join(checks)}。",
            )
        )
    g, r = next(iter(res["targets"].items()))
    other = [x for x in rows if x["channel"] not in (res["variable"], res["target"])]
    if other:
        watch = w.t(
            f"Watch {w.name(other[0]['channel'])}, the strongest input besides {lab}'s own history: "
            f"when it changes, the forecast moves with it.",
            f"需关注{w.name(other[0]['channel'])}：除{lab}自身历史外它影响最大，它一变，预测也会随之变化。",
        )
    else:
        watch = w.t(
            f"The forecast follows {lab}'s own recent history: watch its latest values.",
            f"该预测主要跟随{lab}自身的近期历史：请关注其最新数值。",
        )
    out.append(_target_line(w, g, r, res) + " " + watch)
    return out


# --------------------------------------------------------------------------------------------
# network plans
# --------------------------------------------------------------------------------------------


def _cost_parts(w: W, parts: Mapping[str, Any]) -> str:
    zh = {"supply": "采购", "processing": "加工", "handling": "仓储", "transport": "运输", "fixed": "固定"}
    items = [(f"{zh.get(k, k)}{w.n(v)}" if w.zh else f"{k} {w.n(v)}") for k, v in parts.items() if v]
    return w.join(items)


def _product(w: W, product: str | None) -> str:
    if not product:
        return ""
    if product == "raw":
        return w.t(" raw material", "（原料）")
    return f" {product}" if not w.zh else f"（{product}）"


def _flow(w: W, f: Mapping[str, Any], key: str = "flow") -> str:
    if w.zh:
        return f"{f['from']}→{f['to']}{_product(w, f['product'])}：{w.n(f[key])}件"
    return f"{f['from']}→{f['to']}{_product(w, f['product'])} {w.n(f[key])}"


def _change(w: W, c: Mapping[str, Any]) -> str:
    sep = "：" if w.zh else " "
    return f"{c['from']}→{c['to']}{_product(w, c['product'])}{sep}{w.n(c['before'])}→{w.n(c['after'])}"


def describe_edit(w: W, e: Mapping[str, Any]) -> str:
    """One edit (as a dict) in words; English is the edit's own ``describe()``."""
    from sclm.decisions.edits import parse_edits

    if not w.zh:
        return parse_edits([e])[0].describe()
    k = e["kind"]
    arc = e.get("arc")
    where = f"{arc[0]}→{arc[1]}{_product(w, e.get('product'))}" if arc else ""
    prod = _product(w, e.get("product"))
    if k == "scale_demand":
        return f"{e.get('customer') or '所有客户'}{prod}需求×{e['factor']:g}"
    if k == "scale_capacity":
        return f"{e['node']}产能×{e['factor']:g}"
    if k == "set_capacity":
        return f"{e['node']}产能设为{w.n(e['value'])}"
    if k == "set_arc_cost":
        return f"{where}单位运费设为{w.n(e['value'])}"
    if k == "scale_arc_cost":
        return f"{where}单位运费×{e['factor']:g}"
    if k == "set_node_cost":
        return f"{e['node']}{prod}单位成本设为{w.n(e['value'])}"
    if k == "scale_node_cost":
        return f"{e['node']}{prod}单位成本×{e['factor']:g}"
    if k == "forbid_arc":
        return f"禁止{where}"
    if k == "force_arc":
        return f"{where}至少{w.n(e['min_flow'])}件"
    if k == "restrict_facility":
        return f"{e['node']}只服务{'、'.join(e['customers'])}"
    if k == "source_only_from":
        return f"{e['customer']}只从{e['plant']}进货"
    if k == "exclusive_pair":
        return f"{e['plant']}与{e['customer']}独家配对"
    if k == "close_facility":
        return f"关闭{e['node']}"
    return k


def _plan_lines(w: W, p: Mapping[str, Any]) -> list[str]:
    flows = [_flow(w, f) for f in p["top_flows"]]
    out = [
        w.t(
            f"Plan: total cost {w.n(p['cost'])} ({_cost_parts(w, p['cost_parts'])}); {p['n_flows']} flows meet the demand of {w.n(p['total_demand'])} units. "
            f"Largest flows: {w.join(flows)}.",
            f"方案：总成本{w.n(p['cost'])}（{_cost_parts(w, p['cost_parts'])}）；共{p['n_flows']}条流量，满足{w.n(p['total_demand'])}件需求。"
            f"最大的流量：{w.join(flows)}。",
        )
    ]
    return out


def _watch_plan(w: W, p: Mapping[str, Any]) -> str:
    b = p.get("bottlenecks") or []
    if not b:
        return w.t(
            "No capacity binds: the plan has room if demand grows.",
            "没有满负荷的产能：需求增长时方案仍有余量。",
        )
    items = [
        (
            f"{x['node']} ({w.n(x['throughput'])} of {w.n(x['capacity'])})"
            if not w.zh
            else f"{x['node']}（{w.n(x['throughput'])}/{w.n(x['capacity'])}）"
        )
        for x in b
    ]
    return w.t(
        f"Watch the capacities that bind: {w.join(items)}; more demand there needs more capacity or another source.",
        f"需关注满负荷的产能：{w.join(items)}；这些节点若需求增加，需要扩产或另找货源。",
    )


def _infeasible_lines(w: W, p: Mapping[str, Any]) -> list[str]:
    short = sorted(p.get("shortfall") or [], key=lambda r: -r["short"])[:3]
    items = [
        (
            f"{r['customer']} {r['product']} short by {w.n(r['short'])} (gets {w.n(r['delivered'])} of {w.n(r['demand'])})"
            if not w.zh
            else f"{r['customer']}的{r['product']}缺{w.n(r['short'])}件（收到{w.n(r['delivered'])}/{w.n(r['demand'])}）"
        )
        for r in short
    ]
    if not p.get("total_short"):
        out = [w.t("No plan meets every requirement.", "没有能满足全部要求的方案。")]
    else:
        out = [
            w.t(
                f"No plan meets every demand: at best the network falls short by {w.n(p['total_short'])} units"
                + (
                    f" in {p['n_shortfalls']} customer-product demands, e.g. {w.join(items)}."
                    if items
                    else "."
                ),
                f"没有能满足全部需求的方案：网络最少也缺{w.n(p['total_short'])}件"
                + (f"，涉及{p['n_shortfalls']}项客户-产品需求，例如{w.join(items)}。" if items else "。"),
            )
        ]
    why = []
    if p.get("binding"):
        bind = [
            (
                f"{x['name']} ({w.role(x['role'])}, capacity {w.n(x['capacity'])}, uses {w.n(x['uses'])})"
                if not w.zh
                else f"{x['name']}（{w.role(x['role'])}，产能{w.n(x['capacity'])}，已用{w.n(x['uses'])}）"
            )
            for x in p["binding"]
        ]
        why.append(w.t(f"capacity used up at {w.join(bind)}", f"产能用尽：{w.join(bind)}"))
    if p.get("closed_nodes"):
        why.append(w.t(f"closed: {w.join(p['closed_nodes'])}", f"已关闭：{w.join(p['closed_nodes'])}"))
    if p.get("forbidden_arcs"):
        why.append(
            w.t(f"forbidden: {w.join(p['forbidden_arcs'])}", f"被禁止的线路：{w.join(p['forbidden_arcs'])}")
        )
    if p.get("restrictions"):
        why.append(w.t(f"restricted: {w.join(p['restrictions'])}", f"限制：{w.join(p['restrictions'])}"))
    forced = {}
    if w.zh:
        from sclm.decisions.edits import parse_edits

        for e in p.get("edits") or []:
            if e.get("kind") == "force_arc":
                forced[parse_edits([e])[0].describe()] = describe_edit(w, e)
    for m in p.get("unmet_minima") or []:
        why.append(
            w.t(
                f"{m['edit']} cannot be met (short by {w.n(m['short'])})",
                f"最低流量要求（{forced.get(m['edit'], m['edit'])}）无法满足（缺{w.n(m['short'])}）",
            )
        )
    if why:
        out.append(w.t("Diagnosis: ", "诊断：") + w.t("; ".join(why) + ".", "；".join(why) + "。"))
    out.append(
        w.t(
            "To restore feasibility, add capacity on the binding nodes, reopen a facility or relax the restriction.",
            "若要恢复可行，可在满负荷节点扩产、重新启用设施或放宽限制。",
        )
    )
    return out


def _edits_phrase(w: W, task: Mapping[str, Any], res: Mapping[str, Any]) -> str:
    """The task's own edits in words, then its global what-if factors."""
    from sclm.decisions.edits import parse_edits

    own = [describe_edit(w, e.model_dump(mode="json")) for e in parse_edits(task.get("edits") or [])]
    wi = task.get("what_if") or {}
    if wi:
        own.append(
            _what_if_phrase(w, _get(res, "what_if") or {k: {"change": v - 1.0} for k, v in wi.items()})
        )
    return w.join(own)


def _network(w: W, a: Any) -> list[str]:
    res, base, delta = _get(a, "result"), _get(a, "baseline"), _get(a, "delta")
    task = _task(a)
    name = res["name"]
    if task.get("question") == "why" and delta is not None:
        return _network_why(w, a, res, base, delta)
    why_not = _why_not(w, task, res, base, delta)
    if why_not:
        return why_not
    changes = _edits_phrase(w, task, res)
    q = w.t(f"Question: the least-cost plan of network {name}", f"问题：网络{name}的最低成本方案")
    if changes:
        q += w.t(f" with these changes: {changes}", f"，调整：{changes}")
    out = [q + w.t(".", "。")]
    if res["status"] == "infeasible":
        out += _infeasible_lines(w, res)
        if base is not None and base.get("cost") is not None:
            out.append(
                w.t(
                    f"Without the changes the plan costs {w.n(base['cost'])}.",
                    f"不做调整时方案成本为{w.n(base['cost'])}。",
                )
            )
        return out
    out += _plan_lines(w, res)
    if base is not None and delta is not None and base.get("cost") is not None and _no_change(delta):
        out.append(
            w.t(
                f"The changes leave the current plan as it is: same cost ({w.n(base['cost'])}), no flow changes.",
                f"这些调整不改变当前方案：成本相同（{w.n(base['cost'])}），流量不变。",
            )
        )
    elif base is not None and delta is not None and base.get("cost") is not None:
        ch = [_change(w, c) for c in delta["changed_flows"][:4]]
        more = delta["cost"] >= 0
        d = 2 if abs(delta["cost"]) < 10 else None
        s = w.t(
            f"Against the current plan ({w.n(base['cost'], d)}) the changes cost {w.abs(delta['cost'], d)} {'more' if more else 'less'}"
            + (f" ({w.pct(delta['cost_pct'], signed=True)})" if delta.get("cost_pct") is not None else "")
            + f"; {delta['n_changed']} flows change",
            f"与当前方案（{w.n(base['cost'], d)}）相比，成本{'增加' if more else '减少'}{w.abs(delta['cost'], d)}"
            + (f"（{w.pct(delta['cost_pct'], signed=True)}）" if delta.get("cost_pct") is not None else "")
            + f"；共有{delta['n_changed']}条流量变化",
        )
        s += w.t(f", the largest: {w.join(ch)}.", f"，变化最大的：{w.join(ch)}。") if ch else w.t(".", "。")
        out.append(s)
    out.append(_watch_plan(w, res))
    return out


def _no_change(delta: Mapping) -> bool:
    """No flow changes and the cost moves by less than a cent: the what-if changes nothing."""
    return not delta.get("n_changed") and abs(float(delta.get("cost") or 0.0)) < 5e-3


def _why_not(
    w: W, task: Mapping, res: Mapping, base: Mapping | None, delta: Mapping | None
) -> list[str] | None:
    """A why-not question: the parser's single ``force_arc`` on an arc the current plan leaves unused."""
    edits = task.get("edits") or []
    if (
        len(edits) != 1
        or edits[0].get("kind") != "force_arc"
        or task.get("what_if")
        or base is None
        or delta is None
    ):
        return None
    e = edits[0]
    a, b = e["arc"]
    used = sum(f["flow"] for f in base.get("flows") or [] if f["from"] == a and f["to"] == b)
    if used > 0 or base.get("cost") is None:
        return None
    what = f"{a}→{b}{_product(w, e.get('product'))}"
    out = [w.t(f"Question: why does the plan not use {what}?", f"问题：方案为什么不使用{what}？")]
    if res["status"] == "infeasible":
        out.append(
            w.t(
                f"Because it cannot: the current plan (cost {w.n(base['cost'])}) sends nothing on {what}, and no plan "
                f"sends at least {w.n(e['min_flow'])} unit{'' if e['min_flow'] == 1 else 's'} on it.",
                f"因为做不到：当前方案（成本{w.n(base['cost'])}）在{what}上没有流量，且不存在在其上运输至少"
                f"{w.n(e['min_flow'])}件的可行方案。",
            )
        )
        return out + _infeasible_lines(w, res)[1:-1]
    d = 2 if abs(delta["cost"]) < 10 else None
    ch = [_change(w, c) for c in delta["changed_flows"][:4]]
    out.append(
        w.t(
            f"Because it costs more: the current plan (cost {w.n(base['cost'], d)}) sends nothing on {what}. Sending at "
            f"least {w.n(e['min_flow'])} unit{'' if e['min_flow'] == 1 else 's'} on it, the best plan costs {w.n(res['cost'], d)}, {w.abs(delta['cost'], d)} more"
            + (f" ({w.pct(delta['cost_pct'], signed=True)})" if delta.get("cost_pct") is not None else "")
            + (f", and the flows move: {w.join(ch)}." if ch else "."),
            f"因为这样成本更高：当前方案（成本{w.n(base['cost'], d)}）在{what}上没有流量。若在其上运输至少"
            f"{w.n(e['min_flow'])}件，最优方案成本为{w.n(res['cost'], d)}，增加{w.abs(delta['cost'], d)}"
            + (f"（{w.pct(delta['cost_pct'], signed=True)}）" if delta.get("cost_pct") is not None else "")
            + (f"，流量变化为：{w.join(ch)}。" if ch else "。"),
        )
    )
    out.append(
        w.t(
            f"Use {what} only if it brings more than {w.abs(delta['cost'], d)} per "
            + ("unit." if e["min_flow"] == 1 else f"{w.n(e['min_flow'])} units."),
            f"只有当{what}每{w.n(e['min_flow'])}件带来的收益超过{w.abs(delta['cost'], d)}时才值得使用。",
        )
    )
    return out


def _network_why(w: W, a: Any, res: Mapping, base: Mapping, delta: Mapping) -> list[str]:
    s = delta["subject"]
    if s["kind"] == "arc":
        prod = f" ({s['product']})" if s.get("product") else ""
        what = (
            f"{s['arc'][0]}→{s['arc'][1]}{prod}"
            if not w.zh
            else f"{s['arc'][0]}→{s['arc'][1]}" + (f"（{s['product']}）" if s.get("product") else "")
        )
        q = w.t(f"Question: why does the plan use {what}?", f"问题：方案为什么使用{what}？")
        carries = w.t(f"it carries {w.n(s['flow'])} units", f"该线路运输{w.n(s['flow'])}件")
    else:
        what = s["node"]
        q = w.t(f"Question: why is {what} in the plan?", f"问题：{what}为什么在方案中？")
        carries = w.t(f"{w.n(s['flow'])} units pass through it", f"经过它的流量为{w.n(s['flow'])}件")
    out = [q]
    if base.get("cost") is None:
        out += _infeasible_lines(w, base)
        return out
    if not s["used"]:
        out.append(
            w.t(
                f"It does not: the current plan (cost {w.n(base['cost'])}) sends nothing through {what}, so doing without it costs nothing.",
                f"实际上并未使用：当前方案（成本{w.n(base['cost'])}）没有经过{what}的流量，去掉它不增加成本。",
            )
        )
        return out
    if res["status"] == "infeasible":
        out.append(
            w.t(
                f"Because there is no plan without it: in the current plan (cost {w.n(base['cost'])}) {carries}, and without {what}:",
                f"因为没有它就没有可行方案：当前方案（成本{w.n(base['cost'])}）中{carries}；去掉{what}后：",
            )
        )
        out += _infeasible_lines(w, res)[:2]
        out.append(w.t(f"Keep {what}: it is essential.", f"建议保留{what}：它不可或缺。"))
        return out
    ch = [_change(w, c) for c in delta["changed_flows"][:4]]
    out.append(
        w.t(
            f"Because it is the cheaper way: in the current plan (cost {w.n(base['cost'])}) {carries}. "
            f"Without it the best plan costs {w.n(res['cost'])}, {w.abs(delta['cost'])} more"
            + (f" ({w.pct(delta['cost_pct'], signed=True)})" if delta.get("cost_pct") is not None else "")
            + (f", and the flow moves: {w.join(ch)}." if ch else "."),
            f"因为这样更便宜：当前方案（成本{w.n(base['cost'])}）中{carries}。"
            f"去掉它后最优方案成本为{w.n(res['cost'])}，增加{w.abs(delta['cost'])}"
            + (f"（{w.pct(delta['cost_pct'], signed=True)}）" if delta.get("cost_pct") is not None else "")
            + (f"，流量转移为：{w.join(ch)}。" if ch else "。"),
        )
    )
    out.append(
        w.t(
            f"Keep {what} unless dropping it is worth more than {w.abs(delta['cost'])}.",
            f"除非放弃它的收益超过{w.abs(delta['cost'])}，否则建议保留{what}。",
        )
    )
    return out


# --------------------------------------------------------------------------------------------
# dispatch
# --------------------------------------------------------------------------------------------


def _renderers() -> dict[str, Any]:
    from sclm import _ask_text_decide as D

    return {
        "forecast": _forecast,
        "explain": _explain,
        "plan_network": _network,
        "plan_inventory": D.inventory,
        "plan_routes": D.routes,
        "plan_production": D.production,
        "monitor": D.monitor,
    }


def render(answer: Any, lang: str | None = None) -> tuple[str, dict[str, Any]]:
    """The recommendation text of ``answer`` and the values it may quote.

    Parameters
    ----------
    answer : Answer or mapping
    lang : {"zh", "en"}, optional
        Default: the answer's ``lang``, else its task's language, else English.

    Returns
    -------
    text : str
        Paragraphs separated by blank lines.
    values : dict
        ``answer.values`` (or, when absent, the flat view of its task, result, baseline, delta).
    """
    from sclm.language.narrative import flatten_values

    task = _task(answer)
    lang = lang or _get(answer, "lang") or task.get("language") or "en"
    w = W(lang)
    action = _get(answer, "action") or task.get("action")
    fns = _renderers()
    if action not in fns:
        raise ValueError(f"no recommendation template for action {action!r}; known: {', '.join(fns)}")
    values = _get(answer, "values") or flatten_values(
        {
            "task": task,
            "result": _get(answer, "result"),
            "baseline": _get(answer, "baseline"),
            "delta": _get(answer, "delta"),
        }
    )
    paras = [p.strip() for p in fns[action](w, answer) if p and p.strip()]
    return "\n\n".join(paras), values
