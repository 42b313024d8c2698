# The README's two commands: `make demo` and `make test`.
# Both create .venv from uv.lock (exact versions) when it is missing or out of date.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
UV_VERSION := 0.13.9
UV := .uv/bin/uv
VENV := .venv
INSTALLED := $(VENV)/.installed
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: env demo test lint docs lock clean

env: $(INSTALLED)

$(UV):
	$(PYTHON) -m venv .uv
	.uv/bin/python -m pip install --quiet uv==$(UV_VERSION)

$(INSTALLED): pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --all-extras --compile-bytecode --python $(PYTHON)
	touch $@

# The demo is the workflow with its default config (config/config.yaml): it simulates its data,
# fits every run by NLSQ and CMC and writes demo/results/summary.csv.
demo: env
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/bin/snakemake --cores all --workflow-profile profiles/local

test: env
	$(VENV)/bin/python -m pytest -n 2 -q

# ruff (rules in pyproject.toml) over the package, tests and benchmarks; snakefmt over the workflow;
# mypy (settings in pyproject.toml) over the package's annotations.
lint: env
	$(VENV)/bin/ruff check heterodyne tests benchmarks docs/reference.py
	$(VENV)/bin/snakefmt --check Snakefile workflow
	$(VENV)/bin/mypy

# The reference pages docs/reference/*.md, rendered from the docstrings (docs/reference.py);
# tests/docs/test_docs_reference.py fails until they are rendered again after a docstring changes.
docs: env
	$(VENV)/bin/python docs/reference.py

lock: | $(UV)
	$(UV) lock

clean:
	rm -rf $(VENV) .uv demo .pytest_cache
