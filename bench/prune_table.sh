#!/bin/sh
# The paper's pruning table for the Fashion-MNIST teacher (NET=teacher) or the
# ResNet-style network (NET=resnet), on the 10,000-image test set: the
# network pruned to at most FLOPS of its FLOPs by
# `darknet inversion prune` (Taylor importance, iterative masking), with the
# same schedule on every row but the images it fine-tunes on: none (pruned,
# no fine-tuning: the importance still comes from DeepInversion images),
# random noise, DeepDream images ([bn_stat] weight=0), DeepInversion images
# (cfg/fmnist-distill.cfg), Adaptive DeepInversion images (the first N/2 of
# the DeepInversion pool, then ADAPT batches each round synthesized with
# cfg/fmnist-adi.cfg's [compete] term against the masked network), and real
# training images (the ceiling). The synthetic pools hold N images each,
# dreamed from the network itself. Rows run in two lanes, one per core
# (LANES=1: one after the other).
# Usage: sh bench/prune_table.sh    (NET=teacher FLOPS=0.5 N=1000 STEP=0.1 RB=20 FB=100 ADAPT=1
#        ROWS="nofinetune noise deepdream di adi real"; pools in out/bench-prune/,
#        runs in out/bench-prune/<NET>-f<FLOPS>/, the table on stdout)
set -eu
cd "$(dirname "$0")/.."
. bench/lib.sh
make -s darknet data/fmnist/fmnist.data
FLOPS=${FLOPS:-0.5} N=${N:-1000} STEP=${STEP:-0.1} RB=${RB:-20} FB=${FB:-100} NET=${NET:-teacher} ADAPT=${ADAPT:-1}
ROWS=${ROWS:-nofinetune noise deepdream di adi real}
O=out/bench-prune
R=$O/$NET-f$FLOPS
mkdir -p "$R"
T="cfg/fmnist-$NET.cfg weights/fmnist-$NET.weights"
P=$([ "$NET" = teacher ] || echo "$NET-")   # pool names: the teacher's have no prefix
DATA=data/fmnist/fmnist.data
L=cfg/fmnist.labels
export OPENBLAS_NUM_THREADS=1   # one core per lane

# Prune on a given pool only: no synthesis in the run.
sed 's/^images=.*/images=0/' cfg/fmnist-distill.cfg > "$O/pool-only.cfg"
sed 's/^images=.*/images=0/' cfg/fmnist-adi.cfg > "$O/adi.cfg"   # the same, with [compete]
noise_cfg cfg/fmnist-inversion.cfg > "$O/noise.cfg"
deepdream_cfg cfg/fmnist-inversion.cfg > "$O/deepdream.cfg"
pool() {  # tag, inversion cfg[, count]: N images (kept between runs of this script)
    [ -s "$O/$P$1-images/dream.data" ] || ./darknet inversion dream "$2" $T -labels $L -out "$O/$P$1-images" -n "${3:-$N}" >"$O/$P$1-dream.log" 2>&1
}
wanted() { case " $ROWS " in *" $1 "*) return 0 ;; esac; return 1; }
prune() {  # tag, pool data, extra options...
    tag=$1 data=$2; shift 2
    wanted "$tag" || return 0
    rm -rf "$R/$tag"
    icfg=$O/pool-only.cfg
    [ "$tag" != adi ] || icfg=$O/adi.cfg
    /usr/bin/time -f "%e %U %S" -o "$R/time.$tag" ./darknet inversion prune "$icfg" $T -out "$R/$tag" -flops "$FLOPS" \
        -step "$STEP" -pool "$data" -seed 1 "$@" >"$R/$tag.log" 2>&1 || { echo "$tag failed:"; tail -5 "$R/$tag.log"; exit 1; }
}
top1() { valid_top1 $DATA "$@"; }
row() {  # name, tag
    wanted "$2" || return 0
    mflops=$(tail -1 "$R/$2/prune.csv" | cut -d, -f2)
    kept=$(tail -1 "$R/$2/prune.csv" | cut -d, -f3)
    printf '| %-42s | %s (%s%%) | %s | %s |\n' "$1" "$mflops" "$(awk -v k="$kept" 'BEGIN { printf "%.1f", 100 * k }')" \
        "$(top1 "$R/$2/pruned.cfg" "$R/$2/pruned.weights")" "$(awk '{printf "%.0f", $2 + $3}' "$R/time.$2")"
}

lane1() {
    if wanted nofinetune || wanted di; then pool di cfg/fmnist-distill.cfg; fi
    prune nofinetune "$O/${P}di-images/dream.data" -round-batches 0 -final-batches 0
    prune di "$O/${P}di-images/dream.data" -round-batches "$RB" -final-batches "$FB"
    if wanted adi; then   # the first half of the DeepInversion pool (targets round robin: balanced)
        h=$O/${P}di-images
        # A batch's images depend only on the seed and its index: without the
        # full pool, dreaming N/2 gives the same first half.
        [ -s "$h/dream.data" ] || { pool di-half cfg/fmnist-distill.cfg $((N / 2)); h=$O/${P}di-half-images; }
        head -n $((N / 2)) "$h/train.list" > "$O/${P}di-half.list"
        sed "s|^train=.*|train=$O/${P}di-half.list|" "$h/dream.data" > "$O/${P}di-half.data"
    fi
    prune adi "$O/${P}di-half.data" -round-batches "$RB" -final-batches "$FB" -adapt "$ADAPT"
    prune real $DATA -round-batches "$RB" -final-batches "$FB"
}
lane2() {
    if wanted deepdream; then pool deepdream "$O/deepdream.cfg"; fi
    if wanted noise; then pool noise "$O/noise.cfg"; fi
    prune noise "$O/${P}noise-images/dream.data" -round-batches "$RB" -final-batches "$FB"
    prune deepdream "$O/${P}deepdream-images/dream.data" -round-batches "$RB" -final-batches "$FB"
}
if [ -n "${REPORT:-}" ]; then :   # REPORT=1: only print the table of the runs there are
elif [ "${LANES:-2}" = 1 ]; then lane1; lane2
else
    lane1 & p1=$!
    lane2 & p2=$!
    wait $p1 && wait $p2
fi

echo "| fine-tuned on | MFLOP (kept) | top-1 % | prune CPU s |"
echo "|---|---|---|---|"
first=$(ls "$R"/*/prune.csv | head -1)   # its round 0 is the unpruned network
printf '| unpruned %-33s | %s (100%%) | %s | |\n' "$NET" "$(sed -n 2p "$first" | cut -d, -f2)" "$(top1 $T)"
row "nothing (pruned, no fine-tuning)" nofinetune
row "random noise ($N images)" noise
row "DeepDream images ($N)" deepdream
row "DeepInversion images ($N)" di
wanted adi && [ -s "$R/adi/pool.list" ] && adi="$((N / 2)) + $(wc -l < "$R/adi/pool.list") against the pruned network"
row "Adaptive DeepInversion images (${adi:-})" adi
row "real training images (60,000, the ceiling)" real
echo "(-flops $FLOPS -step $STEP -round-batches $RB -final-batches $FB; pools made by dream, not counted)"
