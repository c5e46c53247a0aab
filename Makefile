# virtwork — every target installs what it needs. Node comes from PATH when it is >= 22.12,
# otherwise a pinned LTS Node is unpacked from the npm registry into ~/.cache/virtwork/node.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

NODE_BIN := $(shell scripts/ensure-node.sh)
ifeq ($(NODE_BIN),)
$(error could not provide Node >= 22.12; see scripts/ensure-node.sh)
endif
export PATH := $(NODE_BIN):$(PATH)
export npm_config_update_notifier := false
# Every cache under one root: VIRTWORK_CACHE (default ~/.cache/virtwork); the booted guests' disks too.
VIRTWORK_CACHE ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/virtwork
export VIRTWORK_GUEST_CACHE ?= $(VIRTWORK_CACHE)/guest

DEPS_STAMP := node_modules/.virtwork-installed

.PHONY: help deps build lint typecheck check unit test demo plan bench clean compat guest-test golden-test completion-test monitoring-render monitoring-test

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | column -t -s $$'\t'
	@echo
	@echo "First use: the first 'make sandbox' / 'make cluster-up' / 'make integration' builds the local"
	@echo "cluster from the Go module proxy into ~/.cache/virtwork: etcd + kube-apiserver/-controller-manager/"
	@echo "-scheduler (~14 min cold), KubeVirt's virt-api + virt-controller (~4 min), CDI's cdi-controller (~4-7 min):"
	@echo "about 25 min on a 2-core machine with empty caches, more under load; afterwards it starts in ~30 s."
	@echo "The first 'make guest-test' builds the guest disk (~2.5 min quiet, ~6 min under load) and probes KVM once (~35 s). 'make test' prints what is still to"
	@echo "build before it starts. Costs: docs/test-cluster.md, docs/guest-test.md."

$(DEPS_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

deps: $(DEPS_STAMP) ## install the npm dependencies (npm ci)

build: $(DEPS_STAMP) ## bundle the CLI into dist/ (run it with bin/virtwork)
	npm run --silent build

lint: $(DEPS_STAMP) ## Biome lint + format check, tsc type-check, layer order (dependency-cruiser), unused code (knip)
	npx biome check .
	npx tsc --noEmit -p .
	npx depcruise src --config .dependency-cruiser.mjs
	npx knip

unit: build ## unit tests (no cluster; installs zsh/fish so the completion scripts are loaded in those shells)
	scripts/install-shells.sh
	npm test

check: build ## the edit-test loop (~3 min warm): lint, type-check, and the unit and guest-artefact tests what changed can reach (scripts/check-changed.mjs; VIRTWORK_CHECK_BASE=REV to compare with a commit)
	$(MAKE) --no-print-directory lint
	node scripts/check-changed.mjs

guest-artifacts: $(DEPS_STAMP) ## guest user-data, units and scripts checked by the real tools and run (root: loop, netns)
	scripts/install-guest-tools.sh
	node --test --experimental-strip-types --test-concurrency=4 --test-reporter=spec 'test/guest/artifacts/*.test.ts'

guest-test: $(DEPS_STAMP) ## every built-in workload in booted Debian guests, pairs and login proofs included (15 guests, TCG on 2 cores: 59 min measured with load 13-21 for half of it, cases of 3-6 min when quiet; disk built once, cached; CI=true: fails if guests cannot boot; docs/guest-test.md)
	@if reason=$$(test/guest/boot/preflight.sh); then echo "guest-test: $$reason"; \
	  node --test --experimental-strip-types --test-reporter=spec test/guest/boot/*.test.ts; \
	elif [ "$${CI:-}" = true ]; then echo "guest-test: FAILED: CI=true and this machine cannot boot guests: $$reason" >&2; exit 1; \
	else echo "guest-test: SKIPPED: $$reason (under CI=true this fails)"; fi

golden-test: $(DEPS_STAMP) ## the Debian golden image (images/golden/): built, pushed to a local registry with crane, pulled, booted by its own boot loader; every built-in workload active (slow: two TCG guests, ~37 min at load 20; not in SUITES; see docs/guest-test.md)
	@if reason=$$(test/guest/boot/preflight.sh); then echo "golden-test: $$reason"; \
	  node --test --experimental-strip-types --test-reporter=spec test/guest/golden/*.test.ts; \
	elif [ "$${CI:-}" = true ]; then echo "golden-test: FAILED: CI=true and this machine cannot boot guests: $$reason" >&2; exit 1; \
	else echo "golden-test: SKIPPED: $$reason (under CI=true this fails)"; fi

audit-test: $(DEPS_STAMP) ## audit trail tests: SQLite, and a throwaway PostgreSQL (installs Debian's postgresql if missing)
	url=$$(scripts/postgres-test-server.sh); trap 'scripts/postgres-test-server.sh stop' EXIT; \
	VIRTWORK_TEST_PG_URL=$$url npm run --silent test:audit

monitoring-render: $(DEPS_STAMP) ## regenerate deploy/monitoring/ (alerts, dashboard, rule tests) from the workloads' signals
	node --experimental-strip-types scripts/render-monitoring.ts

monitoring-test: $(DEPS_STAMP) ## deploy/monitoring/ checked by promtool (check + unit tests) and the dashboard checks (installs Debian's prometheus)
	scripts/install-monitoring-tools.sh
	node --test --experimental-strip-types --test-reporter=spec 'test/monitoring/*.test.ts'

SUITES := lint unit compat guest-artifacts guest-test audit-test monitoring-test integration cache-lock-test
test: ## everything CI runs, one suite after another; says first what a cold cache builds, ends with a table of suite durations (2 cores, quiet: warm ~40 min, cold ~55; 65+ min with other work beside it)
	@MAKE="$(MAKE)" scripts/test-suites.sh $(SUITES)

completion-test: build ## shell completion: bash driven like bash does; the zsh and fish scripts load (installs zsh, fish)
	scripts/install-shells.sh
	node --test --experimental-strip-types --test-reporter=spec test/unit/completion.test.ts test/unit/cli-screen.test.ts

compat: build ## the built CLI on the oldest supported Node (22.12), unpacked into the cache
	bash test/compat/min-node.sh

demo: build ## the main job on the local sandbox: start it, run, status, history show, cleanup, stop (cold: builds the cluster once)
	bash scripts/demo.sh

plan: build ## instant dry-run of the default plan: prints every object a run would create, no cluster
	bin/virtwork run --dry-run

bench: build ## start-up and planning benchmarks (reports, never fails on timing)
	npm run --silent bench

include test/cluster/cluster.mk

clean: ## remove build output and dependencies
	rm -rf dist node_modules
