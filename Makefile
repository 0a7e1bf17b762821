# Two commands do all set-up on a fresh machine:
#   make demo   environment, sample data, one nightly batch, top matches for three brands
#   make test   environment, then the test suite
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

SAMPLE := data/sample
# The demo's sample size: small enough for a first run in minutes; `make demo DEMO_CREATORS=2000`
# runs the full-size sample.
DEMO_CREATORS ?= 400
STORE := demo-store

.PHONY: install demo test clean browser postgres bench-batch

$(VENV)/.installed: pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# torch first, from the constraints file, so nothing can pull in a CUDA build.
	$(PY) -m pip install --quiet -c constraints.txt torch
	$(PY) -m pip install --quiet -c constraints.txt -e '.[test]'
	touch $@

install: $(VENV)/.installed

# The test suite also runs the Ray engine's tests (matcher[ray]); make demo needs no Ray.
$(VENV)/.installed-ray: $(VENV)/.installed
	$(PY) -m pip install --quiet -c constraints.txt -e '.[test,ray]'
	touch $@

$(SAMPLE)/.creators-$(DEMO_CREATORS): $(VENV)/.installed $(wildcard matcher/sample/*.py matcher/sample/data/*.json)
	rm -rf $(SAMPLE) $(STORE)  # a new sample starts a new demo store (the audit would refuse the change in size)
	$(PY) -m matcher.cli sample --out $(SAMPLE) --creators $(DEMO_CREATORS)
	touch $@

demo: install $(SAMPLE)/.creators-$(DEMO_CREATORS)
	$(PY) -m matcher.cli batch --creators $(SAMPLE)/creators.csv --posts $(SAMPLE)/posts.csv --brands $(SAMPLE)/brands.csv --comments $(SAMPLE)/comments.csv --store $(STORE)
	$(PY) -m matcher.cli matches --store $(STORE) --brand b001 --brand b002 --brand b003 --k 5

# The browser test drives Debian's Chromium; install it when missing (root only: CI runs as root),
# with a colour emoji font so creators' emoji are drawn, not empty boxes.
EMOJI_FONT := /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf
browser:
	@if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ] && [ -f $(EMOJI_FONT) ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing chromium, chromium-driver and fonts-noto-color-emoji for the browser test"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver fonts-noto-color-emoji >/dev/null; \
	else echo "note: chromium/chromedriver or the emoji font missing and not root: browser tests will be skipped (outside CI)"; fi

# The run-state tests start a real PostgreSQL server (initdb, pg_ctl) of their own; install Debian's
# package when missing (root only: CI runs as root).
postgres:
	@if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing postgresql for the run-state tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
	else echo "note: PostgreSQL missing and not root: the PostgreSQL tests will be skipped (outside CI)"; fi

test: install $(VENV)/.installed-ray browser postgres
	$(PY) -m pytest -q

# First run vs unchanged vs 5%-changed rerun of the batch on 20,000 creators (a script, not a test; minutes).
bench-batch: install
	$(PY) benchmarks/batch_incremental.py

clean:
	rm -rf $(STORE) $(SAMPLE) .pytest_cache
