# digitrec — `make run` starts the product on the bundled model, `make test` runs the whole test suite.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# MNIST for tests and CI: the original IDX files beside the checkout, when present.
SHARED_DATA := $(abspath ../shared/data)
export DIGITREC_DATA_DIR ?= $(if $(wildcard $(SHARED_DATA)/mnist),$(SHARED_DATA),)

.PHONY: run test install install-dev bench lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# The serving install: no torch.
$(VENV)/.base: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

# Everything the tests need: training extras and test tools.
$(VENV)/.dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[train,test]'
	touch $@ $(VENV)/.base

install: $(VENV)/.base
install-dev: $(VENV)/.dev

# The recognition service with its drawing page, on the bundled model.
run: install
	$(BIN)/digitrec serve

test: install-dev
	scripts/system-deps.sh
	$(BIN)/python -m pytest -q

bench: install-dev
	scripts/system-deps.sh --fonts
	$(BIN)/python benchmarks/train_speed.py
	$(BIN)/python benchmarks/predict_speed.py
	$(BIN)/python benchmarks/robustness.py
	$(BIN)/python benchmarks/real_world.py
	$(BIN)/python benchmarks/handwriting_fonts.py
	$(BIN)/python benchmarks/service_load.py

clean:
	rm -rf $(VENV) build .pytest_cache .hypothesis src/*.egg-info
