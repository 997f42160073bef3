# avshub: the two commands a newcomer needs are `make demo` and `make test`.
GO          ?= go
# The standard library fixes the hub needs are in go1.27.3; the go command fetches it
# through the module proxy on first use (go.mod requires it, so an older local Go refuses).
export GOTOOLCHAIN := go1.27.3
BIN         := $(CURDIR)/bin
GOBIN_TOOLS := $(CURDIR)/.tools
STATICCHECK := $(GOBIN_TOOLS)/staticcheck
GOVULNCHECK := $(GOBIN_TOOLS)/govulncheck
# GOVULNDB is the vulnerability database govulncheck reads (a file:// URL for a local copy).
GOVULNDB    ?= https://vuln.go.dev
PROTOC_GEN_GO      := $(GOBIN_TOOLS)/protoc-gen-go
PROTOC_GEN_GO_GRPC := $(GOBIN_TOOLS)/protoc-gen-go-grpc
FUZZTIME    ?= 30s
BENCHTIME   ?= 1s
export PATH := $(GOBIN_TOOLS):$(PATH)

.PHONY: cross test-arm qemu release all build test test-short lint bench fuzz demo soak attack proto generate generate-check clean tools skill-lambda z2mreal sdk-js axe chromium

all: build

## build: every binary into bin/
build:
	$(GO) build -o $(BIN)/ ./cmd/...

# The three architectures: a PC or server (amd64), a Raspberry Pi 3/4/5 with a 64-bit OS (arm64),
# a Raspberry Pi 2/3/4 or Zero 2 with 32-bit Raspberry Pi OS (arm, ARMv7).
RELEASE_ARCHS := amd64 arm64 arm
VERSION       ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
RELEASE_FLAGS := -trimpath -ldflags "-s -w -X main.version=$(VERSION)"
DIST          := $(CURDIR)/dist

## cross: compile every package for linux/arm64 and linux/arm (GOARM=7), pure Go (CGO_ENABLED=0)
cross:
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build ./...
	CGO_ENABLED=0 GOOS=linux GOARCH=arm GOARM=7 $(GO) build ./...

## qemu: Debian's qemu-user-static, which runs the linux/arm64 and linux/arm test binaries on this machine
## (invoked explicitly: binfmt_misc need not be registered)
qemu:
	@test -x /usr/bin/qemu-aarch64-static -a -x /usr/bin/qemu-arm-static || \
		(apt-get update -qq && apt-get install -y -qq qemu-user-static) || \
		(echo "make: the ARM tests need qemu-user: apt-get install qemu-user-static"; exit 1)

# The tests run for ARM, as PACKAGE=-run pattern: the Zigbee bridge against znp-sim over a real pty (its
# serial termios and the simulator's pty ioctls), the Zigbee plugin binary's conformance checks, and one
# bridge process started by the host's supervisor (the plugin is built for the same architecture).
ARM_TESTS := 'bridges/zigbee=^(TestStartupFormsNetworkWithOwnKey|TestCommandsOnTheWire|TestUnplugReplugAndNoise|TestPluginBinaryConformance)$$' \
	'plugins/host=^TestSupervisorRunsVirtualBridge$$'
ARMTEST := $(CURDIR)/bin/armtest

## test-arm: cross-compile the ARM_TESTS for linux/arm64 and linux/arm (GOARM=7) and run them under
## qemu-aarch64-static and qemu-arm-static; a plugin a test starts is built for the same architecture
## and run under the same emulator (internal/testbuild, AVSHUB_TEST_EMULATOR)
test-arm: qemu
	@set -e; for a in arm64:aarch64 arm:arm; do \
		arch=$${a%%:*}; qemu=/usr/bin/qemu-$${a##*:}-static; \
		for t in $(ARM_TESTS); do \
			pkg=$${t%%=*}; run=$${t#*=}; exe=$(ARMTEST)/$$arch/$$(basename $$pkg).test; \
			CGO_ENABLED=0 GOOS=linux GOARCH=$$arch GOARM=7 $(GO) test -c -o $$exe ./$$pkg; \
			echo "test-arm: $$qemu $$pkg -run '$$run'"; \
			(cd $$pkg && AVSHUB_TEST_EMULATOR=$$qemu $$qemu $$exe -test.run "$$run" -test.count=1 -test.timeout=5m); \
		done; \
	done

## release: dist/avshub_VERSION_linux_{amd64,arm64,arm}.tar.gz, each holding bin/avshub (the hub with
## its bundled bridges, built -trimpath -ldflags "-s -w"), configs/avshub.service, configs/avshub.yaml and
## README.md, and dist/SHA256SUMS; scripts/checkrelease then checks every archive
release:
	rm -rf $(DIST) && mkdir -p $(DIST)
	set -e; for arch in $(RELEASE_ARCHS); do \
		name=avshub_$(VERSION)_linux_$$arch; dir=$(DIST)/$$name; mkdir -p $$dir/bin $$dir/configs; \
		CGO_ENABLED=0 GOOS=linux GOARCH=$$arch GOARM=7 $(GO) build $(RELEASE_FLAGS) -o $$dir/bin/avshub ./cmd/avshub; \
		cp configs/avshub.service configs/avshub.yaml $$dir/configs/; cp README.md $$dir/; \
		chmod 0755 $$dir/bin/avshub; chmod 0644 $$dir/configs/* $$dir/README.md; \
		tar -C $(DIST) --owner=0 --group=0 --sort=name -czf $(DIST)/$$name.tar.gz $$name; \
		rm -rf $$dir; \
	done
	cd $(DIST) && sha256sum *.tar.gz > SHA256SUMS && cat SHA256SUMS
	$(GO) run ./scripts/checkrelease $(DIST) $(RELEASE_ARCHS)

## test: vet and the whole test suite with the race detector (CI also runs cross and test-arm,
## the ARM builds and their tests under qemu-user, which take minutes more)
test: z2mreal sdk-js axe chromium
	$(GO) vet ./...
	@# The MQTT bridge's tests also run against a Mosquitto listening on
	@# 127.0.0.1:1883 (as on these machines); AVSHUB_MOSQUITTO names another.
	@if [ -z "$$AVSHUB_MOSQUITTO" ] && timeout 2 bash -c '</dev/tcp/127.0.0.1/1883' 2>/dev/null; then \
		export AVSHUB_MOSQUITTO=127.0.0.1:1883; echo "Mosquitto on 127.0.0.1:1883: the MQTT bridge is tested against it too"; fi; \
	$(GO) test -race -count=1 -timeout 20m $(TEST_FIRST) ./...

# TEST_FIRST are the packages whose tests take longest, named before ./... so that they
# start first: go test runs the packages' tests in the order it is given them, two at a
# time on two cores, and the hub's (its whole chain against the real zigbee2mqtt and the
# Chromium tests, the longest by far) came about 45th of 69 in ./...'s order, running
# alone at the end while the other core had nothing left to do.
TEST_FIRST := ./gateway/hub/ ./bridges/mqtt/ ./bridges/zigbee/znpsim/ ./plugins/plugintest/ \
	./bridges/zigbee/ ./gateway/dashboard/broker/ ./bridges/mqtt/z2msim/

test-short:
	$(GO) test -short -count=1 ./...

## z2mreal: Node.js and npm for the tests against the real zigbee2mqtt (bridges/mqtt/z2mreal
## installs the pinned zigbee2mqtt itself with npm ci, once, into ~/.cache/avshub/z2mreal)
z2mreal:
	@command -v node >/dev/null && command -v npm >/dev/null || \
		(apt-get update -qq && apt-get install -y -qq nodejs npm) || \
		(echo "make: the real zigbee2mqtt tests need Node.js and npm: apt-get install nodejs npm"; exit 1)

## chromium: Debian's Chromium for the status page's browser tests (they fail without it)
chromium:
	@command -v chromium >/dev/null || \
		(apt-get update -qq && apt-get install -y -qq chromium) || \
		(echo "make: the status page's browser tests need Chromium: apt-get install chromium"; exit 1)

## sdk-js: the JavaScript bridge SDK's packages (from its committed package-lock.json)
sdk-js: z2mreal
	cd plugins/sdk-js && npm ci --no-audit --no-fund --loglevel=error

## axe: axe-core for the status page's accessibility check in the Chromium tests (from the
## committed gateway/hub/testdata/axe/package-lock.json)
axe: z2mreal
	cd gateway/hub/testdata/axe && npm ci --no-audit --no-fund --loglevel=error

## lint: gofmt, go vet, staticcheck and govulncheck (installed from the Go module proxy;
## govulncheck runs when its database, GOVULNDB, can be reached, and says so when not)
lint: $(STATICCHECK) $(GOVULNCHECK)
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go') | grep -v '\.pb\.go$$' || true); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet -tags soak ./...
	$(STATICCHECK) -tags soak ./...
	@./scripts/govulncheck.sh "$(GOVULNCHECK)" "$(GOVULNDB)"

$(STATICCHECK):
	GOBIN=$(GOBIN_TOOLS) $(GO) install honnef.co/go/tools/cmd/staticcheck@v0.8.2

$(GOVULNCHECK):
	GOBIN=$(GOBIN_TOOLS) $(GO) install golang.org/x/vuln/cmd/govulncheck@v1.10.0

## bench: every benchmark (figures for BENCHMARKS.md)
bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) ./...

## fuzz: every fuzz target for FUZZTIME each
fuzz:
	FUZZTIME=$(FUZZTIME) ./scripts/fuzz-all.sh

## soak: long fault and soak runs (not part of make test)
soak:
	$(GO) test -race -count=1 -timeout 90m -tags soak -run Soak ./...

## attack: the embedded broker's attacks alone, the hub's RSS under 64 MiB (TestSoakAttackMemory, part of make soak; about a minute)
attack:
	$(GO) test -count=1 -timeout 30m -tags soak -run TestSoakAttackMemory -v ./gateway/hub/

## demo: the whole chain on simulators; KEEP=1 leaves it running, PROFILE=smarthome picks the other Alexa profile,
## TRANSPORT=skill takes the Smart Home skill road (skill-sim and the Lambda forwarder) instead of AVS
demo: build
	$(BIN)/avshub-demo -bin $(BIN) -out $(CURDIR)/.demo $(if $(KEEP),-keep,) $(if $(PROFILE),-profile $(PROFILE),) $(if $(TRANSPORT),-transport $(TRANSPORT),)

## skill-lambda: the Smart Home skill's Lambda function (runtime provided.al2023, arm64 and x86_64): bin/skill-lambda-<arch>.zip holding bootstrap
skill-lambda:
	@mkdir -p $(BIN)/skill-lambda-build/arm64 $(BIN)/skill-lambda-build/amd64
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build -trimpath -ldflags='-s -w' -o $(BIN)/skill-lambda-build/arm64/bootstrap ./cmd/skill-lambda
	CGO_ENABLED=0 GOOS=linux GOARCH=amd64 $(GO) build -trimpath -ldflags='-s -w' -o $(BIN)/skill-lambda-build/amd64/bootstrap ./cmd/skill-lambda
	$(GO) run ./scripts/zipbootstrap $(BIN)/skill-lambda-build/arm64/bootstrap $(BIN)/skill-lambda-arm64.zip
	$(GO) run ./scripts/zipbootstrap $(BIN)/skill-lambda-build/amd64/bootstrap $(BIN)/skill-lambda-x86_64.zip
	@echo "upload $(BIN)/skill-lambda-arm64.zip (architecture arm64) or $(BIN)/skill-lambda-x86_64.zip (x86_64); see docs/alexa-skill.md"

## proto: regenerate the bridge protocol's Go code (installs protoc and plugins)
proto: $(PROTOC_GEN_GO) $(PROTOC_GEN_GO_GRPC)
	@command -v protoc >/dev/null || (apt-get update -qq && apt-get install -y -qq protobuf-compiler)
	protoc --proto_path=plugins/proto --go_out=paths=source_relative:plugins/proto \
		--go-grpc_out=paths=source_relative:plugins/proto \
		plugins/proto/bridge/v1/bridge.proto plugins/proto/bridge/v1/values.proto plugins/proto/bridge/v1/traits.proto

## generate: the trait model from discovery/model/traitspec (model, traits.proto, converters), then the protocol's Go code
generate:
	$(GO) run ./discovery/model/internal/traitgen
	$(MAKE) proto

## generate-check: fail when a generated file is not what make generate writes (CI)
generate-check: generate
	@git diff --exit-code -- '*.go' '*.proto' || (echo "generated files are stale: run make generate and commit"; exit 1)
	@out=$$(git status --porcelain --untracked-files=all -- '*.go' '*.proto'); if [ -n "$$out" ]; then echo "make generate wrote untracked files:"; echo "$$out"; exit 1; fi

$(PROTOC_GEN_GO):
	GOBIN=$(GOBIN_TOOLS) $(GO) install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12

$(PROTOC_GEN_GO_GRPC):
	GOBIN=$(GOBIN_TOOLS) $(GO) install google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.6.2

clean:
	rm -rf $(BIN) .demo $(DIST)
