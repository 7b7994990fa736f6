# graphmetrics: make run | make test | make check | make bench | make fuzz | make demo
SHELL := /bin/bash
GO ?= go
BIN := bin/graphmetrics
CONFIG ?= etc/graphmetrics.toml
export CGO_ENABLED := 1
# ziutek/rrd's cgo code trips a newer gcc check against librrd 1.7.2's headers.
export CGO_CFLAGS := -O2 -Wno-incompatible-pointer-types

# What the build, the tests and the benchmarks use, as FILE:DEBIAN-PACKAGE:
# a package is installed only when its file is missing (node and npm may come
# from elsewhere than Debian).
NEEDS := /usr/bin/gcc:gcc /usr/bin/pkg-config:pkg-config \
	/usr/include/rrd.h:librrd-dev /usr/bin/rrdtool:rrdtool \
	/usr/bin/logger:bsdutils /usr/bin/python3:python3 \
	/usr/sbin/syslog-ng:syslog-ng-core /usr/bin/chromium:chromium \
	/usr/bin/aws:awscli /usr/bin/ps:procps /usr/bin/curl:curl \
	/usr/bin/strace:strace /usr/bin/systemd-analyze:systemd \
	/usr/sbin/collectd:collectd-core \
	/usr/lib/python3/dist-packages/statsd/__init__.py:python3-statsd \
	/usr/lib/python3/dist-packages/zmq/__init__.py:python3-zmq \
	/usr/bin/carbon-cache:graphite-carbon \
	/usr/lib/python3/dist-packages/graphite/render/functions.py:graphite-web \
	/usr/share/doc/python3-rrdtool:python3-rrdtool
KINESALITE_STAMP := .deps/kinesalite/.installed
STATSD_STAMP := .deps/statsd/.installed
GO_SOURCES := $(shell find . -name '*.go' -not -path './.deps/*' 2>/dev/null) go.mod go.sum
# The browser charts' library, fetched pinned and integrity-checked by npm
# (contrib/uplot/fetch.sh) and embedded into the binary from web/static.
UPLOT := web/static/vendor/uplot.js
# staticcheck, pinned; go run fetches and caches it on first use.
STATICCHECK := $(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: all deps apt-deps go-deps node-deps rsyslog-deps web-assets build run lint check test test-short bench fuzz demo bench-filehop screens clean

all: build

deps: apt-deps go-deps node-deps rsyslog-deps web-assets

web-assets: $(UPLOT)

$(UPLOT): contrib/uplot/fetch.sh
	@contrib/uplot/fetch.sh

apt-deps:
	@missing=$$(for n in $(NEEDS); do [ -e "$${n%%:*}" ] || echo "$${n#*:}"; done; \
		command -v npm >/dev/null || echo npm; command -v node >/dev/null || echo nodejs); \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:" $$missing; \
		sudo=; [ "$$(id -u)" = 0 ] || sudo=sudo; \
		$$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq $$missing; \
	fi

# rsyslog conflicts with syslog-ng-core as a Debian package: its binary is
# unpacked into .deps/rsyslog for the config syntax test instead.
rsyslog-deps: apt-deps
	@contrib/rsyslog/install.sh >/dev/null

go-deps:
	@$(GO) mod download

node-deps: $(KINESALITE_STAMP) $(STATSD_STAMP)

# etsy statsd 0.9.0: the reference the statsd input is tested and
# benchmarked against.
$(STATSD_STAMP): contrib/statsd/package.json contrib/statsd/package-lock.json contrib/statsd/install.sh contrib/npm-install.sh
	@contrib/statsd/install.sh
	@touch $@

$(KINESALITE_STAMP): contrib/kinesalite/package.json $(wildcard contrib/kinesalite/package-lock.json) contrib/kinesalite/install.sh contrib/npm-install.sh
	@contrib/kinesalite/install.sh
	@touch $@

build: $(BIN)

$(BIN): $(GO_SOURCES) $(UPLOT)
	@mkdir -p bin
	$(GO) build -o $(BIN) ./daemon

run: deps build
	./$(BIN) -config $(CONFIG)

# Fails when go.mod/go.sum are not tidy, a file is not gofmt'ed, or go vet
# or staticcheck report anything.
lint: go-deps
	$(GO) mod tidy -diff
	@unformatted=$$(gofmt -l $(filter %.go,$(GO_SOURCES))); \
		if [ -n "$$unformatted" ]; then echo "gofmt -l lists:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(STATICCHECK) ./...

# The quick tier: lint, then every test but the end-to-end ones
# (go test -short, under a minute).
check: apt-deps lint
	$(GO) test -short -timeout 5m ./...

# What builds and tests without cgo (librrd is in store/rrdfile and web).
NOCGO_PKGS := ./parser/... ./daemon/kinesis/... ./daemon/config/... ./daemon/atomicfile ./store ./store/loglimit ./store/hist ./store/histstore

# Every test, including the end-to-end ones with real syslog clients,
# syslog-ng, kinesalite and Chromium. Short fuzz runs of every fuzz target
# are part of it.
test: deps build lint
	$(GO) test -timeout 9m ./...
	CGO_ENABLED=0 $(GO) test $(NOCGO_PKGS)

fuzz: deps
	@for pkg in $$($(GO) list ./...); do \
		for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz'); do \
			echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $${FUZZTIME:-30s} $$pkg || exit 1; \
		done; \
	done

# Go benchmarks of the hot paths (COUNT runs each, for medians), then the
# end-to-end load runs of contrib/bench against the built daemon, the relay
# scenario included (~17 min), then the metric inputs against etsy statsd and
# carbon-cache (contrib/metricbench, ~15 min).
bench: deps build
	set -o pipefail; GM_TAIL_BENCH_LINES=$${GM_TAIL_BENCH_LINES:-10000000} $(GO) test -run '^$$' -bench . -benchmem -count $${COUNT:-3} ./parser/ ./store/... ./daemon/... ./web/... | tee bench.txt
	set -o pipefail; $(GO) run ./contrib/bench -bin $(BIN) -scenario all -out bench-e2e.json | tee bench-e2e.md
	set -o pipefail; $(GO) run ./contrib/metricbench -bin $(BIN) -out bench-metrics.json | tee bench-metrics.md

# The old pipeline's first hop (a real syslog-ng writing files) against
# graphmetrics doing its whole job, same stream, same minutes (~10 min).
bench-filehop: deps build
	set -o pipefail; $(GO) run ./contrib/bench -bin $(BIN) -scenario filehop -out bench-filehop.json | tee bench-filehop.md

# A lively fleet on http://127.0.0.1:8080 (user demo, password demo-demo)
# until Ctrl-C; data in var/demo.
demo: deps build
	$(GO) run ./contrib/bench -bin $(BIN) -scenario demo

# Screenshots of an instance, a pool, a /metrics page, the overview and a
# /urls page, light and dark,
# 1400 and 800 px wide, for review as pictures (web/testdata/screens).
screens: deps
	GM_SCREENS=$(CURDIR)/web/testdata/screens $(GO) test -count 1 -run '^(TestScreens|TestOverviewBrowser|TestBrowserURLs)$$' ./web/

clean:
	rm -rf bin
