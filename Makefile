# sclm — one Makefile for setup, tests, reports, benchmarks and lint.
# `make help` lists the targets.  Everything runs inside .venv, built from
# pyproject.toml + constraints.txt (rebuilt when either changes).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DELETE_ON_ERROR:
.DEFAULT_GOAL := help
.SECONDEXPANSION:
MAKEFLAGS += --no-builtin-rules

# Reproducibility and offline operation, for every recipe and every kernel it starts.
export PYTHONHASHSEED := 0
export CUBLAS_WORKSPACE_CONFIG := :4096:8
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export HF_DATASETS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false
export PYDEVD_DISABLE_FILE_VALIDATION := 1

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.stamp
EXTRAS := ml,notebooks,dev

CASES := manufacturing logistics retail
SOURCES := $(shell find sclm -name '*.py' 2>/dev/null)
PARAMS ?=
PYTEST_ARGS ?=

.PHONY: help setup test reports lab bench lint format clean constraints $(addprefix report-,$(CASES))

help: ## list the targets
	@echo "sclm — make targets:"
	@grep -hE '^[a-zA-Z_%$$(), -]+:.*?## ' $(MAKEFILE_LIST) | sed -E 's/^\$$\(addprefix ([a-z-]+),.*## (.*)/\1<case>: ## \2/; s/^([^:]+):.*## (.*)/  \1\t\2/' | expand -t 22

setup: $(STAMP) ## build .venv from pyproject.toml and constraints.txt

$(STAMP): pyproject.toml constraints.txt
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt "torch==2.13.0"
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[$(EXTRAS)]"
	touch $@

test: $(STAMP) ## run lint, notebook hygiene and the whole test suite
	$(PY) -m pytest -n 2 $(PYTEST_ARGS)

# The three reports run at once (REPORT_JOBS kernels) with one thread each: torch is fixed to one
# thread by sclm.case_study.start (its results depend on the thread count), OMP_NUM_THREADS=1 keeps
# LightGBM and BLAS from oversubscribing the cores; the document tagger all three train is trained
# once (sclm.reporting.shared_cache under build/cache).  Then the wall and CPU seconds of each
# report (reports/<case>/timing.json) and of the whole run are printed.
REPORT_JOBS ?= 3

reports: ## render all three case-study reports in parallel (REPORT_JOBS=3) and print their times
	@t0=$$(date +%s); \
	OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 \
	  $(MAKE) --no-print-directory -j$(REPORT_JOBS) $(foreach c,$(CASES),reports/$(c)/index.html); \
	$(PY) -m sclm.cli timings $(CASES) --total-wall $$(( $$(date +%s) - t0 )) | tee build/reports-timing.txt

# report-<case> is phony, and make applies no pattern rule to a phony target: a static pattern rule.
$(addprefix report-,$(CASES)): report-%: reports/%/index.html ## render one report: report-manufacturing, report-logistics, report-retail
	@:

# Executed notebooks stay under build/ for inspection; make must not delete them.
.PRECIOUS: build/executed/%.ipynb

build/executed/%.ipynb: $$(wildcard notebooks/4.*-$$*.ipynb) params/%.yaml $(SOURCES) $(STAMP)
	$(PY) -m sclm.cli execute $* --params params/$*.yaml $(PARAMS)

reports/%/index.html: build/executed/%.ipynb
	$(PY) -m sclm.cli export $* --params params/$*.yaml

lab: $(STAMP) ## open JupyterLab on the project
	$(VENV)/bin/jupyter lab --notebook-dir=.

# bench/forecast.py's full run takes hours on 2 CPU cores (it wants a GPU): make bench runs its
# --quick mode (about an hour); run the full one by hand: .venv/bin/python bench/forecast.py --device cuda
BENCH_ARGS_forecast := --quick

bench: $(STAMP) ## run every benchmark in bench/ (tables on stdout, JSON under build/bench/)
	@set -e; for b in bench/*.py; do n=$$(basename $$b .py); echo "== $$b"; \
	  $(PY) $$b $$( [ "$$n" = forecast ] && echo "$(BENCH_ARGS_forecast)" ); done

lint: $(STAMP) ## ruff check and format check (code and notebooks)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP) ## apply ruff fixes and formatting, strip notebook outputs
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .
	$(VENV)/bin/nbstripout --keep-id notebooks/*.ipynb

constraints: ## regenerate constraints.txt from a fresh environment
	rm -rf build/constraints-venv
	$(PYTHON) -m venv build/constraints-venv
	build/constraints-venv/bin/pip install --quiet "torch==2.13.0"
	build/constraints-venv/bin/pip install --quiet ".[$(EXTRAS)]"
	{ sed -n '1,2p' constraints.txt; build/constraints-venv/bin/pip freeze --exclude sclm | sed 's/^torch==2.13.0+cpu$$/torch==2.13.0/'; } > constraints.txt.new
	mv constraints.txt.new constraints.txt

clean: ## remove build outputs and generated reports (keeps .venv)
	rm -rf build reports/*/ .pytest_cache .ruff_cache .hypothesis
	find . -name __pycache__ -type d -not -path './$(VENV)/*' -prune -exec rm -rf {} +
