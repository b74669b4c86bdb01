# Speed benchmark: the plugin's DeepInversion step against a PyTorch reference
# (python3-torch for /usr/bin/python3). Not part of `make test`. See bench/SPEED.md.
BENCH_PYTHON ?= /usr/bin/python3
BENCH_FLAGS ?=

build/bench/dream_bench: bench/dream_bench.c $(LIBOBJ) $(wildcard plugin/*.h) | build
	mkdir -p build/bench
	$(CC) $(CFLAGS) -o $@ $< $(LIBOBJ) $(LDLIBS)

bench: build/bench/dream_bench
	$(BENCH_PYTHON) bench/speed.py --harness build/bench/dream_bench $(BENCH_FLAGS)

.PHONY: bench
