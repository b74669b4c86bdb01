#!/bin/sh
# prune end to end on a small residual network (shortcut, route, connected
# after a convolution): bad targets and unprunable networks are refused before
# anything is written; a run reaches its FLOP target and writes the smaller
# cfg and weights, which stock Darknet classifies exactly as the plugin does;
# a run killed part-way and rerun ends with the same files as an
# uninterrupted one. Adaptive DeepInversion ([compete]): each round adds images
# synthesized against the masked network, which differ from plain
# DeepInversion's, and a killed run resumes to the same files.
cd "$(dirname "$0")/.." || exit 2
. tests/shlib.sh

scratch_dir prune
cat > "$T/net.cfg" <<'CFG'
[net]
batch=16
width=12
height=12
channels=3
momentum=0.9
decay=0.0005
[convolutional]
batch_normalize=1
filters=12
size=3
stride=1
pad=1
activation=leaky
[convolutional]
batch_normalize=1
filters=12
size=3
stride=1
pad=1
activation=linear
[shortcut]
from=-2
activation=leaky
[maxpool]
size=2
stride=2
[convolutional]
batch_normalize=1
filters=16
size=1
stride=1
pad=1
activation=relu
[route]
layers=-1,-2
[convolutional]
batch_normalize=1
filters=16
size=3
stride=2
pad=1
activation=leaky
[connected]
output=4
activation=linear
[softmax]
CFG
${CC:-cc} -O1 -I/usr/lib/darknet/include -o "$T/random_weights" tests/random_weights.c \
    -L/usr/lib/darknet -ldarknet -Wl,-rpath,/usr/lib/darknet -lm || exit 2
"$T/random_weights" "$T/net.cfg" "$T/net.weights" -seed 3 >/dev/null 2>&1
printf '[inversion]\nbatch=8\niterations=5\n[bn_stat]\nweight=0.1\n[adam]\nwarmup=0\n[distill]\nimages=16\n' > "$T/inv.cfg"
PRUNE="$DARKNET inversion prune $T/inv.cfg $T/net.cfg $T/net.weights"
# A long final fine-tune (a few ms a batch) leaves time to kill a run in it.
FAST="-step 0.2 -round-batches 2 -final-batches 400 -importance-batches 2"

check "--help" sh -c "$DARKNET inversion prune --help | grep -q -- '-flops F'"
expect_fail "-flops 0" "-flops 0: the fraction kept must be a number strictly between 0 and 1" $PRUNE -out "$T/o" -flops 0
expect_fail "-flops 1" "-flops 1: the fraction kept" $PRUNE -out "$T/o" -flops 1
expect_fail "-filters -0.5" "-filters -0.5: the fraction kept" $PRUNE -out "$T/o" -filters -0.5
expect_fail "-flops 50%" "-flops 50%: the fraction kept" $PRUNE -out "$T/o" -flops 50%
expect_fail "two targets" "prune needs one target" $PRUNE -out "$T/o" -flops 0.5 -filters 0.5
expect_fail "no target" "prune needs one target" $PRUNE -out "$T/o"
expect_fail "unreachable target" "can keep no less than" $PRUNE -out "$T/o" -flops 0.01
sed 's/batch_normalize=1/batch_normalize=0/' "$T/net.cfg" > "$T/nobn.cfg"
"$T/random_weights" "$T/nobn.cfg" "$T/nobn.weights" >/dev/null 2>&1
expect_fail "no BN: nothing to prune" "$T/nobn.cfg: no channel can be pruned" $DARKNET inversion prune "$T/inv.cfg" "$T/nobn.cfg" "$T/nobn.weights" -out "$T/o" -flops 0.5
check "refused: nothing written" [ ! -e "$T/o" ]

$PRUNE -out "$T/a" -flops 0.6 $FAST >"$T/a.log" 2>&1
check "a run finishes" grep -q "prune: $T/a/pruned.cfg" "$T/a.log"
check "outputs" [ -s "$T/a/pruned.weights" -a -s "$T/a/filters.png" -a -s "$T/a/prune.csv" ]
check "FLOP target reached" awk -F, 'END { exit !($3 <= 0.6) }' "$T/a/prune.csv"
check "rounds logged" [ "$(wc -l < "$T/a/prune.csv")" -ge 4 ]
check "filters= reduced" sh -c "grep '^filters=' '$T/a/pruned.cfg' | grep -qv 'filters=1[26]$'"

# Stock Darknet reads the result and agrees with the plugin on the pool images.
printf 'class_0\nclass_1\nclass_2\nclass_3\n' > "$T/labels.txt"
printf 'classes=4\ntrain=%s\nvalid=%s\nlabels=%s\nnames=%s\ntop=1\n' "$T/a/pool.list" "$T/a/pool.list" "$T/labels.txt" "$T/labels.txt" > "$T/pool.data"
stock=$(/usr/bin/darknet classifier valid "$T/pool.data" "$T/a/pruned.cfg" "$T/a/pruned.weights" 2>/dev/null | tail -1 | sed 's/.*top 1: \([0-9.]*\).*/\1/')
ours=$($DARKNET inversion valid "$T/pool.data" "$T/a/pruned.cfg" "$T/a/pruned.weights" 2>/dev/null | sed -n 's/.*top-1 \([0-9.]*\)%.*/\1/p' | head -1)
check "stock Darknet reads pruned.cfg + pruned.weights (stock $stock, plugin $ours%)" \
    awk -v s="$stock" -v o="$ours" 'BEGIN { exit !(s != "" && o != "" && (s * 100 - o) ^ 2 < 1e-4) }'

# Exact resume: killed in the final fine-tune (after the rounds' backups), then rerun.
$PRUNE -out "$T/b" -flops 0.6 $FAST >"$T/b.log" 2>&1 &
kill_when_exists $! "$T/b/backup/masks-0000002.txt" 600 0.05
if [ -e "$T/b/pruned.weights" ]; then skip "resume: the run ended before it could be killed"
else
    $PRUNE -out "$T/b" -flops 0.6 $FAST >"$T/b2.log" 2>&1
    check "resumed" grep -q "resuming from" "$T/b2.log"
    check "resumed run: same weights" cmp -s "$T/a/pruned.weights" "$T/b/pruned.weights"
    check "resumed run: same cfg" cmp -s "$T/a/pruned.cfg" "$T/b/pruned.cfg"
    check "resumed run: same log" cmp -s "$T/a/prune.csv" "$T/b/prune.csv"
fi

# Adaptive DeepInversion: -adapt batches per round against the masked network.
cp "$T/inv.cfg" "$T/adi.cfg"
printf '[compete]\nweight=1\ntemperature=3\n' >> "$T/adi.cfg"
expect_fail "-adapt without [compete]" "-adapt: $T/inv.cfg has no [compete] weight > 0" $PRUNE -out "$T/o" -flops 0.6 -adapt 2
expect_fail "-adapt 0 with [compete]" "-adapt 0: with [compete] weight > 0" \
    $DARKNET inversion prune "$T/adi.cfg" "$T/net.cfg" "$T/net.weights" -out "$T/o" -flops 0.6 -adapt 0
check "refused: nothing written" [ ! -e "$T/o" ]
ADI="$DARKNET inversion prune $T/adi.cfg $T/net.cfg $T/net.weights -flops 0.6 -adapt 2 $FAST"
$ADI -out "$T/c" >"$T/c.log" 2>&1
check "adaptive run finishes" grep -q "prune: $T/c/pruned.cfg" "$T/c.log"
# Two rounds (1 -> 0.8 -> 0.6) of two batches of 8 after the 16 up front.
check "adaptive images added each round" [ "$(wc -l < "$T/c/pool.list")" -eq 48 ]
check "synthesized against the masked network" [ "$(grep -c 'against the masked network' "$T/c.log")" -eq 4 ]
# The same batches (seeds, targets) without the competition term: plain DeepInversion.
sed 's/^images=16$/images=48/' "$T/inv.cfg" > "$T/di48.cfg"
$DARKNET inversion prune "$T/di48.cfg" "$T/net.cfg" "$T/net.weights" -out "$T/d" -flops 0.8 -step 0.2 -round-batches 0 \
    -final-batches 0 -importance-batches 1 >"$T/d.log" 2>&1
differ=0
for k in 16 24 32 40; do
    f=$(cd "$T/c/pool" && ls "$(printf %07d $k)"_* 2>/dev/null | head -1)
    [ -n "$f" ] && [ -s "$T/d/pool/$f" ] && ! cmp -s "$T/c/pool/$f" "$T/d/pool/$f" && differ=$((differ + 1))
done
check "adaptive images differ from plain DeepInversion ones ($differ of 4)" [ $differ -eq 4 ]
$ADI -out "$T/e" >"$T/e.log" 2>&1 &
kill_when_exists $! "$T/e/backup/masks-0000001.txt" 600 0.02
if [ -e "$T/e/pruned.weights" ]; then skip "adaptive resume: the run ended before it could be killed"
else
    $ADI -out "$T/e" >"$T/e2.log" 2>&1
    check "adaptive: resumed" grep -q "resuming from" "$T/e2.log"
    check "adaptive resumed run: same weights" cmp -s "$T/c/pruned.weights" "$T/e/pruned.weights"
    check "adaptive resumed run: same log" cmp -s "$T/c/prune.csv" "$T/e/prune.csv"
    check "adaptive resumed run: same pool" [ "$(sed "s|^$T/c/||" "$T/c/pool.list")" = "$(sed "s|^$T/e/||" "$T/e/pool.list")" ]
    same=1
    for f in $(cd "$T/c/pool" && ls); do cmp -s "$T/c/pool/$f" "$T/e/pool/$f" || same=0; done
    check "adaptive resumed run: same images" [ $same -eq 1 ]
fi
summary
