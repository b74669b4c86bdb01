#!/bin/sh
# Does DeepInversion make images that carry the class to *another* network?
# Dreams from the shipped teacher with the BN-statistic term on (DeepInversion)
# and off (DeepDream), then asks the teacher and an independently trained
# classifier of a different architecture (cfg/fmnist-resnet.cfg, trained on
# real Fashion-MNIST) to classify them; and the same the other way round.
# Usage: sh bench/dream_agreement.sh [N images per run]   (default: the cfg's)
set -eu
cd "$(dirname "$0")/.."
. bench/lib.sh
make -s darknet
N=${1:-}
OUT=out/bench-agreement
mkdir -p "$OUT"
T="cfg/fmnist-teacher.cfg weights/fmnist-teacher.weights"
R="cfg/fmnist-resnet.cfg weights/fmnist-resnet.weights"
deepdream_cfg cfg/fmnist-inversion.cfg > "$OUT/deepdream.cfg"
grep -A1 '^\[bn_stat\]' "$OUT/deepdream.cfg" | grep -q 'weight=0' || { echo "could not switch the BN term off" >&2; exit 1; }

top1() { valid_top1 "$1/dream.data" $2 $3; }

row() {  # name, inversion cfg, from cfg+weights (4 words: cfg weights), judge name
    name=$1 icfg=$2 fcfg=$3 fw=$4
    dir="$OUT/$name"
    start=$(date +%s.%N)
    ./darknet inversion dream "$icfg" "$fcfg" "$fw" -labels cfg/fmnist.labels -out "$dir" ${N:+-n $N} >/dev/null 2>"$dir.log" || { tail -3 "$dir.log"; exit 1; }
    secs=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN{print b-a}')
    printf '| %-34s | %5s | %7s%% | %7s%% | %6.0f |\n' "$name" "$(wc -l < "$dir/train.list")" \
        "$(top1 "$dir" $T)" "$(top1 "$dir" $R)" "$secs"
}

echo "| images | n | teacher top-1 | resnet top-1 | seconds |"
echo "|---|---|---|---|---|"
row "teacher, DeepInversion" cfg/fmnist-inversion.cfg $T
row "teacher, DeepDream (bn_stat off)" "$OUT/deepdream.cfg" $T
row "resnet, DeepInversion" cfg/fmnist-inversion.cfg $R
row "resnet, DeepDream (bn_stat off)" "$OUT/deepdream.cfg" $R
echo "grids: $OUT/*/grid.png"
