#!/bin/sh
# Does the CIFAR-10 DeepInversion student gain from more images? Starting from
# the DeepInversion row of bench/cifar10_table.sh (its 2000 images in
# out/bench-cifar10/kd-di/pool.list), dreams 2 x EXTRA more images with
# cfg/cifar10-inversion.cfg (the same settings; seeds 2 and 3, one lane each),
# then trains the table's KD student (KD_BATCHES as there) on the first 2000
# alone and on all of them, side by side, through distill -pool, and prints
# both students' top-1 on the 10,000 real test images with their CPU seconds.
# Usage: sh bench/cifar10_scale.sh [EXTRA=1000]   (about 45 minutes on 2 cores;
#        results in out/c10-scale/)
set -eu
cd "$(dirname "$0")/.."
. bench/lib.sh
EXTRA=1000
for a in "$@"; do
    case $a in
        EXTRA=*) EXTRA=${a#*=} ;;
        *) echo "unknown argument: $a" >&2; exit 2 ;;
    esac
done
B=out/bench-cifar10
[ -s $B/kd-di/pool.list ] && [ -s $B/student.cfg ] && [ -s $B/pool-only.cfg ] ||
    { echo "run bench/cifar10_table.sh first (ROWS=di is enough): $B/kd-di/pool.list is missing" >&2; exit 1; }
make -s darknet
O=out/c10-scale
mkdir -p "$O"
T="cfg/cifar10-teacher.cfg weights/cifar10-teacher.weights"
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1   # one core per lane
cpu_s() { awk '{print $1 + $2}' "$1"; }

for s in 2 3; do
    [ -s "$O/di-s$s/train.list" ] && continue
    /usr/bin/time -f "%U %S" -o "$O/time.s$s" ./darknet inversion dream cfg/cifar10-inversion.cfg $T \
        -labels cfg/cifar10.labels -out "$O/di-s$s" -n "$EXTRA" -seed $s > "$O/s$s.log" 2>&1 &
done
wait
n0=$(wc -l < $B/kd-di/pool.list)
n1=$((n0 + 2 * EXTRA))
cat $B/kd-di/pool.list > "$O/pool$n0.list"
cat $B/kd-di/pool.list "$O/di-s2/train.list" "$O/di-s3/train.list" > "$O/pool$n1.list"
for n in $n0 $n1; do
    printf 'classes=10\ntrain=%s\nvalid=%s\nlabels=cfg/cifar10.labels\nnames=cfg/cifar10.labels\ntop=1\n' \
        "$O/pool$n.list" "$O/pool$n.list" > "$O/pool$n.data"
    [ -s "$O/kd$n/student.weights" ] && continue
    /usr/bin/time -f "%U %S" -o "$O/time.kd$n" ./darknet inversion distill $B/pool-only.cfg $T $B/student.cfg \
        -out "$O/kd$n" -pool "$O/pool$n.data" -seed 1 > "$O/kd$n.log" 2>&1 &
done
wait
synth=$(awk '{s += $1 + $2} END {printf "%.0f", s}' "$O/time.s2" "$O/time.s3")
echo "| DeepInversion images | top-1 % | KD CPU s |"
echo "|---|---|---|"
for n in $n0 $n1; do
    printf '| %s | %s | %.0f |\n' "$n" "$(valid_top1 data/cifar10/cifar10.data $B/student.cfg "$O/kd$n/student.weights")" \
        "$(cpu_s "$O/time.kd$n")"
done
echo "the $((2 * EXTRA)) extra images: $synth CPU s to dream"
