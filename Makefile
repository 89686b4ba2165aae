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

.PHONY: serve demo demo-thorough test lint bench install-serve install-train install-dev install-bench browser java clean

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

# The demo bundles are built once (concepts and de-identification side by side, a few minutes of
# `clinx demo` on 2 idle cores) and reused while they exist; one missing is built alone.
$(BUNDLE)/manifest.json $(DEID_BUNDLE)/manifest.json &: | $(VENV)/.train
	$(VENV)/bin/clinx demo --output $(BUNDLE) --deid-output $(DEID_BUNDLE)

$(DEID_SECRET_FILE): | $(VENV)/bin/python
	mkdir -p $(dir $@)
	(umask 077 && $(PY) -c 'import secrets; print(secrets.token_urlsafe(32))' > $@)

demo: $(BUNDLE)/manifest.json $(DEID_BUNDLE)/manifest.json

# The concept demo past the 5-minute budget, to judge it on real notes (about 22 minutes on 2 cores);
# it replaces the quick one at $(BUNDLE), and `make serve` serves it from then on.
demo-thorough: | $(VENV)/.train
	$(VENV)/bin/clinx demo --thorough --output $(BUNDLE) --deid-output $(DEID_BUNDLE)

# Both demo bundles; concepts stays the default model, /deidentify picks the de-identification one.
serve: $(VENV)/.serve $(BUNDLE)/manifest.json $(DEID_BUNDLE)/manifest.json $(DEID_SECRET_FILE)
	CLINX_DEID_SECRET_FILE=$(DEID_SECRET_FILE) $(VENV)/bin/clinx serve --bundle $(BUNDLE),$(DEID_BUNDLE) \
		--host $(HOST) --port $(PORT)

# The browser tests (tests/test_ui_browser.py) drive Debian's chromium through Playwright, which must not
# download a browser of its own. Installed once with apt when missing (root only); where it cannot be
# installed the browser tests skip and say so.
CHROMIUM ?= /usr/bin/chromium
browser:
	@if [ -x "$(CHROMIUM)" ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing chromium (Debian package) for the browser tests"; \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
			chromium fonts-dejavu-core >/dev/null; } || echo "chromium could not be installed: browser tests will skip"; \
	else echo "$(CHROMIUM) is missing and cannot be installed here (needs root + apt-get): browser tests will skip"; fi


# Spark (`clinx bulk` and its tests) needs a Java 17 runtime: installed once where apt-get can (CI runs as
# root); elsewhere the Spark tests skip, saying so.
java:
	@command -v java >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	  apt-get update -qq && apt-get install -y -qq --no-install-recommends openjdk-17-jre-headless; } || \
	  echo "make: no Java 17 and none installable here: the Spark tests will skip"

test: $(VENV)/.dev browser java
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
