#!/bin/sh
# Time to a student on CIFAR-10: CPU seconds until the fast-mode student
# (cfg/cifar10-fast.cfg, the KD student of bench/cifar10_table.sh on its
# KD_BATCHES) reaches the DeepInversion row's top-1 on the 10,000 test images,
# evaluated every VALID batches (the evaluations are counted), against the
# DeepInversion row's CPU seconds from that table (out/bench-cifar10/: run
# bench/cifar10_table.sh with ROWS=di first). The DeepInversion student is
# only evaluated at its end, so the ratio printed is a lower bound whenever
# it reached its top-1 earlier; its 2000 images up front alone take most of
# its time. One core.
# FAST_CFG= names another fast-mode cfg (cfg/cifar10-fast-adi.cfg: with the
# competition term).
# Usage: sh bench/cifar10_fast_time.sh [VALID=50] [TARGET=<the DI row's top-1>] [FAST_CFG=cfg/cifar10-fast.cfg]
#        (results and the curve in out/bench-cifar10-fast/)
set -eu
cd "$(dirname "$0")/.."
. bench/lib.sh
B=out/bench-cifar10
VALID=50 TARGET= FAST_CFG=cfg/cifar10-fast.cfg
for a in "$@"; do
    case $a in
        VALID=*) VALID=${a#*=} ;;
        TARGET=*) TARGET=${a#*=} ;;
        FAST_CFG=*) FAST_CFG=${a#*=} ;;
        *) echo "unknown argument: $a" >&2; exit 2 ;;
    esac
done
[ -e $B/done.di ] && [ -s $B/student.cfg ] || { echo "run bench/cifar10_table.sh with ROWS=di first" >&2; exit 1; }
make -s darknet
O=out/bench-cifar10-fast
mkdir -p "$O"
T="cfg/cifar10-teacher.cfg weights/cifar10-teacher.weights"
S=$B/student.cfg
DATA=data/cifar10/cifar10.data
L=cfg/cifar10.labels
TICK=$(getconf CLK_TCK)
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
di_top1=$(valid_top1 $DATA $S $B/kd-di/student.weights)
di_cpu=$(awk '{s += $1} END {printf "%.0f", s}' $B/cpu.di)
[ -n "$TARGET" ] || TARGET=$di_top1
race fast "$FAST_CFG"
echo "target: top-1 >= $TARGET% on the CIFAR-10 test set (DeepInversion row: $di_top1% in $di_cpu CPU s,"
echo "$(sed -n 's/^max_batches=//p' $S) student batches); fast mode ($FAST_CFG) evaluated every $VALID batches"
echo "| batch | top-1 % | CPU s |"
echo "|---|---|---|"
awk '{printf "| %s | %s | %.0f |\n", $1, $2, $3}' "$O/fast.curve"
r=$(cut -d' ' -f3 "$O/fast.result")
if [ "$r" = "-" ]; then
    echo "speedup none (fast mode did not reach $TARGET%)"
else
    awk -v a="$di_cpu" -v b="$r" 'BEGIN {printf "speedup %.2f (at least: DeepInversion CPU s / fast mode CPU s)\n", a / b}'
fi
