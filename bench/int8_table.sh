#!/bin/sh
# Int8 calibration without data on Fashion-MNIST: the teacher
# (cfg/fmnist-teacher.cfg) and the ResNet-style network (cfg/fmnist-resnet.cfg);
# NETS="cifar10-teacher" for the CIFAR-10 teacher (data/cifar10 imported by
# make cifar-teacher). Top-1 on the 10,000 real test images in float, and as simulated int8
# (valid -int8) calibrated on N images (default 500) of each source:
#   real            the real training images (random N of data/<set>/train.list)
#   DeepInversion   calibrate -method deepinversion (cfg/<set>-inversion.cfg as dream runs it)
#   ZeroQ           calibrate's default: BN statistics matched per image, no class term
#   gaussian        pixels N(0.5, 0.2^2), clipped
#   uniform         pixels U[0, 1]
# for each threshold rule (mse, the default; kl; max). Prints a Markdown table
# and the seconds each source took to make. ACT_BITS=4 (or 2..7): the inputs
# of every convolution in that many bits instead (weights still int8), a
# setting where the calibration matters more; the images are the int8 run's
# (made first if missing), only the thresholds are measured again.
# Usage: [NETS=...] [ACT_BITS=8] sh bench/int8_table.sh
#   (N=500, results in out/bench-int8/; about an hour on 2 cores, most of it
#   ZeroQ's one-image batches)
set -eu
cd "$(dirname "$0")/.."
. bench/lib.sh
make -s darknet
N=${N:-500}
NETS=${NETS:-fmnist-teacher fmnist-resnet}
ACT_BITS=${ACT_BITS:-8}
O=out/bench-int8
mkdir -p "$O"

top1() { valid_top1 $D "$@"; }

for net in $NETS; do
    set=${net%%-*}
    D=data/$set/$set.data I=cfg/$set-inversion.cfg
    [ -s $D ] || make -s $D
    C=cfg/$net.cfg W=weights/$net.weights
    what="int8"; [ "$ACT_BITS" = 8 ] || what="int8 weights, inputs in $ACT_BITS bits"
    echo "## $net: float top-1 $(top1 $C $W)%  ($what: top-1 by calibration source and threshold rule; N=$N)"
    echo
    echo "| source | mse | kl | max | seconds to make the images |"
    echo "|---|---|---|---|---|"
    for src in real deepinversion zeroq gaussian uniform; do
        args=$(calibration_args $src $set)
        dir=$O/$net-$src
        # The images once (int8, mse); the other rules and bit widths
        # re-measure the same list.
        [ -s "$dir/ranges.txt" ] || ./darknet inversion calibrate $I $C $W -out "$dir" -n "$N" $args > "$dir.log" 2>&1
        secs=$(sed -n 's/.*images (\([0-9.]*\) s making them).*/\1/p' "$dir.log")
        row="| $src"
        for rule in mse kl max; do
            case $ACT_BITS:$rule in 8:mse) out=$dir ;; 8:*) out=$dir-$rule ;; *) out=$dir-a$ACT_BITS-$rule ;; esac
            [ -s "$out/ranges.txt" ] ||
                ./darknet inversion calibrate $I $C $W -out "$out" -images "$dir/calibration.txt" -n "$N" \
                    -threshold $rule -act-bits "$ACT_BITS" > "$out.log" 2>&1
            row="$row | $(top1 $C $W -int8 "$out/ranges.txt")"
        done
        echo "$row | $secs |"
    done
    echo
done
