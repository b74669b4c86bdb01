# `make sanitize`: the plugin and the test programs built with AddressSanitizer
# and UndefinedBehaviorSanitizer into build-asan/ and ./darknet-asan (the normal
# build/ and ./darknet are untouched), then the whole test suite run against
# them. Any sanitizer report fails the run: reports are written to
# build-asan/reports/ (a test expecting a failure cannot mistake one for its
# error) and the target fails if that directory is not empty afterwards.
# Leaks: only libdarknet's own allocations are suppressed (tests/lsan.supp).
SAN_DIR     := build-asan
SAN_FLAGS   := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g -O1
SAN_CFLAGS   = $(filter-out -O% -march=%,$(CFLAGS)) $(SAN_FLAGS)
SAN_OBJ     := $(OBJ:build/%=$(SAN_DIR)/%)
SAN_LIBOBJ  := $(LIBOBJ:build/%=$(SAN_DIR)/%)
SAN_TESTBIN := $(TESTSRC:tests/%.c=$(SAN_DIR)/tests/%)
SAN_REPORTS := $(SAN_DIR)/reports
# Bound on the whole suite under the sanitizers (seconds).
SAN_TIMEOUT ?= 1800
# The zoo's dreams under the sanitizers: one network of each kind of layer and
# head (the gradient check still runs through every zoo network, at 64x64).
SAN_ZOO_NETS ?= cifar tiny resnet18 strided

darknet-asan: $(SAN_OBJ)
	$(CC) $(SAN_CFLAGS) -o $@ $^ $(LDLIBS)

$(SAN_DIR)/%.o: %.c $(HDR) | $(SAN_DIR)
	$(CC) $(SAN_CFLAGS) -c -o $@ $<

$(SAN_DIR)/tests/%: tests/%.c tests/testlib.h $(SAN_LIBOBJ) | $(SAN_DIR)
	$(CC) $(SAN_CFLAGS) -Itests -o $@ $< $(SAN_LIBOBJ) $(LDLIBS)

$(SAN_DIR):
	mkdir -p $(SAN_DIR)/tests

SAN_ENV = DARKNET=./darknet-asan ZOO_NETS="$(SAN_ZOO_NETS)" \
    ASAN_OPTIONS=halt_on_error=1:abort_on_error=0:detect_leaks=1:detect_stack_use_after_return=1:check_initialization_order=1:strict_string_checks=1:log_path=$(CURDIR)/$(SAN_REPORTS)/asan \
    UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:log_path=$(CURDIR)/$(SAN_REPORTS)/ubsan \
    LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0

sanitize: darknet-asan $(SAN_TESTBIN) build/helpers/random_weights
	rm -rf $(SAN_REPORTS) && mkdir -p $(SAN_REPORTS)
	@rc=0; $(SAN_ENV) timeout -k 10 $(SAN_TIMEOUT) sh tests/run.sh $(SAN_TESTBIN) || rc=$$?; \
	if [ -n "$$(ls -A $(SAN_REPORTS))" ]; then \
	    for f in $(SAN_REPORTS)/*; do echo "== sanitizer report $$f"; head -60 "$$f"; done; \
	    echo "sanitize: FAILED: sanitizer reports in $(SAN_REPORTS)"; exit 1; \
	fi; \
	[ $$rc -eq 124 ] && echo "sanitize: FAILED: the suite ran over $(SAN_TIMEOUT) s"; \
	[ $$rc -eq 0 ] && echo "sanitize: no sanitizer reports"; exit $$rc

clean-sanitize:
	rm -rf $(SAN_DIR) darknet-asan

.PHONY: sanitize clean-sanitize
