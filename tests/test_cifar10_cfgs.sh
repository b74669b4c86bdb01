#!/bin/sh
# The shipped CIFAR-10 cfgs on stand-in weights (random, BN statistics made to
# look trained): the networks load at 32x32x3, the student has at least 4x
# fewer FLOPs than the teacher, every CIFAR-10 inversion cfg runs (shortened)
# and dreams colour images, distill with the DI, ADI and both fast-mode cfgs trains
# the student (the generator makes colour images); and
# train's -chart (loss and top-1 per batch, continued by a resumed run).
cd "$(dirname "$0")/.." || exit 2
. tests/shlib.sh

scratch_dir cifar10
RW=build/helpers/random_weights
if [ ! -x $RW ]; then
    echo "FAIL $RW is not built (make build/helpers/random_weights)"; failed=1; summary; exit 1
fi
# Batch 2 and two training batches, so that everything below stays short.
for n in teacher student vgg; do
    sed '0,/^batch=.*/s//batch=2/; s/^max_batches=.*/max_batches=2/' cfg/cifar10-$n.cfg > "$T/$n.cfg"
    check "$n: random weights" sh -c '"$1" "$2.cfg" "$2.weights" -seed 1 -bn-stats >"$2.rw.log" 2>&1' sh $RW "$T/$n"
done
# An inversion cfg cut to 2 iterations of batch 2 (only [inversion]'s own keys).
short() {
    sed '/^\[inversion\]/,/^\[/{s/^batch=.*/batch=2/; s/^iterations=.*/iterations=2/; s/^images=.*/images=4/}
         /^\[distill\]/,/^\[/{s/^images=.*/images=2/; s/^every=.*/every=1/; s/^max_images=.*/max_images=4/}' "$1"
}
png_color_type() { od -An -tu1 -j25 -N1 "$1" | tr -d ' '; }

short cfg/cifar10-inversion.cfg > "$T/inv.cfg"
check "dream on the CIFAR-10 teacher" "$DARKNET" inversion dream "$T/inv.cfg" "$T/teacher.cfg" "$T/teacher.weights" \
    -labels cfg/cifar10.labels -out "$T/d" >"$T/dream.log" 2>&1
check "dream: 4 images listed" [ "$(wc -l < "$T/d/train.list" 2>/dev/null)" = 4 ]
first=$(head -1 "$T/d/train.list" 2>/dev/null)
check "dream: colour PNGs (not gray)" [ "$(png_color_type "$first")" = 2 ]
check "dream: named by CIFAR-10 labels" grep -q airplane "$T/d/train.list"

for n in teacher student; do
    "$DARKNET" inversion train "$T/d/dream.data" "$T/$n.cfg" -out "$T/$n-t.weights" -backup 0 >"$T/$n.train.log" 2>&1
    eval "flops_$n=\$(sed -n 's/.*: \([0-9.]*\) MFLOP.*/\1/p' \"$T/$n.train.log\")"
done
check "student has >= 4x fewer FLOPs than the teacher ($flops_student vs $flops_teacher MFLOP)" \
    awk -v s="$flops_student" -v t="$flops_teacher" 'BEGIN { exit !(s > 0 && t >= 4 * s) }'

# train's chart: loss and top-1 per batch, and a resumed run continues its CSV.
"$DARKNET" inversion train "$T/d/dream.data" "$T/student.cfg" -out "$T/c2.weights" -valid -valid-every 1 \
    -chart "$T/chart.png" >"$T/chart.log" 2>&1
check "train -chart: PNG written" [ "$(od -An -c -j1 -N3 "$T/chart.png" 2>/dev/null | tr -d ' ')" = PNG ]
check "train -chart: a CSV row a batch, each with top-1" [ "$(grep -c '^[12],.*,[0-9.]*$' "$T/chart.csv")" = 2 ]
cp "$T/chart.csv" "$T/chart2.csv"
sed 's/^max_batches=.*/max_batches=4/' "$T/student.cfg" > "$T/student4.cfg"
"$DARKNET" inversion train "$T/d/dream.data" "$T/student4.cfg" "$T/c2.weights" -out "$T/c4.weights" -valid \
    -valid-every 1 -chart "$T/chart.png" >>"$T/chart.log" 2>&1
check "train -chart: resumed run keeps the first rows" sh -c '[ "$(head -3 "$1/chart.csv")" = "$(cat "$1/chart2.csv")" ]' sh "$T"
check "train -chart: and adds its own" [ "$(grep -c '^[1-4],' "$T/chart.csv")" = 4 ]
expect_fail "train -chart needs .png" "must end in .png" "$DARKNET" inversion train "$T/d/dream.data" "$T/student.cfg" \
    -out "$T/x.weights" -chart "$T/chart.jpg"
expect_fail "train -valid-every needs -valid" "needs -valid" "$DARKNET" inversion train "$T/d/dream.data" "$T/student.cfg" \
    -out "$T/x.weights" -valid-every 1

for c in distill adi fast fast-adi; do
    short cfg/cifar10-$c.cfg > "$T/$c.cfg"
    check "distill with cfg/cifar10-$c.cfg" "$DARKNET" inversion distill "$T/$c.cfg" "$T/teacher.cfg" "$T/teacher.weights" \
        "$T/student.cfg" -out "$T/$c" -labels cfg/cifar10.labels >"$T/$c.log" 2>&1
    check "distill $c: student written" [ -s "$T/$c/student.weights" ]
    check "distill $c: chart.png written" [ -s "$T/$c/chart.png" ]
done
check "ADI: the pool grew during training" [ "$(wc -l < "$T/adi/pool.list")" -gt "$(wc -l < "$T/distill/pool.list")" ]
check "fast mode: the generator written" [ -s "$T/fast/generator.weights" ]
first=$(head -1 "$T/fast/pool.list" 2>/dev/null)
check "fast mode: colour images from the generator" [ "$(png_color_type "$first")" = 2 ]
summary
