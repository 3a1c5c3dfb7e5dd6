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
