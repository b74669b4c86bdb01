#!/bin/sh
# continual on the shipped five-class network (cfg/fmnist-old5.cfg): a short
# run widens it to ten classes and learns the new ones from images the
# ten-class teacher dreams of them (60 batches: too short to say anything
# about forgetting, which bench/continual_table.sh measures on real data);
# a killed run resumes exactly; bad input
# (colliding labels, a .data that disagrees with its labels, a head it cannot
# widen) is refused before anything is written.
cd "$(dirname "$0")/.." || exit 2
. tests/shlib.sh
scratch_dir continual
OCFG=cfg/fmnist-old5.cfg OW=weights/fmnist-old5.weights

sed 's/^batch=128/batch=32/; s/^max_batches=.*/max_batches=60/; s/^burn_in=.*/burn_in=5/; s/^learning_rate=.*/learning_rate=0.02/' $OCFG > "$T/old.cfg"
head -5 cfg/fmnist.labels > "$T/old.labels"
tail -5 cfg/fmnist.labels > "$T/new.labels"
printf '[inversion]\nbatch=50\niterations=40\ngray=1\n[bn_stat]\nweight=0.3\n[prior]\ntv_l2=0.0005\n[adam]\nlr=0.1\nwarmup=5\n[continual]\nimages=100\nsynthetic=0.5\nbackup_every=10\nvalid_every=30\n' > "$T/cl.cfg"

# "New data": images of the five new classes dreamed from the ten-class
# teacher; validation: dreams of all ten classes (another seed).
printf '[inversion]\nbatch=50\niterations=40\nimages=150\ntargets=5,6,7,8,9\ngray=1\n[bn_stat]\nweight=0.3\n[adam]\nlr=0.1\nwarmup=5\n' > "$T/new.cfg"
"$DARKNET" inversion dream "$T/new.cfg" cfg/fmnist-teacher.cfg weights/fmnist-teacher.weights -labels cfg/fmnist.labels -out "$T/newimg" >/dev/null 2>&1
printf 'classes=5\ntrain=%s\nlabels=%s\n' "$T/newimg/train.list" "$T/new.labels" > "$T/new.data"
printf '[inversion]\nbatch=50\niterations=40\nimages=100\ngray=1\n[bn_stat]\nweight=0.3\n[adam]\nlr=0.1\nwarmup=5\n' > "$T/val.cfg"
"$DARKNET" inversion dream "$T/val.cfg" cfg/fmnist-teacher.cfg weights/fmnist-teacher.weights -labels cfg/fmnist.labels -out "$T/valimg" -seed 5 >/dev/null 2>&1
printf 'classes=10\nvalid=%s\nlabels=cfg/fmnist.labels\n' "$T/valimg/train.list" > "$T/valid.data"
check "new and validation images" [ -s "$T/newimg/train.list" -a -s "$T/valimg/train.list" ]

RUN="$DARKNET inversion continual $T/cl.cfg $T/old.cfg $OW $T/new.data -old-labels $T/old.labels -valid $T/valid.data"
run() { $RUN "$@"; }
start=$(date +%s.%N)
run -out "$T/c1" >"$T/log" 2>&1
whole=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN{print b - a}')
check "continual runs" [ -s "$T/c1/continual.weights" ]
check "outputs" [ -s "$T/c1/continual.cfg" -a -s "$T/c1/continual.data" -a -s "$T/c1/continual.csv" -a -s "$T/c1/grid.png" -a -s "$T/c1/backup/state" ]
check "labels: old then new" cmp -s "$T/c1/labels.txt" cfg/fmnist.labels
check "head widened to 10" grep -q '^output=10$' "$T/c1/continual.cfg"
check "pool holds 100 synthesized images of old classes" [ "$(grep -cE '_(tee|trouser|pullover|dress|coat)\.png$' "$T/c1/pool.list")" = 100 ]
check "progress shows an ETA" grep -q ETA "$T/log"
grep 'classes top-1' "$T/log" | sed 's/^/  /'
"$DARKNET" inversion valid "$T/c1/continual.data" "$T/c1/continual.cfg" "$T/c1/continual.weights" >"$T/valid" 2>&1
check "valid reads continual.data, .cfg and .weights" grep -q 'top-1' "$T/valid"
new=$(sed -n 's/.*new classes top-1 \([0-9]*\).*/\1/p' "$T/log"); old=$(sed -n 's/^old classes top-1 \([0-9]*\).*/\1/p' "$T/log")
check "new classes learnt (top-1 ${new:-?}% on held-out dreams)" [ "${new:-0}" -ge 60 ]
check "old classes scored (top-1 ${old:-?}%)" [ -n "$old" ]

# Killed (-9) and rerun until done: the same network as without interruption.
resumed=0
for f in 0.6 0.4; do
    timeout -s KILL "$(awk -v w="$whole" -v f="$f" 'BEGIN{print w * f}')" $RUN -out "$T/c2" >/dev/null 2>&1
    state=$(tr '\n' ' ' < "$T/c2/backup/state" 2>/dev/null)
    echo "  killed after ${f} of a whole run's time; backup: ${state:-none}"
    [ -n "$state" ] && resumed=$((resumed + 1))
done
check "kills fell after backups" [ $resumed -ge 1 ]
run -out "$T/c2" >/dev/null 2>&1
check "resumed run identical to uninterrupted" cmp -s "$T/c1/continual.weights" "$T/c2/continual.weights"
check "resumed csv identical" cmp -s "$T/c1/continual.csv" "$T/c2/continual.csv"
check "no temporary files left" [ -z "$(find "$T/c2" -name '*.tmp.*')" ]

# Bad input: clear error, nothing written.
bad() {  # name, expected message, args...
    name=$1 msg=$2; shift 2
    rm -rf "$T/out"
    expect_fail "$name" "$msg" "$@" -out "$T/out"
    check "$name: nothing written" [ ! -e "$T/out" ]
}
printf 'sandal\ncoat\nsneaker\nbag\nboot\n' > "$T/same.labels"
printf 'classes=5\ntrain=%s\nlabels=%s\n' "$T/newimg/train.list" "$T/same.labels" > "$T/same.data"
bad "new label equal to an old one" "new label 'coat' ($T/same.data) is also an old label" \
    "$DARKNET" inversion continual "$T/cl.cfg" "$T/old.cfg" $OW "$T/same.data" -old-labels "$T/old.labels"
printf 'sandal\nshirt\nsneaker\nbag\nboots\n' > "$T/sub1.labels"
printf 'sandal\nshirt\nsneaker\nbag\nboot\n' > "$T/sub2.labels"
printf 'classes=5\ntrain=%s\nlabels=%s\n' "$T/newimg/train.list" "$T/sub2.labels" > "$T/sub.data"
printf 'tee\ntrouser\npullover\ndress\nshirts\n' > "$T/oldsub.labels"
bad "old label containing a new one" "new label 'shirt' ($T/sub.data) and old label 'shirts'" \
    "$DARKNET" inversion continual "$T/cl.cfg" "$T/old.cfg" $OW "$T/sub.data" -old-labels "$T/oldsub.labels"
printf 'tee\ntrouser\npullover\ndress\nag\n' > "$T/oldsub2.labels"
bad "new label containing an old one" "new label 'bag' ($T/sub.data) and old label 'ag'" \
    "$DARKNET" inversion continual "$T/cl.cfg" "$T/old.cfg" $OW "$T/sub.data" -old-labels "$T/oldsub2.labels"
printf 'classes=4\ntrain=%s\nlabels=%s\n' "$T/newimg/train.list" "$T/new.labels" > "$T/four.data"
bad ".data classes= disagree with its labels" "classes=4 but labels file $T/new.labels holds 5 labels" \
    "$DARKNET" inversion continual "$T/cl.cfg" "$T/old.cfg" $OW "$T/four.data" -old-labels "$T/old.labels"
printf '[net]\nbatch=8\nwidth=28\nheight=28\nchannels=3\n[convolutional]\nbatch_normalize=1\nfilters=8\nsize=3\npad=1\nactivation=leaky\n[convolutional]\nfilters=5\nsize=1\nactivation=linear\n[maxpool]\nsize=2\n[softmax]\n' > "$T/max.cfg"
bad "head it cannot widen" "$T/max.cfg:16: no classifier head it can extend: the [softmax] at line 18 reads [maxpool]" \
    "$DARKNET" inversion continual "$T/cl.cfg" "$T/max.cfg" $OW "$T/new.data" -old-labels "$T/old.labels"
bad "old labels of another count" "$T/new.labels holds 5 labels, the old network" \
    "$DARKNET" inversion continual "$T/cl.cfg" cfg/fmnist-teacher.cfg weights/fmnist-teacher.weights "$T/new.data" -old-labels "$T/new.labels"
bad "valid data of another class count" "$T/new.data has 5 classes; after continual learning the network has 10" \
    "$DARKNET" inversion continual "$T/cl.cfg" "$T/old.cfg" $OW "$T/new.data" -old-labels "$T/old.labels" -valid "$T/new.data"
printf '[continual]\nsyn_weight=1\n' > "$T/nosyn.cfg"
bad "syn term without images" "[continual] syn_weight=1 needs synthesized images" \
    "$DARKNET" inversion continual "$T/nosyn.cfg" "$T/old.cfg" $OW "$T/new.data" -old-labels "$T/old.labels"
bad "old weights of another cfg" "do not match cfg" \
    "$DARKNET" inversion continual "$T/cl.cfg" "$T/old.cfg" weights/fmnist-teacher.weights "$T/new.data" -old-labels "$T/old.labels"
bad "a -pool of another class count" "$T/new.data has 5 classes, the old network" \
    "$DARKNET" inversion continual "$T/cl.cfg" cfg/fmnist-teacher.cfg weights/fmnist-teacher.weights "$T/new.data" -pool "$T/new.data"

# Old-class images dreamed elsewhere (e.g. merged shards) instead of synthesized here.
printf '[inversion]\nbatch=20\niterations=20\ngray=1\n[bn_stat]\nweight=0.3\n[adam]\nlr=0.1\nwarmup=5\n' > "$T/pooldream.cfg"
"$DARKNET" inversion dream "$T/pooldream.cfg" "$T/old.cfg" $OW -labels "$T/old.labels" -n 40 -out "$T/oldpool" >/dev/null 2>&1
sed 's/^images=100$/images=0/' "$T/cl.cfg" > "$T/clpool.cfg"
"$DARKNET" inversion continual "$T/clpool.cfg" "$T/old.cfg" $OW "$T/new.data" -pool "$T/oldpool/dream.data" -out "$T/cp" >"$T/cp.log" 2>&1
check "-pool: continual runs on dreamed old-class images" [ -s "$T/cp/continual.weights" ]
check "-pool: its 40 images used, none synthesized" sh -c "grep -q '40 images of the old classes from' '$T/cp.log' && [ ! -s '$T/cp/pool.list' ]"
check "-pool: the old labels come from the pool's data" cmp -s "$T/cp/labels.txt" cfg/fmnist.labels
check "continual --help" sh -c '"$DARKNET" inversion continual --help | grep -q "old-labels"'
check "listed among the verbs" sh -c '"$DARKNET" inversion --help | grep -q "continual"'
summary
