#!/bin/sh
# Time to a student on Fashion-MNIST: CPU seconds (user + system) until the
# student distilled from cfg/fmnist-teacher.cfg reaches the DeepInversion
# row's top-1 of the distill table (88.19% on the 10,000 test images), for
# plain DeepInversion (cfg/fmnist-distill.cfg) and for fast mode, a generator
# that learns to dream (cfg/fmnist-fast.cfg), side by side, one per core.
# Both train cfg/fmnist-student.cfg with its schedule (2400 batches of 128)
# and evaluate every VALID batches (the evaluations are counted in both); a
# run stops at its first evaluation at or above the target. The CPU time is
# read from /proc when the evaluation is printed (polled every 0.2 s).
# A third lane, KD on the real training images (no synthesis at all: the
# "KD, real data" ceiling of the distill table), gives the bound on any
# speed-up on this schedule: DeepInversion's CPU s over its CPU s (BOUND=0
# leaves it out).
# Last line: speedup <DeepInversion's CPU s / the generator's>.
# Usage: sh bench/time_to_student.sh    (TARGET=, VALID=, FAST_CFG= to vary;
#        results and curves in out/bench-fast/)
set -eu
cd "$(dirname "$0")/.."
. bench/lib.sh
make -s darknet data/fmnist/fmnist.data
O=out/bench-fast
mkdir -p "$O"
TARGET=${TARGET:-88.19} VALID=${VALID:-200} FAST_CFG=${FAST_CFG:-cfg/fmnist-fast.cfg} BOUND=${BOUND:-1}
T="cfg/fmnist-teacher.cfg weights/fmnist-teacher.weights"
S=cfg/fmnist-student.cfg
DATA=data/fmnist/fmnist.data
L=cfg/fmnist.labels
TICK=$(getconf CLK_TCK)
export OPENBLAS_NUM_THREADS=1   # one core per lane

race di cfg/fmnist-distill.cfg & p1=$!
race fast "$FAST_CFG" & p2=$!
if [ "$BOUND" = 1 ]; then
    pool_only_cfg cfg/fmnist-distill.cfg > "$O/pool-only.cfg"
    race real "$O/pool-only.cfg" -pool $DATA & p3=$!
    wait $p3
fi
wait $p1; wait $p2

show() {  # name, tag
    r=$(cat "$O/$2.result")
    best=$(sort -k2 -g "$O/$2.curve" | tail -1)
    if [ ! -s "$O/$2.curve" ]; then
        printf '| %-34s | no evaluation (see %s) | - |\n' "$1" "$O/$2.log"
    elif [ "$r" = "-" ]; then
        printf '| %-34s | not reached (best %s%% at batch %s) | %s (all %s batches) |\n' "$1" "$(echo "$best" | cut -d' ' -f2)" \
            "$(echo "$best" | cut -d' ' -f1)" "$(tail -1 "$O/$2.curve" | cut -d' ' -f3)" "$(tail -1 "$O/$2.curve" | cut -d' ' -f1)"
    else
        printf '| %-34s | %s%% at batch %s | %.0f |\n' "$1" "$(echo "$r" | cut -d' ' -f2)" "$(echo "$r" | cut -d' ' -f1)" \
            "$(echo "$r" | cut -d' ' -f3)"
    fi
}
echo "target: top-1 >= $TARGET% on the Fashion-MNIST test set, evaluated every $VALID student batches"
echo "| student distilled from | reached | CPU s |"
echo "|---|---|---|"
show "DeepInversion ($(sed -n 's/^images=//p' cfg/fmnist-distill.cfg | head -1) images)" di
show "generator ($(wc -l < "$O/fast/pool.list" | tr -d ' ') images, $FAST_CFG)" fast
[ "$BOUND" = 1 ] && show "real training images (KD, no synthesis)" real
a=$(cut -d' ' -f3 "$O/di.result") b=$(cut -d' ' -f3 "$O/fast.result")
if [ "$BOUND" = 1 ]; then
    r=$(cut -d' ' -f3 "$O/real.result")
    if [ -n "$a" ] && [ "$a" != "-" ] && [ -n "$r" ] && [ "$r" != "-" ]; then
        awk -v a="$a" -v r="$r" 'BEGIN {printf "bound %.2f (no synthesis at all: DeepInversion CPU s / KD on real data)\n", a / r}'
    fi
fi
if [ -n "$a" ] && [ -n "$b" ] && [ "$a" != "-" ] && [ "$b" != "-" ]; then
    awk -v a="$a" -v b="$b" 'BEGIN {printf "speedup %.2f\n", a / b}'
else
    echo "speedup none (target not reached by $( [ "$(cat "$O/di.result")" = "-" ] && echo DeepInversion || echo the generator))"
fi
