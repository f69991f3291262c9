# Tuneline — the README's two commands are `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# This pin takes the CPU wheel where one is on disk; on a GPU box pip picks a CUDA build.
TORCH_SPEC ?= torch==2.13.0

.PHONY: setup demo test test-py check bench docs clean
.DEFAULT_GOAL := demo

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q "$(TORCH_SPEC)"
	$(BIN)/pip install -q -e ".[train,dev]"
	touch $@

## demo: set up, then lint → stats → build a tiny local model → train → evaluate on examples/
demo: setup
	@echo "== lint (the bundled data has deliberate mistakes: exit 1 is expected) =="
	$(BIN)/tuneline lint examples/support examples/extraction; test $$? -le 1
	@echo "== stats =="
	$(BIN)/tuneline stats examples/support/training.jsonl
	@if $(BIN)/tuneline demo-model --help >/dev/null 2>&1; then \
	  echo "== build the offline demo model =="; \
	  $(BIN)/tuneline demo-model .cache/demo-model && \
	  echo "== train (LoRA, CPU) ==" && \
	  $(BIN)/tuneline train examples/train.toml --allow-errors; \
	fi
	@if $(BIN)/tuneline eval --help >/dev/null 2>&1; then \
	  echo "== evaluate =="; $(BIN)/tuneline eval examples/eval.toml; fi

## test: set up everything, then run every test (Python, LSP, training, extension, real VS Code)
test: setup check test-py ext-all

check: setup
	$(BIN)/ruff check server tests bench examples docs
	$(BIN)/python docs/update_readme.py --check

test-py: setup
	$(BIN)/python -m pytest -q

bench: setup
	$(BIN)/python bench/lint_bench.py
	@for b in bench/lsp_latency.py bench/train_bench.py; do \
	  if [ -f $$b ]; then $(BIN)/python $$b; fi; done

## docs: regenerate the README's rule table from the rule registry
docs: setup
	$(BIN)/python docs/update_readme.py

clean:
	rm -rf $(VENV) .cache build dist *.egg-info

# Extension targets (vsix, ext-test, e2e) live next to the extension.
-include extension/extension.mk
ifeq ($(wildcard extension/extension.mk),)
ext-all:
	@echo "extension: not built yet"
else
ext-all: ext-test e2e
endif
