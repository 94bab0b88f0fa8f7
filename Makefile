# impression-tracker build. `make help` lists the targets; tests/README.md explains them.
# Native builds go to build/, the shipped module to js/imp.wasm (both ignored by git).

SHELL := /bin/bash
# A recipe that fails (a size budget exceeded) leaves no target behind, so the next
# make fails again instead of passing on it.
.DELETE_ON_ERROR:
empty :=
space := $(empty) $(empty)
comma := ,
CC       ?= cc
CLANG    ?= clang
EMCC     ?= emcc
FUZZ_SECONDS ?= 60
FUZZ_SHORT   ?= 10
BUILD    := build

# The core: visibility, the queue, the encoder, and the outbox (delivery decisions,
# src/outbox.h). src/unity.c includes every one of them for js/imp.wasm.
CORE_SRC := src/api.c src/config.c src/registry.c src/ids.c src/seen.c src/element.c src/visibility.c src/queue.c src/json.c \
            src/deflate_codes.c src/deflate.c
CORE_HDR := src/imp.h src/imp_internal.h src/deflate.h src/deflate_internal.h
OUTBOX_SRC := src/outbox.c src/outbox_cut.c src/outbox_send.c src/outbox_outcome.c src/outbox_adopt.c \
              src/outbox_retry.c src/outbox_record.c src/outbox_api.c
OUTBOX_HDR := src/outbox.h src/outbox_internal.h
NATIVE_SRC := $(CORE_SRC) $(OUTBOX_SRC)
NATIVE_HDR := $(CORE_HDR) $(OUTBOX_HDR)
WARN     := -std=c11 -Wall -Wextra -Wshadow -Wconversion -Wdouble-promotion \
            -Wstrict-prototypes -Wmissing-prototypes -Wundef -Werror
SAN      := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
# The .wasm's exports: the short names the headers give (IMP_EXPORT in src/imp.h and
# src/outbox.h; the glue's table is js/core/abi.js).
EXPORTS  := $(shell sed -n 's/^IMP_EXPORT("\([^"]*\)").*/\1/p' src/imp.h src/outbox.h)
# The outbox's slots take about 1.1 MiB of the 8 MiB (src/README.md).
# For size (each step measured in src/README.md "Where the bytes go"): the sources are one
# translation unit (src/unity.c), so -flto only costs bytes; no jump tables; and after
# emcc, shrink_wasm keeps only the ABI's exports and runs wasm-opt again with the control
# flow rebuilt (--flatten --rereloop), inlining every function of up to 6 bytes (-aimfs).
EMFLAGS  := -Oz -fno-jump-tables --no-entry -sSTANDALONE_WASM -sFILESYSTEM=0 -sINITIAL_MEMORY=8388608 \
            -sTOTAL_STACK=65536 -sALLOW_MEMORY_GROWTH=0 -sMALLOC=none -sSUPPORT_ERRNO=0 -mbulk-memory -mnontrapping-fptoint
WASM_FEATURES := --enable-bulk-memory --enable-nontrapping-float-to-int --enable-mutable-globals \
            --enable-sign-ext
WASM_OPT := wasm-opt $(WASM_FEATURES) -aimfs 6 --flatten --rereloop -Oz -Oz --flatten --rereloop -Oz -Oz
# Keeps only the ABI's exports ($(1)) of the module $@ (emcc also exports its stack
# helpers and the function table), then optimises it again; $(2): -g keeps the names.
define shrink_wasm
	node tests/tools/wasm-roots.mjs _initialize memory $(1) > $@.roots.json
	wasm-metadce $(2) $(WASM_FEATURES) --graph-file $@.roots.json $@ -o $@ > /dev/null
	@rm -f $@.roots.json
	$(WASM_OPT) $(2) $@ -o $@
endef
# Size budget for the core, gzip bytes: its size and a few bytes more. Of it the outbox
# (delivery decisions) takes about 5.2 KiB, the DEFLATE encoder about 1.4 KiB, the configuration
# record about 0.3 KiB, the seen set about 0.4 KiB, the id heap about 0.35 KiB and the page
# rules on elements (most visible copy, v2 cover, key-press echo) about 0.6 KiB
# (tests/README.md "Sizes"), and the encoder's time savers about 0.2 KiB (a CRC-32 table
# of 16 entries, the kept body gzip, the cut that does not compress: src/README.md
# "Once per body").
WASM_GZIP_BUDGET ?= 11731

C_TESTS  := $(wildcard tests/c/test_*.c)
FUZZERS  := $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/fuzz_*.c))

.PHONY: help all deps wasm test test-c test-fuzz fuzz replay size \
        test-js test-browser demo bench clean

all: wasm

help:
	@echo "make deps | wasm | glue | pack | test | test-c | test-fuzz | test-js | test-browser | test-demo | test-clickhouse | fuzz | replay | size | size-funcs | demo [STORE=clickhouse] | bench | bench-store | bench-collector | clean"

# Installs what a fresh Debian machine lacks (apt packages, npm ci); says what to do
# when it cannot.
deps:
	@bash .ci/deps.sh

# --- WebAssembly ----------------------------------------------------------------
wasm: js/imp.wasm

js/imp.wasm: src/unity.c $(NATIVE_SRC) $(NATIVE_HDR) Makefile
	NODE_PATH=/usr/share/nodejs $(EMCC) $(EMFLAGS) src/unity.c -o $@
	$(call shrink_wasm,$(EXPORTS))
	@node tests/tools/check-wasm.mjs $@ $(WASM_GZIP_BUDGET)

# The same module with its function names (same flags and passes, so the same code), and
# its functions by size: where the core's bytes go (src/README.md "Where the bytes go").
.PHONY: size-funcs
size-funcs: $(BUILD)/imp-names.wasm
	@node tests/tools/wasm-funcs.mjs $< 40
$(BUILD)/imp-names.wasm: src/unity.c $(NATIVE_SRC) $(NATIVE_HDR) Makefile
	@mkdir -p $(@D)
	NODE_PATH=/usr/share/nodejs $(EMCC) $(EMFLAGS) --profiling-funcs src/unity.c -o $@
	$(call shrink_wasm,$(EXPORTS),-g)

# --- Native tests -----------------------------------------------------------------
# Each suite is built three ways: warnings-as-errors, ASan+UBSan, and tiny capacities.
# Test builds count the encoder's work (IMP_ENCODER_STATS, src/deflate.h); js/imp.wasm does not.
$(BUILD)/plain/%: tests/c/%.c $(NATIVE_SRC) $(NATIVE_HDR) $(wildcard tests/c/*.h)
	@mkdir -p $(@D)
	$(CC) $(WARN) -O1 -g -DIMP_ENCODER_STATS -Isrc -Itests/c $< $(NATIVE_SRC) -o $@ -lm -ljansson -lz
$(BUILD)/asan/%: tests/c/%.c $(NATIVE_SRC) $(NATIVE_HDR) $(wildcard tests/c/*.h)
	@mkdir -p $(@D)
	$(CLANG) $(WARN) -O1 -g $(SAN) -DIMP_ENCODER_STATS -Isrc -Itests/c $< $(NATIVE_SRC) -o $@ -lm -ljansson -lz
$(BUILD)/tiny/%: tests/c/%.c $(NATIVE_SRC) $(NATIVE_HDR) $(wildcard tests/c/*.h)
	@mkdir -p $(@D)
	$(CLANG) $(WARN) -O1 -g $(SAN) -DIMP_ENCODER_STATS -DIMP_TEST_TINY -DIMP_ARENA_BYTES=65536 \
	  -DIMP_OB_ARENA_BYTES=266752 -Isrc -Itests/c $< $(NATIVE_SRC) -o $@ -lm -ljansson -lz

TEST_BINS := $(foreach v,plain asan tiny,$(patsubst tests/c/%.c,$(BUILD)/$(v)/%,$(C_TESTS)))

test-c: $(TEST_BINS) $(BUILD)/replay
	@set -e; for t in $(TEST_BINS); do echo "# $$t"; $$t; done
	@bash tests/replay/check.sh $(BUILD)/replay
	@bash tests/replay/check.sh $(BUILD)/replay tests/replay/delivery

# --- Replay tool ------------------------------------------------------------------------
replay: $(BUILD)/replay
REPLAY_SRC := src/replay.c src/replay_fields.c src/replay_outbox.c src/replay_storage.c
$(BUILD)/replay: $(REPLAY_SRC) src/replay.h $(NATIVE_SRC) $(NATIVE_HDR)
	@mkdir -p $(@D)
	$(CC) $(WARN) -O2 -Isrc $(REPLAY_SRC) $(NATIVE_SRC) -o $@ -lm

# --- Fuzzing (libFuzzer + ASan + UBSan) ------------------------------------------------
$(BUILD)/fuzz/%: tests/fuzz/%.c $(wildcard tests/fuzz/*.h) $(NATIVE_SRC) $(NATIVE_HDR)
	@mkdir -p $(@D)
	$(CLANG) -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	  -Isrc $< $(NATIVE_SRC) -o $@ -ljansson -lz -lm

# A failing target prints the broken invariant from its log and fails make;
# the crashing input is saved as $(BUILD)/crash-*.
define run_fuzzers
	@set -e; for f in $(FUZZERS); do mkdir -p $(BUILD)/corpus/$$f; \
	  echo "# fuzz $$f for $(1) s"; \
	  if $(BUILD)/fuzz/$$f -max_total_time=$(1) -print_final_stats=1 -artifact_prefix=$(BUILD)/ \
	      $(BUILD)/corpus/$$f tests/fuzz/seeds >$(BUILD)/fuzz-$$f.log 2>&1; then \
	    tail -4 $(BUILD)/fuzz-$$f.log; \
	  else grep -E -m8 'invariant broken|^batch:|^jansson:|ERROR:|SUMMARY:|Test unit written' \
	      $(BUILD)/fuzz-$$f.log | cut -c1-400; \
	    echo "not ok - $$f (log: $(BUILD)/fuzz-$$f.log)"; exit 1; fi; \
	done
endef
test-fuzz: $(addprefix $(BUILD)/fuzz/,$(FUZZERS))
	$(call run_fuzzers,$(FUZZ_SHORT))
fuzz: $(addprefix $(BUILD)/fuzz/,$(FUZZERS))
	$(call run_fuzzers,$(FUZZ_SECONDS))

# --- Sizes -------------------------------------------------------------------------------
size: wasm
	@JS_GZIP_BUDGET=$(JS_GZIP_BUDGET) GLUE_GZIP_BUDGET=$(GLUE_GZIP_BUDGET) SCRIPT_TAG_GZIP_BUDGET=$(SCRIPT_TAG_GZIP_BUDGET) node tests/tools/size.mjs --modules

# --- Everything ---------------------------------------------------------------------------
test: deps
	$(MAKE) test-c
	$(MAKE) test-fuzz
	$(MAKE) wasm
	$(MAKE) test-js
	$(MAKE) test-browser
	$(MAKE) test-demo
	$(MAKE) test-clickhouse

# --- JS glue ---------------------------------------------------------------------------------
# Generated (ignored by git, shipped in the npm package): js/imp-embedded.js (the core as
# gzip bytes in base64 for the single-file entry), dist/impression-tracker.js (the script-tag build),
# dist/index.min.js and dist/embedded.min.js (minified module bundles, measured by
# `make size`; the gzip budget of the module entry + core fails `make test-js`).
TSC       := node_modules/.bin/tsc
GLUE_SRC  := $(filter-out js/imp-embedded.js,$(wildcard js/*.js js/*/*.js))
# esbuild bundles, terser minifies, with the settings in tests/tools/bundle.mjs (what
# each one saves is measured there); tests/tools/size.mjs measures with the same module.
BUNDLE    := node tests/tools/bundle.mjs
# Size budgets, one per layer (gzip -9; tests/README.md "Sizes"), each a little above
# today's size: the core (WASM_GZIP_BUDGET, checked by `make wasm`; the outbox, which
# decides delivery, is about 5.2 KiB of it), the module entry, which is the glue
# (GLUE_GZIP_BUDGET; delivery's I/O driver, js/delivery/, about 1.8 KiB of it; the trace
# recorder and the debug hooks are the separate entry js/debug.js, which the check refuses
# to find in it), and the module entry plus the core (JS_GZIP_BUDGET). Compressed batches cost about 1.8 KiB in the core (encoder, configuration
# record); tracking any number of cards (seen set, registration on view, observers by
# rule) about 0.4 KiB in the core and 0.25 KiB in the glue; refusing bad options (inexact
# numbers, a non-http(s) endpoint) and the core's 10 s load deadline about 0.2 KiB in the
# glue; the page rules in the core (elements, cover, activations) about 0.64 KiB in the
# core and 0.08 KiB in the glue; tracking from the first moment (cards observed while
# the core loads, early.js) about 0.47 KiB in the glue; compressing each body once
# (src/README.md "Once per body") about 0.16 KiB in the core; refusing, with a message
# that says what to do, what a new user gets wrong (a missing endpoint, consent or gpc
# outside its list, a debug option not made by trackerDebug(), observe() of a
# non-element, setConsent() of a non-boolean, cards without an id, an onError that
# throws) and naming the URL a core failed to load from about 0.33 KiB in the glue; saying
# what to do about a core not at its URL or refused by a CSP, a collector's 4xx (a wrong
# endpoint) and a second createTracker() with other options about 0.32 KiB in the glue; a card
# resized in view across the large-card area changing rule (a ResizeObserver) about
# 0.07 KiB in the glue; a recycled card in view ending its old id at once, not in idle
# time, about 0.02 KiB in the glue; another copy of the package refused while one tracks
# the document about 0.1 KiB in the glue; the outbox's in-flight count for stats(),
# parked fetchLater copies bounded, a scan lock never granted taken after 5 s, and
# batches aged by the wall clock across a device's sleep about 0.09 KiB in the core and
# 0.04 KiB in the glue; a card that gets or loses all its pixels in place (or pops in by
# a transform) measured again, and a card re-rendered as a new element of its id handing
# its handle over, about 0.22 KiB in the glue; the page's fixed or sticky bars at the
# viewport's edges left out of the observers' root (js/page/bars.js) about 0.31 KiB in the glue;
# a host page's Object.prototype not read as the tracker's (dictionaries with no prototype,
# own entries only, no Array.from with a map function) and an entry feed the page may call
# back into about 0.02 KiB in the glue; the page's calls from its hooks (onError, the debug
# hooks) taken when the tracker's step ends, and one page view for the newPageView() calls
# made meanwhile, about 0.09 KiB in the glue; options of another type than their default
# refused about 0.09 KiB in the glue; an adopted batch sent only once a scan a second after
# its claim finds the claim standing about 0.13 KiB in the core; a page shown again taking
# back its requests' released copies only when no live tab holds them about 0.04 KiB in the
# core; a collector the page cannot reach said once about 0.07 KiB in the glue; the rest
# of a batch let go at a hide left to its released copy (which another tab may have
# taken) about 0.02 KiB in the core; a fixed or sticky element that holds a card (a strip of
# featured cards) taken for no bar about 0.05 KiB in the glue; the bars measured at the
# event that may have moved one (then at most once per 500 ms) about 0.02 KiB in the glue;
# the bars measured when observe() hands a card over about 0.01 KiB in the glue; their
# timer its own function, so observeCards reads at once, about 0.01 KiB in the glue;
# what is outside the visual viewport (a pinch-zoom, an on-screen keyboard) left out of
# the root with the bars, measured at its resize and scroll, about 0.07 KiB in the glue;
# any number of mutation records taken at a new page view, a few bytes in the glue; the
# viewport's size read from the scrolling element (a page in quirks mode), 0.01 KiB in the glue;
# a phone page wider than the screen (its layout viewport's size taken from the observers'
# entries, forgotten when the page narrows) about 0.12 KiB in the glue; the
# core's calls with named arguments, not gathered (nothing allocated per observer entry),
# 0.01 KiB in the glue; a modal over the whole page making every card in view covered
# (found with the bars, passed as the page's cover, measured at focusin and a dialog's
# close too) about 0.05 KiB in the core and 0.11 KiB in the glue.
JS_GZIP_BUDGET ?= 21409
GLUE_GZIP_BUDGET ?= 9678
# The script-tag build, the shipped single file (glue, debug entry and the core's gzip
# bytes as base64, placed first so gzip codes them apart: tests/tools/bundle.mjs).
SCRIPT_TAG_GZIP_BUDGET ?= 23554
.PHONY: glue types

glue: js/imp-embedded.js dist/impression-tracker.js dist/index.min.js dist/embedded.min.js

js/imp-embedded.js: js/imp.wasm tests/tools/embed-wasm.mjs
	node tests/tools/embed-wasm.mjs $< $@

dist/impression-tracker.js: $(GLUE_SRC) js/imp-embedded.js tests/tools/bundle.mjs
	@mkdir -p $(@D)
	echo 'import { startFromScriptTag } from "./js/script-tag.js"; startFromScriptTag();' | $(BUNDLE) - $@ --iife

dist/index.min.js dist/embedded.min.js: dist/%.min.js: js/%.js $(GLUE_SRC) js/imp-embedded.js tests/tools/bundle.mjs
	@mkdir -p $(@D)
	$(BUNDLE) $< $@

# The handwritten declarations, and a file that uses them as a consumer would.
types:
	$(TSC) --strict --noEmit --target es2022 --module nodenext --moduleResolution nodenext \
	  --lib es2022,dom js/index.d.ts js/embedded.d.ts js/react.d.ts js/debug.d.ts js/script-tag.d.ts tests/tools/types-usage.ts tests/tools/types-react-usage.ts

size: glue

# The npm package as a tarball, impression-tracker-<version>.tgz in this directory, for
# installing it before it is on the registry: npm install ./impression-tracker-0.1.0.tgz
.PHONY: pack
pack: deps
	npm pack

test-js: deps wasm glue types $(BUILD)/replay
	node --test tests/unit/
	JS_GZIP_BUDGET=$(JS_GZIP_BUDGET) GLUE_GZIP_BUDGET=$(GLUE_GZIP_BUDGET) SCRIPT_TAG_GZIP_BUDGET=$(SCRIPT_TAG_GZIP_BUDGET) node tests/tools/size.mjs --check

# --- Browser suite ----------------------------------------------------------------------------
# Headless Debian Chromium (CHROMIUM_PATH overrides /usr/bin/chromium) driven by
# playwright-core; one browser per file, files one after another. tests/README.md: "Browser tests".
test-browser: deps wasm glue
	@if ls tests/browser/*.test.js >/dev/null 2>&1; then node --test --test-concurrency=1 --test-timeout=600000 tests/browser/; else echo "# no browser tests yet"; fi

# --- Demo ----------------------------------------------------------------------------------
# `make demo` serves the marketplace, the dashboard and the collector on 127.0.0.1:8080
# (PORT=n to change it; a taken port falls back to a free one; DEMO_DB=file for the database).
demo: deps wasm
	node demo/server.js $(if $(PORT),--port $(PORT)) $(if $(DEMO_DB),--db $(DEMO_DB)) $(if $(STORE),--store '$(STORE)')

# The demo's tests, one file at a time: the collector (contract, gzip, hostile input, export,
# durability, the ClickHouse spool), the server, and the pages in headless Chromium (smoke, overlay).
.PHONY: test-demo
test-demo: deps wasm glue
	node --test --test-concurrency=1 tests/demo/

# --- ClickHouse store -------------------------------------------------------------------------
# A private clickhouse-server (Debian's 18.16; CLICKHOUSE_SERVER overrides the binary) per
# test file, in a temporary folder on a free 127.0.0.1 port; collector processes against it.
# demo/README.md: "The ClickHouse store"; tests/README.md: "ClickHouse tests".
.PHONY: test-clickhouse bench-store
test-clickhouse: deps
	node --test --test-concurrency=1 tests/clickhouse/

# Measures, never asserts: events/s into ClickHouse through one and two collector
# processes and into SQLite, insert latency, spool replay rate, dashboard query times.
bench-store: deps
	node tests/bench/store.mjs

# --- Benchmarks ------------------------------------------------------------------------------
# Measures, never asserts: tables on the terminal, raw numbers in tests/bench/results/
# latest.json (ignored by git), the chart in tests/bench/chart.png. About 15
# minutes on 2 cores: the in-page part stops starting sessions after BENCH_BUDGET_S
# (default 660) seconds; BENCH_ROUNDS=n (default 5) sets the repeats.
# Both sides of the native/WASM comparison compile the core as one unit (src/unity.c).
$(BUILD)/core_bench: tests/bench/core_bench.c src/unity.c $(NATIVE_SRC) $(NATIVE_HDR)
	@mkdir -p $(@D)
	$(CC) $(WARN) -O2 -Isrc $< src/unity.c -o $@ -lm

# The core built for speed instead of size, only to compare with the shipped -Oz build.
$(BUILD)/imp-O2.wasm: src/unity.c $(NATIVE_SRC) $(NATIVE_HDR) Makefile
	@mkdir -p $(@D)
	NODE_PATH=/usr/share/nodejs $(EMCC) $(subst -Oz,-O2,$(EMFLAGS)) src/unity.c -o $@

# The core with the encoder stubbed out, only to measure the encoder's .wasm cost.
$(BUILD)/imp-no-encoder.wasm: tests/bench/core_without_encoder.c $(NATIVE_SRC) $(NATIVE_HDR) Makefile
	@mkdir -p $(@D)
	NODE_PATH=/usr/share/nodejs $(EMCC) $(EMFLAGS) $< -o $@
	$(call shrink_wasm,$(EXPORTS))

bench: deps wasm glue $(BUILD)/core_bench $(BUILD)/imp-O2.wasm $(BUILD)/imp-no-encoder.wasm
	node tests/bench/run.mjs

# POST /collect latency alone and while four clients download the NDJSON export of
# EVENTS (default 328000) events, and the collector's memory meanwhile. Measures, never
# asserts; COLLECTOR_DIR=<checkout>/demo measures another version of the collector.
.PHONY: bench-collector
bench-collector: deps
	node tests/bench/collector-load.mjs

clean:
	rm -rf $(BUILD) js/imp.wasm js/imp-embedded.js dist
