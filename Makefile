# socketfx — run `make run` for the demo and `make test` for everything.
SHELL   := /bin/bash
GO      ?= go
INTEROP := interop
DIST    := internal/clientdist/dist
# The Socket.IO Admin UI the demo serves, copied like the client.
ADMIN_DIST := internal/admindist/dist
CLIENT  := $(INTEROP)/node_modules/socket.io-client
CLIENT_FILES := socket.io.js socket.io.js.map socket.io.min.js socket.io.min.js.map \
	socket.io.esm.min.js socket.io.esm.min.js.map socket.io.msgpack.min.js socket.io.msgpack.min.js.map
TEST_FLAGS ?= -race -count=1 -timeout 20m
# The router examples (chi, gin, echo) are a module of their own, so that
# socketfx's go.mod does not carry those routers.
ROUTERS := examples/routers

.PHONY: all deps client run test vet lint bench load fuzz clean

all: test

# The locked npm packages: the official client for interop specs and the
# browser bundle the server embeds.
deps: $(INTEROP)/node_modules/.package-lock.json

$(INTEROP)/node_modules/.package-lock.json: $(INTEROP)/package.json $(INTEROP)/package-lock.json
	@command -v node >/dev/null && command -v npm >/dev/null || { \
	  echo "make: Node.js 18+ and npm are required (Debian: apt-get install nodejs npm)"; exit 1; }
	cd $(INTEROP) && npm ci --no-audit --no-fund
	@touch $@

# Copy the browser client (socket.io-client@4 dist files) into the tree the
# server embeds. The copies are ignored by git.
client: deps
	@for f in $(CLIENT_FILES); do cp $(CLIENT)/dist/$$f $(DIST)/$$f; done
	@cp $(CLIENT)/package.json $(DIST)/package.json
	@find $(ADMIN_DIST) -mindepth 1 ! -name README.md -delete
	@cp -R $(INTEROP)/node_modules/@socket.io/admin-ui/ui/dist/. $(ADMIN_DIST)/
	@mkdir -p $(ADMIN_DIST)/mdi && cp -R $(INTEROP)/node_modules/@mdi/font/css $(INTEROP)/node_modules/@mdi/font/fonts $(ADMIN_DIST)/mdi/

run: client
	$(GO) run ./cmd/socketfx-demo

vet: client
	$(GO) vet ./...
	cd $(ROUTERS) && $(GO) vet ./...

# Linters, pinned; installed into .bin/ under their versions.
STATICCHECK_VERSION := v0.6.1
GOLANGCI_VERSION    := v2.6.2
BIN         := $(CURDIR)/.bin
STATICCHECK := $(BIN)/staticcheck-$(STATICCHECK_VERSION)
GOLANGCI    := $(BIN)/golangci-lint-$(GOLANGCI_VERSION)

$(STATICCHECK):
	@mkdir -p $(BIN)/tmp
	GOBIN=$(BIN)/tmp $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	mv $(BIN)/tmp/staticcheck $@

$(GOLANGCI):
	@mkdir -p $(BIN)/tmp
	GOBIN=$(BIN)/tmp $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_VERSION)
	mv $(BIN)/tmp/golangci-lint $@

# staticcheck.conf and .golangci.yml say what is checked and why anything
# is excluded.
lint: client $(STATICCHECK) $(GOLANGCI)
	$(STATICCHECK) ./...
	$(GOLANGCI) run ./...
	cd $(ROUTERS) && $(STATICCHECK) ./... && $(GOLANGCI) run ./...

FUZZTIME ?= 10s

test: vet
	$(GO) test $(TEST_FLAGS) ./...
	cd $(ROUTERS) && $(GO) test $(TEST_FLAGS) ./...
	$(GO) test -run '^$$' -fuzz FuzzTypedArgs -fuzztime $(FUZZTIME) ./pkg/socketservice/

fuzz: client
	$(GO) test -run '^$$' -fuzz FuzzTypedArgs -fuzztime 5m ./pkg/socketservice/

bench: client
	$(GO) test -run '^$$' -bench . -benchmem -count 5 ./pkg/socketservice/ ./pkg/adapter/ ./pkg/session/...

load: client
	$(GO) run ./cmd/socketfx-load -clients 32 -duration 10s

clean:
	rm -rf $(INTEROP)/node_modules
	@for f in $(CLIENT_FILES) package.json; do rm -f $(DIST)/$$f; done
