"""``sclm.ask``: an instruction in Chinese or English → a Task → forecast / explain / decide → an Answer.

::

    import sclm

    a = sclm.ask("基于历史生产量、库存量、物流量，预测未来库存量")
    print(a.text)                               # the recommendation (numbers checked)
    a.result["targets"]["inventory"]["mean"]    # the numbers behind it
    a.model_dump(mode="json")                   # JSON (figures left out)

    a = sclm.ask("Why do we ship from p1 to c2?", network="params/networks/coffee.yaml")
    a.baseline["cost"], a.result["cost"], a.delta["cost"]   # current plan, without the flow, difference

Paths (:mod:`sclm._ask_paths`)
    ``forecast``, ``explain``, ``monitor``: model M on the scenario, trained once per scenario,
    seed, setup and horizon bucket, cached under ``build/ask/<scenario>-seed<seed>/``
    (:mod:`sclm._ask_forecast`).  ``plan_inventory`` (base-stock policy from M's demand
    quantiles, replayed on the next days), ``plan_routes`` (tomorrow's delivery routes from M's
    delivery forecast), ``plan_production`` (the plants' LP plan on M's logistics forecast),
    ``plan_network`` (a min-cost flow on a network file, or on the manufacturing scenario's
    network built from M's forecast).  A network question on a file never imports torch.

Scenario
    The instruction's scenario, else ``scenario=``, else by action: ``plan_routes`` →
    logistics; ``plan_production``, ``plan_network`` → manufacturing; ``plan_inventory`` →
    retail; ``forecast``/``explain``/``monitor`` by the first target: demand → retail (the only
    scenario with a demand target), delivery → logistics, anything else → manufacturing.  When
    the instruction and ``scenario=`` disagree, that is a ``ValueError``.

What-if factors (``Task.what_if``, variable → factor)
    On a network plan: ``demand`` → ``scale_demand`` on every customer and product; ``capacity``
    → ``scale_capacity`` on every supplier, plant and warehouse that has a capacity (an
    unbounded node stays unbounded); any other variable is refused (say it as an edit).  On
    forecasts and the decisions made from them: see :func:`sclm._ask_forecast.apply_what_if`
    (price and promotion plans are fed to M again; flows are scaled; capacity caps the flow
    it caps in the simulator; inventory follows the exact stock balance).  ``result`` is the
    answer with the change, ``baseline`` without it, ``delta`` the difference.

Why-questions (``Task.question == "why"``)
    The questioned flow is the Task's ``ForbidArc`` / ``CloseFacility`` edit (other edits are
    the scenario both plans share).  ``result`` is the counterfactual plan without the flow,
    ``baseline`` the current plan, ``delta["cost"]`` what doing without it costs (``None``
    when there is no plan without it: ``result["status"] == "infeasible"`` and the text gives
    the diagnosis).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_serializer

from sclm.language.instructions import ACTIONS, SCENARIOS

__all__ = ["ACTIONS", "Answer", "TaskView", "ask", "default_scenario"]

DEFAULT_SCENARIO: dict[str, str] = {
    "plan_routes": "logistics",
    "plan_production": "manufacturing",
    "plan_network": "manufacturing",
    "plan_inventory": "retail",
}
TARGET_SCENARIO: dict[str, str] = {"demand": "retail", "delivery": "logistics"}
DEFAULT_HORIZON: dict[str, int] = {
    "forecast": 14,
    "explain": 7,
    "monitor": 14,
    "plan_inventory": 14,
    "plan_routes": 1,
    "plan_production": 14,
    "plan_network": 7,
}
"""Days when the instruction names no horizon (plan_routes: tomorrow; plan_network: one week)."""


@dataclass
class TaskView:
    """The fields of a parsed Task that :func:`ask` reads (from the Task model, or a dict)."""

    action: str
    scenario: str | None = None
    targets: list[str] = field(default_factory=list)
    inputs: list[str] = field(default_factory=list)
    horizon: int | None = None
    what_if: dict[str, float] = field(default_factory=dict)
    edits: list[Any] = field(default_factory=list)
    question: str | None = None
    language: str | None = None

    @classmethod
    def of(cls, task: Any) -> TaskView:
        """Read a Task (pydantic model, object with attributes, or mapping)."""
        get = (lambda k: task.get(k)) if isinstance(task, Mapping) else (lambda k: getattr(task, k, None))
        action = get("action")
        if action not in ACTIONS:
            raise ValueError(f"unknown action {action!r}; the supported actions are {', '.join(ACTIONS)}")
        scenario = get("scenario")
        if scenario is not None and scenario not in SCENARIOS:
            raise ValueError(f"unknown scenario {scenario!r}; choose from {', '.join(SCENARIOS)}")
        from sclm.decisions.edits import parse_edits

        return cls(
            action=action,
            scenario=scenario,
            targets=list(get("targets") or []),
            inputs=list(get("inputs") or []),
            horizon=None if get("horizon") is None else int(get("horizon")),
            what_if={str(k): float(v) for k, v in dict(get("what_if") or {}).items()},
            edits=parse_edits(get("edits") or []),
            question=get("question"),
            language=get("language"),
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "scenario": self.scenario,
            "targets": list(self.targets),
            "inputs": list(self.inputs),
            "horizon": self.horizon,
            "what_if": dict(self.what_if),
            "edits": [e.model_dump(mode="json") for e in self.edits],
            "question": self.question,
            "language": self.language,
        }


class Answer(BaseModel):
    """What :func:`ask` found, and the recommendation written from it.

    Attributes
    ----------
    question : str
        The instruction as given (empty when a Task was passed).
    task : Task
        The parsed task (serialised as its fields).
    action, scenario, network, lang : str or None
        The path taken, the scenario it ran on (``None`` for a network file), the network's
        name (network questions), the language of ``text``.
    result : dict
        The decision layer's result: ``status`` (``"ok"`` for forecasts, ``"optimal"`` /
        ``"infeasible"`` for plans) and its numbers (``cost`` for network and production plans,
        ``targets`` for forecasts, ...).  With a what-if: the result with the change; for a
        why-question: the counterfactual without the questioned flow.
    baseline : dict or None
        The same without the what-if (or the current plan of a why-question).
    delta : dict or None
        ``result - baseline`` where both exist (``cost``, ``cost_pct``, changed flows ...).
    values : dict
        The flat view (``section.key.subkey``) of every number of the task, result, baseline and
        delta: the only numbers :attr:`text` may quote (checked).
    text : str
        The recommendation (:func:`sclm.language.narrative.recommend`).
    notes : list of str
        How the question was mapped (defaults used, what-if rules applied).
    cache_used : bool
        Whether M came from the cache (disk or this process) instead of being trained now.
    cache : dict or None
        ``source`` (trained / disk / memory), ``directory``, ``seconds``, fit summary.
    parsed_by : dict
        Who read the instruction: ``source`` (``"parser"``, ``"llm"``, or ``"task"`` for a
        Task given directly), ``backend`` (the model's name or None) and, with a model,
        ``fallback`` (why its proposal was rejected), ``seconds``, ``agrees_with_parser``,
        ``redacted`` (what was removed before sending).
    seconds : float
        Wall time of the whole call.
    figures : dict of str → matplotlib Figure
        Left out of :meth:`model_dump`; :meth:`save_figures` writes them as PNG.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    question: str = ""
    task: Any
    action: str
    scenario: str | None = None
    network: str | None = None
    lang: str = "en"
    result: dict[str, Any]
    baseline: dict[str, Any] | None = None
    delta: dict[str, Any] | None = None
    values: dict[str, Any] = Field(default_factory=dict)
    text: str = ""
    notes: list[str] = Field(default_factory=list)
    cache_used: bool = False
    cache: dict[str, Any] | None = None
    seconds: float = 0.0
    parsed_by: dict[str, Any] = Field(default_factory=dict)
    figures: dict[str, Any] = Field(default_factory=dict, exclude=True, repr=False)

    @field_serializer("task")
    def _task(self, task: Any) -> Any:
        if isinstance(task, BaseModel):
            return task.model_dump(mode="json")
        if isinstance(task, TaskView):
            return task.as_dict()
        return task

    @property
    def view(self) -> TaskView:
        return TaskView.of(self.task)

    def save_figures(self, directory: str | Path, *, dpi: int = 100) -> list[Path]:
        """Write every figure as ``<directory>/<name>.png``; returns the paths."""
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        out = []
        for name, fig in self.figures.items():
            p = d / f"{name}.png"
            fig.savefig(p, dpi=dpi, bbox_inches="tight")
            out.append(p)
        return out

    def __str__(self) -> str:
        return self.text


def default_scenario(view: TaskView, scenario: str | None = None) -> tuple[str, str | None]:
    """The scenario to run on and, when it was a default, a note saying which and why."""
    if scenario is not None and scenario not in SCENARIOS:
        raise ValueError(f"unknown scenario {scenario!r}; choose from {', '.join(SCENARIOS)}")
    if view.scenario and scenario and view.scenario != scenario:
        raise ValueError(
            f"the instruction names the {view.scenario} scenario but scenario={scenario!r} was given"
        )
    if view.scenario or scenario:
        return view.scenario or scenario, None  # type: ignore[return-value]
    if view.action in DEFAULT_SCENARIO:
        name = DEFAULT_SCENARIO[view.action]
        return name, f"no scenario named: {view.action} runs on the {name} scenario by default"
    first = view.targets[0] if view.targets else None
    name = TARGET_SCENARIO.get(first or "", "manufacturing")
    why = f"the target {first} " if first else "no target named; "
    return name, f"no scenario named: {why}runs on the {name} scenario by default"


def _parse(
    text: Any, network: Any, llm: Any = None, policy: str = "propose"
) -> tuple[str, Any, dict[str, Any] | None]:
    """``(question, task, parsed_by)``: the offline parser's task, or a configured model's.

    ``llm``: ``None`` uses the model the environment configures (``SCLM_LLM_*``, see
    :mod:`sclm.language.llm`; none by default, and then nothing leaves the machine), ``False``
    never asks a model, a backend object asks that one.  A model's proposal is validated and
    falls back to the parser (:func:`sclm.language.llm.propose_task`).
    """
    if not isinstance(text, str):
        return "", text, None
    from sclm.language.instructions import parse_instruction

    if llm is False:
        return text, parse_instruction(text, network=network), None
    from sclm.language.llm import backend_from_env, propose_task

    backend = backend_from_env() if llm is None or llm is True else llm
    if backend is None:
        if llm is True:
            raise ValueError(
                "llm=True but no language model is configured: set SCLM_LLM_BASE_URL and "
                "SCLM_LLM_MODEL (an endpoint) or SCLM_LLM_GGUF (a local model)"
            )
        return text, parse_instruction(text, network=network), None
    task, info = propose_task(text, network, backend=backend, policy=policy)
    keep = ("source", "backend", "fallback", "seconds", "agrees_with_parser", "redacted", "policy")
    parsed_by = {k: info.get(k) for k in keep}
    parsed_by["redacted"] = [list(r) for r in info.get("redacted") or []]
    return text, task, parsed_by


def _scenario_names(
    err: Exception,
    net: Any,
    scenario: str | None,
    seed: int,
    horizon: int | None,
    setup: Any,
    cache_dir: Any,
    use_cache: bool,
) -> Any:
    """The manufacturing scenario's network, to read node names against, when the parser refused
    ``err`` only for want of a network ("supplier 3", "the second plant") and none was given;
    else None.  It comes from the same cached bundle the network question then plans with."""
    if net is not None or getattr(err, "final", False) or "pass the network" not in str(err):
        return None
    if scenario not in (None, "manufacturing"):
        return None
    from sclm._ask_paths import _bundle
    from sclm.decisions.network import scenario_network

    h = horizon or DEFAULT_HORIZON["plan_network"]
    b = _bundle("manufacturing", seed, h, setup, cache_dir, use_cache)
    return scenario_network(b.scenario, horizon=h)


def ask(
    text: Any,
    *,
    scenario: str | None = None,
    network: Any = None,
    lang: str | None = None,
    seed: int = 0,
    horizon: int | None = None,
    setup: Any = None,
    cache_dir: str | Path | None = None,
    use_cache: bool = True,
    figures: bool = True,
    llm: Any = None,
    llm_policy: str = "propose",
) -> Answer:
    """Answer an instruction: parse it, run the forecast / explanation / decision, write the text.

    Parameters
    ----------
    text : str or Task
        The instruction (Chinese or English), or an already parsed Task (a
        :class:`sclm.language.instructions.Task`, or a dict with its fields).
    scenario : {"manufacturing", "logistics", "retail"}, optional
        Scenario when the instruction names none (see the module docstring for the defaults).
    network : path, dict or Network, optional
        A network file for ``plan_network`` questions (also passed to the parser, which
        resolves node names against it).  Without it a network question plans the
        manufacturing scenario's network built from M's forecast.
    lang : {"zh", "en"}, optional
        Language of the text (default: the instruction's).
    seed : int
        Scenario and training seed.
    horizon : int, optional
        Days, when the instruction names none (default per action, :data:`DEFAULT_HORIZON`).
    setup : sclm._ask_forecast.ForecastSetup or dict, optional
        Scenario size and training budget of the cached model (tests pass a tiny one).
    cache_dir : path, optional
        Root of the model cache (default ``build/ask``).
    use_cache : bool
        ``False`` retrains M even when a checkpoint exists.
    figures : bool
        Draw the figures (fan chart, routes, production plan, attributions).
    llm : None, bool or backend
        Who reads the instruction: ``None`` (default) a language model only when the
        environment configures one (``SCLM_LLM_BASE_URL``/``SCLM_LLM_MODEL`` or
        ``SCLM_LLM_GGUF``), else the offline parser; ``False`` always the parser; ``True`` the
        configured model (an error when there is none); or a backend object.  A model only
        proposes the Task: it is validated (else the parser's Task is used, with a warning) and
        never gives a number; :attr:`Answer.parsed_by` says which was used.
    llm_policy : {"propose", "fallback"}
        With a model: ``"propose"`` uses its valid proposal; ``"fallback"`` uses the parser's Task
        whenever the parser has one and asks the model only for phrasings the parser refuses
        (recommended for a small local model; see :func:`sclm.language.llm.propose_task`).

    Returns
    -------
    Answer

    Raises
    ------
    sclm.language.instructions.InstructionError
        The parser refused the instruction (its message says what is supported).
    ValueError
        A question the data cannot answer (horizon beyond the held-out days, a what-if on a
        variable the scenario lacks, conflicting scenarios ...); the message says why.
    sclm.schema.UnknownNameError
        An edit names a node, arc or product the network does not have.
    """
    t0 = time.perf_counter()
    net = None
    if network is not None:
        from sclm.decisions.network import load_network

        net = load_network(network)
    names_note = None
    try:
        question, task, parsed_by = _parse(text, net, llm, llm_policy)
    except ValueError as err:  # "supplier 3" with no network file: read it against the scenario's
        names = _scenario_names(err, net, scenario, seed, horizon, setup, cache_dir, use_cache)
        if names is None:
            raise
        question, task, parsed_by = _parse(text, names, llm, llm_policy)
        names_note = f"node names read against the scenario network {names.name}"
    view = TaskView.of(task)
    if lang is not None and lang not in ("zh", "en"):
        raise ValueError(f"lang must be 'zh' or 'en', got {lang!r}")
    language = lang or view.language or "en"
    if language not in ("zh", "en"):
        language = "en"
    from sclm import _ask_paths as paths

    outcome = paths.run(
        view,
        network=net,
        scenario=scenario,
        seed=seed,
        horizon=horizon,
        setup=setup,
        cache_dir=cache_dir,
        use_cache=use_cache,
        figures=figures,
    )
    if names_note:
        outcome.notes.append(names_note)
    answer = Answer(
        question=question,
        task=task,
        action=view.action,
        scenario=outcome.scenario,
        network=outcome.network,
        lang=language,
        result=outcome.result,
        baseline=outcome.baseline,
        delta=outcome.delta,
        notes=outcome.notes,
        cache_used=outcome.cache is not None and outcome.cache.get("source") in ("disk", "memory"),
        cache=outcome.cache,
        figures=outcome.figures,
        parsed_by=parsed_by or {"source": "parser" if question else "task", "backend": None},
    )
    from sclm.language.narrative import flatten_values, recommend

    answer.values = flatten_values(
        {"task": view.as_dict(), "result": answer.result, "baseline": answer.baseline, "delta": answer.delta}
    )
    answer.text = recommend(answer, language)
    answer.seconds = round(time.perf_counter() - t0, 4)
    return answer
