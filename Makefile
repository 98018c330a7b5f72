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

# Retrain every checkpoint, then measure them all with nlviz report: its operator-family table goes into
# checkpoints/README.md (between the report markers), its files (markdown, CSV, JSON, HTML, plots) into ZOO_REPORT.
ZOO_CLIPS ?= 64
ZOO_REPORT ?= build/zoo-report
zoo: $(RUN_STAMP)
	$(PY) -m nlviz.train.zoo
	$(VENV)/bin/nlviz report --zoo --input synthetic:$(ZOO_CLIPS) --out $(ZOO_REPORT) --table checkpoints/README.md \
	  --workers 2 --quiet

# README images: the Explore page after a click and the hover component on four zoo models (real browser), a
# Fig. 3-style export from a zoo model, and the paper figures (PDF exports rendered by poppler's pdftoppm).
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
	command -v pdftoppm >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq poppler-utils >/dev/null
	for w in single double; do $(VENV)/bin/nlviz export --model st_i3d_nl --model st_bat3d --model st_nl_concat \
	  --input synthetic:2 --out $(DOCS_TMP)/paper-$$w --query 4,14,26 --min-fraction 0.05 --compare-scale per_row \
	  --format pdf --paper-width $$w --quiet; done
	pdftoppm -r 150 -png -singlefile $(DOCS_TMP)/paper-single/synthetic-1/st_i3d_nl__layer3.nl0_q00_arrows.pdf \
	  docs/images/paper_explore
	pdftoppm -r 110 -png -singlefile $(DOCS_TMP)/paper-double/synthetic-1/compare_q00.pdf docs/images/paper_compare
	rm -rf $(DOCS_TMP)

clean:
	rm -rf $(VENV)
