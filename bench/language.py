"""Instruction parser bench: per-field accuracy on the labelled instruction sets, refusals, speed.

The sets are ``tests/data/instructions/{dev,heldout}_{zh,en}.yaml`` (hand-labelled; the held-out
split was written in another style before the parser and is never tuned on), parsed with
``tests/data/instructions/network.yaml`` where a case asks for it.  Figures, per split and
language and overall:

* accuracy of each Task field (action, scenario, targets, inputs, horizon, what_if, edits,
  question, language) over the cases with an expected Task (a refused case counts as wrong in
  every field), and the exact-Task match;
* refusal precision and recall (a refusal is any ``InstructionError``; the positives are the
  cases labelled as errors) and the share of refusals of the right kind (unknown names as
  ``UnknownEntityError`` naming the name);
* seconds per instruction: the best of repeated passes (after a warm-up) of each instruction, its
  median, 95th percentile and maximum over instructions, and the mean over every pass;
* cost match: for every network case labelled with its optimal cost (or ``status:
  infeasible``), parse it, solve ``plan_network`` with the Task's edits (its global what-if
  turned into edits by :func:`sclm.language.network_edits`) and compare status and cost
  (relative tolerance 1e-6) with the label; per split and language, per held-out batch, and
  the same through ``sclm.ask`` (``Answer.result["status"]``, ``["cost"]``; a case not parsed
  as a network plan is a miss without calling ask, which would train a forecaster).

Held-out batch 4 (``heldout4_{zh,en}.yaml``, 174 network questions on ``network_b4.yaml``, a
network the parser had never seen) was written, labelled and committed before the parser was
run on it.  Its first run, before any fix (:data:`FIRST_RUNS`), is the honest held-out figure;
the parser was then fixed for the general patterns it showed (with new dev cases on another
network, ``dev4_*.yaml``), so batch 4's later figures are no longer held-out.  Batch 5 (70
questions on ``network_b5.yaml``) was written after those fixes, before the parser saw it: its
first run measures them blind; it was then fixed in turn (dev cases again on other networks).
Batch 6 (90 instructions on ``network_b6.yaml``, a dairy network with Chinese node names, plus
general instructions and refusals) was written the same way: its first run is recorded too; the
fixes it led to (language of the words around Chinese names, out-of-scope words that are node
words, Chinese city and product names, set phrasings 按…算 / "at 0.8" / 涨到每件…, 关店, a city
mention resolved by the role its clause needs) have dev cases in ``dev4_*.yaml``.  Batch 7 (86
instructions on ``network_b7.yaml``, an auto-parts network with snake_case codes and company-named
customers) missed, blind: a plural product said in the singular ("rotor"), "exclusive to", a
name a role word introduces that is no word ("supplier titanio", 供应商titanio; checked against
the offline MiniLM vocabulary) and livestock as out of scope; their dev cases are ``dev7_*.yaml``.

Usage::

    .venv/bin/python bench/language.py            # 20 timing passes
    .venv/bin/python bench/language.py --quick    # 3 timing passes
    .venv/bin/python bench/language.py --failures # also print every failed case
    .venv/bin/python bench/language.py --no-ask   # cost match through plan_network only
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from sclm.benchmarking import Bench
from sclm.decisions.network import load_network
from sclm.language import parse_instruction
from sclm.language._evaluation import (
    FIELDS,
    accuracy,
    ask_cost_match,
    case_network,
    cost_match,
    describe_failure,
    evaluate,
    load_cases,
)

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "instructions"
GOALS = {"dev": ">= 0.95", "heldout": ">= 0.9"}
# First runs of the held-out batches written for network questions, before the fixes each led
# to: exact Task, edits field, action, and cost match (plan_network / sclm.ask) over the
# cost-labelled cases.  heldout4: parser of commit 2d87bd2 (84 + 84 cases); heldout5: parser of
# commit 796b911, after the batch-4 fixes (34 + 34 cases); heldout6: parser of commit 66f9201
# (38 + 38 Tasks, 24 + 24 cost-labelled; general instructions and refusals too; no sclm.ask run);
# heldout7: parser of commit d53e5f3 (36 + 36 Tasks, 25 + 25 cost-labelled, 7 + 7 refusals, with
# the labels as first written: the "exclusive to" / 专供 cases were relabelled afterwards).
FIRST_RUNS = {
    "heldout4": {
        "zh": {"exact": 0.679, "edits": 0.679, "action": 0.869, "cost_plan": 0.690, "cost_ask": 0.631},
        "en": {"exact": 0.726, "edits": 0.726, "action": 0.845, "cost_plan": 0.762, "cost_ask": 0.714},
        "all": {"exact": 0.702, "edits": 0.702, "action": 0.857, "cost_plan": 0.726, "cost_ask": 0.673},
    },
    "heldout5": {
        "zh": {"exact": 0.853, "edits": 0.853, "action": 0.912, "cost_plan": 0.853, "cost_ask": 0.853},
        "en": {"exact": 0.735, "edits": 0.735, "action": 0.882, "cost_plan": 0.794, "cost_ask": 0.794},
        "all": {"exact": 0.794, "edits": 0.794, "action": 0.897, "cost_plan": 0.824, "cost_ask": 0.824},
    },
    "heldout6": {
        "zh": {"exact": 0.763, "edits": 0.789, "action": 0.895, "cost_plan": 0.667},
        "en": {"exact": 0.868, "edits": 0.947, "action": 0.947, "cost_plan": 0.917},
        "all": {"exact": 0.816, "edits": 0.868, "action": 0.921, "cost_plan": 0.792},
    },
    "heldout7": {
        "zh": {"exact": 0.972, "edits": 0.972, "action": 1.0, "cost_plan": 0.96, "refusal_recall": 0.714},
        "en": {"exact": 0.944, "edits": 0.944, "action": 0.972, "cost_plan": 0.92, "refusal_recall": 0.714},
        "all": {"exact": 0.958, "edits": 0.958, "action": 0.986, "cost_plan": 0.94, "refusal_recall": 0.714},
    },
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="3 timing passes instead of 20")
    parser.add_argument("--failures", action="store_true", help="print every failed case")
    parser.add_argument("--data", default=str(DATA), help="folder with the instruction sets and network.yaml")
    parser.add_argument("--out-dir", default=None, help="folder for language.json (default build/bench)")
    parser.add_argument("--no-ask", action="store_true", help="cost match through plan_network only")
    args = parser.parse_args(argv)

    folder = Path(args.data)
    net = load_network(folder / "network.yaml")
    cases = load_cases(folder)
    outcomes = evaluate(cases, parse_instruction, net)
    bench = Bench("language", out_dir=args.out_dir)
    bench.add("instructions", len(cases), ">= 300")
    bench.add("instructions with an expected Task", sum(c.expect is not None for c in cases))
    bench.add(
        "network what-if/why instructions", sum(c.network and c.expect is not None for c in cases), ">= 100"
    )
    bench.add("refusal cases", sum(c.error is not None for c in cases), ">= 30")
    bench.add("held-out share", round(sum(c.split == "heldout" for c in cases) / len(cases), 3), ">= 0.27")

    groups = [(s, lang) for s in ("dev", "heldout") for lang in ("zh", "en", "all")]
    for split, lang in groups:
        mine = [o for o in outcomes if o.case.split == split and (lang == "all" or o.case.language == lang)]
        acc = accuracy(mine)
        goal = GOALS[split]
        for f in (*FIELDS, "exact"):
            bench.add(f"{split}/{lang} {f}", round(acc[f], 4), goal if lang == "all" else None)
        for f in ("refusal_precision", "refusal_recall", "refusal_kind_right"):
            bench.add(
                f"{split}/{lang} {f.replace('_', ' ')}", round(acc[f], 4), goal if lang == "all" else None
            )

    # each held-out batch alone (batch 1 was written before the parser, 2 and 3 after; see the files)
    for stem in sorted({o.case.source.split("#")[0] for o in outcomes if o.case.split == "heldout"}):
        mine = [o for o in outcomes if o.case.source.startswith(stem + "#")]
        acc = accuracy(mine)
        bench.add(f"{stem.removesuffix('.yaml')} exact", round(acc["exact"], 4), note=f"{len(mine)} cases")

    _cost_figures(bench, outcomes, net, ask=not args.no_ask, failures=args.failures)

    # speed: repeated passes over every instruction (the first pass warms the regex caches); the
    # best pass of each instruction is its time (the machine is shared: single passes are noisy)
    passes = 3 if args.quick else 20
    texts = [(c.text, case_network(c, net)) for c in cases]
    best = [float("inf")] * len(texts)
    total = 0.0
    for rep in range(passes + 1):
        for i, (text, network) in enumerate(texts):
            t0 = time.perf_counter()
            try:
                parse_instruction(text, network)
            except ValueError:
                pass
            dt = time.perf_counter() - t0
            if rep:
                best[i] = min(best[i], dt)
                total += dt
    best.sort()
    bench.add("seconds per instruction (median)", round(statistics.median(best), 6), "<= 0.01")
    bench.add("seconds per instruction (p95)", round(best[int(0.95 * (len(best) - 1))], 6), "<= 0.01")
    bench.add("seconds per instruction (max)", round(best[-1], 6))
    bench.add(
        "seconds per instruction (mean of every pass)", round(total / (passes * len(texts)), 6), "<= 0.01"
    )
    bench.add("timing passes", passes)

    if args.failures:
        for o in outcomes:
            if not o.correct:
                print(f"[{o.case.split}/{o.case.language}] {describe_failure(o)}")
    bench.finish()
    return 0


def _cost_figures(bench: Bench, outcomes: list, net: object, *, ask: bool, failures: bool) -> None:
    """Cost match per split and language, per held-out batch, through plan_network and sclm.ask."""
    labelled = [o for o in outcomes if o.case.status is not None]
    bench.add("cost-labelled network cases", len(labelled), ">= 200")
    plan = {id(o): cost_match(o, net) for o in labelled}
    asked: dict[int, object] = {}
    ask_seconds: list[float] = []
    if ask:
        for o in labelled:
            t0 = time.perf_counter()
            asked[id(o)] = ask_cost_match(o, net)
            if o.task is not None and o.task.action == "plan_network":
                ask_seconds.append(time.perf_counter() - t0)
    for split in ("dev", "heldout"):
        for lang in ("zh", "en", "all"):
            mine = [
                o for o in labelled if o.case.split == split and (lang == "all" or o.case.language == lang)
            ]
            if not mine:
                continue
            goal = GOALS[split] if lang == "all" else None
            rate = sum(plan[id(o)].ok for o in mine) / len(mine)
            bench.add(
                f"{split}/{lang} cost match (plan_network)", round(rate, 4), goal, note=f"{len(mine)} cases"
            )
            if ask:
                rate = sum(asked[id(o)].ok for o in mine) / len(mine)
                bench.add(f"{split}/{lang} cost match (sclm.ask)", round(rate, 4), goal)
    for stem in sorted({o.case.source.split("#")[0] for o in labelled if o.case.split == "heldout"}):
        mine = [o for o in labelled if o.case.source.startswith(stem + "#")]
        rate = sum(plan[id(o)].ok for o in mine) / len(mine)
        bench.add(
            f"{stem.removesuffix('.yaml')} cost match (plan_network)",
            round(rate, 4),
            note=f"{len(mine)} cases",
        )
    for batch, by_lang in FIRST_RUNS.items():
        for lang, figs in by_lang.items():
            for k, v in figs.items():
                bench.add(
                    f"{batch}/{lang} {k} (first run, before its fixes)", v, note="recorded, not recomputed"
                )
    if ask_seconds:
        bench.add(
            "sclm.ask seconds per network question (median)", round(statistics.median(ask_seconds), 4), "<= 2"
        )
        bench.add("sclm.ask seconds per network question (max)", round(max(ask_seconds), 4))
    if failures:
        for o in labelled:
            for how, m in (("plan_network", plan[id(o)]), ("sclm.ask", asked.get(id(o)))):
                if m is not None and not m.ok:
                    print(
                        f"[cost/{how}] {o.case.source} {o.case.text!r}: want {o.case.status} {o.case.cost}, "
                        f"got {m.status} {m.cost} {m.error[:160]}"
                    )


if __name__ == "__main__":
    raise SystemExit(main())
