#!/bin/sh
# Fast mode on CIFAR-10 at a longer schedule: the Table-1 student
# (cfg/cifar10-student.cfg) trained for KD_BATCHES batches of 128 on the images
# of a generator that learns to dream, with the DeepInversion loss alone
# (cfg/cifar10-fast.cfg) and with Adaptive DeepInversion's competition term
# (cfg/cifar10-fast-adi.cfg), side by side, one core each. Each student is
# evaluated on the 10,000 real test images every VALID batches (the
# evaluations count in its CPU seconds, synthesis included) and the table
# gives its final top-1 next to the teacher's.
# Usage: sh bench/cifar10_fast_long.sh CIFAR10=<path> [KD_BATCHES=3000] [VALID=250]
#        (about 75 minutes on 2 cores; results and curves in out/c10-fast-long/)
set -eu
cd "$(dirname "$0")/.."
. bench/lib.sh
CIFAR10=; KD_BATCHES=3000; VALID=250
for a in "$@"; do
    case $a in
        CIFAR10=*) CIFAR10=${a#*=} ;;
        KD_BATCHES=*) KD_BATCHES=${a#*=} ;;
        VALID=*) VALID=${a#*=} ;;
        *) echo "unknown argument: $a" >&2; exit 2 ;;
    esac
done
cifar10_inputs "$CIFAR10"
O=out/c10-fast-long
mkdir -p "$O"
S=$O/student.cfg
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1   # one core per lane
sed "s/^max_batches=.*/max_batches=$KD_BATCHES/" cfg/cifar10-student.cfg > "$S"

for tag in fast fast-adi; do
    sed "s/^valid_every=.*/valid_every=$VALID/" "cfg/cifar10-$tag.cfg" > "$O/$tag.cfg"
    rm -rf "$O/$tag" "$O/cpu.$tag" "$O/$tag.log"
    ( cpu "$tag" ./darknet inversion distill "$O/$tag.cfg" $T $S -out "$O/$tag" -labels $L -valid $DATA -seed 1 ) &
done
wait

curve() { evaluations "$O/$1.log" | cut -d' ' -f2 | paste -sd' ' -; }
teacher=$(valid_top1 $DATA $T)
echo "teacher: $teacher% top-1; students: $KD_BATCHES batches of 128, evaluated every $VALID"
echo "| student trained on | synthetic images | top-1 % | of the teacher | CPU s |"
echo "|---|---|---|---|---|"
for tag in fast fast-adi; do
    t=$(valid_top1 $DATA $S "$O/$tag/student.weights")
    printf '| %-34s | %5s | %6s | %5.1f%% | %5.0f |\n' "cfg/cifar10-$tag.cfg" "$(wc -l < "$O/$tag/pool.list")" "$t" \
        "$(awk -v a="$t" -v b="$teacher" 'BEGIN {print 100 * a / b}')" "$(awk '{s += $1} END {print s}' "$O/cpu.$tag")"
done
echo
for tag in fast fast-adi; do echo "$tag top-1 every $VALID batches: $(curve $tag)"; done
