#!/bin/sh
# The memory estimate against the measured peak resident set (bench/memory_check.c)
# on zoo networks with random weights: sh bench/memory_table.sh [cfg:batch ...]
# (default: darknet19_448 at 1 and 32, resnet50 and densenet201 at 1 and 16,
# darknet53_448 at 4). Needs `make` first; a few minutes on 2 cores.
set -e
T=${TMPDIR:-/tmp}/inv-memory-table
mkdir -p "$T"
FLAGS="-I/usr/lib/darknet/include -L/usr/lib/darknet -ldarknet -Wl,-rpath,/usr/lib/darknet"
cc -O2 -o "$T/random_weights" tests/random_weights.c $FLAGS -lm
cc -O2 -fopenmp -std=gnu11 $(for d in plugin/*/; do printf -- "-I%s " "$d"; done) -I/usr/include/stb -o "$T/memory_check" bench/memory_check.c \
    $(ls build/*.o | grep -v build/main.o) $FLAGS -lopenblas -lstb -lm -lpthread -ldl
runs=${*:-"darknet19_448:1 darknet19_448:32 resnet50:1 resnet50:16 densenet201:1 densenet201:16 darknet53_448:4"}
echo "| network | batch | estimate | peak RSS | error |"
echo "|---|---|---|---|---|"
for run in $runs; do
    net=${run%:*} batch=${run#*:}
    [ -f "$T/$net.weights" ] || "$T/random_weights" /usr/share/darknet/cfg/$net.cfg "$T/$net.weights" >/dev/null 2>&1
    out=$("$T/memory_check" /usr/share/darknet/cfg/$net.cfg "$T/$net.weights" $batch 2>&1)
    est=$(printf '%s' "$out" | sed -n 's/.*estimate \([0-9]*\) MiB.*/\1/p')
    peak=$(printf '%s' "$out" | sed -n 's/.*peak resident \([0-9]*\) MiB.*/\1/p')
    echo "| $net | $batch | $est MiB | $peak MiB | $(awk "BEGIN{printf \"%+.1f%%\", 100*($est-$peak)/$peak}") |"
done
