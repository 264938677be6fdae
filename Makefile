# procview — container-accurate /proc and /sys views.
PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
HOOKS_DIR  ?= /usr/share/containers/oci/hooks.d
CONFIG_DIR ?= /etc/procview
UNIT_DIR   ?= /etc/systemd/system
GO         ?= go
GOFLAGS    ?= -trimpath
VERSION    ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
BINARIES   := procview-runc procview-hook procviewd procview procview-agent

export CGO_ENABLED := 0

.PHONY: all build deps test test-unit test-bats test-vm bench install uninstall demo fixtures fixtures-v2 golden fuzz reliability clean help

all: build

build: ## build every binary into ./bin (static)
	@mkdir -p bin
	$(GO) build $(GOFLAGS) -ldflags "-s -w -X main.version=$(VERSION)" -o bin/procview-runc ./runtime-wrapper
	$(GO) build $(GOFLAGS) -ldflags "-s -w" -o bin/procview-hook ./hook
	$(GO) build $(GOFLAGS) -ldflags "-s -w" -o bin/procviewd ./gen
	$(GO) build $(GOFLAGS) -ldflags "-s -w" -o bin/procview ./cli
	$(GO) build $(GOFLAGS) -ldflags "-s -w" -o bin/procview-agent ./syscall-agent

deps: ## install the Debian packages the tests need, only those missing (root)
	hack/deps.sh

test: deps build test-unit test-bats test-vm ## everything CI runs (needs root; installs what is missing)

test-unit: ## go test ./... (root-only tests run when root)
	$(GO) test -count=1 ./...

test-bats: build ## end-to-end tests with real runtimes (root)
	bats --print-output-on-failure test/bats

test-vm: build ## end-to-end suite in a pure cgroup v2 VM (qemu, TCG)
	test/vm/run.sh

bench: build ## benchmarks (root): prints a table and writes docs/benchmarks.md
	hack/bench/run.sh

reliability: build ## long reliability suite (root): torn reads, crash, fail-open, hostile input, fuzz, churn
	test/reliability/run.sh

fuzz: ## every go fuzz target for FUZZTIME (default: 1M executions each)
	hack/fuzz.sh

golden: ## rewrite golden files
	$(GO) test ./internal/render ./internal/spec ./internal/views -update

fixtures: ## capture cgroup v1/hybrid fixture trees from this host (root)
	hack/capture-fixture.sh all

fixtures-v2: build ## capture cgroup v2 fixture trees inside the VM
	test/vm/capture-fixtures.sh

install: build ## install binaries, hooks.d JSON, systemd unit, default config
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(HOOKS_DIR) $(DESTDIR)$(CONFIG_DIR) $(DESTDIR)$(UNIT_DIR)
	install -m 0755 $(addprefix bin/,$(BINARIES)) $(DESTDIR)$(BINDIR)/
	for f in oci-hooks.d/*.json; do sed 's|@BINDIR@|$(BINDIR)|g' $$f > $(DESTDIR)$(HOOKS_DIR)/$$(basename $$f); done
	sed 's|@BINDIR@|$(BINDIR)|g' deploy/systemd/procviewd.service > $(DESTDIR)$(UNIT_DIR)/procviewd.service
	sed 's|@BINDIR@|$(BINDIR)|g' deploy/systemd/procview-agent.service > $(DESTDIR)$(UNIT_DIR)/procview-agent.service
	install -m 0644 deploy/systemd/run-procview.mount $(DESTDIR)$(UNIT_DIR)/run-procview.mount
	[ -e $(DESTDIR)$(CONFIG_DIR)/config.toml ] || install -m 0644 deploy/config.toml $(DESTDIR)$(CONFIG_DIR)/config.toml

uninstall: ## remove what install put in place (keeps the config)
	rm -f $(addprefix $(DESTDIR)$(BINDIR)/,$(BINARIES)) $(DESTDIR)$(HOOKS_DIR)/procview.json $(DESTDIR)$(HOOKS_DIR)/procview-poststop.json $(DESTDIR)$(UNIT_DIR)/procviewd.service $(DESTDIR)$(UNIT_DIR)/procview-agent.service $(DESTDIR)$(UNIT_DIR)/run-procview.mount

demo: ## install runc + busybox-static if missing, build, compare a container with and without procview
	hack/demo.sh

clean:
	rm -rf bin

help:
	@awk -F':.*## ' '/^[a-z0-9-]+:.*## /{printf "  %-12s %s\n", $$1, $$2}' $(MAKEFILE_LIST)
