# impression-tracker build. `make help` lists the targets; README.md explains them.
# Native builds go to build/, the shipped module to js/imp.wasm (both ignored by git).

SHELL := /bin/bash
empty :=
space := $(empty) $(empty)
comma := ,
CC       ?= cc
CLANG    ?= clang
EMCC     ?= emcc
FUZZ_SECONDS ?= 60
FUZZ_SHORT   ?= 10
BUILD    := build

CORE_SRC := src/api.c src/registry.c src/visibility.c src/queue.c src/json.c
CORE_HDR := src/imp.h src/imp_internal.h
WARN     := -std=c11 -Wall -Wextra -Wshadow -Wconversion -Wdouble-promotion \
            -Wstrict-prototypes -Wmissing-prototypes -Wundef -Werror
SAN      := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
EXPORTS  := imp_abi_version imp_input_ptr imp_output_ptr imp_result_ptr \
            imp_status_name imp_start imp_page_begin imp_page_state imp_page_focus \
            imp_page_end imp_item_register imp_item_release imp_observe imp_click \
            imp_tick imp_take_batch imp_report_dropped
EMFLAGS  := -Oz -flto --no-entry -sSTANDALONE_WASM -sFILESYSTEM=0 -sINITIAL_MEMORY=4194304 \
            -sTOTAL_STACK=65536 -sALLOW_MEMORY_GROWTH=0 -sMALLOC=none -sSUPPORT_ERRNO=0 -mbulk-memory \
            -sEXPORTED_FUNCTIONS=$(subst $(space),$(comma),$(addprefix _,$(EXPORTS)))
# Size budget for the core, gzip bytes (issue: 4 KiB).
WASM_GZIP_BUDGET ?= 4096

C_TESTS  := $(wildcard tests/c/test_*.c)
FUZZERS  := $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/fuzz_*.c))

.PHONY: help all deps wasm native test test-c test-fuzz fuzz replay size size-check \
        test-js test-browser demo bench clean

all: wasm

help:
	@echo "make deps | wasm | test | test-c | test-js | test-browser | fuzz | replay | size | demo | bench | clean"

# Installs what a fresh Debian machine lacks (apt packages, npm ci); says what to do
# when it cannot.
deps:
	@bash .ci/deps.sh

# --- WebAssembly ----------------------------------------------------------------
wasm: js/imp.wasm

js/imp.wasm: $(CORE_SRC) $(CORE_HDR) Makefile
	NODE_PATH=/usr/share/nodejs $(EMCC) $(EMFLAGS) $(CORE_SRC) -o $@
	@node tests/tools/check-wasm.mjs $@ $(WASM_GZIP_BUDGET)

# --- Native tests -----------------------------------------------------------------
# Each suite is built three ways: warnings-as-errors, ASan+UBSan, and tiny capacities.
$(BUILD)/plain/%: tests/c/%.c $(CORE_SRC) $(CORE_HDR) tests/c/harness.h tests/c/support.h
	@mkdir -p $(@D)
	$(CC) $(WARN) -O1 -g -Isrc -Itests/c $< $(CORE_SRC) -o $@ -lm
$(BUILD)/asan/%: tests/c/%.c $(CORE_SRC) $(CORE_HDR) tests/c/harness.h tests/c/support.h
	@mkdir -p $(@D)
	$(CLANG) $(WARN) -O1 -g $(SAN) -Isrc -Itests/c $< $(CORE_SRC) -o $@ -lm
$(BUILD)/tiny/%: tests/c/%.c $(CORE_SRC) $(CORE_HDR) tests/c/harness.h tests/c/support.h
	@mkdir -p $(@D)
	$(CLANG) $(WARN) -O1 -g $(SAN) -DIMP_TEST_TINY -DIMP_ARENA_BYTES=65536 -Isrc -Itests/c $< $(CORE_SRC) -o $@ -lm

TEST_BINS := $(foreach v,plain asan tiny,$(patsubst tests/c/%.c,$(BUILD)/$(v)/%,$(C_TESTS)))

test-c: $(TEST_BINS) $(BUILD)/replay
	@set -e; for t in $(TEST_BINS); do echo "# $$t"; $$t; done
	@bash tests/replay/check.sh $(BUILD)/replay

# --- Replay tool ------------------------------------------------------------------------
replay: $(BUILD)/replay
$(BUILD)/replay: src/replay.c $(CORE_SRC) $(CORE_HDR)
	@mkdir -p $(@D)
	$(CC) $(WARN) -O2 -Isrc src/replay.c $(CORE_SRC) -o $@ -lm

# --- Fuzzing (libFuzzer + ASan + UBSan) ------------------------------------------------
$(BUILD)/fuzz/%: tests/fuzz/%.c $(CORE_SRC) $(CORE_HDR)
	@mkdir -p $(@D)
	$(CLANG) -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	  -Isrc $< $(CORE_SRC) -o $@ -ljansson -lm

define run_fuzzers
	@set -e; for f in $(FUZZERS); do mkdir -p $(BUILD)/corpus/$$f; \
	  echo "# fuzz $$f for $(1) s"; \
	  $(BUILD)/fuzz/$$f -max_total_time=$(1) -print_final_stats=1 $(BUILD)/corpus/$$f tests/fuzz/seeds 2>&1 | tail -4; \
	done
endef
test-fuzz: $(addprefix $(BUILD)/fuzz/,$(FUZZERS))
	$(call run_fuzzers,$(FUZZ_SHORT))
fuzz: $(addprefix $(BUILD)/fuzz/,$(FUZZERS))
	$(call run_fuzzers,$(FUZZ_SECONDS))

# --- Sizes -------------------------------------------------------------------------------
size: wasm
	@node tests/tools/size.mjs

# --- Everything ---------------------------------------------------------------------------
test: deps
	$(MAKE) test-c
	$(MAKE) test-fuzz
	$(MAKE) wasm
	$(MAKE) test-js
	$(MAKE) test-browser

# --- JS glue (issue 3) ----------------------------------------------------------------------
test-js: wasm
	node --test tests/unit/

# --- Browser suite (issue 6) -----------------------------------------------------------------
test-browser: wasm
	@if ls tests/browser/*.test.js >/dev/null 2>&1; then node --test --test-concurrency=1 tests/browser/; else echo "# no browser tests yet"; fi

# --- Demo (issue 5) -----------------------------------------------------------------------
demo: deps wasm
	node demo/server.js

# --- Benchmarks (issue 7) -------------------------------------------------------------------
bench: wasm
	@if [ -f tests/bench/run.mjs ]; then node tests/bench/run.mjs; else echo "# no benchmarks yet"; fi

clean:
	rm -rf $(BUILD) js/imp.wasm js/imp-embedded.js dist
