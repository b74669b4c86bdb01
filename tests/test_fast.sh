#!/bin/sh
# Fast mode on the shipped teacher: distill with a [generator] (and its BN
# momentum) fills the pool with generator rounds and writes generator.weights;
# a run killed (-9) at several points and rerun ends with the same student,
# generator, pool and CSV byte for byte; dream -generator samples a trained generator without
# optimisation, the same images for the same seed; bad generators are refused
# by name before any work.
cd "$(dirname "$0")/.." || exit 2
. tests/shlib.sh
scratch_dir fast
TCFG=cfg/fmnist-teacher.cfg TW=weights/fmnist-teacher.weights

sed 's/^batch=128/batch=32/; s/^max_batches=.*/max_batches=60/; s/^burn_in=.*/burn_in=10/' cfg/fmnist-student.cfg > "$T/student.cfg"
# The shipped generator's layers at a quarter of its width: latent 16 + 10 classes.
sed 's/^channels=74/channels=26/; s/^output=3136/output=784/; s/^filters=32/filters=8/; s/^filters=16/filters=8/' \
    cfg/fmnist-generator.cfg > "$T/gen.cfg"
printf '[inversion]\nbatch=50\ngray=1\n[bn_stat]\nweight=0.3\n[prior]\ntv_l2=0.0005\n[distill]\nimages=100\nevery=10\nbackup_every=10\n[generator]\ncfg=%s\nsteps=3\nlr=0.01\nmeta_lr=0.01\nbn_momentum=0.5\n' \
    "$T/gen.cfg" > "$T/fast.cfg"

"$DARKNET" inversion distill "$T/fast.cfg" $TCFG $TW "$T/student.cfg" -out "$T/d1" -labels cfg/fmnist.labels >"$T/log" 2>&1
check "fast distill runs" [ -s "$T/d1/student.weights" -a -s "$T/d1/generator.weights" ]
# 2 rounds up front, then one every 10 of the 60 batches but the last: 7 rounds.
check "pool holds 7 rounds of 50 images" [ "$(wc -l < "$T/d1/pool.list" 2>/dev/null)" = 350 ]
check "backups hold the generator" [ -n "$(ls "$T/d1/backup" | grep '^generator-[0-9]*\.weights$')" -a \
    -n "$(ls "$T/d1/backup" | grep '^generator_adam-[0-9]*\.bin$')" ]
check "backups hold the BN momentum" [ "$(ls "$T/d1/backup" | grep -c '^bn_momentum-[0-9]*\.bin$')" = 1 ]
check "one backup kept" [ "$(ls "$T/d1/backup" | grep -c '^generator')" = 2 ]

# Killed (-9) once its backup reaches batch 20, then 40, and rerun: the rounds
# after each restart run on the generator and meta Adam state of the backup.
resumed=0
for at in 20 40; do
    "$DARKNET" inversion distill "$T/fast.cfg" $TCFG $TW "$T/student.cfg" -out "$T/d2" -labels cfg/fmnist.labels >/dev/null 2>&1 &
    pid=$!
    while kill -0 $pid 2>/dev/null && ! awk -F= -v at=$at '/^batches=/ {f = $2 >= at} END {exit !f}' "$T/d2/backup/state" 2>/dev/null; do
        sleep 0.05
    done
    kill -9 $pid 2>/dev/null
    wait $pid 2>/dev/null
    state=$(tr '\n' ' ' < "$T/d2/backup/state" 2>/dev/null)
    echo "  killed at backup: ${state:-none}"
    b=$(sed -n 's/^batches=//p' "$T/d2/backup/state" 2>/dev/null)
    [ -n "$b" ] && [ "$b" -ge $at ] && [ "$b" -lt 60 ] && [ ! -e "$T/d2/student.weights" ] && resumed=$((resumed + 1))
done
check "both kills fell before the end, after their backups" [ $resumed -eq 2 ]
"$DARKNET" inversion distill "$T/fast.cfg" $TCFG $TW "$T/student.cfg" -out "$T/d2" -labels cfg/fmnist.labels >"$T/log2" 2>&1
check "resumed run finishes" [ -s "$T/d2/student.weights" ]
check "resumed student identical to uninterrupted" cmp -s "$T/d1/student.weights" "$T/d2/student.weights"
check "resumed generator identical to uninterrupted" cmp -s "$T/d1/generator.weights" "$T/d2/generator.weights"
check "resumed csv identical" cmp -s "$T/d1/distill.csv" "$T/d2/distill.csv"
check "resumed pool identical" diff -r "$T/d1/pool" "$T/d2/pool"
check "no temporary files left" [ -z "$(find "$T/d2" -name '*.tmp.*')" ]

# Sampling: no optimisation, a function of the seed.
"$DARKNET" inversion dream "$T/fast.cfg" $TCFG $TW -generator "$T/d1/generator.weights" -n 100 -labels cfg/fmnist.labels -out "$T/s1" >"$T/log3" 2>&1
"$DARKNET" inversion dream "$T/fast.cfg" $TCFG $TW -generator "$T/d1/generator.weights" -n 100 -labels cfg/fmnist.labels -out "$T/s2" >/dev/null 2>&1
check "dream -generator writes a set" [ -s "$T/s1/dream.data" -a "$(wc -l < "$T/s1/train.list" 2>/dev/null)" = 100 ]
check "same seed, same images" diff -r "$T/s1/images" "$T/s2/images"
"$DARKNET" inversion dream "$T/fast.cfg" $TCFG $TW -generator "$T/d1/generator.weights" -n 100 -seed 2 -labels cfg/fmnist.labels -out "$T/s3" >/dev/null 2>&1
check "another seed, other images" sh -c "! diff -rq '$T/s1/images' '$T/s3/images' >/dev/null"
top1=$("$DARKNET" inversion valid "$T/s1/dream.data" $TCFG $TW 2>/dev/null | sed -n 's/^top-1 \([0-9]*\).*/\1/p')
# Seven rounds of a small generator are too few for a reliable figure (13%
# here, chance 10%; the shipped generator after 30 rounds: 70%): shown only.
echo "  the teacher's top-1 on sampled images against their targets: $top1%"

# Refused before any work, naming the file.
sed 's/^filters=1$/filters=3/' "$T/gen.cfg" > "$T/gen3.cfg"
sed "s|^cfg=.*|cfg=$T/gen3.cfg|" "$T/fast.cfg" > "$T/bad.cfg"
expect_fail "a 3-channel generator with gray=1" "the generator's output is 28x28x3, the teacher needs 28x28x1" \
    "$DARKNET" inversion distill "$T/bad.cfg" $TCFG $TW "$T/student.cfg" -out "$T/bad1"
sed 's/^channels=26/channels=10/' "$T/gen.cfg" > "$T/gen10.cfg"
sed "s|^cfg=.*|cfg=$T/gen10.cfg|" "$T/fast.cfg" > "$T/bad2.cfg"
expect_fail "no room for the latent" "must hold a latent vector and the one-hot target" \
    "$DARKNET" inversion distill "$T/bad2.cfg" $TCFG $TW "$T/student.cfg" -out "$T/bad2"
check "refused: nothing written" [ ! -e "$T/bad1" -a ! -e "$T/bad2" ]
printf '[inversion]\nbatch=50\n' > "$T/plain.cfg"
expect_fail "-generator without [generator]" "-generator needs [generator] cfg" \
    "$DARKNET" inversion dream "$T/plain.cfg" $TCFG $TW -generator "$T/d1/generator.weights" -out "$T/bad3"
summary
