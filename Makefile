# PressLens: `make serve` and `make test` do the whole set-up themselves.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INDEX ?= data/index
# The sample's outlets: one name for each outlet's spellings, and the lean its articles give.
OUTLETS ?= data/outlets.csv
STAMP := $(VENV)/.setup-stamp
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: setup serve test lint types bench index clean diagram

setup: $(STAMP)

# Re-runs only when the pinned requirements, the project metadata or package.json change.
$(STAMP): requirements.txt pyproject.toml package.json
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	# requirements.txt pins the whole environment; --no-deps keeps out torchvision, which
	# optimum-intel asks for but nothing here uses, and which breaks beside the pinned torch.
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -r requirements.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	npm install --silent --no-audit --no-fund --no-package-lock >/dev/null
	touch $(STAMP)

index: setup
	$(BIN)/presslens --index $(INDEX) index --outlets $(OUTLETS) data/sample

serve: setup
	@if [ ! -f $(INDEX)/CURRENT ]; then $(BIN)/presslens --index $(INDEX) index --outlets $(OUTLETS) data/sample; fi
	$(BIN)/presslens --index $(INDEX) serve

lint: setup
	$(BIN)/ruff check indexer search tests benchmarks

# mypy over indexer/ and search/ (its settings in pyproject.toml).
types: setup
	$(BIN)/mypy

test: setup
	bash scripts/ensure-browser
	$(BIN)/ruff check indexer search tests benchmarks
	$(BIN)/mypy
	$(BIN)/python -m pytest

# The whole benchmark (the tests run only a tiny smoke of it).
bench: setup
	$(BIN)/python -m benchmarks

# The architecture picture in the README, drawn from its text source with graphviz.
diagram:
	@command -v dot >/dev/null || { echo "graphviz's dot is missing: apt-get install graphviz"; exit 1; }
	dot -Tsvg docs/architecture.dot -o docs/architecture.svg

clean:
	rm -rf $(VENV) node_modules $(INDEX)
