# The README's two commands: `make demo` and `make test`.
# Both create .venv from uv.lock (exact versions) when it is missing or out of date.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
UV_VERSION := 0.13.9
UV := .uv/bin/uv
VENV := .venv
INSTALLED := $(VENV)/.installed
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: env demo test lock clean

env: $(INSTALLED)

$(UV):
	$(PYTHON) -m venv .uv
	.uv/bin/python -m pip install --quiet uv==$(UV_VERSION)

$(INSTALLED): pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --all-extras --compile-bytecode --python $(PYTHON)
	touch $@

DEMO_TRUTH := --set D0_ref=2e4 --set alpha_ref=-0.3 --set D0_sample=8e4 --set v0=1200 --set beta=0.3 --set f0=0.3

demo: env
	$(VENV)/bin/heterodyne simulate demo/demo.h5 --seed 1 --force $(DEMO_TRUTH)
	$(VENV)/bin/heterodyne inspect demo/demo.h5
	$(VENV)/bin/heterodyne --config config/analysis.yaml --data demo/demo.h5

test: env
	$(VENV)/bin/python -m pytest -n 2 -q

lock: | $(UV)
	$(UV) lock

clean:
	rm -rf $(VENV) .uv demo .pytest_cache
