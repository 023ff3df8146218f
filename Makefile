# vocalgen — `make help` lists the targets. Every target installs the .venv first when needed.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
MLFLOW_DIR := outputs/mlflow
# optional extras beside dev: make install EXTRAS=dev,tempo (madmom's tempo models, non-commercial) or dev,gpu
EXTRAS ?= dev
comma := ,
# one stamp per set of extras: asking for another set installs it
STAMP := $(VENV)/.installed-$(subst $(comma),-,$(EXTRAS))

.PHONY: help install train test test-all ui sweep pipeline bench lint clean-outputs

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

# The Python files of the set (22.6k, of which 4.0k are the packages' own tests/ folders, never imported here
# and skipped) are byte-compiled by compileall on every core rather than by pip one by one (everything: 64 s
# on 2 cores here, for 112 s of CPU). They must be compiled here: where PYTHONDONTWRITEBYTECODE is set,
# Python never caches what it compiles at import, and `import vocalgen.train` then took 32.7 s instead of 13.6. A few files in the set are not Python 3.11 (templates, old examples);
# they fail to compile here as they do under pip, which ignores them too, so the status is not checked.
$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip setuptools wheel
	$(PY) -m pip install --quiet --no-compile -c constraints.txt -e '.[$(EXTRAS)]'
	$(PY) -m compileall -q -j 0 -x '/tests?/' "$$($(PY) -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')" \
	  > /dev/null 2>&1 || true
	touch $(STAMP)

install: $(STAMP)  ## create .venv and install vocalgen (editable, pinned by constraints.txt); fast when done

train: $(STAMP)  ## train QVAE on the embedded synthetic set, sized for CPU (+experiment=qvae_cpu)
	$(PY) -m vocalgen.train +experiment=qvae_cpu $(ARGS)

# Two pytest workers (pytest-xdist), each test file whole in one of them (its module fixtures are built once);
# every worker's torch uses one thread (tests/conftest.py), so two cores run two files at a time.
TEST_WORKERS ?= 2
test: $(STAMP)  ## run the test suite on TEST_WORKERS processes (GPU tests skip without a GPU)
	$(PY) -m pytest -q -n $(TEST_WORKERS) --dist loadfile $(ARGS)

ui: $(STAMP)  ## MLflow UI on the project's store at http://127.0.0.1:5000 (prints each experiment's runs table)
	mkdir -p $(MLFLOW_DIR)/artifacts
	$(PY) -m vocalgen.ui_links $(MLFLOW_DIR) http://127.0.0.1:5000
	$(VENV)/bin/mlflow ui --host 127.0.0.1 --port 5000 \
	  --backend-store-uri sqlite:///$(abspath $(MLFLOW_DIR))/mlflow.db \
	  --default-artifact-root $(abspath $(MLFLOW_DIR))/artifacts

sweep: $(STAMP)  ## a small example sweep: 2 learning rates of CPU QVAE, 2 epochs each, grouped in MLflow
	$(PY) -m vocalgen.train -m +experiment=qvae_cpu optimizer.lr=3e-4,8e-4 epochs=2 $(ARGS)

P ?= audioldm_refined_cpu
pipeline: $(STAMP)  ## a whole system, stage by stage (P=audioldm_refined_cpu, vocaldm_cpu, iadb_cpu, …; ARGS=overrides)
	$(PY) -m vocalgen.pipeline +pipeline=$(P) $(ARGS)

bench: $(STAMP)  ## one table: each system's throughput in fp32 / bf16 / compiled, caches, overhead (ARGS=--systems …)
	$(PY) -m bench.table $(ARGS)

lint: $(STAMP)  ## ruff
	$(VENV)/bin/ruff check vocalgen tests bench
