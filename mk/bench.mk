# Speed benchmark: the plugin's DeepInversion step against a PyTorch reference
# (python3-torch for Debian's /usr/bin/python3). Not part of `make test`, so
# CI does not need PyTorch: `make bench-deps` (as root) installs it.
# Results and how to read them: bench/SPEED.md. BENCH_FLAGS passes options to
# bench/speed.py: --zoo-only times only the Darknet zoo networks at 224 px
# (resnet18, darknet19, resnet50; --zoo, --zoo-batch), --no-zoo leaves them out.
BENCH_PYTHON ?= /usr/bin/python3
BENCH_FLAGS ?=

build/bench/dream_bench: bench/dream_bench.c $(LIBOBJ) $(HDR) | build
	mkdir -p build/bench
	$(CC) $(CFLAGS) -o $@ $< $(LIBOBJ) $(LDLIBS)

bench: build/bench/dream_bench
	@$(BENCH_PYTHON) -c 'import torch, numpy' 2>/dev/null || \
	    { echo "make bench needs python3-torch for $(BENCH_PYTHON): run 'make bench-deps' as root" >&2; exit 1; }
	$(BENCH_PYTHON) bench/speed.py --harness build/bench/dream_bench $(BENCH_FLAGS)

bench-deps:
	apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends python3-torch python3-numpy

.PHONY: bench bench-deps
