#!/bin/sh
# The paper's Table 1 on CIFAR-10, for cfg/cifar10-teacher.cfg ->
# cfg/cifar10-student.cfg, on the 10,000 real test images: the student trained
# on real data (the ceiling), KD on real data, and data-free KD on random
# noise, DeepDream images (BN-statistic term off), DeepInversion images and
# Adaptive DeepInversion, each row with its synthetic images and CPU seconds
# (synthesis included). Then the agreement table: images dreamed from the
# teacher (DeepInversion vs DeepDream) classified by the teacher and by an
# independently trained network of another architecture (cfg/cifar10-vgg.cfg).
# Networks missing from weights/ are trained first (make cifar-teacher,
# cifar-vgg, cifar-student-real). Rows run in two lanes, one per core; the
# whole takes a few hours on two cores.
# Usage: sh bench/cifar10_table.sh CIFAR10=<cifar10 folder, .tar.gz or binary version>
#        (results in out/bench-cifar10/, the tables on stdout)
set -eu
cd "$(dirname "$0")/.."
. bench/lib.sh
for a in "$@"; do case $a in CIFAR10=*) CIFAR10=${a#CIFAR10=} ;; *) echo "unknown argument: $a" >&2; exit 2 ;; esac; done
CIFAR10=${CIFAR10:-}
make -s darknet
[ -s data/cifar10/cifar10.data ] || make -s data/cifar10/cifar10.data CIFAR10="$CIFAR10"
for w in teacher vgg student-real; do
    [ -s weights/cifar10-$w.weights ] || make -s cifar-$w CIFAR10="$CIFAR10"
done
O=out/bench-cifar10
mkdir -p "$O"
T="cfg/cifar10-teacher.cfg weights/cifar10-teacher.weights"
V="cfg/cifar10-vgg.cfg weights/cifar10-vgg.weights"
S=cfg/cifar10-student.cfg
DATA=data/cifar10/cifar10.data
L=cfg/cifar10.labels
N=$(sed -n 's/^images=//p' cfg/cifar10-distill.cfg | head -1)
export OPENBLAS_NUM_THREADS=1   # one core per lane

top1() {  # data, cfg, weights [-list LIST]
    ./darknet inversion valid "$@" 2>/dev/null | sed -n 's/^top-1 \([0-9.]*\)%.*/\1/p'
}
row() {  # name, synthetic images, tag, weights
    printf '| %-30s | %6s | %6s | %6.0f |\n' "$1" "$2" "$(top1 $DATA $S "$4")" "$(awk '{s += $1} END {print s}' "$O/cpu.$3")"
}
rm -rf "$O"/cpu.* "$O"/time.* "$O"/*.log "$O"/kd-* "$O"/*-images
# Train only on a given pool: no synthesis.
sed 's/^images=.*/images=0/; s/^every=.*/every=0/' cfg/cifar10-distill.cfg > "$O/pool-only.cfg"
# Random noise: the starting pixels (one iteration at learning rate 0).
noise_cfg cfg/cifar10-inversion.cfg > "$O/noise.cfg"
# DeepDream: the BN-statistic term off.
deepdream_cfg cfg/cifar10-inversion.cfg > "$O/deepdream.cfg"
grep -A1 '^\[bn_stat\]' "$O/deepdream.cfg" | grep -q 'weight=0' || { echo "could not switch the BN term off" >&2; exit 1; }

lane1() {
    cpu di ./darknet inversion distill cfg/cifar10-distill.cfg $T $S -out "$O/kd-di" -labels $L -seed 1
    cpu noise ./darknet inversion dream "$O/noise.cfg" $T -labels $L -out "$O/noise-images" -n "$N"
    cpu noise ./darknet inversion distill "$O/pool-only.cfg" $T $S -out "$O/kd-noise" -pool "$O/noise-images/dream.data" -seed 1
}
lane2() {
    cpu adi ./darknet inversion distill cfg/cifar10-adi.cfg $T $S -out "$O/kd-adi" -labels $L -seed 1
    cpu deepdream ./darknet inversion dream "$O/deepdream.cfg" $T -labels $L -out "$O/deepdream-images" -n "$N"
    cpu deepdream ./darknet inversion distill "$O/pool-only.cfg" $T $S -out "$O/kd-deepdream" -pool "$O/deepdream-images/dream.data" -seed 1
    cpu kdreal ./darknet inversion distill "$O/pool-only.cfg" $T $S -out "$O/kd-real" -pool $DATA -seed 1
}
lane1 & p1=$!
lane2 & p2=$!
wait $p1 && wait $p2

teacher=$(top1 $DATA $T)
NADI=$(wc -l < "$O/kd-adi/pool.list")
echo "| student trained on | synthetic images | top-1 % | CPU s |"
echo "|---|---|---|---|"
printf '| %-30s | %6s | %6s | %6s |\n' "real data (ceiling)" 0 "$(top1 $DATA $S weights/cifar10-student-real.weights)" "-"
row "KD, real data" 0 kdreal "$O/kd-real/student.weights"
row "KD, random noise" "$N" noise "$O/kd-noise/student.weights"
row "KD, DeepDream (bn_stat off)" "$N" deepdream "$O/kd-deepdream/student.weights"
row "KD, DeepInversion" "$N" di "$O/kd-di/student.weights"
row "KD, Adaptive DeepInversion" "$NADI" adi "$O/kd-adi/student.weights"
echo "teacher: $teacher% top-1; second network (cfg/cifar10-vgg.cfg): $(top1 $DATA $V)% top-1"
echo
# Agreement: the synthetic images above (named by their target class),
# judged by the teacher and by the second network.
echo "| teacher's images | n | teacher top-1 | vgg top-1 |"
echo "|---|---|---|---|"
for p in "DeepInversion:$O/kd-di/pool.list" "DeepDream (bn_stat off):$O/deepdream-images/train.list"; do
    list=${p#*:}
    printf '| %-24s | %5s | %6s%% | %6s%% |\n' "${p%%:*}" "$(wc -l < "$list")" \
        "$(top1 $DATA $T -list "$list")" "$(top1 $DATA $V -list "$list")"
done
