#!/bin/sh
# Class-incremental learning on Fashion-MNIST without the old data: the old
# network knows classes 0-4 (tee, trouser, pullover, dress, coat;
# cfg/fmnist-old5.cfg, weights/fmnist-old5.weights), the new data holds
# classes 5-9 (sandal, shirt, sneaker, bag, boot) only. Top-1 on the ten-class
# test set (10,000 images), old and new classes separately, for
#   fine-tuning   CE on the new data only (syn_weight=0, kd_weight=0)
#   LwF           + KL to the old network's old-class outputs on the new data (syn_weight=0)
#   DeepInversion + KL to the old network on its DeepInversion images (all three terms)
#   joint         `train` on all real data with the widened cfg (the ceiling)
# The three continual rows train the widened network with one [net] schedule:
# cfg/fmnist-old5.cfg with CL_LR and CL_BATCHES (below), 128 images a batch;
# joint training starts from scratch with the old network's own schedule.
# The two lanes run one per core. Usage: sh bench/continual_table.sh
#   (results in out/bench-continual/; CL_BATCHES=300 CL_LR=0.005 by default)
set -eu
cd "$(dirname "$0")/.."
make -s darknet
[ -s data/fmnist/fmnist.data ] || make -s data/fmnist/fmnist.data   # never re-import a dataset in use
O=out/bench-continual
mkdir -p "$O"
CL_BATCHES=${CL_BATCHES:-300} CL_LR=${CL_LR:-0.005}
export OPENBLAS_NUM_THREADS=1
L=cfg/fmnist.labels
OLD='tee|trouser|pullover|dress|coat' NEW='sandal|shirt|sneaker|bag|boot'

# The splits, by the label in each image's name.
for s in train test; do
    grep -E "_($OLD)\.png\$" data/fmnist/$s.list > "$O/old-$s.list"
    grep -E "_($NEW)\.png\$" data/fmnist/$s.list > "$O/new-$s.list"
done
head -5 $L > "$O/old.labels"; tail -5 $L > "$O/new.labels"
printf 'classes=5\ntrain=%s\nvalid=%s\nlabels=%s\n' "$O/old-train.list" "$O/old-test.list" "$O/old.labels" > "$O/old.data"
printf 'classes=5\ntrain=%s\nvalid=%s\nlabels=%s\n' "$O/new-train.list" "$O/new-test.list" "$O/new.labels" > "$O/new.data"

# The old network (shipped; retrained here only if missing).
[ -s weights/fmnist-old5.weights ] ||
    ./darknet inversion train "$O/old.data" cfg/fmnist-old5.cfg -out weights/fmnist-old5.weights -pad 0 -seed 1 >"$O/old5.log" 2>&1

# The continual runs' [net] schedule and the rows' inversion cfgs.
sed "s/^max_batches=.*/max_batches=$CL_BATCHES/; s/^learning_rate=.*/learning_rate=$CL_LR/" cfg/fmnist-old5.cfg > "$O/old5-cl.cfg"
sed 's/^syn_weight=.*/syn_weight=0/; s/^kd_weight=.*/kd_weight=0/; s/^synthetic=.*/synthetic=0/; s/^images=.*/images=0/' \
    cfg/fmnist-continual-di.cfg > "$O/finetune.cfg"
sed 's/^syn_weight=.*/syn_weight=0/; s/^synthetic=.*/synthetic=0/; s/^images=.*/images=0/' cfg/fmnist-continual-di.cfg > "$O/lwf.cfg"

run() {  # tag, inversion cfg
    /usr/bin/time -f "%U %S" -o "$O/time.$1" ./darknet inversion continual "$2" "$O/old5-cl.cfg" weights/fmnist-old5.weights \
        "$O/new.data" -old-labels "$O/old.labels" -out "$O/$1" -seed 1 >"$O/$1.log" 2>&1 || { echo "$1 failed:"; tail -5 "$O/$1.log"; exit 1; }
}
lane1() {
    run di cfg/fmnist-continual-di.cfg
}
lane2() {
    run finetune "$O/finetune.cfg"
    run lwf "$O/lwf.cfg"
    # Joint training: the widened cfg on all of Fashion-MNIST, from scratch with
    # the old network's own schedule (cfg/fmnist-old5.cfg: lr 0.1, 1000 batches).
    sed "s/^max_batches=.*/$(grep '^max_batches=' cfg/fmnist-old5.cfg)/; s/^learning_rate=.*/$(grep '^learning_rate=' cfg/fmnist-old5.cfg)/" \
        "$O/finetune/continual.cfg" > "$O/joint.cfg"
    /usr/bin/time -f "%U %S" -o "$O/time.joint" ./darknet inversion train data/fmnist/fmnist.data "$O/joint.cfg" \
        -out "$O/joint.weights" -pad 0 -seed 1 >"$O/joint.log" 2>&1
}
lane1 & p1=$!
lane2 & p2=$!
wait $p1 && wait $p2

# Top-1 on the ten-class test set: all, old classes, new classes.
acc() {  # cfg weights data
    ./darknet inversion valid "$3" "$1" "$2" 2>/dev/null | awk '
        /^top-1/ { sub("%", "", $2); all = $2 }
        /^ +[0-9]+ / { split($4, f, "[(/)]"); c[$1 < 5] += f[2]; n[$1 < 5] += f[3] }
        END { printf "%6.2f | %6.2f | %6.2f", all, 100 * c[1] / n[1], 100 * c[0] / n[0] }'
}
cpu() { awk '{printf "%.0f", $1 + $2}' "$O/time.$1"; }
printf 'classes=10\nvalid=data/fmnist/test.list\nlabels=%s\n' "$L" > "$O/all.data"
oldteacher=$(./darknet inversion valid "$O/old.data" cfg/fmnist-old5.cfg weights/fmnist-old5.weights 2>/dev/null | sed -n 's/^top-1 \([0-9.]*\)%.*/\1/p')
W="$O/finetune/continual.cfg"
echo "old network (5 classes) on the old classes' test images: $oldteacher%"
echo
echo "| method | all ten | old (0-4) | new (5-9) | CPU s |"
echo "|---|---|---|---|---|"
echo "| fine-tuning (CE on new data) | $(acc "$W" "$O/finetune/continual.weights" "$O/all.data") | $(cpu finetune) |"
echo "| LwF (CE + KD on new data) | $(acc "$W" "$O/lwf/continual.weights" "$O/all.data") | $(cpu lwf) |"
echo "| DeepInversion (CE + KD + KL on synthesized old classes) | $(acc "$W" "$O/di/continual.weights" "$O/all.data") | $(cpu di) |"
echo "| joint training on all real data (ceiling) | $(acc "$W" "$O/joint.weights" "$O/all.data") | $(cpu joint) |"
