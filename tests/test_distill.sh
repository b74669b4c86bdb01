#!/bin/sh
# distill on the shipped teacher: a short run raises the student's agreement
# with the teacher on held-out synthetic images; a killed run resumes from its
# backup and ends exactly where an uninterrupted one does; bad networks are
# refused before any work.
cd "$(dirname "$0")/.." || exit 2
. tests/shlib.sh
scratch_dir distill
TCFG=cfg/fmnist-teacher.cfg TW=weights/fmnist-teacher.weights

sed 's/^batch=128/batch=32/; s/^max_batches=.*/max_batches=150/; s/^burn_in=.*/burn_in=10/' cfg/fmnist-student.cfg > "$T/student.cfg"
sed 's/^max_batches=.*/max_batches=0/' "$T/student.cfg" > "$T/student0.cfg"
printf '[inversion]\nbatch=50\niterations=60\ngray=1\n[bn_stat]\nweight=0.3\n[prior]\ntv_l2=0.0005\n[adam]\nlr=0.1\nwarmup=5\n[distill]\nimages=200\nbackup_every=25\n' > "$T/di.cfg"
printf '[inversion]\nbatch=50\niterations=60\nimages=100\ngray=1\n[bn_stat]\nweight=1\n[adam]\nlr=0.05\nwarmup=5\n' > "$T/held.cfg"

# Held-out synthetic images (another seed), labelled with the teacher's targets.
"$DARKNET" inversion dream "$T/held.cfg" $TCFG $TW -labels cfg/fmnist.labels -out "$T/held" -seed 99 >/dev/null 2>&1
check "held-out dream" [ -s "$T/held/dream.data" ]
top1() { "$DARKNET" inversion valid "$T/held/dream.data" "$1" "$2" 2>/dev/null | sed -n 's/^top-1 \([0-9]*\).*/\1/p'; }

"$DARKNET" inversion distill "$T/di.cfg" $TCFG $TW "$T/student0.cfg" -out "$T/d0" -labels cfg/fmnist.labels >/dev/null 2>&1
start=$(date +%s.%N)
"$DARKNET" inversion distill "$T/di.cfg" $TCFG $TW "$T/student.cfg" -out "$T/d1" -labels cfg/fmnist.labels >"$T/log" 2>&1
whole=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN{print b - a}')
check "distill runs" [ -s "$T/d1/student.weights" ]
before=$(top1 "$T/student0.cfg" "$T/d0/student.weights"); after=$(top1 "$T/student.cfg" "$T/d1/student.weights")
echo "  agreement with the teacher's targets on held-out images: before $before%, after $after%"
# A short run is sensitive to rounding: on one machine the -O3 build ends at
# 46-48% and the sanitizer build (-O1, other float code in the library's
# replaced activations and im2col) at 32%; an untrained student stays at ~10%.
check "distillation raises agreement (before $before%, after $after%)" [ "${after:-0}" -ge $(( ${before:-100} + 20 )) ]
check "outputs" [ -s "$T/d1/pool.list" -a -s "$T/d1/grid.png" -a -s "$T/d1/distill.csv" -a -s "$T/d1/backup/state" ]
check "pool holds 200 synthesized images" [ "$(wc -l < "$T/d1/pool.list")" = 200 ]
check "progress shows an ETA" grep -q ETA "$T/log"

# Killed (-9) at several points of the run, rerun until done: the same student
# as without interruption. Each restart resumes from the last backup.
resumed=0
for f in 0.5 0.3 0.3; do
    timeout -s KILL "$(awk -v w="$whole" -v f="$f" 'BEGIN{print w * f}')" \
        "$DARKNET" inversion distill "$T/di.cfg" $TCFG $TW "$T/student.cfg" -out "$T/d2" -labels cfg/fmnist.labels >/dev/null 2>&1
    state=$(tr '\n' ' ' < "$T/d2/backup/state" 2>/dev/null)
    echo "  killed after ${f} of a whole run's time; backup: ${state:-none}"
    [ -n "$state" ] && resumed=$((resumed + 1))
done
check "kills fell after backups (the restarts resumed)" [ $resumed -ge 2 ]
"$DARKNET" inversion distill "$T/di.cfg" $TCFG $TW "$T/student.cfg" -out "$T/d2" -labels cfg/fmnist.labels >"$T/log2" 2>&1
check "resumed run finishes" [ -s "$T/d2/student.weights" ]
check "resumed student identical to uninterrupted" cmp -s "$T/d1/student.weights" "$T/d2/student.weights"
check "resumed csv identical" cmp -s "$T/d1/distill.csv" "$T/d2/distill.csv"
check "no temporary files left" [ -z "$(find "$T/d2" -name '*.tmp.*')" ]

# Networks that cannot be distilled: clear error, nothing written.
sed 's/^width=28/width=32/; s/^height=28/height=32/' "$T/student.cfg" > "$T/wide.cfg"
expect_fail "input size mismatch" "input sizes differ" "$DARKNET" inversion distill "$T/di.cfg" $TCFG $TW "$T/wide.cfg" -out "$T/bad1"
check "input size mismatch: nothing written" [ ! -e "$T/bad1" ]
sed 's/^output=10$/output=7/; s/^filters=10$/filters=7/' "$T/student.cfg" > "$T/seven.cfg"
check "a seven-class student made from the cfg" sh -c "! cmp -s '$T/student.cfg' '$T/seven.cfg'"
expect_fail "output size mismatch" "output sizes differ" "$DARKNET" inversion distill "$T/di.cfg" $TCFG $TW "$T/seven.cfg" -out "$T/bad2"
check "output size mismatch: nothing written" [ ! -e "$T/bad2" ]
# Layer types whose weights the plugin would neither check nor write whole, and
# Darknet's crashing [batchnorm], are refused in a student, naming the line.
awk '/^\[connected\]/ && !done {print "[local]\nsize=3\nstride=1\npad=1\nfilters=2\nactivation=leaky\n"; done=1} {print}' "$T/student.cfg" > "$T/local.cfg"
expect_fail "a [local] student" "layer 5 [local] is not supported: its weights are not among those the plugin checks" \
    "$DARKNET" inversion distill "$T/di.cfg" $TCFG $TW "$T/local.cfg" -out "$T/bad3"
awk '/^\[connected\]/ && !done {print "[batchnorm]\n"; done=1} {print}' "$T/student.cfg" > "$T/bn.cfg"
expect_fail "a [batchnorm] student" "[batchnorm] is not supported: Darknet's own [batchnorm] layer crashes in training" \
    "$DARKNET" inversion distill "$T/di.cfg" $TCFG $TW "$T/bn.cfg" -out "$T/bad4"
check "refused students: nothing written" [ ! -e "$T/bad3" -a ! -e "$T/bad4" ]
summary
