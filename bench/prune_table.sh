#!/bin/sh
# The paper's pruning table for the Fashion-MNIST teacher, on the 10,000-image
# test set: cfg/fmnist-teacher.cfg pruned to at most FLOPS of its FLOPs by
# `darknet inversion prune` (Taylor importance, iterative masking), with the
# same schedule on every row but the images it fine-tunes on: none (pruned,
# no fine-tuning: the importance still comes from DeepInversion images),
# random noise, DeepDream images ([bn_stat] weight=0), DeepInversion images
# (cfg/fmnist-distill.cfg), and real training images (the ceiling). The
# synthetic pools hold N images each. Rows run in two lanes, one per core.
# Usage: sh bench/prune_table.sh    (FLOPS=0.5 N=1000 STEP=0.1 RB=20 FB=100;
#        results in out/bench-prune/, the table on stdout)
set -eu
cd "$(dirname "$0")/.."
make -s darknet data/fmnist/fmnist.data
FLOPS=${FLOPS:-0.5} N=${N:-1000} STEP=${STEP:-0.1} RB=${RB:-20} FB=${FB:-100}
O=out/bench-prune
mkdir -p "$O"
T="cfg/fmnist-teacher.cfg weights/fmnist-teacher.weights"
DATA=data/fmnist/fmnist.data
L=cfg/fmnist.labels
export OPENBLAS_NUM_THREADS=1   # one core per lane

# Prune on a given pool only: no synthesis in the run.
sed 's/^images=.*/images=0/' cfg/fmnist-distill.cfg > "$O/pool-only.cfg"
sed 's/^lr=.*/lr=0/; /^\[inversion\]/,/^\[/{s/^iterations=.*/iterations=1/}' cfg/fmnist-inversion.cfg > "$O/noise.cfg"
sed 's/^\[bn_stat\]$/[bn_stat]\nweight=0/; /^\[bn_stat\]/,/^\[/{/^weight=[0-9.]*$/d}' cfg/fmnist-inversion.cfg > "$O/deepdream.cfg"
pool() {  # tag, inversion cfg: N images (kept between runs of this script)
    [ -s "$O/$1-images/dream.data" ] || ./darknet inversion dream "$2" $T -labels $L -out "$O/$1-images" -n "$N" >"$O/$1-dream.log" 2>&1
}
prune() {  # tag, pool data, extra options...
    tag=$1 data=$2; shift 2
    rm -rf "$O/$tag"
    /usr/bin/time -f "%e %U %S" -o "$O/time.$tag" ./darknet inversion prune "$O/pool-only.cfg" $T -out "$O/$tag" -flops "$FLOPS" \
        -step "$STEP" -pool "$data" -seed 1 "$@" >"$O/$tag.log" 2>&1 || { echo "$tag failed:"; tail -5 "$O/$tag.log"; exit 1; }
}
top1() { ./darknet inversion valid $DATA "$O/$1/pruned.cfg" "$O/$1/pruned.weights" 2>/dev/null | sed -n 's/^top-1 \([0-9.]*\)%.*/\1/p'; }
row() {  # name, tag
    mflops=$(tail -1 "$O/$2/prune.csv" | cut -d, -f2)
    kept=$(tail -1 "$O/$2/prune.csv" | cut -d, -f3)
    printf '| %-42s | %s (%.0f%%) | %s | %s |\n' "$1" "$mflops" "$(echo "$kept * 100" | bc -l)" "$(top1 "$2")" \
        "$(awk '{printf "%.0f", $2 + $3}' "$O/time.$2")"
}

lane1() {
    pool di cfg/fmnist-distill.cfg
    prune nofinetune "$O/di-images/dream.data" -round-batches 0 -final-batches 0
    prune di "$O/di-images/dream.data" -round-batches "$RB" -final-batches "$FB"
    prune real $DATA -round-batches "$RB" -final-batches "$FB"
}
lane2() {
    pool deepdream "$O/deepdream.cfg"
    pool noise "$O/noise.cfg"
    prune noise "$O/noise-images/dream.data" -round-batches "$RB" -final-batches "$FB"
    prune deepdream "$O/deepdream-images/dream.data" -round-batches "$RB" -final-batches "$FB"
}
lane1 & p1=$!
lane2 & p2=$!
wait $p1 && wait $p2

echo "| fine-tuned on | MFLOP (kept) | top-1 % | prune CPU s |"
echo "|---|---|---|---|"
echo "| unpruned teacher | $(./darknet inversion valid $DATA $T 2>/dev/null | sed -n 's/^top-1 \([0-9.]*\)%.*/\1/p' | sed 's/^/11.64 (100%) | /') | |"
row "nothing (pruned, no fine-tuning)" nofinetune
row "random noise ($N images)" noise
row "DeepDream images ($N)" deepdream
row "DeepInversion images ($N)" di
row "real training images (60,000, the ceiling)" real
echo "(-flops $FLOPS -step $STEP -round-batches $RB -final-batches $FB; pools made by dream, not counted)"
