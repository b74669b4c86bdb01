# `make fuzz FUZZ_SECONDS=60`: libFuzzer (clang, with ASan and UBSan) over the
# plugin's input checking, each target for FUZZ_SECONDS; fails on any crash,
# sanitizer report, leak or timeout. Seeds are in tests/fuzz/corpus/<target>/;
# what the fuzzer learns goes to build-fuzz/corpus/<target>/ (kept between
# runs), a crashing input to build-fuzz/crash-<target>-*.
#   icfg      parse_inversion_cfg_text (the inversion cfg)
#   netcheck  check_cfg_text (a Darknet cfg before Darknet parses it) and
#             check_weights_file_size (a weights file before load_weights)
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 30
FUZZ_DIR     := build-fuzz
FUZZ_FLAGS   := -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g -O1
FUZZ_CFLAGS   = $(filter-out -O% -march=% -Wno-format-truncation,$(CFLAGS)) $(FUZZ_FLAGS)
FUZZ_TARGETS := icfg netcheck
FUZZ_ARGS    ?= -max_len=4096 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1

$(FUZZ_DIR)/fuzz_icfg: tests/fuzz/fuzz_icfg.c plugin/cli/icfg.c plugin/util/util.c plugin/cli/icfg.h plugin/util/util.h
	mkdir -p $(FUZZ_DIR)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ tests/fuzz/fuzz_icfg.c plugin/cli/icfg.c plugin/util/util.c -lm

$(FUZZ_DIR)/fuzz_netcheck: tests/fuzz/fuzz_netcheck.c plugin/net/load_network.c plugin/util/util.c plugin/net/load_network.h plugin/util/util.h
	mkdir -p $(FUZZ_DIR)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ tests/fuzz/fuzz_netcheck.c plugin/net/load_network.c plugin/util/util.c \
	    -L$(DARKNET_LIB) -ldarknet -Wl,-rpath,$(DARKNET_LIB) -lm -lpthread

fuzz-build: $(FUZZ_TARGETS:%=$(FUZZ_DIR)/fuzz_%)

fuzz: fuzz-build
	@for t in $(FUZZ_TARGETS); do \
	    mkdir -p $(FUZZ_DIR)/corpus/$$t; \
	    echo "== fuzz $$t for $(FUZZ_SECONDS) s"; \
	    ASAN_OPTIONS=halt_on_error=1:detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	    LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0 \
	    timeout -k 10 $$(( $(FUZZ_SECONDS) + 120 )) ./$(FUZZ_DIR)/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) $(FUZZ_ARGS) \
	        -artifact_prefix=$(FUZZ_DIR)/crash-$$t- $(FUZZ_DIR)/corpus/$$t tests/fuzz/corpus/$$t \
	        > $(FUZZ_DIR)/$$t.log 2>&1; rc=$$?; \
	    grep -E '^(#[0-9]+ +DONE|Done [0-9]+ runs|stat::number_of_executed_units|stat::peak_rss_mb)' $(FUZZ_DIR)/$$t.log; \
	    if [ $$rc -ne 0 ]; then tail -60 $(FUZZ_DIR)/$$t.log; echo "fuzz: $$t FAILED (exit $$rc; log $(FUZZ_DIR)/$$t.log)"; exit 1; fi; \
	done; echo "fuzz: no crashes"

clean-fuzz:
	rm -rf $(FUZZ_DIR)

.PHONY: fuzz fuzz-build clean-fuzz
