"""Benchmark: a language model's proposed tasks against the offline parser's, on the parser's test set.

Runs only when a model is configured (``SCLM_LLM_BASE_URL`` with ``SCLM_LLM_MODEL``, or
``SCLM_LLM_GGUF``; see :mod:`sclm.language.llm`).  Otherwise it prints that it was skipped and why
and writes ``build/bench/llm.json`` with every figure ``null`` and a note.

The cases are ``tests/data/instructions/<split>_<lang>.yaml`` (each: ``text``, optional
``network: true`` for ``network.yaml``, then ``expect`` -- the Task's fields, defaults for the
rest -- or ``error: instruction | unknown_name``), scored by the parser's own evaluation
(:mod:`sclm.language._evaluation`, as its tests and bench do).  Three rows: ``parser``
(:func:`parse_instruction`), ``llm`` (the model's own proposal; a rejected proposal is a refusal),
``llm+fallback`` (``propose_task(policy="propose")``: the model's valid proposal, else the parser's)
and ``parser+llm`` (``propose_task(policy="fallback")``, the default: the parser's task, the model
asked only when the parser refuses for a reason a model may overcome).  For each:

- per-field accuracy over the ``expect`` cases;
- ``exact``: share of all cases read exactly (a Task equal field by field, or the right refusal);
- refusal recall and whether the refusal was of the right kind, over the ``error`` cases;
- seconds per instruction (wall-clock; the model's include the network round trip).

``llm - parser exact`` says whether the model adds anything (goal ``>= 0``).  The model is never
trusted: its proposals pass the same validation as in :func:`propose_task`.

Run: ``.venv/bin/python bench/llm.py [--split heldout|dev|all] [--limit N] [--sample N] [--out-dir DIR]``
(the model is asked once per instruction: the other rows reuse the ``llm`` row's reply).
"""

from __future__ import annotations

import argparse
import math
import warnings
from pathlib import Path
from typing import Any

from sclm import config
from sclm.benchmarking import Bench

DATA = config.PROJECT_ROOT / "tests" / "data" / "instructions"
FIELDS = ("action", "scenario", "targets", "inputs", "horizon", "what_if", "edits", "question", "language")
ROWS = ("parser", "llm", "llm+fallback", "parser+llm")


def _parsers(backend: Any) -> dict[str, Any]:
    """The three ways to read an instruction, each ``(text, network) -> Task`` or an error."""
    from sclm.language.instructions import InstructionError, parse_instruction
    from sclm.language.llm import propose_task

    def llm_only(text: str, network: Any) -> Any:
        try:
            task, info = propose_task(text, network, backend=backend, policy="propose")
        except (InstructionError, KeyError) as e:
            raise InstructionError(f"the model gave no usable task ({e})") from e
        if info["source"] != "llm":
            raise InstructionError(f"the model gave no usable task: {info['fallback']}")
        return task

    def with_fallback(text: str, network: Any) -> Any:
        return propose_task(text, network, backend=backend, policy="propose")[0]

    def parser_first(text: str, network: Any) -> Any:
        return propose_task(text, network, backend=backend, policy="fallback")[0]

    return {
        "parser": parse_instruction,
        "llm": llm_only,
        "llm+fallback": with_fallback,
        "parser+llm": parser_first,
    }


class _Replies:
    """The backend with its replies kept: the ``llm+fallback`` row reuses the ``llm`` row's reply
    to the same messages (one model call per instruction; its seconds are the model's, measured
    in the ``llm`` row)."""

    def __init__(self, backend: Any) -> None:
        self.backend, self.name, self.memo = backend, getattr(backend, "name", "model"), {}

    def complete(self, messages: Any) -> str:
        import json

        key = json.dumps(messages, sort_keys=True, ensure_ascii=False)
        if key not in self.memo:
            self.memo[key] = self.backend.complete(messages)
        return self.memo[key]


def _sample(cases: list[Any], n: int | None) -> list[Any]:
    """``n`` cases evenly spaced over the list (every file and language, both refusals and tasks)."""
    if n is None or n >= len(cases):
        return cases
    idx = sorted({int(i * len(cases) / n) for i in range(n)})
    return [cases[i] for i in idx]


def run(
    split: str, limit: int | None, backend: Any, sample: int | None = None
) -> dict[str, dict[str, float]]:
    """Score the parser, the model alone and the model with fallback on the cases of ``split``.

    Returns
    -------
    dict
        Row → ``{"<field> accuracy", "exact", "refusal recall", "refusal kind right",
        "seconds per instruction"}`` (fractions in [0, 1]; seconds wall-clock).
    """
    from sclm.decisions import load_network
    from sclm.language import _evaluation as ev

    cases = _sample([c for c in ev.load_cases(DATA) if split == "all" or c.split == split][:limit], sample)
    # cases that share a prompt (the same network, or none) in a row: a local model reuses the
    # evaluated prompt prefix, so only the instruction itself is new (stable sort: same order within)
    cases.sort(key=lambda c: str(c.network_path) if c.network else "")
    backend = _Replies(backend)
    net = load_network(DATA / "network.yaml")
    out: dict[str, dict[str, float]] = {}
    for row, parse in _parsers(backend).items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # every fallback warns; the rate is a figure here
            outcomes = ev.evaluate(cases, parse, net)
        acc = ev.accuracy(outcomes)
        figs = {f"{f} accuracy": acc[f] for f in FIELDS}
        figs["exact"] = sum(o.correct for o in outcomes) / max(len(outcomes), 1)
        figs["refusal recall"] = acc["refusal_recall"]
        figs["refusal kind right"] = acc["refusal_kind_right"]
        figs["seconds per instruction"] = sum(o.seconds for o in outcomes) / max(len(outcomes), 1)
        out[row] = figs
    return out


def figure_names() -> list[tuple[str, str | None]]:
    """Every (figure, goal) the benchmark reports."""
    names = []
    for r in ROWS:
        names += [(f"{r} {f} accuracy", None) for f in FIELDS]
        names += [
            (f"{r} {f}", None)
            for f in ("exact", "refusal recall", "refusal kind right", "seconds per instruction")
        ]
    return [*names, ("llm - parser exact", ">= 0")]


def main(argv: list[str] | None = None) -> Path:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--split", choices=("heldout", "dev", "all"), default="heldout")
    ap.add_argument("--limit", type=int, default=None, help="only the first N cases (a quick look)")
    ap.add_argument("--sample", type=int, default=None, help="N cases evenly spaced over the split")
    ap.add_argument("--out-dir", default=None)
    args = ap.parse_args(argv)
    bench = Bench("llm", out_dir=args.out_dir)

    from sclm.language import llm

    try:
        backend = llm.backend_from_env()
    except (ValueError, ImportError, FileNotFoundError) as e:
        backend, why = None, f"skipped: the language model is misconfigured: {e}"
    else:
        why = (
            f"skipped: no language model configured (set {llm.ENV_BASE_URL} and {llm.ENV_MODEL} for an "
            f"OpenAI-compatible endpoint, or {llm.ENV_GGUF} for a local GGUF model with llama-cpp-python)"
        )
    if backend is None:
        print(why)
        for name, goal in figure_names():
            bench.add(name, None, goal, note=why)
        return bench.finish()

    figures = run(args.split, args.limit, backend, args.sample)
    note = (
        f"{backend.name}, split {args.split}"
        + (f", first {args.limit} cases" if args.limit else "")
        + (f", {args.sample} cases evenly spaced" if args.sample else "")
    )
    for r, figs in figures.items():
        for f, v in figs.items():
            bench.add(f"{r} {f}", None if v is None or math.isnan(v) else round(v, 4), note=note)
    pe, le = figures["parser"]["exact"], figures["llm"]["exact"]
    bench.add(
        "llm - parser exact", None if pe is None or le is None else round(le - pe, 4), ">= 0", note=note
    )
    return bench.finish()


if __name__ == "__main__":
    main()
