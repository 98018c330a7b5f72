# Two commands for a newcomer: `make run` (install into .venv, start the app) and `make test`.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check
RUN_STAMP := $(VENV)/.nlviz-run
TEST_STAMP := $(VENV)/.nlviz-test
PORT ?= 8501

.PHONY: run test lint bench zoo browser docs-images clean

$(PY):
	python3 -m venv $(VENV)

$(RUN_STAMP): $(PY) requirements.txt pyproject.toml
	$(PIP) install -r requirements.txt
	$(PIP) install --no-deps --no-build-isolation -e .
	touch $@

# Reference packages go in with --no-deps (they would pull torchvision or a second opencv build).
$(TEST_STAMP): $(RUN_STAMP) requirements-test.txt requirements-ref.txt
	$(PIP) install -r requirements-test.txt
	$(PIP) install --no-deps -r requirements-ref.txt
	$(PIP) install addict yapf termcolor packaging pyyaml rich fvcore iopath
	touch $@

run: $(RUN_STAMP)
	$(VENV)/bin/nlviz app --port $(PORT)

# Browser tests need Debian's chromium; as root we install it, otherwise they are skipped loudly.
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	      || echo "WARNING: could not install chromium; browser tests will be skipped"; \
	  else echo "WARNING: /usr/bin/chromium missing and not root: browser tests will be SKIPPED"; fi; \
	fi

# ruff lint and format check at the project's line length (pyproject.toml: 120).
lint: $(TEST_STAMP)
	$(VENV)/bin/ruff check nlviz app tests bench support
	$(VENV)/bin/ruff format --check nlviz app tests bench support

test: $(TEST_STAMP) browser lint
	$(PY) -m pytest -q -p no:cacheprovider

# bench/query.py and the browser tests (NLVIZ_BENCH_WRITE=1) rewrite their sections of bench/README.md; ops.py
# and export.py print markdown tables to paste there.
bench: $(TEST_STAMP) browser
	$(PY) bench/ops.py
	$(PY) bench/query.py
	$(PY) bench/export.py
	NLVIZ_BENCH_WRITE=1 $(PY) -m pytest -q -s -p no:cacheprovider tests/app/test_app_browser.py
	NLVIZ_BENCH_HOVER=1 NLVIZ_BENCH_WRITE=1 $(PY) -m pytest -q -s -p no:cacheprovider \
	  tests/app/test_hover_browser.py -k latency

zoo: $(RUN_STAMP)
	$(PY) -m nlviz.train.zoo

# README images: the Explore page after a click and the hover component on four zoo models (real browser), and a
# Fig. 3-style export from a zoo model.
DOCS_TMP := $(shell mktemp -d -u /tmp/nlviz-docs.XXXX)
docs-images: $(TEST_STAMP) browser
	mkdir -p docs/images $(DOCS_TMP)
	NLVIZ_ARTIFACTS=$(DOCS_TMP)/shots $(PY) -m pytest -q -p no:cacheprovider tests/app/test_app_browser.py
	cp $(DOCS_TMP)/shots/explore_after_click.png docs/images/explore_after_click.png
	NLVIZ_ARTIFACTS=$(DOCS_TMP)/shots $(PY) -m pytest -q -p no:cacheprovider tests/app/test_hover_browser.py -k screenshots
	cp $(DOCS_TMP)/shots/hover_*.png docs/images/
	$(VENV)/bin/nlviz export --model st_nl_gaussian --input synthetic:1 --out $(DOCS_TMP)/fig3 \
	  --query 5,9,27 --top-k 20 --format png --quiet
	cp $(DOCS_TMP)/fig3/synthetic-0/st_nl_gaussian__layer3.nl0_q00_arrows.png docs/images/fig3_export.png
	rm -rf $(DOCS_TMP)

clean:
	rm -rf $(VENV)
