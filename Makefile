# ruimtekit — two commands: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint bench screenshots clean-outputs

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,dask]'
	touch $(STAMP)

## make demo: create the environment and run the full pipeline offline on the bundled demo region
demo: $(STAMP)
	$(BIN)/ruimtekit run

## make test: create the environment and run the test suite
test: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks

## make bench: reproduce docs/benchmarks.md (installs pandana as the named baseline when possible)
bench: $(STAMP)
	-$(BIN)/pip install --quiet '.[bench]'
	$(BIN)/python benchmarks/run_all.py

## make screenshots: build the demo maps into maps/_screenshots (running the demo first when it has no outputs), click
## through every measure of every map in headless Chromium and save docs/img/maps/<map>.png
screenshots: $(STAMP)
	test -f data/processed/demo/demo.gpkg || $(BIN)/ruimtekit run
	$(BIN)/ruimtekit map --no-figures -q --out maps/_screenshots
	$(BIN)/python -m ruimtekit.report._browser maps/_screenshots docs/img/maps

clean-outputs:
	rm -rf data/processed/* maps/*
