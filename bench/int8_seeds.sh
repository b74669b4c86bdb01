#!/bin/sh
# Error bars for bench/int8_table.sh: the same sources (real, DeepInversion,
# ZeroQ, Gaussian and uniform noise; N images each) calibrated again with
# other seeds (another random subset of the real images, other noise, other
# synthesized images), thresholds by the default rule (mse) for convolution
# inputs in each of BITS, each scored by valid -int8 on the 10,000 real test
# images. Prints, per network and bit width, mean ± standard deviation and the
# range over the seeds, then for each data-free source its gap to real images
# and to the better noise, seed by seed (same seed: same real subset).
# Seed 1 reuses int8_table.sh's images (out/bench-int8/<net>-<source>); the
# images are made in two one-thread lanes, kept, and not made again.
# Usage: [NETS="fmnist-teacher fmnist-resnet"] [SEEDS="1 2 3"] [BITS="8 4 3"] [N=500]
#        sh bench/int8_seeds.sh        (about 25 minutes a seed on 2 cores)
set -eu
cd "$(dirname "$0")/.."
. bench/lib.sh
N=${N:-500}
NETS=${NETS:-fmnist-teacher fmnist-resnet}
SEEDS=${SEEDS:-1 2 3}
BITS=${BITS:-8 4 3}
SOURCES="real deepinversion zeroq gaussian uniform"
O=out/bench-int8

images_dir() { [ "$3" = 1 ] && echo "$O/$1-$2" || echo "$O/$1-$2-s$3"; }

# make_images NET SOURCE SEED: one calibration set (one lane's job).
make_images() {
    net=$1 src=$2 seed=$3 set=${1%%-*}
    dir=$(images_dir "$net" "$src" "$seed")
    [ -s "$dir/ranges.txt" ] && return 0
    args=$(calibration_args $src $set)
    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 ./darknet inversion calibrate cfg/$set-inversion.cfg \
        cfg/$net.cfg weights/$net.weights -out "$dir" -n "$N" -seed "$seed" $args > "$dir.log" 2>&1 ||
        { echo "$dir failed:" >&2; tail -3 "$dir.log" >&2; return 1; }
    echo "made $dir ($(sed -n 's/.*images (\([0-9.]*\) s making them).*/\1/p' "$dir.log") s)" >&2
}
if [ "${1:-}" = --make ]; then shift; make_images "$@"; exit; fi

make -s darknet
for net in $NETS; do set=${net%%-*}; [ -s data/$set/$set.data ] || make -s data/$set/$set.data; done
mkdir -p "$O"
# The slowest jobs (synthesis) first, so that the two lanes end together.
for src in deepinversion zeroq real gaussian uniform; do
    for net in $NETS; do for seed in $SEEDS; do echo "$net $src $seed"; done; done
done | xargs -L 1 -P 2 sh bench/int8_seeds.sh --make

# top1 NET SOURCE SEED BITS: int8 top-1 of that calibration set at that width.
top1() {
    dir=$(images_dir "$1" "$2" "$3") set=${1%%-*}
    out=$dir-a$4-mse
    [ -s "$out/ranges.txt" ] ||
        ./darknet inversion calibrate cfg/$set-inversion.cfg cfg/$1.cfg weights/$1.weights -out "$out" \
            -images "$dir/calibration.txt" -n "$N" -threshold mse -act-bits "$4" > "$out.log" 2>&1
    valid_top1 data/$set/$set.data cfg/$1.cfg weights/$1.weights -int8 "$out/ranges.txt"
}
# stats: "mean ± sd (min–max)" of the numbers on stdin.
stats() { awk '{ s += $1; q += $1 * $1; if (NR == 1 || $1 < lo) lo = $1; if (NR == 1 || $1 > hi) hi = $1 }
    END { m = s / NR; v = NR > 1 ? (q - NR * m * m) / (NR - 1) : 0; if (v < 0) v = 0
          printf "%.2f ± %.2f (%.2f–%.2f)", m, sqrt(v), lo, hi }'; }

nseeds=$(echo $SEEDS | wc -w)
for net in $NETS; do
    set=${net%%-*}
    float=$(valid_top1 data/$set/$set.data cfg/$net.cfg weights/$net.weights)
    echo "## $net: float top-1 $float%; int8 weights, inputs in B bits, mse thresholds; $nseeds seeds of $N images"
    echo
    head="| source"; rule="|---"
    for b in $BITS; do head="$head | $b bits"; rule="$rule|---"; done
    echo "$head |"; echo "$rule|"
    for src in $SOURCES; do
        row="| $src"
        for b in $BITS; do
            for seed in $SEEDS; do top1 $net $src $seed $b; done > "$O/$net-$src-a$b.seeds"
            row="$row | $(stats < "$O/$net-$src-a$b.seeds")"
        done
        echo "$row |"
    done
    echo
    echo "Seed by seed (same seed, same real subset): data-free minus real, and minus the better noise"
    echo
    echo "$head |"; echo "$rule|"
    for src in deepinversion zeroq; do
        for vs in real noise; do
            row="| $src − $vs"
            for b in $BITS; do
                d=$(for f in $src real gaussian uniform; do tr '\n' ' ' < "$O/$net-$f-a$b.seeds"; echo; done |
                    awk -v vs=$vs '{ for (i = 1; i <= NF; i++) x[NR, i] = $i; n = NF }
                        END { for (i = 1; i <= n; i++) { b = x[3, i] > x[4, i] ? x[3, i] : x[4, i]
                                                         printf "%.2f\n", x[1, i] - (vs == "real" ? x[2, i] : b) } }' |
                    stats)
                row="$row | $d"
            done
            echo "$row |"
        done
    done
    echo
done
