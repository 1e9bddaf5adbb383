# The course in two commands:  `make lab` (start the course)  and  `make test` (run every test).
# Everything else is a step of those two, also usable alone.

PYTHON ?= python3
VENV   ?= .venv
PY      = $(VENV)/bin/python
STAMP   = $(VENV)/.installed-$(shell cat pyproject.toml constraints.txt | cksum | cut -d' ' -f1)
NBVAL   = --nbval-lax --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg --nbval-cell-timeout=120

.PHONY: lab test setup services stop doctor reset unit integration notebooks notebook browser lint bench bench-quick clean \
	test-repeat test-under-load

lab: services  ## start the course: services, pre-flight doctor, JupyterLab on notebook 00
	$(PY) -m course_lib lab

test: services lint  ## lint, unit, integration, notebook and browser tests against the real services
	$(PY) -m course_lib doctor
	$(PY) -m benchmarks --quick --check --json benchmarks/results/quick.json
	$(PY) -m pytest -m broker_restart tests/integration
	$(PY) -m pytest -n 2 --dist loadfile -m "not broker_restart" $(NBVAL) tests notebooks

setup: $(STAMP)  ## the virtual environment with pinned versions

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed: set PYTHON=python3.11 (or newer)")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[postgres,bench,dev]'
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (course)" >/dev/null
	rm -f $(VENV)/.installed-*
	touch $@

services: setup  ## start RabbitMQ (if installed) and the embedded Kafka broker; idempotent
	$(PY) -m course_lib services start

stop:  ## stop the embedded Kafka broker
	$(PY) -m course_lib services stop

doctor: setup  ## the pre-flight check
	$(PY) -m course_lib doctor

reset: setup  ## delete the notebooks' queues, topics, groups, schemas and work folders (asks first)
	$(PY) -m course_lib reset

unit: setup
	$(PY) -m pytest tests/unit

integration: services
	$(PY) -m pytest tests/integration

notebooks: services  ## every notebook under nbval (writes artifacts/notebook-timings.md)
	$(PY) -m pytest -p tests.conftest -n 2 --dist loadfile $(NBVAL) notebooks

notebook: services  ## one notebook: make notebook NB=05
	$(PY) -m pytest $(NBVAL) notebooks/$(NB)*.ipynb

browser: services
	$(PY) -m pytest tests/browser

REPEAT ?= 5
test-repeat: services  ## the integration tests REPEAT times in a row (default 5): a flake cannot hide in one lucky run
	@failed=""; for i in $$(seq $(REPEAT)); do \
	  echo "== integration run $$i of $(REPEAT)"; \
	  $(PY) -m pytest -q -n 2 --dist loadfile -m "not broker_restart" tests/integration || failed="$$failed $$i"; \
	done; \
	if [ -n "$$failed" ]; then echo "failed runs:$$failed of $(REPEAT)"; exit 1; fi; echo "all $(REPEAT) runs passed"

test-under-load: services  ## the pytest run of `make test` with two CPU-burning processes beside it (a slow laptop)
	@$(PY) -c 'while True: pass' & b1=$$!; $(PY) -c 'while True: pass' & b2=$$!; \
	trap 'kill $$b1 $$b2 2>/dev/null' EXIT; \
	$(PY) -m pytest -n 2 --dist loadfile -m "not broker_restart" $(NBVAL) tests notebooks

lint: setup
	$(PY) -m ruff check course_lib tests benchmarks solutions tools
	$(PY) -m mypy

bench: services  ## every benchmark, full size
	$(PY) -m benchmarks --json benchmarks/results/latest.json --markdown benchmarks/results/latest.md

bench-quick: services
	$(PY) -m benchmarks --quick --json benchmarks/results/quick.json

clean: stop
	rm -rf $(VENV) .course_state artifacts
