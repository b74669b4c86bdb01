#!/bin/sh
# [crop] in a teacher, as vgg-16.cfg and strided.cfg have it: the shipped
# teacher behind a centre crop of a larger input (its weights fit as they
# are: a crop has none) dreams images it classifies; a crop larger than its
# input, a 1x1 convolution with padding and a softmax tree (darknet9000.cfg)
# are refused before any work.
cd "$(dirname "$0")/.." || exit 2
. tests/shlib.sh

scratch_dir crop
TCFG=cfg/fmnist-teacher.cfg TW=weights/fmnist-teacher.weights

# 32x32 input, the teacher's 28x28 cut from its centre (values unchanged).
crop_cfg() {  # crop side, extra crop keys
    awk -v side="$1" -v extra="$2" '
        !net && /^width=28$/ { print "width=32"; next }
        !net && /^height=28$/ { print "height=32"; next }
        /^\[convolutional\]/ && !net { net = 1; printf "[crop]\ncrop_height=%s\ncrop_width=%s\n%s\n", side, side, extra }
        { print }' $TCFG
}
crop_cfg 28 noadjust=1 > "$T/crop.cfg"
check "the crop is in the cfg" grep -q '^\[crop\]' "$T/crop.cfg"
printf '[inversion]\nbatch=8\niterations=40\nimages=8\ngray=1\nlog_every=10\n[bn_stat]\nweight=1\n[prior]\ntv_l2=0.0005\n[adam]\nlr=0.05\nwarmup=5\n' > "$T/short.cfg"
"$DARKNET" inversion dream "$T/short.cfg" "$T/crop.cfg" $TW -labels cfg/fmnist.labels -out "$T/dream" >"$T/log" 2>&1
check "dream through a crop runs" [ $? = 0 ]
check "8 PNG images" [ "$(ls "$T"/dream/images/*.png 2>/dev/null | wc -l)" = 8 ]
"$DARKNET" inversion valid "$T/dream/dream.data" "$T/crop.cfg" $TW >"$T/valid" 2>&1
acc=$(sed -n 's/.*top-1 \([0-9.]*\)%.*/\1/p' "$T/valid" | head -1)
check "the cropped teacher classifies its dreams (top-1 ${acc:-none}%)" awk -v a="${acc:-0}" 'BEGIN { exit !(a >= 50) }'

crop_cfg 40 "" > "$T/big.cfg"
expect_fail "crop larger than its input" "layer 0 [crop]: crop_height=40 crop_width=40 is larger than its 32x32 input" \
    "$DARKNET" inversion dream "$T/short.cfg" "$T/big.cfg" $TW -out "$T/big"
check "crop larger than its input: nothing written" [ ! -e "$T/big" ]

# A 1x1 convolution with padding (Darknet reads past its input) is refused too.
awk '/^\[/ && c == 1 { c = 2 }
     /^\[convolutional\]/ && !c { c = 1; print; print "padding=1"; next }
     c == 1 && /^size=/ { print "size=1"; next }
     c == 1 && /^pad=/ { next } { print }' $TCFG > "$T/pad1.cfg"
./build/helpers/random_weights "$T/pad1.cfg" "$T/pad1.weights" >/dev/null 2>&1
expect_fail "1x1 convolution with padding" "layer 0: a 1x1 convolution with padding=1: Darknet reads past its input" \
    "$DARKNET" inversion dream "$T/short.cfg" "$T/pad1.cfg" "$T/pad1.weights" -out "$T/pad1"
check "1x1 convolution with padding: nothing written" [ ! -e "$T/pad1" ]

# Refused while checking the cfg: the weights file is never opened.
K9=/usr/share/darknet/cfg/darknet9000.cfg
if [ -r $K9 ]; then
    expect_fail "softmax tree" "$K9:201: layer 25 [softmax] tree=/usr/share/darknet/data/9k.tree: hierarchical softmax (a softmax tree) is not supported" \
        "$DARKNET" inversion dream "$T/short.cfg" $K9 "$T/none.weights" -out "$T/k9"
    check "softmax tree: nothing written" [ ! -e "$T/k9" ]
else
    skip "softmax tree refused: $K9 not installed"
fi
summary
