#!/bin/sh
# Command-line behaviour of ./darknet: hand-over to stock Darknet, help, bad
# input (clear error, non-zero exit, no output written) and a short dream on
# the shipped teacher whose output stock Darknet can load.
cd "$(dirname "$0")/.." || exit 2
. tests/shlib.sh

scratch_dir cli
TCFG=cfg/fmnist-teacher.cfg TW=weights/fmnist-teacher.weights ICFG=cfg/fmnist-inversion.cfg

# Stock subcommands behave exactly as /usr/bin/darknet.
"$DARKNET" nosuchcommand >"$T/a" 2>&1; a=$?
/usr/bin/darknet nosuchcommand >"$T/b" 2>&1; b=$?
sed -i 's|^usage: [^ ]*|usage: X|' "$T/a" "$T/b"
check "stock subcommand handed over" [ "$a" = "$b" ] && cmp -s "$T/a" "$T/b"

check "inversion --help" sh -c '"$DARKNET" inversion --help | grep -q "dream"'
check "dream --help lists cfg keys" sh -c '"$DARKNET" inversion dream --help | grep -q "first_multiplier"'
expect_fail "unknown verb" "unknown verb 'nosuch'" "$DARKNET" inversion nosuch

# Bad input: clear message, non-zero exit, and the output directory never created.
bad() {  # name, expected message, args...
    name=$1 msg=$2; shift 2
    rm -rf "$T/out"
    expect_fail "$name" "$msg" "$@" -out "$T/out"
    check "$name: nothing written" [ ! -e "$T/out" ]
}
bad "missing inversion cfg" "cannot open inversion cfg $T/none.cfg" "$DARKNET" inversion dream "$T/none.cfg" $TCFG $TW
bad "missing teacher cfg" "cannot open cfg $T/none.cfg" "$DARKNET" inversion dream $ICFG "$T/none.cfg" $TW
bad "missing weights" "cannot open weights $T/none.weights" "$DARKNET" inversion dream $ICFG $TCFG "$T/none.weights"
head -c 5000 $TW > "$T/trunc.weights"
bad "truncated weights" "expected $(stat -c %s $TW) bytes, found 5000; the file ends inside layer" \
    "$DARKNET" inversion dream $ICFG $TCFG "$T/trunc.weights"
cat $TW $TW > "$T/long.weights"
bad "overlong weights" "bytes left after the last layer" "$DARKNET" inversion dream $ICFG $TCFG "$T/long.weights"
sed 's/filters=64/filters=48/' $TCFG > "$T/other.cfg"
bad "weights of another cfg" "do not match cfg $T/other.cfg" "$DARKNET" inversion dream $ICFG "$T/other.cfg" $TW
printf '[inversion]\nbatch=4\n[adamw]\n' > "$T/sec.cfg"
bad "unknown inversion section" "$T/sec.cfg:3: unknown section [adamw]" "$DARKNET" inversion dream "$T/sec.cfg" $TCFG $TW
printf '[inversion]\nbatch=4\n[adam]\nlearning_rate=1\n' > "$T/key.cfg"
bad "unknown inversion key" "$T/key.cfg:4: [adam] unknown key 'learning_rate'" "$DARKNET" inversion dream "$T/key.cfg" $TCFG $TW
{ cat $TCFG; printf '\n[yolo]\nclasses=1\n'; } > "$T/yolo.cfg"
bad "unsupported teacher layer" "[yolo] is not supported" "$DARKNET" inversion dream $ICFG "$T/yolo.cfg" $TW
{ cat $TCFG; printf '\n[softmaxx]\n'; } > "$T/typo.cfg"
bad "unknown teacher section" "unknown section [softmaxx]" "$DARKNET" inversion dream $ICFG "$T/typo.cfg" $TW
printf 'a\nb\n' > "$T/two.labels"
bad "labels/classes mismatch" "has 2 labels but $TCFG has 10 classes" "$DARKNET" inversion dream $ICFG $TCFG $TW -labels "$T/two.labels"
printf 'shirt\ntshirt\n' > "$T/sub.labels"
bad "labels containing labels" "label 'tshirt' contains label 'shirt'" "$DARKNET" inversion dream $ICFG $TCFG $TW -labels "$T/sub.labels"
expect_fail "label in output path" "contains the label 'bag'" "$DARKNET" inversion dream $ICFG $TCFG $TW -labels cfg/fmnist.labels -out "$T/bag"
check "label in output path: nothing written" [ ! -e "$T/bag" ]
bad "stray argument" "unexpected argument '-iters'" "$DARKNET" inversion dream $ICFG $TCFG $TW -iters 5

# A short dream on the shipped teacher.
printf '[inversion]\nbatch=20\niterations=60\nimages=20\ngray=1\nlog_every=10\n[bn_stat]\nweight=1\n[prior]\ntv_l2=0.0005\n[adam]\nlr=0.05\nwarmup=5\n' > "$T/short.cfg"
"$DARKNET" inversion dream "$T/short.cfg" $TCFG $TW -labels cfg/fmnist.labels -out "$T/dream" >"$T/log" 2>&1
check "short dream runs" [ $? = 0 ]
check "20 PNG images" [ "$(ls "$T"/dream/images/*.png | wc -l)" = 20 ]
check "list of 20 images" [ "$(wc -l < "$T/dream/train.list")" = 20 ]
check "labels, data, grid, csv" [ -s "$T/dream/labels.txt" -a -s "$T/dream/dream.data" -a -s "$T/dream/grid.png" -a -s "$T/dream/losses.csv" ]
check "no temporary files left" [ -z "$(find "$T/dream" -name '*.tmp.*')" ]
check "file names carry the label" grep -q '000003_dress.png' "$T/dream/train.list"
check "progress shows an ETA" grep -q 'ETA' "$T/log"
# losses.csv: batch,stage,iteration,lr,total,ce,bn,tv_l1,tv_l2,l2,target_p
first=$(sed -n 2p "$T/dream/losses.csv"); last=$(tail -1 "$T/dream/losses.csv")
check "BN-statistic loss falls" awk -v a="$first" -v b="$last" 'BEGIN{split(a,x,",");split(b,y,",");exit !(y[7] < 0.5*x[7])}'
check "target probability rises" awk -v a="$first" -v b="$last" 'BEGIN{split(a,x,",");split(b,y,",");exit !(y[11] > x[11] + 0.3)}'
# Stock Darknet loads the images and the .data file; the teacher agrees with the targets.
/usr/bin/darknet classifier predict "$T/dream/dream.data" $TCFG $TW "$T/dream/images/000003_dress.png" >"$T/pred" 2>&1
check "stock darknet classifies a dreamed image" grep -q '%: dress' "$T/pred"
"$DARKNET" inversion valid "$T/dream/dream.data" $TCFG $TW >"$T/valid" 2>&1
check "valid reads dream.data" grep -qi 'top-1' "$T/valid"

# Interrupted (kill -9 at several points) and rerun: the same files as an uninterrupted run.
printf '[inversion]\nbatch=10\niterations=40\nimages=30\ngray=1\n[bn_stat]\nweight=1\n[adam]\nlr=0.05\nwarmup=5\n' > "$T/three.cfg"
"$DARKNET" inversion dream "$T/three.cfg" $TCFG $TW -labels cfg/fmnist.labels -out "$T/whole" >/dev/null 2>&1
for t in 1 2 3; do
    timeout -s KILL $t "$DARKNET" inversion dream "$T/three.cfg" $TCFG $TW -labels cfg/fmnist.labels -out "$T/cut" >/dev/null 2>&1
done
# What a kill left mid-write is removed by the next run; a live writer's temporary is not.
dead=4194305   # above the kernel's largest pid_max: never a live process (a reaped pid could be reused)
echo partial > "$T/cut/images/000001_x.png.tmp.$dead"
echo live > "$T/cut/grid.png.tmp.$$"
# A killed run nobody reaped (a zombie) writes nothing; nor does a process that
# reused a pid after the file's last write.
sh -c 'sleep 0 & echo $! > "$1"; exec sleep 30' sh "$T/zombie.pid" & holder=$!
while [ ! -s "$T/zombie.pid" ]; do sleep 0.1; done
zombie=$(cat "$T/zombie.pid"); sleep 0.5
echo partial > "$T/cut/images/000002_x.png.tmp.$zombie"
echo old > "$T/cut/losses.csv.tmp.$$" && touch -d '1 hour ago' "$T/cut/losses.csv.tmp.$$"
"$DARKNET" inversion dream "$T/three.cfg" $TCFG $TW -labels cfg/fmnist.labels -out "$T/cut" >/dev/null 2>&1
check "resumed dream finishes" [ -s "$T/cut/dream.data" ]
check "resumed dream removed a killed run's temporary" [ ! -e "$T/cut/images/000001_x.png.tmp.$dead" ]
check "resumed dream kept a live process's temporary" [ -e "$T/cut/grid.png.tmp.$$" ]
if grep -q '^State:.*Z' "/proc/$zombie/status" 2>/dev/null; then
    check "resumed dream removed a zombie's temporary" [ ! -e "$T/cut/images/000002_x.png.tmp.$zombie" ]
else
    skip "resumed dream removed a zombie's temporary (no zombie to test with)"
    rm -f "$T/cut/images/000002_x.png.tmp.$zombie"
fi
kill $holder 2>/dev/null; wait $holder 2>/dev/null
check "resumed dream removed a temporary older than the process with its pid" [ ! -e "$T/cut/losses.csv.tmp.$$" ]
rm -f "$T/cut/grid.png.tmp.$$"
check "resumed dream: same images, grid and losses" sh -c "cd '$T' && for f in whole/images/*.png whole/grid.png whole/losses.csv; do cmp -s \$f cut/\${f#whole/} || exit 1; done"
check "resumed dream: no temporary files" [ -z "$(find "$T/cut" -name '*.tmp.*')" ]
expect_fail "another run in the same directory" "holds the output of another dream run" \
    "$DARKNET" inversion dream "$T/three.cfg" $TCFG $TW -labels cfg/fmnist.labels -out "$T/cut" -seed 7
summary
