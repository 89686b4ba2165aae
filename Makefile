# clinx-serve: the two commands a newcomer needs are `make serve` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt
BUNDLE ?= models/demo
DEID_BUNDLE ?= models/demo-deid
# The demo's de-identification secret: random, made once, readable only by you (never a default key).
DEID_SECRET_FILE ?= models/demo-deid.secret
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: serve demo test lint bench install-serve install-train install-dev install-bench clean

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

# The demo bundles are built once (concepts and de-identification, a few minutes of `clinx demo` on 2
# idle cores) and reused while they exist.
$(BUNDLE)/manifest.json: | $(VENV)/.train
	$(VENV)/bin/clinx demo --only concepts --output $(BUNDLE)

$(DEID_BUNDLE)/manifest.json: | $(VENV)/.train
	$(VENV)/bin/clinx demo --only deid --deid-output $(DEID_BUNDLE)

$(DEID_SECRET_FILE): | $(VENV)/bin/python
	mkdir -p $(dir $@)
	(umask 077 && $(PY) -c 'import secrets; print(secrets.token_urlsafe(32))' > $@)

demo: $(BUNDLE)/manifest.json $(DEID_BUNDLE)/manifest.json

# Both demo bundles; concepts stays the default model, /deidentify picks the de-identification one.
serve: $(VENV)/.serve $(BUNDLE)/manifest.json $(DEID_BUNDLE)/manifest.json $(DEID_SECRET_FILE)
	CLINX_DEID_SECRET_FILE=$(DEID_SECRET_FILE) $(VENV)/bin/clinx serve --bundle $(BUNDLE),$(DEID_BUNDLE) \
		--host $(HOST) --port $(PORT)

test: $(VENV)/.dev
	$(PY) -m pytest $(PYTEST_ARGS)

# The benchmark harness (not part of the tests): builds its bundles once, then about 40 minutes on 2 cores.
BENCH_MODELS ?= demo,xlmr-base,clinx-large
bench: $(VENV)/.bench
	$(PY) benchmarks/run.py --models $(BENCH_MODELS) $(BENCH_ARGS)

lint: $(VENV)/.dev
	$(VENV)/bin/ruff check app model_export tests benchmarks
	$(VENV)/bin/mypy

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
