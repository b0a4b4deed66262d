# Latch: make dev | build | test | e2e | bench
#
# The Worker is built for GOOS=js into edge/build/ (gitignored) and run on
# workerd by wrangler (pinned in package.json). Local D1 state persists under
# .wrangler/ across `make dev` restarts.

SHELL := /bin/bash
export WRANGLER_SEND_METRICS := false
# No request.cf lookup over the network: local runs need no internet.
export CLOUDFLARE_CF_FETCH_ENABLED := false

GO       ?= go
NPM      ?= npm
WRANGLER := node_modules/.bin/wrangler
BUILD    := edge/build
GOROOT_WASM_EXEC = $(shell $(GO) env GOROOT)/lib/wasm/wasm_exec.js
GO_SOURCES := $(shell find edge wasm -name '*.go' -not -path '$(BUILD)/*' 2>/dev/null) go.mod go.sum
DEV_IP   := 127.0.0.1
DEV_PORT := 8787
# The dev mailbox: mail the dev Worker sends lands here (LATCH_MAIL=webhook
# in .dev.vars), shown on a web page.
MAILBOX  := 127.0.0.1:8025

.PHONY: all dev build test vet e2e bench deps guest clean

all: build

build: $(BUILD)/latch.wasm $(BUILD)/wasm_exec.js $(BUILD)/worker.mjs

$(BUILD)/latch.wasm: $(GO_SOURCES)
	@mkdir -p $(BUILD)
	GOOS=js GOARCH=wasm $(GO) build -trimpath -ldflags="-s -w" -o $@.tmp ./edge
	@mv $@.tmp $@

$(BUILD)/wasm_exec.js: go.mod
	@mkdir -p $(BUILD)
	cp "$(GOROOT_WASM_EXEC)" $@

$(BUILD)/worker.mjs: edge/worker.mjs
	@mkdir -p $(BUILD)
	cp $< $@

# Installed when missing (a fresh clone); `npm ci` by hand after changing
# package-lock.json.
$(WRANGLER):
	$(NPM) ci --no-audit --no-fund

deps: $(WRANGLER)
	$(GO) mod download

.dev.vars:
	$(GO) run ./edge/cmd/latch-devvars -file .dev.vars

# dev: a fresh clone to a running Worker on http://127.0.0.1:8787, with the
# dev mailbox on http://127.0.0.1:8025 running in the background (built into
# bin/, not `go run`, so that stopping it stops the mailbox itself; not under
# edge/, which wrangler watches). The webhook
# secret goes to the mailbox in its environment, never on a command line or
# in make's output; the mailbox stops when make dev stops.
dev: deps build .dev.vars
	$(WRANGLER) d1 migrations apply DB --local
	$(GO) build -o bin/latch-mailbox ./testharness/cmd/latch-mailbox
	@$(GO) run ./edge/cmd/latch-devvars -file .dev.vars -print -base-url http://$(DEV_IP):$(DEV_PORT) -mailbox-url http://$(MAILBOX)
	@secret=$$($(GO) run ./edge/cmd/latch-devvars -file .dev.vars -get LATCH_MAIL_WEBHOOK_SECRET) || exit 1; \
	LATCH_MAIL_WEBHOOK_SECRET="$$secret" bin/latch-mailbox -http $(MAILBOX) & mailbox=$$!; \
	unset secret; \
	trap 'kill $$mailbox 2>/dev/null; wait $$mailbox 2>/dev/null' EXIT; \
	$(WRANGLER) dev --ip $(DEV_IP) --port $(DEV_PORT)

# staticcheck, pinned, installed from the Go module proxy into bin/ on
# first use.
STATICCHECK_VERSION := v0.8.2
STATICCHECK := bin/staticcheck-$(STATICCHECK_VERSION)

$(STATICCHECK):
	@mkdir -p bin
	GOBIN=$(CURDIR)/bin/.staticcheck-$(STATICCHECK_VERSION) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	mv bin/.staticcheck-$(STATICCHECK_VERSION)/staticcheck $@
	rmdir bin/.staticcheck-$(STATICCHECK_VERSION)

# vet: go vet and staticcheck for each target the code is built for:
# native, the Worker (js/wasm) and the wazero guest (wasip1/wasm).
# The verifier is its own module (verifier/go.mod), which ./... here does
# not reach: it is vetted from its own directory. Its tests that need the
# engine are in this module (testharness/verifier_*); those that look inside
# the Verifier build only with -tags latchtest.
vet: $(STATICCHECK)
	$(GO) vet ./...
	$(GO) vet -tags latchtest ./testharness/
	GOOS=js GOARCH=wasm $(GO) vet ./edge/... ./wasm/...
	GOOS=wasip1 GOARCH=wasm $(GO) vet ./wasm/...
	$(STATICCHECK) ./...
	$(STATICCHECK) -tags latchtest ./testharness/
	GOOS=js GOARCH=wasm $(STATICCHECK) ./edge/... ./wasm/...
	GOOS=wasip1 GOARCH=wasm $(STATICCHECK) ./wasm/...
	$(GO) -C verifier vet ./...
	$(GO) -C verifier vet -tags latchtest ./...
	cd verifier && $(CURDIR)/$(STATICCHECK) ./... && $(CURDIR)/$(STATICCHECK) -tags latchtest ./...

# test: vet, every Go test of both modules (the workerd end-to-end tests in
# edge/internal/e2e included: they build the Worker and start wrangler dev themselves).
# LATCH_E2E=1: wrangler is installed here, so its absence is a failure, not
# a reason to skip the workerd tests. The workerd package takes about ten
# minutes alone and can take three times that on a busy machine: each test
# binary may run 45 minutes.
test: $(WRANGLER) vet
	$(GO) -C verifier test -count=1 ./...
	LATCH_E2E=1 $(GO) test -tags latchtest -count=1 -timeout 45m ./...

e2e: $(WRANGLER)
	LATCH_E2E=1 $(GO) test -count=1 -timeout 45m -v ./edge/internal/e2e/

# bench: the verifier against bare RSA and golang-jwt, the engine in
# process, then native, wazero and workerd over HTTP in one run (with the JS
# baseline Worker and the upload size). See BENCHMARKS.md.
bench: $(WRANGLER) build
	$(GO) -C verifier test . -run '^$$' -bench 'Verify' -benchtime 1s
	$(GO) test ./testharness -run '^$$' -bench 'Verify(M2M)?RevocationLatency' -benchtime 1s
	$(GO) test ./wasm/engine -run '^$$' -bench 'SessionsAuthenticate|SessionRowJSON' -benchtime 1s
	GOOS=js GOARCH=wasm $(GO) test ./wasm/engine -run '^$$' -bench 'SessionRowJSON' -benchtime 1s -exec "$(dir $(GOROOT_WASM_EXEC))go_js_wasm_exec"
	$(GO) run ./edge/bench $(BENCH_FLAGS)

# guest: latch-local's embedded guest (testharness/cmd/latch-local/
# guest.wasm.gz), rebuilt from the current sources as testharness builds
# it. Run it after changing anything the guest is built from, and commit
# the file: TestEmbeddedGuestCurrent fails until then.
guest:
	@touch testharness/cmd/latch-local/guest.wasm.gz
	$(GO) test ./testharness/cmd/latch-local -run '^TestEmbeddedGuestCurrent$$' -count=1 -v -update

clean:
	rm -rf $(BUILD)
