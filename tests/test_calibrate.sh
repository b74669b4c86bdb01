#!/bin/sh
# calibrate on the shipped teacher, small: noise, a list, ZeroQ and
# DeepInversion images each give calibration.txt, ranges.txt (one line per
# convolution) and the input_calibration line (one value per convolution);
# valid -int8 reads ranges.txt and the line alone to the same top-1; with
# -act-bits 4 the file says so, valid simulates it, no int8 line; bad
# ranges and bad options are refused naming what is wrong, nothing written.
cd "$(dirname "$0")/.." || exit 2
. tests/shlib.sh
scratch_dir calibrate
TCFG=cfg/fmnist-teacher.cfg TW=weights/fmnist-teacher.weights
convs=$(grep -c '^\[convolutional\]' $TCFG)
printf '[inversion]\nbatch=4\niterations=6\ngray=1\n[bn_stat]\nweight=0.3\n[adam]\nlr=0.1\nwarmup=2\n' > "$T/inv.cfg"
# Labelled images to validate on: a short dream.
"$DARKNET" inversion dream "$T/inv.cfg" $TCFG $TW -labels cfg/fmnist.labels -n 20 -out "$T/dream" >/dev/null 2>&1
check "validation images" [ -s "$T/dream/dream.data" ]

outputs_ok() {   # DIR N
    [ "$(wc -l < "$1/calibration.txt")" -eq "$2" ] &&
        [ "$(grep -c '^[0-9][0-9]* convolutional ' "$1/ranges.txt")" -eq "$convs" ] &&
        [ "$(sed 's/.*=//' "$1/input_calibration.txt" | tr ',' '\n' | grep -c .)" -eq "$convs" ] &&
        grep -q '^input_calibration = ' "$1/ranges.txt"
}
"$DARKNET" inversion calibrate "$T/inv.cfg" $TCFG $TW -out "$T/noise" -noise uniform -n 12 >/dev/null 2>&1
check "uniform noise: 12 images, a range per convolution, the line" outputs_ok "$T/noise" 12
check "noise images written" [ "$(ls "$T/noise/images" | wc -l)" -eq 12 ]
"$DARKNET" inversion calibrate "$T/inv.cfg" $TCFG $TW -out "$T/list" -images "$T/dream/train.list" -n 8 -threshold kl >/dev/null 2>&1
check "a list: 8 of its images" outputs_ok "$T/list" 8
check "a list: only its images, nothing synthesized" sh -c "[ ! -e '$T/list/images' ] && ! grep -vxFf '$T/dream/train.list' '$T/list/calibration.txt'"
"$DARKNET" inversion calibrate "$T/inv.cfg" $TCFG $TW -out "$T/zq" -n 3 >"$T/zq.log" 2>&1
check "ZeroQ: 3 images one at a time" outputs_ok "$T/zq" 3
check "ZeroQ: progress with an ETA" grep -q 'synthesized 3/3 images .*ETA' "$T/zq.log"
"$DARKNET" inversion calibrate "$T/inv.cfg" $TCFG $TW -out "$T/di" -n 8 -method deepinversion >/dev/null 2>&1
check "DeepInversion: 8 images" outputs_ok "$T/di" 8

# valid -int8: the same top-1 from ranges.txt and from the line alone.
a=$("$DARKNET" inversion valid "$T/dream/dream.data" $TCFG $TW -int8 "$T/noise/ranges.txt" 2>/dev/null | grep top-1)
b=$("$DARKNET" inversion valid "$T/dream/dream.data" $TCFG $TW -int8 "$T/noise/input_calibration.txt" 2>/dev/null | grep top-1)
check "valid -int8 prints a top-1 ($a)" [ -n "$a" ]
check "the input_calibration line alone gives the same top-1" [ "$a" = "$b" ]

# Inputs in 4 bits: said in ranges.txt, no int8 line, simulated by valid.
"$DARKNET" inversion calibrate "$T/inv.cfg" $TCFG $TW -out "$T/noise" -images "$T/noise/calibration.txt" -n 12 -act-bits 4 >/dev/null 2>&1
check "-act-bits 4: ranges.txt says act_bits = 4, without the int8 line" \
    sh -c "grep -qx 'act_bits = 4' '$T/noise/ranges.txt' && ! grep -q input_calibration '$T/noise/ranges.txt'"
check "-act-bits 4: no input_calibration.txt (the earlier int8 one removed)" [ ! -e "$T/noise/input_calibration.txt" ]
"$DARKNET" inversion valid "$T/dream/dream.data" $TCFG $TW -int8 "$T/noise/ranges.txt" > "$T/valid4.log" 2>/dev/null
check "valid says the inputs are in 4 bits, and a top-1" \
    sh -c "grep -q 'as int8 (inputs in 4 bits) with' '$T/valid4.log' && grep -q '^top-1 ' '$T/valid4.log'"

# Bad input.
sed 's/^act_bits = 4/act_bits = 1/' "$T/noise/ranges.txt" > "$T/bits.txt"
expect_fail "act_bits out of range" "bits.txt:$(grep -n act_bits "$T/noise/ranges.txt" | cut -d: -f1): act_bits: expected '= B' with B from 2 to 8" \
    "$DARKNET" inversion valid "$T/dream/dream.data" $TCFG $TW -int8 "$T/bits.txt"
expect_fail "-act-bits 9" "-act-bits 9: expected 2 to 8" \
    "$DARKNET" inversion calibrate "$T/inv.cfg" $TCFG $TW -out "$T/bad" -noise uniform -act-bits 9
sed 's/^2 convolutional [^ ]*/2 convolutional 1 1 1 -3/' "$T/noise/ranges.txt" > "$T/neg.txt"
expect_fail "a negative threshold" "neg.txt:4: threshold '-3' is not a positive number" \
    "$DARKNET" inversion valid "$T/dream/dream.data" $TCFG $TW -int8 "$T/neg.txt"
printf 'input_calibration = 10, 20\n' > "$T/short.txt"
expect_fail "too few multipliers" "short.txt:1: input_calibration has 2 values, the network has $convs convolutional layers" \
    "$DARKNET" inversion valid "$T/dream/dream.data" $TCFG $TW -int8 "$T/short.txt"
grep -v '^4 ' "$T/noise/ranges.txt" | grep -v input_calibration > "$T/missing.txt"
expect_fail "a missing layer" "ranges for 2 convolutional layers, the network has $convs" \
    "$DARKNET" inversion valid "$T/dream/dream.data" $TCFG $TW -int8 "$T/missing.txt"
expect_fail "two sources" "-images and -noise are two different sources" \
    "$DARKNET" inversion calibrate "$T/inv.cfg" $TCFG $TW -out "$T/bad" -noise uniform -images "$T/dream/train.list"
expect_fail "unknown threshold rule" "-threshold median: expected kl, mse or max" \
    "$DARKNET" inversion calibrate "$T/inv.cfg" $TCFG $TW -out "$T/bad" -threshold median
check "bad options: nothing written" [ ! -e "$T/bad" ]
summary
