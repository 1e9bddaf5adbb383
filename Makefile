# The course in two commands:  `make lab` (start the course)  and  `make test` (run every test).
# Everything else is a step of those two, also usable alone; `make` alone (or `make help`) lists them.
#
# Two installs into .venv, both pinned by constraints.txt: the learner's (`make setup`: the course_lib runtime,
# JupyterLab and the notebooks' libraries) and the contributor's (`make setup-dev`: that plus the test, lint and
# benchmark tools). They install with uv, itself pinned and installed into .venv by pip first: it takes a sixth of
# pip's CPU time for the same pins. `make INSTALLER=pip lab` uses pip alone.

PYTHON ?= python3
# Python may write its bytecode caches (.gitignore leaves them out) even where the environment says not to: a test
# run starts hundreds of Python processes (workers, kernels, JupyterLab servers), and without the caches every one
# compiles every module it imports from source again (measured: a tenth of the pytest run's time, a quarter of its
# CPU time).
unexport PYTHONDONTWRITEBYTECODE
VENV   ?= .venv
PY      = $(VENV)/bin/python
PINS    = $(shell cat pyproject.toml constraints.txt | cksum | cut -d' ' -f1)
LEARNER     = $(VENV)/.learner-$(PINS)
CONTRIBUTOR = $(VENV)/.contributor-$(PINS)
INSTALLER ?= uv
PIP     = $(PY) -m pip install --disable-pip-version-check
ifeq ($(INSTALLER),pip)
INSTALL = $(PIP)
else
INSTALL = $(VENV)/bin/uv pip install --python $(PY)
GET_UV  = @test -x $(VENV)/bin/uv || { echo "installing the pinned uv into $(VENV)"; $(PIP) -c constraints.txt uv; }
endif
# six workers, even on two cores: a test mostly waits on a broker or Chromium (on the 2-core CI machine pytest took
# 266 s with four workers and 224-228 s with six, the cores 87 % busy); a notebook's cells stay in one kernel, and
# the slowest units go first (tests/scheduling.py says why)
XDIST   = -n 6 --dist loadfile --no-loadscope-reorder
NBVAL   = --nbval-lax --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg --nbval-cell-timeout=120 --nbval-kernel-startup-timeout=180

.DEFAULT_GOAL := help
.PHONY: help lab test setup setup-dev services stop doctor reset unit integration notebooks notebook browser lint \
	bench bench-quick clean test-repeat test-under-load test-install \
	lite lite-serve test-lite

help:  ## list the targets
	@echo "make lab     start the course (the learner's install, services, pre-flight check, JupyterLab)"
	@echo "make test    run every test (the contributor's install, lint, unit, integration, notebooks, browser)"
	@echo
	@awk 'BEGIN {FS = ":.*## "} /^[a-z][a-zA-Z0-9_-]*:.*## / {printf "  make %-17s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

lab: services  ## start the course: services (what can start), pre-flight doctor, JupyterLab on notebook 00
	$(PY) -m course_lib lab

test: setup-dev services lint  ## lint, unit, integration, notebook and browser tests against the real services
	$(PY) -m course_lib doctor
	$(PY) -m benchmarks --quick --check --json benchmarks/results/quick.json
	$(PY) -m pytest -m broker_restart tests/integration
	$(PY) -m pytest $(XDIST) -m "not broker_restart" $(NBVAL) --durations=20 tests notebooks

setup: $(LEARNER)  ## the learner's install: runtime and notebooks, pinned (what `make lab` needs)

setup-dev: $(CONTRIBUTOR)  ## the contributor's install: the learner's plus test, lint and benchmark tools

$(LEARNER): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed: set PYTHON=python3.11 (or newer); the README says how to get one")'
	@if ! $(PY) -c '' 2>/dev/null; then echo "creating $(VENV) with $(PYTHON)"; rm -rf $(VENV); $(PYTHON) -m venv $(VENV); fi
	$(GET_UV)
	@echo "installing the course's pinned packages into $(VENV) with $(INSTALLER)"
	$(INSTALL) -c constraints.txt -e '.[postgres]'
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (course)"
	@rm -f $(VENV)/.learner-* $(VENV)/.installed-*
	@touch $@

$(CONTRIBUTOR): $(LEARNER)
	$(GET_UV)
	@echo "installing the contributor's tools (pytest, nbval, playwright, ruff, mypy, ...) into $(VENV)"
	$(INSTALL) -c constraints.txt -e '.[postgres,bench,dev]'
	@rm -f $(VENV)/.contributor-*
	@touch $@

services: setup  ## start what can start (the embedded Kafka broker first, RabbitMQ, PostgreSQL); warns about the rest
	$(PY) -m course_lib services start

stop:  ## stop the embedded Kafka broker
	$(PY) -m course_lib services stop

doctor: setup  ## the pre-flight check
	$(PY) -m course_lib doctor

reset: setup  ## delete the notebooks' queues, topics, groups, schemas and work folders (asks first)
	$(PY) -m course_lib reset

unit: setup-dev  ## the unit tests (no services)
	$(PY) -m pytest tests/unit

integration: setup-dev services  ## the integration tests against the real services
	$(PY) -m pytest tests/integration

notebooks: setup-dev services  ## every notebook under nbval (writes artifacts/notebook-timings.md)
	$(PY) -m pytest -p tests.conftest $(XDIST) $(NBVAL) notebooks

notebook: setup-dev services  ## one notebook: make notebook NB=05
	$(PY) -m pytest $(NBVAL) notebooks/$(NB)*.ipynb

browser: setup-dev services  ## JupyterLab in headless Chromium, one test per widget notebook
	$(PY) -m pytest tests/browser

test-install: setup-dev  ## the learner's install into fresh venvs, with uv and with pip (slow: minutes)
	COURSE_INSTALL_TEST_INSTALLERS=uv,pip $(PY) -m pytest tests/install

lite: setup-dev  ## the zero-install track: notebooks 01-04 and 11 as a static JupyterLite site in dist/lite/
	$(PY) -m lite.build

lite-serve:  ## serve dist/lite/ on 127.0.0.1 (PORT=8000) and print its URL; `make lite` first
	$(PY) -m lite.serve --port $(or $(PORT),8000)

test-lite: setup-dev  ## build the site, run its five notebooks in headless Chromium, offline (a few minutes)
	$(PY) -m pytest tests/lite

REPEAT ?= 5
test-repeat: setup-dev services  ## the integration tests REPEAT times in a row (default 5): a flake cannot hide in one lucky run
	@failed=""; for i in $$(seq $(REPEAT)); do \
	  echo "== integration run $$i of $(REPEAT)"; \
	  $(PY) -m pytest -q $(XDIST) -m "not broker_restart" tests/integration || failed="$$failed $$i"; \
	done; \
	if [ -n "$$failed" ]; then echo "failed runs:$$failed of $(REPEAT)"; exit 1; fi; echo "all $(REPEAT) runs passed"

test-under-load: setup-dev services  ## the pytest run of `make test` with two CPU-burning processes beside it (a slow laptop)
	@$(PY) -c 'while True: pass' & b1=$$!; $(PY) -c 'while True: pass' & b2=$$!; \
	trap 'kill $$b1 $$b2 2>/dev/null' EXIT; \
	$(PY) -m pytest $(XDIST) -m "not broker_restart" $(NBVAL) --durations=20 tests notebooks

lint: setup-dev  ## ruff and mypy
	$(PY) -m ruff check course_lib tests benchmarks solutions tools lite
	$(PY) -m mypy

bench: setup-dev services  ## every benchmark, full size
	$(PY) -m benchmarks --json benchmarks/results/latest.json --markdown benchmarks/results/latest.md

bench-quick: setup-dev services  ## every benchmark, small sizes
	$(PY) -m benchmarks --quick --json benchmarks/results/quick.json

clean:  ## stop the embedded Kafka broker, delete .venv, .course_state and artifacts (works with a broken .venv)
	@if $(PY) -c 'import course_lib.ops.services' 2>/dev/null; then $(PY) -m course_lib services stop; \
	elif [ -s .course_state/kafka-broker.pid ]; then \
	  echo "warning: $(VENV) cannot run the course, so the embedded Kafka broker was not stopped. If it still runs,"; \
	  echo "  stop it by hand: it is the process recorded here (check that its command line is tansu's):"; \
	  cat .course_state/kafka-broker.pid; fi
	rm -rf $(VENV) .course_state artifacts
