"""The ``sclm`` command line.

sclm report <case> [--params FILE] [--set NAME=VALUE ...] [--report-dir DIR]
sclm execute <case> ...      # papermill only → build/executed/<case>.ipynb
sclm export <case> ...       # HTML + manifest from the executed notebook
sclm timings [<case> ...] [--total-wall S]   # wall and CPU seconds of the rendered reports
sclm cases                   # list the case studies
sclm ask "<instruction>" [--scenario NAME] [--network FILE] [--lang zh|en] [--json] [--seed N]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from sclm import config


def _parse_set(items: Sequence[str]) -> dict[str, Any]:
    import yaml

    out: dict[str, Any] = {}
    for item in items:
        if "=" not in item:
            raise SystemExit(f"--set expects NAME=VALUE, got {item!r}")
        name, value = item.split("=", 1)
        out[name.strip()] = yaml.safe_load(value)
    return out


def _case(name: str) -> str:
    if name not in config.CASES:
        raise argparse.ArgumentTypeError(f"unknown case {name!r}; choose from {', '.join(config.CASES)}")
    return name


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sclm", description="sclm: supply-chain analytics reports and tools"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for name, help_text in (
        ("report", "execute a case-study notebook and export its HTML report"),
        ("execute", "execute a case-study notebook with papermill (build/executed/<case>.ipynb)"),
        ("export", "export an executed notebook to reports/<case>/ (index.html, manifest.json)"),
    ):
        p = sub.add_parser(name, help=help_text)
        p.add_argument("case", type=_case, help=f"one of {', '.join(config.CASES)}")
        p.add_argument("--params", help="YAML parameters file (default params/<case>.yaml)")
        p.add_argument(
            "--set", action="append", default=[], metavar="NAME=VALUE", help="override one parameter"
        )
        p.add_argument("--report-dir", help="output folder (default reports/<case>)")
    sub.add_parser("cases", help="list the case studies")
    t = sub.add_parser(
        "timings", help="wall and CPU seconds of rendered reports (reports/<case>/timing.json)"
    )
    t.add_argument("cases", nargs="*", type=_case, help="default: every case")
    t.add_argument("--report-root", help="folder holding <case>/timing.json (default reports)")
    t.add_argument(
        "--total-wall", type=float, metavar="S", help="wall seconds of the whole run, printed last"
    )
    a = sub.add_parser("ask", help="answer an instruction (zh or en): forecast, explain, plan, monitor")
    a.add_argument("instruction", help='e.g. "预测未来两周的库存" or "Why do we ship from p1 to c2?"')
    a.add_argument("--scenario", choices=list(config.CASES), help="scenario when the instruction names none")
    a.add_argument("--network", metavar="FILE", help="network file (YAML/JSON) for network questions")
    a.add_argument("--lang", choices=["zh", "en"], help="language of the answer (default: the instruction's)")
    a.add_argument("--json", action="store_true", help="print the Answer as JSON instead of text")
    a.add_argument("--seed", type=int, default=0, help="scenario and training seed (default 0)")
    a.add_argument("--horizon", type=int, help="days, when the instruction names none")
    a.add_argument("--figures", metavar="DIR", help="write the answer's figures as PNG files into DIR")
    a.add_argument("--cache-dir", metavar="DIR", help="model cache (default build/ask)")
    a.add_argument(
        "--no-llm",
        action="store_true",
        help="read the instruction with the offline parser even when SCLM_LLM_* configures a model",
    )
    a.add_argument(
        "--llm-policy",
        choices=("propose", "fallback"),
        default="propose",
        help="with a configured model: 'propose' uses its valid proposal (default); 'fallback' keeps the "
        "parser's task and asks the model only for phrasings the parser refuses",
    )
    return parser


def _ask(args: argparse.Namespace) -> int:
    import json

    from sclm.assistant import TaskView, ask

    try:
        answer = ask(
            args.instruction,
            scenario=args.scenario,
            network=args.network,
            lang=args.lang,
            seed=args.seed,
            horizon=args.horizon,
            cache_dir=args.cache_dir,
            figures=bool(args.figures),
            llm=False if args.no_llm else None,
            llm_policy=args.llm_policy,
        )
    except (ValueError, KeyError, FileNotFoundError) as exc:  # parser refusals, unknown names, bad files
        print(f"sclm ask: error: {exc}", file=sys.stderr)
        return 2
    paths = answer.save_figures(args.figures) if args.figures else []
    if args.json:
        out = answer.model_dump(mode="json")
        out["figure_files"] = [str(p) for p in paths]
        print(json.dumps(out, ensure_ascii=False, indent=1))
        return 0
    task = TaskView.of(answer.task).as_dict()
    shown = {k: v for k, v in task.items() if v not in (None, [], {})}
    by = answer.parsed_by
    if by.get("backend"):
        note = (
            f" (read by {by['backend']}"
            + (f"; fell back to the parser: {by['fallback']}" if by.get("fallback") else "")
            + ")"
        )
    else:
        note = ""
    print("Task: " + json.dumps(shown, ensure_ascii=False) + note)
    print()
    print(answer.text)
    for p in paths:
        print(f"figure: {p}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "ask":
        return _ask(args)
    if args.command == "cases":
        for case, stem in config.CASES.items():
            print(f"{case}\tnotebooks/{stem}.ipynb\tparams/{case}.yaml")
        return 0
    from sclm import reporting

    if args.command == "timings":
        print(reporting.timings_table(args.cases or list(config.CASES), args.report_root))
        if args.total_wall is not None:
            print(f"{'all reports':<15}{args.total_wall:>9.1f} s wall")
        return 0

    params_file = args.params or config.PARAMS_DIR / f"{args.case}.yaml"
    overrides = _parse_set(args.set)
    try:
        if args.command in ("report", "execute"):
            out = reporting.execute(args.case, params_file, overrides, report_dir=args.report_dir)
            print(f"executed {reporting.relative_name(out)}")
        if args.command in ("report", "export"):
            html = reporting.export(args.case, report_dir=args.report_dir, params_file=params_file)
            print(f"wrote {reporting.relative_name(html)}")
    except (FileNotFoundError, ValueError, KeyError) as exc:
        print(f"sclm {args.command}: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
