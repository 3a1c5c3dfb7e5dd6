"""Score the instruction parser on labelled instruction sets (used by the tests and the bench).

A set is a YAML file ``{language, split, network?, cases: [...]}``; each case has ``text``,
optional ``network: true`` (parse with the set's network file: its top-level ``network`` key,
a file name in the same folder, default ``network.yaml``) and either ``expect`` (Task fields;
missing ones take their defaults, ``language`` the file's) or ``error`` (``instruction`` or
``unknown_name``) with optional ``names`` that the error message must contain.  A network case
may also carry the optimal ``cost`` of the plan its expected Task asks for, or ``status:
infeasible``; :func:`cost_match` checks a parsed Task against it by solving the plan.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

FIELDS = ("action", "scenario", "targets", "inputs", "horizon", "what_if", "edits", "question", "language")
_DEFAULTS: dict[str, Any] = {
    "scenario": None,
    "targets": [],
    "inputs": [],
    "horizon": None,
    "what_if": {},
    "edits": [],
    "question": None,
}


@dataclass
class Case:
    text: str
    language: str
    split: str
    network: bool
    expect: dict[str, Any] | None
    error: str | None
    names: list[str] = field(default_factory=list)
    source: str = ""
    network_path: Path | None = None  # the set's network file (cases with ``network: true``)
    cost: float | None = None  # optimal cost of the expected plan
    status: str | None = None  # "optimal" (with ``cost``) or "infeasible"; None = not labelled


def load_cases(folder: str | Path) -> list[Case]:
    """Every case of every ``*.yaml`` set in ``folder`` (the ``network*.yaml`` files are networks)."""
    out: list[Case] = []
    for path in sorted(Path(folder).glob("*.yaml")):
        if path.name.startswith("network"):
            continue
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)
        net_path = path.parent / str(data.get("network") or "network.yaml")
        for i, c in enumerate(data["cases"]):
            exp = None
            if "expect" in c:
                exp = {**_DEFAULTS, "language": data["language"], **c["expect"]}
            out.append(
                Case(
                    text=str(c["text"]),
                    language=data["language"],
                    split=data["split"],
                    network=bool(c.get("network")),
                    expect=exp,
                    error=c.get("error"),
                    names=[str(n) for n in c.get("names", [])],
                    source=f"{path.name}#{i}",
                    network_path=net_path if c.get("network") else None,
                    cost=None if c.get("cost") is None else float(c["cost"]),
                    status=c.get("status") or ("optimal" if c.get("cost") is not None else None),
                )
            )
    return out


def _num(x: Any) -> Any:
    return round(float(x), 4) if isinstance(x, int | float) and not isinstance(x, bool) else x


def canonical_edit(e: Any) -> tuple:
    """An edit (model or dict) as a hashable tuple with rounded numbers and list-valued fields as tuples."""
    d = e.model_dump() if hasattr(e, "model_dump") else dict(e)
    d.setdefault("product", None) if d.get("kind") in (
        "scale_demand",
        "set_arc_cost",
        "scale_arc_cost",
        "set_node_cost",
        "scale_node_cost",
        "forbid_arc",
        "force_arc",
    ) else None
    if d.get("kind") == "scale_demand":
        d.setdefault("customer", None)
    items = []
    for k, v in sorted(d.items()):
        if isinstance(v, list | tuple):
            v = tuple(_num(x) for x in v)
        items.append((k, _num(v)))
    return tuple(items)


def field_value(name: str, v: Any) -> Any:
    """A field in comparable form (edits as a sorted multiset, factors rounded)."""
    if name == "edits":
        return sorted((canonical_edit(e) for e in v), key=repr)
    if name == "what_if":
        return {k: _num(x) for k, x in dict(v).items()}
    if name == "horizon" and v is not None:
        return int(v)
    return v


@dataclass
class Outcome:
    case: Case
    task: Any = None
    error: BaseException | None = None
    seconds: float = 0.0
    fields: dict[str, bool] = field(default_factory=dict)

    @property
    def refused(self) -> bool:
        return self.error is not None

    @property
    def correct(self) -> bool:
        """Exact Task match, or the right refusal."""
        if self.case.error is not None:
            return self.refusal_right
        return bool(self.fields) and all(self.fields.values())

    @property
    def refusal_right(self) -> bool:
        from sclm.language.instructions import InstructionError, UnknownEntityError

        if self.case.error is None or self.error is None:
            return False
        if self.case.error == "unknown_name" and not isinstance(self.error, UnknownEntityError):
            return False
        if not isinstance(self.error, InstructionError):
            return False
        msg = str(self.error)
        return all(n.lower() in msg.lower() for n in self.case.names)


def case_network(c: Case, default: Any = None) -> Any:
    """The network a case is parsed with: its set's network file (loaded once), else ``default``;
    ``None`` for a case without ``network: true``."""
    if not c.network:
        return None
    if c.network_path is None or (default is not None and c.network_path.name == "network.yaml"):
        return default
    key = str(c.network_path)
    if key not in _NETWORKS:
        from sclm.decisions.network import load_network

        _NETWORKS[key] = load_network(c.network_path)
    return _NETWORKS[key]


_NETWORKS: dict[str, Any] = {}


def evaluate(cases: list[Case], parse: Callable[..., Any], network: Any = None) -> list[Outcome]:
    """Parse every case (with its network where the case asks for it: the set's network file, or
    ``network`` for sets on ``network.yaml``) and compare field by field."""
    out: list[Outcome] = []
    for c in cases:
        o = Outcome(c)
        net = case_network(c, network)
        t0 = time.perf_counter()
        try:
            o.task = parse(c.text, net)
        except ValueError as exc:  # InstructionError, UnknownEntityError, pydantic errors
            o.error = exc
        except KeyError as exc:
            o.error = exc
        o.seconds = time.perf_counter() - t0
        if c.expect is not None:
            for f in FIELDS:
                got = getattr(o.task, f) if o.task is not None else object()
                o.fields[f] = o.task is not None and field_value(f, got) == field_value(f, c.expect[f])
        out.append(o)
    return out


def accuracy(outcomes: list[Outcome]) -> dict[str, float]:
    """Per-field accuracy over the cases with an expected Task, plus ``exact`` and refusal figures."""
    tasks = [o for o in outcomes if o.case.expect is not None]
    res: dict[str, float] = {}
    for f in FIELDS:
        res[f] = sum(o.fields[f] for o in tasks) / len(tasks) if tasks else float("nan")
    res["exact"] = sum(o.correct for o in tasks) / len(tasks) if tasks else float("nan")
    pos = [o for o in outcomes if o.case.error is not None]
    pred = [o for o in outcomes if o.refused]
    tp = sum(1 for o in pos if o.refused)
    res["refusal_recall"] = tp / len(pos) if pos else float("nan")
    res["refusal_precision"] = tp / len(pred) if pred else float("nan")
    res["refusal_kind_right"] = sum(o.refusal_right for o in pos) / len(pos) if pos else float("nan")
    res["n_tasks"] = len(tasks)
    res["n_refusals"] = len(pos)
    return res


def describe_failure(o: Outcome) -> str:
    """One line per failed case: text, expected and got."""
    if o.case.error is not None:
        return f"{o.case.source} {o.case.text!r}: expected {o.case.error} error {o.case.names}, got " + (
            f"{type(o.error).__name__}: {o.error}" if o.error else f"{o.task!r}"
        )
    if o.task is None:
        return f"{o.case.source} {o.case.text!r}: raised {type(o.error).__name__}: {o.error}"
    bad = [f for f, ok in o.fields.items() if not ok]
    parts = [
        f"{f}: want {field_value(f, o.case.expect[f])!r} got {field_value(f, getattr(o.task, f))!r}"
        for f in bad
    ]  # type: ignore[index]
    return f"{o.case.source} {o.case.text!r}: " + "; ".join(parts)


# ------------------------------------------------------------------------------ cost match
@dataclass
class CostMatch:
    """A parsed Task's plan against a case's labelled optimal cost / status."""

    case: Case
    status: str | None = None  # of the plan the parsed Task asks for; None = no plan
    cost: float | None = None
    error: str = ""  # why there is no plan (refused, not a network plan, a bad edit, ...)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """Same status as the label and, when optimal, the same cost (relative tolerance 1e-6)."""
        if self.status is None or self.status != self.case.status:
            return False
        if self.status != "optimal":
            return True
        assert self.cost is not None and self.case.cost is not None
        return abs(self.cost - self.case.cost) <= 1e-6 * max(1.0, abs(self.case.cost))


def cost_match(o: Outcome, network: Any = None) -> CostMatch:
    """Solve the plan ``o.task`` asks for (its global what-if as edits, then its edits, with
    :func:`sclm.decisions.network.plan_network`) and compare with the case's label."""
    from sclm.decisions.network import plan_network
    from sclm.language.instructions import network_edits

    m = CostMatch(o.case)
    if o.task is None:
        m.error = f"refused: {type(o.error).__name__}"
        return m
    if o.task.action != "plan_network":
        m.error = f"action {o.task.action}"
        return m
    net = case_network(o.case, network)
    t0 = time.perf_counter()
    try:
        plan = plan_network(net, network_edits(o.task, net))
    except (ValueError, KeyError) as exc:
        m.error = f"{type(exc).__name__}: {exc}"
        return m
    m.seconds = time.perf_counter() - t0
    m.status, m.cost = plan.status, plan.cost
    return m


def ask_cost_match(o: Outcome, network: Any = None) -> CostMatch:
    """The same through :func:`sclm.ask` (text -> parse -> plan -> ``Answer.result``).

    A case the parser does not read as a network plan is a miss without calling ``ask`` (which
    would train a forecaster for it)."""
    import sclm

    m = CostMatch(o.case)
    if o.task is None or o.task.action != "plan_network":
        m.error = "refused" if o.task is None else f"action {o.task.action}"
        return m
    t0 = time.perf_counter()
    try:
        a = sclm.ask(o.case.text, network=case_network(o.case, network), figures=False)
    except (ValueError, KeyError) as exc:
        m.error = f"{type(exc).__name__}: {exc}"
        return m
    m.seconds = time.perf_counter() - t0
    m.status, m.cost = a.result.get("status"), a.result.get("cost")
    return m
