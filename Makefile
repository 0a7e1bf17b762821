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
STORE := demo-store

.PHONY: install demo test clean

$(VENV)/.installed: pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# torch first, from the constraints file, so nothing can pull in a CUDA build.
	$(PY) -m pip install --quiet -c constraints.txt torch
	$(PY) -m pip install --quiet -c constraints.txt -e '.[test]'
	touch $@

install: $(VENV)/.installed

$(SAMPLE)/creators.csv: $(VENV)/.installed matcher/sample.py
	$(PY) -m matcher.cli sample --out $(SAMPLE)

demo: install $(SAMPLE)/creators.csv
	$(PY) -m matcher.cli batch --creators $(SAMPLE)/creators.csv --posts $(SAMPLE)/posts.csv --brands $(SAMPLE)/brands.csv --store $(STORE)
	$(PY) -m matcher.cli matches --store $(STORE) --brand b001 --brand b002 --brand b003 --k 5

test: install
	$(PY) -m pytest -q

clean:
	rm -rf $(STORE) $(SAMPLE) .pytest_cache
