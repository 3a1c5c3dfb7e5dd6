"""Repository hygiene that CI enforces through ``make test``: lint, formatting, clean notebooks,
and no machine-specific absolute paths."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sclm import config

ROOT = config.PROJECT_ROOT


def _ruff() -> list[str]:
    exe = Path(sys.executable).with_name("ruff")
    if exe.exists():
        return [str(exe)]
    if shutil.which("ruff"):
        return ["ruff"]
    pytest.skip("ruff is not installed in this environment")


def _tracked(pattern: str) -> list[Path]:
    try:
        out = subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard", pattern],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        return sorted(ROOT.glob(f"**/{pattern}"))
    return sorted(ROOT / p for p in out if (ROOT / p).exists())


def test_ruff_check_passes():
    res = subprocess.run([*_ruff(), "check", "--no-cache", "."], cwd=ROOT, capture_output=True, text=True)
    assert res.returncode == 0, f"ruff check failed (run `make format`):\n{res.stdout}{res.stderr}"


def test_ruff_format_is_clean():
    res = subprocess.run(
        [*_ruff(), "format", "--check", "--no-cache", "."], cwd=ROOT, capture_output=True, text=True
    )
    assert res.returncode == 0, (
        f"ruff format would change files (run `make format`):\n{res.stdout}{res.stderr}"
    )


def test_committed_notebooks_have_no_outputs():
    notebooks = _tracked("*.ipynb")
    assert notebooks, "no notebooks found"
    dirty = []
    for path in notebooks:
        nb = json.loads(path.read_text(encoding="utf-8"))
        for i, cell in enumerate(nb["cells"]):
            if cell["cell_type"] == "code" and (cell.get("outputs") or cell.get("execution_count")):
                dirty.append(f"{path.relative_to(ROOT)} cell {i}")
    assert not dirty, f"notebooks carry outputs (run `make format` / nbstripout): {dirty}"


def test_case_notebooks_have_one_parameters_cell_of_literals():
    from sclm.reporting import notebook_parameters

    for case in config.CASES:
        params = notebook_parameters(config.notebook_path(case))
        assert params["case"] == case
        assert {"seed", "n_days", "p", "scenario_options"} <= set(params)


ABSOLUTE = re.compile(r"(?<![\w.])/(?:work|home|root|Users|tmp|opt)/[\w.-]+")


def test_no_machine_absolute_paths_in_tracked_text():
    offenders = []
    for pattern in ("*.py", "*.md", "*.yaml", "*.yml", "*.ipynb", "*.toml", "Makefile"):
        for path in _tracked(pattern):
            if ".venv" in path.parts or "build" in path.relative_to(ROOT).parts[:1]:
                continue
            for n, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
                if ABSOLUTE.search(line) and "noqa: abs-path" not in line:
                    offenders.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()[:100]}")
    assert not offenders, "absolute machine paths found:\n" + "\n".join(offenders)


def _package_sources() -> list[Path]:
    return [p for p in _tracked("*.py") if p.relative_to(ROOT).parts[0] == "sclm"]


# Defaults owned by other modules that still read "cpu" (to change there; remove from this set then).
DEVICE_DEFAULT_PENDING: set[str] = set()


def test_device_defaults_to_auto_everywhere():
    """One meaning per name: a ``device`` parameter defaults to ``"auto"`` (cuda, else mps, else cpu)."""
    import ast

    wrong = []
    for path in _package_sources():
        rel = path.relative_to(ROOT).as_posix()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            args = [*node.args.posonlyargs, *node.args.args]
            pairs = list(zip(args[len(args) - len(node.args.defaults) :], node.args.defaults, strict=True))
            pairs += [(a, d) for a, d in zip(node.args.kwonlyargs, node.args.kw_defaults, strict=True) if d]
            for arg, default in pairs:
                if arg.arg != "device" or f"{rel}:{node.name}" in DEVICE_DEFAULT_PENDING:
                    continue
                value = default.value if isinstance(default, ast.Constant) else ast.unparse(default)
                if value not in ("auto", None):
                    wrong.append(f"{rel}:{node.lineno} {node.name}(device={value!r})")
    assert not wrong, 'device parameters must default to "auto":\n' + "\n".join(wrong)


# Files owned elsewhere that still cite the design notes outside the repository (to change there).
OUTSIDE_REFERENCE_PENDING: set[str] = set()


def test_docs_point_only_inside_the_repository():
    """Comments and docstrings cite files in the repository (docs/architecture.md), not outside it."""
    assert (ROOT / "docs" / "architecture.md").is_file()
    outside = re.compile(r"DESIGN\.md|\.\./shared/(?!data\b)")
    offenders = []
    for pattern in ("*.py", "*.md", "*.ipynb", "*.yaml", "*.yml", "*.toml", "Makefile"):
        for path in _tracked(pattern):
            rel = path.relative_to(ROOT)
            if rel.parts[0] in (".venv", "build") or rel.as_posix() in OUTSIDE_REFERENCE_PENDING:
                continue
            for n, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
                if outside.search(line):
                    offenders.append(f"{rel}:{n}: {line.strip()[:100]}")
    assert not offenders, "references to files outside the repository:\n" + "\n".join(offenders)
