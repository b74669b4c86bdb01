#!/bin/sh
# The paper's Table 1 for our Fashion-MNIST teacher -> student pair, on the
# 10,000-image test set: the student trained on real data (the ceiling), KD on
# real data, and data-free KD on random noise, DeepDream images (BN-statistic
# term off), DeepInversion images and Adaptive DeepInversion. Every row trains
# cfg/fmnist-student.cfg with the same schedule; it reports its synthetic
# images and the CPU time (user + system, synthesis included) it took.
# The rows run in two lanes, one per core.
# Usage: sh bench/distill_table.sh          (results in out/bench-distill/)
set -eu
cd "$(dirname "$0")/.."
. bench/lib.sh
make -s darknet data/fmnist/fmnist.data
O=out/bench-distill
mkdir -p "$O"
T="cfg/fmnist-teacher.cfg weights/fmnist-teacher.weights"
S=cfg/fmnist-student.cfg
DATA=data/fmnist/fmnist.data
L=cfg/fmnist.labels
N=$(sed -n 's/^images=//p' cfg/fmnist-distill.cfg | head -1)
export OPENBLAS_NUM_THREADS=1   # one core per lane

top1() { valid_top1 $DATA $S "$1"; }
row() {  # name, synthetic images, tag, weights
    printf '| %-30s | %6s | %6s | %6.0f |\n' "$1" "$2" "$(top1 "$4")" "$(awk '{s += $1} END {print s}' "$O/cpu.$3")"
}
rm -rf "$O"/cpu.* "$O"/time.* "$O"/*.log "$O"/kd-* "$O"/*-images
# Train only on a given pool: no synthesis.
pool_only_cfg cfg/fmnist-distill.cfg > "$O/pool-only.cfg"
# Random noise: the starting pixels (one iteration at learning rate 0).
noise_cfg cfg/fmnist-inversion.cfg > "$O/noise.cfg"
# DeepDream: the BN-statistic term off.
deepdream_cfg cfg/fmnist-inversion.cfg > "$O/deepdream.cfg"

lane1() {
    cpu di ./darknet inversion distill cfg/fmnist-distill.cfg $T $S -out "$O/kd-di" -labels $L -seed 1
    cpu noise ./darknet inversion dream "$O/noise.cfg" $T -labels $L -out "$O/noise-images" -n "$N"
    cpu noise ./darknet inversion distill "$O/pool-only.cfg" $T $S -out "$O/kd-noise" -pool "$O/noise-images/dream.data" -seed 1
    cpu real ./darknet inversion train $DATA $S -out "$O/real.weights" -seed 1
}
lane2() {
    cpu adi ./darknet inversion distill cfg/fmnist-adi.cfg $T $S -out "$O/kd-adi" -labels $L -seed 1
    cpu deepdream ./darknet inversion dream "$O/deepdream.cfg" $T -labels $L -out "$O/deepdream-images" -n "$N"
    cpu deepdream ./darknet inversion distill "$O/pool-only.cfg" $T $S -out "$O/kd-deepdream" -pool "$O/deepdream-images/dream.data" -seed 1
    cpu kdreal ./darknet inversion distill "$O/pool-only.cfg" $T $S -out "$O/kd-real" -pool $DATA -seed 1
}
lane1 & p1=$!
lane2 & p2=$!
wait $p1 && wait $p2

NADI=$(wc -l < "$O/kd-adi/pool.list")
echo "| student trained on | synthetic images | top-1 % | CPU s |"
echo "|---|---|---|---|"
row "real data (ceiling)" 0 real "$O/real.weights"
row "KD, real data" 0 kdreal "$O/kd-real/student.weights"
row "KD, random noise" "$N" noise "$O/kd-noise/student.weights"
row "KD, DeepDream (bn_stat off)" "$N" deepdream "$O/kd-deepdream/student.weights"
row "KD, DeepInversion" "$N" di "$O/kd-di/student.weights"
row "KD, Adaptive DeepInversion" "$NADI" adi "$O/kd-adi/student.weights"
echo "teacher: $(valid_top1 $DATA $T)% top-1"
