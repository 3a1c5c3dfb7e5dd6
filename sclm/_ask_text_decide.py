"""Templates of the decision answers (inventory, routes, production) and of monitoring.

Same rules as :mod:`sclm._ask_text`: every number comes from the answer's result, baseline or
delta; no literal numbers.
"""

from __future__ import annotations

from typing import Any

from sclm._ask_text import W, _get, _model_line, _what_if_phrase

__all__ = ["inventory", "monitor", "production", "routes"]


def _question(w: W, a: Any, en: str, zh: str) -> str:
    res = _get(a, "result")
    q = w.t(
        f"Question: {en} in {w.scenario(_get(a, 'scenario'))}", f"问题：{w.scenario(_get(a, 'scenario'))}{zh}"
    )
    if res.get("what_if"):
        q += w.t(f", if {_what_if_phrase(w, res['what_if'])}", f"，假设{_what_if_phrase(w, res['what_if'])}")
    return q + w.t(".", "。")


def _signed_pct(w: W, v: float | None) -> str:
    return "" if v is None else w.t(f" ({w.pct(v, signed=True)})", f"（{w.pct(v, signed=True)}）")


# --------------------------------------------------------------------------------------------
# inventory
# --------------------------------------------------------------------------------------------


def inventory(w: W, a: Any) -> list[str]:
    res, base, delta = _get(a, "result"), _get(a, "baseline"), _get(a, "delta")
    var = w.name(res["variable"])
    out = [
        _question(
            w,
            a,
            f"replenishment of {res['n_nodes']} nodes facing {var}, reviewed daily over {res['reviews']} days",
            f"{res['n_nodes']}个节点的补货策略（{var}），每日盘点，共{res['reviews']}天",
        )
    ]
    orders = sorted(res["nodes"], key=lambda r: -r["order_now"])
    top = [
        (f"{r['node']} ({w.n(r['order_now'])})" if not w.zh else f"{r['node']}（{w.n(r['order_now'])}件）")
        for r in orders[:3]
        if r["order_now"] > 0
    ]
    s = w.t(
        f"Decision: a base-stock policy at a {w.pct(res['service'], 0)} service target with a lead time of "
        f"{res['lead_time']} days. ",
        f"决策：采用基础库存（base-stock）策略，服务水平目标{w.pct(res['service'], 0)}，提前期{res['lead_time']}天。",
    )
    if top:
        s += w.t(
            f"Order {w.units(res['total_order_now'])} now in total, most at {w.join(top)}.",
            f"现在合计下单{w.units(res['total_order_now'])}，主要是{w.join(top)}。",
        )
    else:
        s += w.t(
            "No order is needed now: every node's stock on hand and in transit reaches its order-up-to level.",
            "现在无需下单：每个节点的在库加在途库存都已达到补货目标水平。",
        )
    out.append(s)
    lvl = [
        (
            f"{r['node']}: order up to {w.n(r['order_up_to'])} (safety stock {w.n(r['safety_stock'])}, "
            f"lead-time demand {w.n(r['lead_time_demand'])})"
            if not w.zh
            else f"{r['node']}：补到{w.n(r['order_up_to'])}（安全库存{w.n(r['safety_stock'])}，提前期需求{w.n(r['lead_time_demand'])}）"
        )
        for r in res["nodes"][:4]
    ]
    out.append(
        w.t(
            f"Levels from M's {var} quantiles: {w.join(lvl)}; safety stock {w.n(res['total_safety_stock'])} units in all.",
            f"由模型M的{var}分位数得到的库存水平：{w.join(lvl)}；安全库存合计{w.n(res['total_safety_stock'])}件。",
        )
    )
    sim = res["simulation"]
    out.append(
        w.t(
            f"Replayed on the simulator's next {sim['days']} days (M forecasting again each morning): fill rate "
            f"{w.pct(sim['fill_rate'])}, {w.n(sim['lost'])} of {w.n(sim['demand'])} units lost, cost "
            f"{w.n(sim['total_cost'])} (holding {w.n(sim['holding_cost'])}, shortage {w.n(sim['shortage_cost'])}).",
            f"在仿真器接下来的{sim['days']}天上回放（模型M每天早上重新预测）：满足率{w.pct(sim['fill_rate'])}，"
            f"{w.n(sim['demand'])}件需求中缺货{w.n(sim['lost'])}件，成本{w.n(sim['total_cost'])}"
            f"（持有{w.n(sim['holding_cost'])}，缺货{w.n(sim['shortage_cost'])}）。",
        )
    )
    if base is not None and delta is not None:
        more = delta["total_order_now"] >= 0
        out.append(
            w.t(
                f"Against the plan without the change, order {w.abs(delta['total_order_now'])} units "
                f"{'more' if more else 'fewer'} now (baseline {w.n(base['total_order_now'])}); the replayed cost moves "
                f"from {w.n(base['simulation']['total_cost'])} to {w.n(sim['total_cost'])}{_signed_pct(w, delta.get('total_cost_pct'))}.",
                f"与不做调整的方案相比，现在{'多' if more else '少'}下单{w.abs(delta['total_order_now'])}件"
                f"（基准{w.n(base['total_order_now'])}）；回放成本从{w.n(base['simulation']['total_cost'])}变为"
                f"{w.n(sim['total_cost'])}{_signed_pct(w, delta.get('total_cost_pct'))}。",
            )
        )
    short = [r for r in res["nodes"] if r["on_hand"] < r["lead_time_demand"]]
    if short:
        names = w.join([r["node"] for r in short[:3]])
        out.append(
            w.t(
                f"Watch {names}: stock on hand covers less than the demand expected over the lead time, "
                "so the orders in transit must arrive on time.",
                f"重点关注{names}：现有库存不足以覆盖提前期内的预计需求，在途订单必须按时到货。",
            )
        )
    else:
        out.append(
            w.t(
                "Watch the fill rate as actual demand arrives; the policy is recomputed every day.",
                "随着实际需求到来，请关注满足率；策略每天重新计算。",
            )
        )
    return out


# --------------------------------------------------------------------------------------------
# routes
# --------------------------------------------------------------------------------------------


def routes(w: W, a: Any) -> list[str]:
    res, base, delta = _get(a, "result"), _get(a, "baseline"), _get(a, "delta")
    out = [_question(w, a, f"delivery routes for {res['day']}", f"{res['day']}的配送路线")]
    f = res["forecast"]
    out.append(
        w.t(
            f"Decision: {res['n_vehicles']} trucks drive {w.n(res['distance_km'], 1)} km in all to deliver "
            f"{w.units(res['quantity'], 0)} locally from {res['n_sites']} sites ({res['n_stops']} stops), planned on M's "
            f"delivery forecast of {w.n(f['mean'])} units ({w.pct(f['interval'], 0)} band {w.n(f['low'])} to "
            f"{w.n(f['high'])})"
            + (
                f"; the other {w.n(res['linehaul'], 0)} units go by line-haul to the customer sites."
                if res.get("linehaul")
                else "."
            ),
            f"决策：{res['n_vehicles']}辆货车共行驶{w.n(res['distance_km'], 1)}公里，从{res['n_sites']}个站点本地配送"
            f"{w.units(res['quantity'], 0)}（{res['n_stops']}个停靠点），依据模型M的配送量预测{w.n(f['mean'])}件"
            f"（{w.pct(f['interval'], 0)}区间{w.n(f['low'])}至{w.n(f['high'])}）"
            + (f"；其余{w.n(res['linehaul'], 0)}件经干线运往客户站点。" if res.get("linehaul") else "。"),
        )
    )
    b = res.get("busiest")
    if b:
        out.append(
            w.t(
                f"The longest round is {b['site']}: {b['vehicles']} trucks, {w.n(b['distance_km'], 1)} km, fullest truck "
                f"{w.n(b['max_load'])} units.",
                f"最长的线路在{b['site']}：{b['vehicles']}辆车，{w.n(b['distance_km'], 1)}公里，最满的一车{w.n(b['max_load'])}件。",
            )
        )
    if base is not None and delta is not None:
        out.append(
            w.t(
                f"Without the change the plan needs {base['n_vehicles']} trucks and {w.n(base['distance_km'], 1)} km; "
                f"the change adds {w.n(delta['distance_km'], 1, signed=True)} km{_signed_pct(w, delta.get('distance_pct'))}.",
                f"不做调整时需要{base['n_vehicles']}辆车、{w.n(base['distance_km'], 1)}公里；"
                f"调整后里程变化{w.n(delta['distance_km'], 1, signed=True)}公里{_signed_pct(w, delta.get('distance_pct'))}。",
            )
        )
    if res["over_fleet"]:
        out.append(
            w.t(
                f"Watch {w.join(res['over_fleet'])}: the day needs more trucks than the site owns; hire or move volume.",
                f"重点关注{w.join(res['over_fleet'])}：当天所需车辆超过站点自有车队，需要租车或调整配送量。",
            )
        )
    else:
        out.append(
            w.t(
                f"Every site stays within its own fleet; if deliveries come in near the high end ({w.n(f['high'])}), re-plan.",
                f"所有站点都在自有车队能力之内；若配送量接近上限（{w.n(f['high'])}），请重新规划。",
            )
        )
    out.append(_model_line(w, res, bool(_get(a, "cache_used"))))
    return out


# --------------------------------------------------------------------------------------------
# production
# --------------------------------------------------------------------------------------------


def production(w: W, a: Any) -> list[str]:
    res, base, delta = _get(a, "result"), _get(a, "baseline"), _get(a, "delta")
    out = [
        _question(
            w,
            a,
            f"a production plan for {res['n_plants']} plants from {res['first_day']} to {res['last_day']}",
            f"{res['n_plants']}家工厂从{res['first_day']}至{res['last_day']}的生产计划",
        )
    ]
    if res["status"] != "optimal":
        out.append(
            w.t(
                f"The plan could not be solved (status {res['status']}).",
                f"无法求解生产计划（状态：{res['status']}）。",
            )
        )
        return out
    plants = [
        (
            f"{p['plant']} {w.n(p['production'])} (demand {w.n(p['demand'])}"
            + (f", at capacity on {p['days_at_capacity']} days)" if p["days_at_capacity"] else ")")
            if not w.zh
            else f"{p['plant']}生产{w.n(p['production'])}件（需求{w.n(p['demand'])}"
            + (f"，{p['days_at_capacity']}天满负荷）" if p["days_at_capacity"] else "）")
        )
        for p in res["plants"]
    ]
    out.append(
        w.t(
            f"Decision: make {w.units(res['production'])} over {res['days']} days against a forecast demand of "
            f"{w.n(res['demand'])}: {w.join(plants)}. Plan cost {w.n(res['cost'])}.",
            f"决策：{res['days']}天内共生产{w.units(res['production'])}，预测需求为{w.n(res['demand'])}："
            f"{w.join(plants)}。计划成本{w.n(res['cost'])}。",
        )
    )
    if base is not None and delta is not None:
        out.append(
            w.t(
                f"Without the change: cost {w.n(base['cost'])} and production {w.n(base['production'])}; the change moves the "
                f"cost by {w.n(delta['cost'], signed=True)}{_signed_pct(w, delta.get('cost_pct'))}"
                + (
                    f" and the unmet demand at the end by {w.n(delta['final_backlog'], signed=True)} units."
                    if delta["final_backlog"]
                    else "."
                ),
                f"不做调整时：成本{w.n(base['cost'])}，产量{w.n(base['production'])}；调整使成本变化"
                f"{w.n(delta['cost'], signed=True)}{_signed_pct(w, delta.get('cost_pct'))}"
                + (
                    f"，期末未满足需求变化{w.n(delta['final_backlog'], signed=True)}件。"
                    if delta["final_backlog"]
                    else "。"
                ),
            )
        )
    late = [p for p in res["plants"] if p["final_backlog"] > 0]
    if late:
        items = [
            (
                f"{p['plant']} ({w.n(p['final_backlog'])} units)"
                if not w.zh
                else f"{p['plant']}（{w.n(p['final_backlog'])}件）"
            )
            for p in late
        ]
        out.append(
            w.t(
                f"Watch {w.join(items)}: demand left unmet at the end of the horizon; add overtime or capacity.",
                f"重点关注{w.join(items)}：计划期末仍有未满足的需求，需要加班或扩产。",
            )
        )
    else:
        busy = max(res["plants"], key=lambda p: p["max_utilisation"])
        out.append(
            w.t(
                f"All demand is met. Watch {busy['plant']}: it runs at up to {w.pct(busy['max_utilisation'])} of capacity.",
                f"全部需求都能满足。重点关注{busy['plant']}：其产能利用率最高达{w.pct(busy['max_utilisation'])}。",
            )
        )
    out.append(_model_line(w, res, bool(_get(a, "cache_used"))))
    return out


# --------------------------------------------------------------------------------------------
# monitoring
# --------------------------------------------------------------------------------------------


def monitor(w: W, a: Any) -> list[str]:
    res = _get(a, "result")
    vars_ = w.join([w.name(v) for v in res["variables"]])
    out = [
        _question(
            w,
            a,
            f"watch {vars_} from {res['first_day']} to {res['last_day']} and flag anything unusual",
            f"监控{res['first_day']}至{res['last_day']}的{vars_}，发现异常及时提示",
        )
    ]
    cov = res.get("coverage_calibrated")
    if cov is not None:
        out.append(
            w.t(
                f"After conformal calibration on {res['calibration_days']} held-out days, the {w.pct(res['interval'], 0)} "
                f"intervals held {w.pct(cov)} of the {res['n_forecasts']} actuals (uncalibrated: {w.pct(res['coverage_raw'])}).",
                f"在{res['calibration_days']}天留出数据上做保形校准后，{w.pct(res['interval'], 0)}区间覆盖了"
                f"{res['n_forecasts']}个实际值中的{w.pct(cov)}（未校准时为{w.pct(res['coverage_raw'])}）。",
            )
        )
    if res["n_alerts"]:
        items = [
            (
                f"{x['node']} {w.name(x['variable'])} on {x['day']}: {w.n(x['actual'])}, "
                f"{'above' if x['side'] == 'above' else 'below'} {w.n(x['high'] if x['side'] == 'above' else x['low'])}"
                if not w.zh
                else f"{x['node']}的{w.name(x['variable'])}在{x['day']}为{w.n(x['actual'])}，"
                f"{'高于' if x['side'] == 'above' else '低于'}{w.n(x['high'] if x['side'] == 'above' else x['low'])}"
            )
            for x in res["alerts"][:3]
        ]
        out.append(
            w.t(
                f"Alerts: {res['n_alerts']} values fell outside the {w.pct(res['alert_level'], 0)} anomaly band "
                f"({res['n_alerts_high']} high), e.g. {w.join(items)}.",
                f"告警：{res['n_alerts']}个值超出{w.pct(res['alert_level'], 0)}异常带（其中{res['n_alerts_high']}个为高级别），"
                f"例如{w.join(items)}。",
            )
        )
    else:
        out.append(
            w.t(
                f"No value fell outside the {w.pct(res['alert_level'], 0)} anomaly band: nothing unusual.",
                f"没有值超出{w.pct(res['alert_level'], 0)}异常带：未发现异常。",
            )
        )
    if res["n_drift"]:
        names = w.join([f"{d['node']} {w.name(d['variable'])}" for d in res["drift"][:3]])
        out.append(
            w.t(
                f"Drift: {res['n_drift']} series changed level ({names}); update M from its checkpoint.",
                f"漂移：{res['n_drift']}个序列出现水平变化（{names}）；建议从检查点更新模型M。",
            )
        )
    else:
        out.append(
            w.t(
                "No drift detected: the model can keep forecasting without an update.",
                "未检测到漂移：模型无需更新即可继续预测。",
            )
        )
    out.append(_model_line(w, res, bool(_get(a, "cache_used"))))
    return out
