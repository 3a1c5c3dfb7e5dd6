"""Reports: record metrics and figures from a notebook, execute it with papermill,
export byte-stable HTML, and write ``metrics.json`` and ``manifest.json``.

The flow for one case study (``make report-<case>`` or ``sclm report <case>``)::

    params/<case>.yaml ──► papermill ──► build/executed/<case>.ipynb
        ──► renumber cell ids, drop timings ──► nbconvert (no input cells)
        ──► reports/<case>/index.html + metrics.json + manifest.json

The notebook learns where to write through the environment variable
``SCLM_REPORT_DIR`` (set by :func:`execute`); run interactively it writes under
``build/lab/<case>`` instead, so JupyterLab never overwrites a rendered report.
Nothing written depends on time, host or absolute paths: the same parameters
give the same bytes on the same machine.  The one exception is ``timing.json``
(wall and CPU seconds of the run, per section), a sidecar that no other output
names by hash: the page's provenance block points to it instead of quoting
times that change with the machine's load.

Work that several reports repeat with the same inputs (the document tagger: the
same generated corpus and training settings in every case study) is kept in
:func:`shared_cache` under ``build/cache/``, keyed by everything it depends on,
so it is done once per ``make reports`` however many kernels run at once.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import io
import json
import logging
import math
import os
import shutil
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sclm import config
from sclm.repro import provenance, relative_name, sha256_file

REPORT_DIR_ENV = "SCLM_REPORT_DIR"
TIMING_FILE = "timing.json"
"""Sidecar of a report folder with the run's wall and CPU seconds (not byte-stable, not hashed)."""


def _jsonable(value: Any) -> Any:
    """Plain JSON types for numpy/pandas scalars and containers; non-finite floats become None."""
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return [_jsonable(v) for v in value.tolist()]
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating | float):
        v = float(value)
        return v if math.isfinite(v) else None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def dump_json(obj: Any, path: str | os.PathLike[str]) -> Path:
    """Write ``obj`` as sorted, indented JSON with a trailing newline (byte-stable)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps(_jsonable(obj), indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return path


class Report:
    """Collects metrics, figures and inputs while a case-study notebook runs.

    Parameters
    ----------
    case
        Case-study name (``manufacturing``, ``logistics``, ``retail``, or any label).
    params
        The notebook's parameters, recorded in ``metrics.json`` and the provenance.
    report_dir
        Output folder; default ``$SCLM_REPORT_DIR`` or ``build/lab/<case>``.
    """

    def __init__(
        self,
        case: str,
        params: Mapping[str, Any] | None = None,
        report_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        self.case = case
        self.params = dict(params or {})
        chosen = report_dir or os.environ.get(REPORT_DIR_ENV) or config.BUILD_DIR / "lab" / case
        self.report_dir = Path(chosen)
        self.metrics: dict[str, Any] = {}
        self.descriptions: dict[str, str] = {}
        self.inputs: list[Path] = []
        self.figures: list[str] = []
        self.scenarios: list[dict[str, Any]] = []
        self._clock = (time.perf_counter(), time.process_time())

    def metric(self, name: str, value: Any, description: str = "") -> Any:
        """Record one metric (a number, string or small list/dict) and return the value."""
        if name in self.metrics:
            raise ValueError(f"metric {name!r} recorded twice in report {self.case!r}")
        self.metrics[name] = _jsonable(value)
        if description:
            self.descriptions[name] = description
        return value

    def scenario(self, sc: Any) -> Any:
        """Record the scenario a report simulates, with where its documents' names came from.

        The entry (scenario ``name``, ``seed``, ``params`` and ``document_names``: the option,
        the source actually used and the sha256 of the name pools) goes into ``metrics.json``
        and the manifest (key ``scenarios``), so two reports with different names say so.

        Parameters
        ----------
        sc
            A :class:`sclm.scenarios.Scenario` (anything with such a ``meta`` mapping).

        Returns
        -------
        Scenario
            ``sc`` unchanged, so ``sc = report.scenario(make_scenario(...))`` reads as one step.

        Raises
        ------
        ValueError
            ``sc.meta`` lacks ``name``, ``seed`` or ``document_names``.
        """
        meta = getattr(sc, "meta", None)
        missing = [
            k for k in ("name", "seed", "document_names") if not isinstance(meta, Mapping) or k not in meta
        ]
        if missing:
            raise ValueError(
                f"report.scenario() needs a Scenario whose meta has {missing}; got {type(sc).__name__}"
            )
        self.scenarios.append(
            _jsonable(
                {
                    "name": meta["name"],
                    "seed": meta["seed"],
                    "params": meta.get("params", {}),
                    "document_names": meta["document_names"],
                }
            )
        )
        return sc

    def add_input(self, path: str | os.PathLike[str]) -> None:
        """Record a file the report read; its sha256 goes into the manifest."""
        p = Path(path)
        if not p.is_file():
            raise FileNotFoundError(f"report input {str(p)!r} does not exist")
        self.inputs.append(p)

    def figure(self, fig: Any, name: str) -> Path:
        """Save a matplotlib figure as ``figures/<name>.png`` (no timestamp metadata) and return the path.

        The figure stays open so the notebook still shows it inline.
        """
        if not name.replace("_", "").replace("-", "").isalnum():
            raise ValueError(f"figure name {name!r} must be alphanumeric with - or _")
        path = self.report_dir / "figures" / f"{name}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, format="png", dpi=100, metadata={"Software": None}, bbox_inches="tight")
        self.figures.append(name)
        return path

    def save(self) -> Path:
        """Write ``metrics.json`` (case, parameters, metrics, descriptions, figures and, when
        :meth:`scenario` was called, ``scenarios``) and return its path."""
        record: dict[str, Any] = {
            "case": self.case,
            "params": self.params,
            "metrics": self.metrics,
            "descriptions": self.descriptions,
            "figures": self.figures,
        }
        if self.scenarios:
            record["scenarios"] = self.scenarios
        self.save_timing()
        return dump_json(record, self.report_dir / "metrics.json")

    def save_timing(self) -> Path:
        """Write ``timing.json``: wall and CPU seconds since the report was opened.

        CPU seconds are the kernel process's user + system time (every thread), so a run on a
        loaded machine shows its own cost beside its wall time.  :func:`export` adds the
        per-section times from the executed notebook.  The file changes from run to run; no
        other output records its hash.
        """
        wall0, cpu0 = self._clock
        record = {
            "case": self.case,
            "wall_s": round(time.perf_counter() - wall0, 1),
            "cpu_s": round(time.process_time() - cpu0, 1),
            "torch_threads": _torch_threads(),
        }
        return dump_json(record, self.report_dir / TIMING_FILE)

    def provenance(self) -> dict[str, Any]:
        """Provenance of this report (versions, parameters, sha256 of inputs and sources)."""
        return provenance(self.params, self.inputs)

    def provenance_markdown(self) -> str:
        """A short Markdown block for the end of the report."""
        prov = self.provenance()
        pk = ", ".join(f"{k} {v}" for k, v in prov["packages"].items())
        params = ", ".join(f"`{k}={v!r}`" for k, v in prov["params"].items())
        lines = [
            "### Provenance",
            f"- Parameters: {params}",
            f"- Python {prov['python']}; {pk}",
            f"- sclm sources sha256: `{prov['sources_sha256'][:16]}…` ({len(prov['sources'])} files)",
        ]
        for name, digest in prov["inputs"].items():
            lines.append(f"- Input `{name}` sha256 `{digest[:16]}…`")
        for sc in self.scenarios:
            names = sc["document_names"]
            lines.append(
                f"- Scenario `{sc['name']}` seed {sc['seed']}: document names `{names['source']}` "
                f"sha256 `{names['sha256'][:16]}…`"
            )
        lines.append(
            f"- Run time: wall and CPU seconds of this run, per section, in `{TIMING_FILE}` beside this "
            "page (kept off the page, so that the same parameters give the same bytes on any machine)."
        )
        lines.append("- Full record: `manifest.json` beside this page.")
        return "\n".join(lines)


def _torch_threads() -> int | None:
    torch = sys.modules.get("torch")
    return None if torch is None else int(torch.get_num_threads())


# --------------------------------------------------------------------------- shared work


def cache_key(fields: Mapping[str, Any]) -> str:
    """Sixteen hex digits of the SHA-256 of ``fields`` as sorted JSON."""
    blob = json.dumps(_jsonable(fields), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]


@contextlib.contextmanager
def shared_cache(
    kind: str, fields: Mapping[str, Any], *, root: str | os.PathLike[str] | None = None, keep: int = 3
) -> Iterator[tuple[Path, bool]]:
    """A folder for work that several reports share, built once under an exclusive lock.

    ``with shared_cache("tagger", fields) as (folder, hit):`` yields ``hit=True`` when a complete
    entry for ``fields`` exists (read it), else ``hit=False`` and an empty folder to fill; the
    entry counts as complete only when the block exits without an exception.  Kernels that ask
    for the same ``fields`` at once wait on a file lock (``fcntl.flock``) until the first has
    written it, so the work is done once however many reports run in parallel.

    Parameters
    ----------
    kind
        Sub-folder of ``root`` (``build/cache/<kind>/<key>``).
    fields
        Everything the result depends on (parameters, package versions, source digests,
        thread counts); its :func:`cache_key` names the entry.  The same fields must give the
        same bytes, so a hit reproduces what a fresh computation would return.
    root
        Default ``build/cache``.
    keep
        Entries of ``kind`` kept after a new one is written (the most recent; older ones whose
        lock is free are removed).
    """
    import fcntl

    base = Path(root) if root is not None else config.BUILD_DIR / "cache"
    folder = base / kind / cache_key(fields)
    folder.parent.mkdir(parents=True, exist_ok=True)
    done = folder / "complete.json"
    with open(folder.with_suffix(".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if done.is_file():
                os.utime(done)
                yield folder, True
                return
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            yield folder, False
            dump_json(fields, done)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    _prune(folder.parent, keep)


def _prune(parent: Path, keep: int) -> None:
    """Remove the entries of one cache kind beyond the ``keep`` most recent (unlocked ones only)."""
    import fcntl

    entries = [p for p in parent.iterdir() if p.is_dir()]
    entries.sort(
        key=lambda p: (p / "complete.json").stat().st_mtime if (p / "complete.json").is_file() else 0
    )
    for old in entries[: max(0, len(entries) - keep)]:
        with open(old.with_suffix(".lock"), "a") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue
            shutil.rmtree(old, ignore_errors=True)
            fcntl.flock(lock, fcntl.LOCK_UN)


# --------------------------------------------------------------------------- running notebooks


def load_params(
    path: str | os.PathLike[str] | None, overrides: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Read a YAML parameters file (a flat mapping of literals) and apply overrides."""
    import yaml

    params: dict[str, Any] = {}
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"parameters file {str(path)!r} does not exist")
        loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if not isinstance(loaded, dict):
            raise ValueError(
                f"parameters file {str(path)!r} must hold a mapping of name: value, got {type(loaded).__name__}"
            )
        params.update(loaded)
    params.update(overrides or {})
    return params


class _Collect(logging.Handler):
    """Keep the log records of one call (papermill reports unreadable parameter lines as warnings)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def notebook_parameters(notebook: str | os.PathLike[str]) -> dict[str, Any]:
    """Names and default values of the notebook's ``parameters`` cell (literals only).

    The cell is read by :func:`papermill.inspect_notebook` (the parser papermill itself uses);
    each default is then evaluated with :func:`ast.literal_eval`.

    Parameters
    ----------
    notebook
        An ``.ipynb`` file with exactly one cell tagged ``parameters``.

    Returns
    -------
    dict
        Parameter name → default value, in cell order (``{"seed": 0, "case": "retail", ...}``).

    Raises
    ------
    ValueError
        Not exactly one ``parameters`` cell; a line papermill cannot read (one ``name = value``
        per line, no ``=`` in the comment); or a default that is not a Python literal.
    """
    import ast

    import nbformat
    import papermill as pm

    nb = nbformat.read(os.fspath(notebook), as_version=4)
    cells = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    if len(cells) != 1:
        raise ValueError(
            f"notebook {relative_name(notebook)!r} must have exactly one cell tagged 'parameters', found {len(cells)}"
        )
    log = logging.getLogger("papermill")
    collect, level = _Collect(), log.level
    log.addHandler(collect)
    if log.getEffectiveLevel() > logging.WARNING:
        log.setLevel(logging.WARNING)
    try:
        found = pm.inspect_notebook(os.fspath(notebook))
    finally:
        log.removeHandler(collect)
        log.setLevel(level)
    unreadable = [m for m in collect.messages if m.startswith("Unable to parse line")]
    if unreadable:
        raise ValueError(
            f"papermill cannot read the parameters cell of {relative_name(notebook)!r}: {unreadable[0]} "
            "Write one 'name = value  # help' per line, without '=' in the help comment."
        )
    out: dict[str, Any] = {}
    for name, param in found.items():
        try:
            out[name] = ast.literal_eval(param["default"])
        except (ValueError, SyntaxError) as exc:
            raise ValueError(
                f"parameter {name!r} in {relative_name(notebook)!r} is not a literal; "
                "put derived values in the next cell"
            ) from exc
    return out


def executed_path(case: str) -> Path:
    """Where the executed notebook of ``case`` is kept."""
    return config.BUILD_DIR / "executed" / f"{case}.ipynb"


def execute(
    case: str,
    params_file: str | os.PathLike[str] | None = None,
    overrides: Mapping[str, Any] | None = None,
    *,
    output: str | os.PathLike[str] | None = None,
    report_dir: str | os.PathLike[str] | None = None,
    notebook: str | os.PathLike[str] | None = None,
) -> Path:
    """Run a case-study notebook with papermill and return the executed notebook's path.

    Parameters
    ----------
    case
        Case name; selects ``notebooks/4.x-<case>.ipynb`` unless ``notebook`` is given.
    params_file, overrides
        YAML parameters and per-run overrides; every name must exist in the notebook's
        ``parameters`` cell.
    output
        Executed notebook path (default ``build/executed/<case>.ipynb``).
    report_dir
        Folder for ``metrics.json`` and figures (default ``reports/<case>``).
    """
    import papermill as pm

    notebook = Path(notebook) if notebook else config.notebook_path(case)
    params = load_params(params_file, overrides)
    known = notebook_parameters(notebook)
    unknown = sorted(set(params) - set(known))
    if unknown:
        raise ValueError(
            f"unknown parameter(s) {unknown} for notebook {relative_name(notebook)!r}"
            + (f" (from {relative_name(params_file)!r})" if params_file else "")
            + f"; its parameters are {sorted(known)}"
        )
    output = Path(output) if output else executed_path(case)
    report_dir = Path(report_dir) if report_dir else config.REPORTS_DIR / case
    output.parent.mkdir(parents=True, exist_ok=True)
    report_dir.mkdir(parents=True, exist_ok=True)
    for stale in ("metrics.json", "manifest.json", "index.html"):
        (report_dir / stale).unlink(missing_ok=True)
    old = os.environ.get(REPORT_DIR_ENV)
    os.environ[REPORT_DIR_ENV] = os.fspath(report_dir.resolve())
    try:
        pm.execute_notebook(
            os.fspath(notebook),
            os.fspath(output),
            parameters=params,
            kernel_name="python3",
            progress_bar=False,
            log_output=False,
            request_save_on_cell_execute=False,
            cwd=os.fspath(notebook.parent),
        )
    finally:
        if old is None:
            os.environ.pop(REPORT_DIR_ENV, None)
        else:
            os.environ[REPORT_DIR_ENV] = old
    if not (report_dir / "metrics.json").is_file():
        raise RuntimeError(
            f"notebook {relative_name(notebook)!r} ran but wrote no metrics.json (call report.save())"
        )
    return output


def _stabilise(nb: Any) -> tuple[Any, list[str]]:
    """Renumber cell ids, drop timing metadata and stderr streams (returned separately)."""
    nb = copy.deepcopy(nb)
    stderr: list[str] = []
    nb.metadata.pop("papermill", None)
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i:04d}"
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
        if cell.cell_type != "code":
            continue
        kept = []
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream" and out.get("name") == "stderr":
                stderr.append(out.get("text", ""))
                continue
            kept.append(out)
        cell["outputs"] = kept
    return nb, stderr


def export_html(
    executed: str | os.PathLike[str], html_path: str | os.PathLike[str], *, title: str
) -> list[str]:
    """Export an executed notebook to HTML without input cells; return any stderr text dropped.

    Cells tagged ``remove-cell`` are dropped and cells tagged ``remove-output`` lose
    their outputs; papermill's injected-parameters cell never shows.
    """
    import nbformat
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import TagRemovePreprocessor

    nb = nbformat.read(os.fspath(executed), as_version=4)
    nb, stderr = _stabilise(nb)
    nb.metadata["title"] = title
    exporter = HTMLExporter(
        template_name="lab", exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True
    )
    exporter.register_preprocessor(
        TagRemovePreprocessor(
            remove_cell_tags={"remove-cell", "injected-parameters"},
            remove_all_outputs_tags={"remove-output"},
            enabled=True,
        ),
        enabled=True,
    )
    body, _ = exporter.from_notebook_node(nb)
    html_path = Path(html_path)
    html_path.parent.mkdir(parents=True, exist_ok=True)
    html_path.write_text(body, encoding="utf-8")
    return stderr


def export(
    case: str,
    executed: str | os.PathLike[str] | None = None,
    report_dir: str | os.PathLike[str] | None = None,
    *,
    params_file: str | os.PathLike[str] | None = None,
) -> Path:
    """Export ``build/executed/<case>.ipynb`` to ``reports/<case>/index.html`` and write the manifest.

    The manifest holds the case, the notebooks, the provenance (versions, parameters, sha256 of
    the inputs and sources), the sha256 of every output and, when the notebook called
    :meth:`Report.scenario`, the ``scenarios`` it simulated with their document-name source and
    sha256.
    """
    executed = Path(executed) if executed else executed_path(case)
    report_dir = Path(report_dir) if report_dir else config.REPORTS_DIR / case
    metrics_path = report_dir / "metrics.json"
    if not metrics_path.is_file():
        raise FileNotFoundError(f"{relative_name(metrics_path)!r} is missing: execute the notebook first")
    html = report_dir / "index.html"
    stderr = export_html(executed, html, title=f"sclm — {case} case study")
    if stderr:
        print(f"[sclm] {case}: dropped {len(stderr)} stderr output(s) from the report:", file=sys.stderr)
        for text in stderr:
            print(io.StringIO(text).read().rstrip()[:2000], file=sys.stderr)
    metrics = json.loads(metrics_path.read_text(encoding="utf-8"))
    _add_section_times(report_dir / TIMING_FILE, executed)
    inputs = [p for p in [params_file] if p]
    prov = provenance(metrics.get("params", {}), inputs)
    outputs = {"index.html": sha256_file(html), "metrics.json": sha256_file(metrics_path)}
    for name in metrics.get("figures", []):
        fig = report_dir / "figures" / f"{name}.png"
        if fig.is_file():
            outputs[f"figures/{name}.png"] = sha256_file(fig)
    manifest = {
        "case": case,
        "notebook": relative_name(config.notebook_path(case)) if case in config.CASES else None,
        "executed_notebook": relative_name(executed),
        "provenance": prov,
        "outputs": outputs,
        "stderr_outputs_dropped": len(stderr),
        "timing": TIMING_FILE,
    }
    if metrics.get("scenarios"):
        manifest["scenarios"] = metrics["scenarios"]
    dump_json(manifest, report_dir / "manifest.json")
    return html


def section_times(executed: str | os.PathLike[str]) -> dict[str, float]:
    """Seconds per report section of an executed notebook (papermill's cell durations).

    A section is a Markdown cell's first ``## `` heading and every code cell up to the next one;
    cells before the first heading count as ``"setup"``.

    Returns
    -------
    dict
        Heading → seconds (rounded to 0.1), in notebook order.
    """
    import nbformat

    nb = nbformat.read(os.fspath(executed), as_version=4)
    out: dict[str, float] = {}
    section = "setup"
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            heads = [ln[3:].strip() for ln in cell.source.splitlines() if ln.startswith("## ")]
            if heads:
                section = heads[0]
            continue
        seconds = cell.metadata.get("papermill", {}).get("duration")
        if cell.cell_type == "code" and seconds is not None:
            out[section] = out.get(section, 0.0) + float(seconds)
    return {k: round(v, 1) for k, v in out.items()}


def _add_section_times(timing: Path, executed: Path) -> None:
    """Add the per-section seconds and papermill's whole duration to ``timing.json`` (if present)."""
    if not timing.is_file():
        return
    import nbformat

    record = json.loads(timing.read_text(encoding="utf-8"))
    nb = nbformat.read(os.fspath(executed), as_version=4)
    duration = nb.metadata.get("papermill", {}).get("duration")
    record["papermill_wall_s"] = None if duration is None else round(float(duration), 1)
    record["sections_wall_s"] = section_times(executed)
    dump_json(record, timing)


def timings_table(cases: Sequence[str], report_root: str | os.PathLike[str] | None = None) -> str:
    """A plain-text table of the ``timing.json`` of each case's report folder (wall and CPU seconds)."""
    root = Path(report_root) if report_root else config.REPORTS_DIR
    lines = [f"{'report':<15}{'wall s':>9}{'CPU s':>9}  slowest sections (wall s)"]
    for case in cases:
        path = root / case / TIMING_FILE
        if not path.is_file():
            lines.append(f"{case:<15}{'-':>9}{'-':>9}  (no {TIMING_FILE})")
            continue
        t = json.loads(path.read_text(encoding="utf-8"))
        wall = t.get("papermill_wall_s") or t.get("wall_s")
        top = sorted(t.get("sections_wall_s", {}).items(), key=lambda kv: -kv[1])[:3]
        lines.append(
            f"{case:<15}{wall:>9.1f}{t.get('cpu_s', float('nan')):>9.1f}  "
            + ", ".join(f"{k[:28]} {v:.0f}" for k, v in top)
        )
    return "\n".join(lines)


def render(
    case: str,
    params_file: str | os.PathLike[str] | None = None,
    overrides: Mapping[str, Any] | None = None,
    *,
    report_dir: str | os.PathLike[str] | None = None,
    executed: str | os.PathLike[str] | None = None,
) -> Path:
    """Execute and export one case study; return the path of ``index.html``."""
    out = execute(case, params_file, overrides, output=executed, report_dir=report_dir)
    return export(case, out, report_dir, params_file=params_file)
