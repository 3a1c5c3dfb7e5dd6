"""Benchmark: a language model's proposed tasks against the offline parser's, on the parser's test set.

Runs only when a model is configured (``SCLM_LLM_BASE_URL`` with ``SCLM_LLM_MODEL``, or
``SCLM_LLM_GGUF``; see :mod:`sclm.language.llm`).  Otherwise it prints that it was skipped and why
and writes ``build/bench/llm.json`` with every figure ``null`` and a note.

The cases are ``tests/data/instructions/<split>_<lang>.yaml`` (each: ``text``, optional
``network: true`` for ``network.yaml``, then ``expect`` -- the Task's fields, defaults for the
rest -- or ``error: instruction | unknown_name``).  For the parser and for the model:

- per-field accuracy over the ``expect`` cases (action, scenario, targets and inputs as sets,
  horizon, what_if, edits, question);
- exact-match rate over all cases (an error case counts when the right error is raised; for the
  model, when it proposed no usable task);
- seconds per instruction.

Three rows are scored: ``parser`` (:func:`parse_instruction`), ``llm`` (the model's own proposal;
a rejected proposal counts as wrong) and ``llm+fallback`` (what :func:`propose_task` returns).
``llm - parser exact`` says whether the model adds anything (goal ``>= 0``).

Run: ``.venv/bin/python bench/llm.py [--split heldout|dev|all] [--limit N] [--out-dir DIR]``.
"""

from __future__ import annotations

import argparse
import json
import math
import time
import warnings
from pathlib import Path
from typing import Any

import yaml

from sclm import config
from sclm.benchmarking import Bench
from sclm.schema import UnknownNameError

DATA = config.PROJECT_ROOT / "tests" / "data" / "instructions"
FIELDS = ("action", "scenario", "targets", "inputs", "horizon", "what_if", "edits", "question")
ROWS = ("parser", "llm", "llm+fallback")


def load_cases(split: str) -> list[dict[str, Any]]:
    """The cases of ``split`` ("heldout", "dev" or "all"), each with its file's language."""
    splits = ("dev", "heldout") if split == "all" else (split,)
    cases = []
    for s in splits:
        for lang in ("zh", "en"):
            doc = yaml.safe_load((DATA / f"{s}_{lang}.yaml").read_text(encoding="utf-8"))
            cases += [{**c, "language": doc["language"], "split": s} for c in doc["cases"]]
    return cases


def _norm(field: str, value: Any) -> Any:
    if field in ("targets", "inputs"):
        return sorted(value or [])
    if field == "what_if":
        return {k: round(float(v), 6) for k, v in (value or {}).items()}
    if field == "edits":
        dumped = [
            e.model_dump(mode="json", exclude_none=True) if hasattr(e, "model_dump") else e
            for e in value or []
        ]
        return sorted(json.dumps(e, sort_keys=True) for e in dumped)
    return value


def expected_task(case: dict[str, Any]) -> Any:
    """The case's Task (its ``expect`` fields over the defaults)."""
    from sclm.language.instructions import Task

    return Task.model_validate({**case["expect"], "language": case["language"]})


def score(rows: list[tuple[dict[str, Any], Any, str | None]]) -> dict[str, float | None]:
    """Per-field accuracy and exact-match rate of (case, task or None, error kind or None) rows."""
    hits = {f: [] for f in FIELDS}
    exact = []
    for case, task, err in rows:
        if "error" in case:
            exact.append(err == case["error"] or (err == "no_task" and task is None))
            continue
        want = expected_task(case)
        ok = [task is not None and _norm(f, getattr(task, f)) == _norm(f, getattr(want, f)) for f in FIELDS]
        for f, o in zip(FIELDS, ok, strict=True):
            hits[f].append(o)
        exact.append(all(ok))
    out = {f"{f} accuracy": (sum(v) / len(v) if v else None) for f, v in hits.items()}
    out["exact"] = sum(exact) / len(exact) if exact else None
    return out


def run(split: str, limit: int | None) -> dict[str, dict[str, float | None]]:
    """Parse every case with the parser and the configured model; the figures per row."""
    from sclm.language.instructions import InstructionError, parse_instruction

    from sclm.decisions import load_network
    from sclm.language.llm import backend_from_env, propose_task

    backend = backend_from_env()
    net = load_network(DATA / "network.yaml")
    cases = load_cases(split)[:limit]
    rows: dict[str, list] = {r: [] for r in ROWS}
    secs = {r: 0.0 for r in ("parser", "llm")}
    for case in cases:
        network = net if case.get("network") else None
        t0 = time.perf_counter()
        try:
            rows["parser"].append((case, parse_instruction(case["text"], network), None))
        except InstructionError:
            rows["parser"].append((case, None, "instruction"))
        except UnknownNameError:
            rows["parser"].append((case, None, "unknown_name"))
        secs["parser"] += time.perf_counter() - t0
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                task, info = propose_task(case["text"], network, backend=backend)
                own = task if info["source"] == "llm" else None
                rows["llm"].append((case, own, None if own is not None else "no_task"))
                rows["llm+fallback"].append((case, task, None))
            except InstructionError:
                rows["llm"].append((case, None, "no_task"))
                rows["llm+fallback"].append((case, None, "instruction"))
            except UnknownNameError:
                rows["llm"].append((case, None, "no_task"))
                rows["llm+fallback"].append((case, None, "unknown_name"))
        secs["llm"] += time.perf_counter() - t0
    figures = {r: score(v) for r, v in rows.items()}
    n = max(len(cases), 1)
    figures["parser"]["seconds per instruction"] = secs["parser"] / n
    figures["llm"]["seconds per instruction"] = secs["llm"] / n
    figures["llm+fallback"]["fallback rate"] = sum(t is None for _, t, _ in rows["llm"]) / n
    return figures


def figure_names() -> list[tuple[str, str | None]]:
    """Every (figure, goal) the benchmark reports."""
    names = []
    for r in ROWS:
        names += [(f"{r} {f} accuracy", None) for f in FIELDS]
        names.append((f"{r} exact", None))
    names += [("parser seconds per instruction", None), ("llm seconds per instruction", None)]
    names += [("llm+fallback fallback rate", None), ("llm - parser exact", ">= 0")]
    return names


def main(argv: list[str] | None = None) -> Path:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--split", choices=("heldout", "dev", "all"), default="heldout")
    ap.add_argument("--limit", type=int, default=None, help="only the first N cases (a quick look)")
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

    figures = run(args.split, args.limit)
    note = f"{backend.name}, split {args.split}" + (f", first {args.limit} cases" if args.limit else "")
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
