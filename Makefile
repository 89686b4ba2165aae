# clinx-serve: the two commands a newcomer needs are `make serve` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt
BUNDLE ?= models/demo
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: serve demo test lint bench install-serve install-train install-dev install-bench java clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

# Stamps: reinstall only when the project's dependency files change.
$(VENV)/.serve: pyproject.toml constraints.txt | $(VENV)/bin/python
	$(PIP) -e '.[serve]'
	touch $@

$(VENV)/.train: pyproject.toml constraints.txt | $(VENV)/bin/python
	$(PIP) torch==2.13.0
	$(PIP) -e '.[serve,train]'
	touch $@

$(VENV)/.dev: pyproject.toml constraints.txt $(VENV)/.train
	$(PIP) -e '.[serve,train,dev]'
	touch $@

$(VENV)/.bench: pyproject.toml constraints.txt $(VENV)/.train
	$(PIP) -e '.[serve,train,bench]'
	touch $@

install-serve: $(VENV)/.serve
install-train: $(VENV)/.train
install-dev: $(VENV)/.dev
install-bench: $(VENV)/.bench

# The demo bundle is built once (under a minute of `clinx demo` on 2 idle cores) and reused while it exists.
$(BUNDLE)/manifest.json: | $(VENV)/.train
	$(VENV)/bin/clinx demo --output $(BUNDLE)

demo: $(BUNDLE)/manifest.json

serve: $(VENV)/.serve $(BUNDLE)/manifest.json
	$(VENV)/bin/clinx serve --bundle $(BUNDLE) --host $(HOST) --port $(PORT)

# Spark (`clinx bulk` and its tests) needs a Java 17 runtime: installed once where apt-get can (CI runs as
# root); elsewhere the Spark tests skip, saying so.
java:
	@command -v java >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	  apt-get update -qq && apt-get install -y -qq --no-install-recommends openjdk-17-jre-headless; } || \
	  echo "make: no Java 17 and none installable here: the Spark tests will skip"

test: $(VENV)/.dev java
	$(PY) -m pytest $(PYTEST_ARGS)

# The benchmark harness (not part of the tests): builds its bundles once, then about 40 minutes on 2 cores.
BENCH_MODELS ?= demo,xlmr-base,clinx-large
bench: $(VENV)/.bench
	$(PY) benchmarks/run.py --models $(BENCH_MODELS) $(BENCH_ARGS)

lint: $(VENV)/.dev
	$(VENV)/bin/ruff check app model_export clinx_cli clinx_bulk tests benchmarks
	$(VENV)/bin/mypy

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
