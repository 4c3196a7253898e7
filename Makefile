# Everything sets itself up: a virtual environment in .venv with the package and its test tools.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: run run-kinesis test soak bench build docs manifest clean

# The install compiles the C fast path (logfwd/sources/openwhisk/_plainlines.c) in place: again when it changes.
$(STAMP): pyproject.toml actions/logfwd/sources/openwhisk/_plainlines.c
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

## make run: the whole pipeline on a laptop (emulator + receiver + file checkpoint), twice
run: $(STAMP)
	$(VENV)/bin/logfwd demo

## make run-kinesis: the AWS Lambda pipeline on a laptop (Kinesis events -> a local syslog receiver over TLS)
run-kinesis: $(STAMP)
	$(VENV)/bin/logfwd demo kinesis

## make test: the whole suite, real servers included
test: $(STAMP)
	$(PY) -m pytest -q $(PYTEST_ARGS)

## make soak: the fault-injection soak (RUNS=N forwarder runs in all, shared by STORES), figures in soak-result.json
RUNS ?= 1000
STORES ?= file,activation,couchdb,redis
soak: $(STAMP)
	$(PY) -m tests.soak --runs $(RUNS) --stores $(STORES) --out soak-result.json

## make bench: compression, sink, end-to-end, cold-start, Kinesis->syslog and S3 ELB benchmarks, figures in bench-result.json
bench: $(STAMP) build
	$(PY) -m tests.bench --out bench-result.json

## make build: the OpenWhisk action zip (build/logfwd-action.zip) and the AWS Lambda zip (build/logfwd-lambda.zip)
build: $(STAMP)
	$(PY) .ci/build_action.py --out build/logfwd-action.zip

## make manifest SHARDS=N: manifest-shards.yaml, manifest.yaml with N forwarder shards (docs/scaling.md)
SHARDS ?= 2
manifest: $(STAMP)
	$(PY) -m logfwd_dev.manifest_shards --shards $(SHARDS) manifest.yaml

## make docs: the parameter reference (docs/parameters.md) from the declarations in the code
docs: $(STAMP)
	$(PY) -m logfwd_dev.paramdocs > docs/parameters.md

clean:
	rm -rf $(VENV) build dist .pytest_cache state/*.json manifest-shards.yaml actions/logfwd/sources/openwhisk/*.so
