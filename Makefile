# finetune-flow: local developer entry points. Everything runs against the embedded stack
# (Temporal dev server, Azurite, the Azure ML emulator); see scripts/setup.sh and devstack/stack/.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

NODE_BIN := node_modules/.bin
# scripts/setup.sh links the node it chose (the machine's when >= 22, else the pinned Node 24 from
# PyPI in .tools/node/) as .tools/bin/{node,npm,npx}; every recipe finds those first.
export PATH := $(CURDIR)/.tools/bin:$(PATH)
CA_FILE := $(CURDIR)/.data/certs/ca.pem
JEST_RESULTS := .data/jest-results.json
JEST_CLUSTER_RESULTS := .data/jest-cluster-results.json
# Extra arguments for jest, e.g. `make test JEST_ARGS=test/devstack/stack`.
JEST_ARGS ?=
# Extra arguments for the demo and the stack, e.g. `make demo ARGS=--today`, `make stack ARGS="--catalog current"`.
ARGS ?=
# Chaos mode: `make chaos RUNS=100 SEED=7` (more options: `make chaos ARGS=--help`).
RUNS ?= 20
SEED ?= 7

# Build inputs: TypeScript sources of both wings (the product in src/, the local stand-ins in devstack/),
# the dashboard's (ui/: its TypeScript, page, style and build script) and the compiler configuration.
# dist/.build-stamp is newer than all of them after a successful build, so `make build` is a no-op until
# something changes.
SRC_FILES := $(shell find src devstack \( -name '*.ts' -o -name '*.generated.json' \) -not -path 'devstack/dist/*' 2>/dev/null)
UI_FILES := $(shell find ui -type f 2>/dev/null)
BUILD_STAMP := dist/.build-stamp

.PHONY: help setup build test test-unit test-cluster demo chaos lint format format-check typecheck check stack stack-down cluster cluster-setup cluster-down clean distclean

help:
	@echo "make setup      install dependencies, the Temporal CLI (.tools/) and local certificates"
	@echo "make build      compile the product to dist/ and the local stand-ins to devstack/dist/ (skipped when up to date)"
	@echo "make test       setup + build + every jest suite: the unit project and the stack project, which runs against a throw-away local stack (results: $(JEST_RESULTS))"
	@echo "make test-unit  the unit project only (*.test.ts, no shared stack; under a minute)"
	@echo "make demo       setup + build + run the demo (node devstack/dist/demo/main.js)"
	@echo "make chaos      setup + build + RUNS fine-tunes with seeded Azure faults and worker kills (RUNS=20 SEED=7)"
	@echo "make stack      run the local stack (Temporal, Azurite, Azure ML emulator, worker) until Ctrl-C"
	@echo "make stack-down stop a stack left running (node devstack/dist/stack/main.js down)"
	@echo "make cluster    the production topology without Docker until Ctrl-C: PostgreSQL, Temporal's frontend, history, matching"
	@echo "                and worker services, two workers, the API, the UI, Azurite, the emulator (devstack/cluster/; ARGS=--help)"
	@echo "make cluster-down  stop a cluster left running (node devstack/dist/cluster/main.js down)"
	@echo "make cluster-setup PostgreSQL (Debian package) and its unprivileged user, the pinned Temporal server built once into .tools/"
	@echo "make test-cluster  the cluster suite: 20 runs through the API while the cluster's services are killed and restarted"
	@echo "                (results: $(JEST_CLUSTER_RESULTS); not part of make test)"
	@echo "make typecheck  tsc --noEmit over src, devstack, test and bench, and over the dashboard (ui/tsconfig.json)"
	@echo "make lint       eslint over src, devstack, test, bench and ui"
	@echo "make format     prettier --write over the repository (.prettierrc.json, .prettierignore)"
	@echo "make format-check  prettier --check: what CI runs"
	@echo "make check      lint + format-check + typecheck (what .ci/run runs before the tests)"
	@echo "make clean      remove dist/, devstack/dist/ and .data/ (local state: Temporal DB, logs, certificates)"
	@echo "make distclean  clean + node_modules/ and .tools/"

setup:
	@scripts/setup.sh

$(BUILD_STAMP): $(SRC_FILES) $(UI_FILES) tsconfig.json tsconfig.build.json devstack/tsconfig.json package-lock.json
	@echo "build: tsc -p tsconfig.build.json (the product: dist/), ui/build.mjs (the dashboard: dist/ui/), tsc -p devstack/tsconfig.json (devstack/dist/)"
	@# From clean folders: a moved or deleted source must not leave its old output behind (npm pack ships dist/).
	@rm -rf dist devstack/dist
	@$(NODE_BIN)/tsc -p tsconfig.build.json
	@node dist/cli/stampBuild.js
	@node ui/build.mjs
	@$(NODE_BIN)/tsc -p devstack/tsconfig.json
	@touch $(BUILD_STAMP)

build: setup
	@if $(MAKE) --no-print-directory -q $(BUILD_STAMP); then echo "build: dist/ is up to date"; \
	else $(MAKE) --no-print-directory $(BUILD_STAMP); fi

typecheck: setup
	$(NODE_BIN)/tsc -p tsconfig.json --noEmit
	$(NODE_BIN)/tsc -p ui/tsconfig.json

lint: setup
	$(NODE_BIN)/eslint --max-warnings 0 src devstack test bench ui

format: setup
	$(NODE_BIN)/prettier --write --log-level warn .

format-check: setup
	$(NODE_BIN)/prettier --check --log-level warn .

check: lint format-check typecheck

test: build
	@mkdir -p .data
	@rm -f $(JEST_RESULTS)
	NODE_EXTRA_CA_CERTS=$(CA_FILE) $(NODE_BIN)/jest --runInBand --json --outputFile=$(JEST_RESULTS) $(JEST_ARGS)

# The fast half: no shared stack is started (its workflow tests bring a throw-away Temporal dev server of
# their own); the stack project's suites are the *.stack.test.ts files.
test-unit: build
	$(NODE_BIN)/jest $(JEST_ARGS) --selectProjects unit

demo: build
	NODE_EXTRA_CA_CERTS=$(CA_FILE) node devstack/dist/demo/main.js $(ARGS)

chaos: build
	NODE_EXTRA_CA_CERTS=$(CA_FILE) node devstack/dist/chaos/main.js --runs $(RUNS) --seed $(SEED) $(ARGS)

stack: build
	NODE_EXTRA_CA_CERTS=$(CA_FILE) node devstack/dist/stack/main.js up $(ARGS)

stack-down:
	@if [ -f devstack/dist/stack/main.js ]; then node devstack/dist/stack/main.js down; else echo "no devstack/dist/stack/main.js: nothing built, nothing to stop"; fi

# The self-hosted cluster (docs/operations.md, A cluster on this machine). cluster-setup installs PostgreSQL
# where missing (as root), makes its unprivileged user and builds the pinned Temporal server once
# (scripts/cluster-setup.sh); `make cluster` also builds the Temporal UI (FTFLOW_CLUSTER_UI=0: not).
FTFLOW_CLUSTER_UI ?= 1
cluster-setup: build
	@FTFLOW_CLUSTER_UI=$(FTFLOW_CLUSTER_UI) scripts/cluster-setup.sh

cluster: cluster-setup
	NODE_EXTRA_CA_CERTS=$(CA_FILE) node devstack/dist/cluster/main.js up $(ARGS)

cluster-down:
	@if [ -f devstack/dist/cluster/main.js ]; then node devstack/dist/cluster/main.js down; else echo "no devstack/dist/cluster/main.js: nothing built, nothing to stop"; fi

# The cluster suite (jest.cluster.config.js, *.cluster.test.ts): a cluster of its own on free ports, no UI.
test-cluster: FTFLOW_CLUSTER_UI = 0
test-cluster: cluster-setup
	@mkdir -p .data
	@rm -f $(JEST_CLUSTER_RESULTS)
	NODE_EXTRA_CA_CERTS=$(CA_FILE) $(NODE_BIN)/jest -c jest.cluster.config.js --runInBand --json --outputFile=$(JEST_CLUSTER_RESULTS) $(JEST_ARGS)

clean:
	@if [ -f devstack/dist/cluster/main.js ] && [ -f .data/cluster/cluster.json ]; then node devstack/dist/cluster/main.js down; fi
	@if [ -f devstack/dist/stack/main.js ] && [ -f .data/stack.json ]; then node devstack/dist/stack/main.js down; fi
	rm -rf dist devstack/dist .data

distclean: clean
	rm -rf node_modules .tools
