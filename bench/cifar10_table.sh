#!/bin/sh
# The paper's Table 1 on CIFAR-10, for cfg/cifar10-teacher.cfg ->
# cfg/cifar10-student.cfg, on the 10,000 real test images: the student trained
# on real data (the ceiling), KD on real data, and data-free KD on random
# noise, DeepDream images (BN-statistic term off), DeepInversion images,
# Adaptive DeepInversion and fast mode (cfg/cifar10-fast.cfg: a generator that
# learns to dream), each row with its synthetic images and CPU seconds
# (synthesis included). Then the agreement table: images dreamed from the
# teacher (DeepInversion vs DeepDream) classified by the teacher and by an
# independently trained network of another architecture (cfg/cifar10-vgg.cfg).
#
# Rows run in two lanes, one core each; networks missing from weights/ are
# trained in the second lane (make cifar-student-real, cifar-vgg). The KD rows
# train the student for KD_BATCHES batches of 128 (default 1000: the student's
# own 4500 would take about an hour per row here); Adaptive DeepInversion
# spreads its synthesis over that schedule. About two hours on two cores.
# Rows are kept in out/bench-cifar10/: a rerun skips the finished ones and
# continues an interrupted one from its backup (FRESH=1 starts over); each
# table is printed once its rows are done.
# Usage: sh bench/cifar10_table.sh CIFAR10=<cifar10 folder, .tar.gz or binary version>
#        [KD_BATCHES=1000] [ROWS="student-real vgg di adi noise deepdream kdreal fast"] [FRESH=1]
#        (the fast row is printed once run; the others are needed for the tables)
set -eu
cd "$(dirname "$0")/.."
. bench/lib.sh
CIFAR10=; KD_BATCHES=1000; ROWS="student-real vgg di adi noise deepdream kdreal fast"; FRESH=0
for a in "$@"; do
    case $a in
        CIFAR10=*) CIFAR10=${a#*=} ;;
        KD_BATCHES=*) KD_BATCHES=${a#*=} ;;
        ROWS=*) ROWS=${a#*=} ;;
        FRESH=*) FRESH=${a#*=} ;;
        *) echo "unknown argument: $a" >&2; exit 2 ;;
    esac
done
cifar10_inputs "$CIFAR10"
O=out/bench-cifar10
[ "$FRESH" = 1 ] && rm -rf "$O"
mkdir -p "$O"
V="cfg/cifar10-vgg.cfg weights/cifar10-vgg.weights"
S=$O/student.cfg
N=$(sed -n 's/^images=//p' cfg/cifar10-distill.cfg | head -1)
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1   # one core per lane

# The KD rows' student: cfg/cifar10-student.cfg on KD_BATCHES batches.
sed "s/^max_batches=.*/max_batches=$KD_BATCHES/" cfg/cifar10-student.cfg > "$S"
# Train only on a given pool: no synthesis.
pool_only_cfg cfg/cifar10-distill.cfg > "$O/pool-only.cfg"
# Adaptive DeepInversion: the batches after the up-front ones spread evenly
# over the KD schedule.
every=$(awk -F= -v kd="$KD_BATCHES" '/^\[/ {s = $0}
    s == "[inversion]" && $1 == "batch" {b = $2}
    s == "[distill]" && $1 == "images" {i = $2}
    s == "[distill]" && $1 == "max_images" {m = $2}
    END {print int(kd / ((m - i) / b + 1))}' cfg/cifar10-adi.cfg)
sed "s/^every=.*/every=$every/" cfg/cifar10-adi.cfg > "$O/adi.cfg"
# Random noise: the starting pixels (one iteration at learning rate 0).
noise_cfg cfg/cifar10-inversion.cfg > "$O/noise.cfg"
# DeepDream: the BN-statistic term off.
deepdream_cfg cfg/cifar10-inversion.cfg > "$O/deepdream.cfg"
grep -A1 '^\[bn_stat\]' "$O/deepdream.cfg" | grep -q 'weight=0' || { echo "could not switch the BN term off" >&2; exit 1; }

row_student_real() { [ -s weights/cifar10-student-real.weights ] || make -s cifar-student-real CIFAR10="$CIFAR10" >"$O/student-real.log" 2>&1; }
row_vgg() { [ -s weights/cifar10-vgg.weights ] || make -s cifar-vgg CIFAR10="$CIFAR10" >"$O/vgg.log" 2>&1; }
row_di() { cpu di ./darknet inversion distill cfg/cifar10-distill.cfg $T $S -out "$O/kd-di" -labels $L -seed 1; }
row_adi() { cpu adi ./darknet inversion distill "$O/adi.cfg" $T $S -out "$O/kd-adi" -labels $L -seed 1; }
row_noise() {
    cpu noise ./darknet inversion dream "$O/noise.cfg" $T -labels $L -out "$O/noise-images" -n "$N"
    cpu noise ./darknet inversion distill "$O/pool-only.cfg" $T $S -out "$O/kd-noise" -pool "$O/noise-images/dream.data" -seed 1
}
row_deepdream() {
    cpu deepdream ./darknet inversion dream "$O/deepdream.cfg" $T -labels $L -out "$O/deepdream-images" -n "$N"
    cpu deepdream ./darknet inversion distill "$O/pool-only.cfg" $T $S -out "$O/kd-deepdream" -pool "$O/deepdream-images/dream.data" -seed 1
}
row_fast() { cpu fast ./darknet inversion distill cfg/cifar10-fast.cfg $T $S -out "$O/kd-fast" -labels $L -seed 1; }
row_kdreal() { cpu kdreal ./darknet inversion distill "$O/pool-only.cfg" $T $S -out "$O/kd-real" -pool $DATA -seed 1; }

# Each wanted row of a lane that has not finished yet; done.ROW marks a finished one.
lane() {
    for r in "$@"; do
        case " $ROWS " in *" $r "*) ;; *) continue ;; esac
        [ -e "$O/done.$r" ] && continue
        echo "row $r: started $(date +%H:%M)"
        "row_$(echo "$r" | tr - _)"
        touch "$O/done.$r"
        echo "row $r: done $(date +%H:%M)"
    done
}
lane di adi noise & p1=$!
lane student-real kdreal deepdream vgg fast & p2=$!
wait $p1 && wait $p2

# Each table once its rows are done.
missing() { m=; for r in "$@"; do [ -e "$O/done.$r" ] || m="$m $r"; done; echo "$m"; }
m=$(missing student-real di adi noise deepdream kdreal)
[ -z "$m" ] || { echo "Table 1: rows not run yet:$m (rerun with them in ROWS=)"; exit 0; }

row() {  # name, synthetic images, tag, weights
    printf '| %-30s | %6s | %6s | %6.0f |\n' "$1" "$2" "$(valid_top1 $DATA $S "$4")" "$(awk '{s += $1} END {print s}' "$O/cpu.$3")"
}
teacher=$(valid_top1 $DATA $T)
NADI=$(wc -l < "$O/kd-adi/pool.list")
echo "| student trained on | synthetic images | top-1 % | CPU s |"
echo "|---|---|---|---|"
printf '| %-30s | %6s | %6s | %6s |\n' "real data (ceiling)" 0 "$(valid_top1 $DATA cfg/cifar10-student.cfg weights/cifar10-student-real.weights)" "-"
row "KD, real data" 0 kdreal "$O/kd-real/student.weights"
row "KD, random noise" "$N" noise "$O/kd-noise/student.weights"
row "KD, DeepDream (bn_stat off)" "$N" deepdream "$O/kd-deepdream/student.weights"
row "KD, DeepInversion" "$N" di "$O/kd-di/student.weights"
row "KD, Adaptive DeepInversion" "$NADI" adi "$O/kd-adi/student.weights"
[ -e "$O/done.fast" ] && row "KD, fast mode (generator)" "$(wc -l < "$O/kd-fast/pool.list")" fast "$O/kd-fast/student.weights"
echo "teacher: $teacher% top-1; KD rows: $KD_BATCHES student batches of 128; real data (ceiling): cfg/cifar10-student.cfg's schedule"
echo
m=$(missing vgg)
[ -z "$m" ] || { echo "agreement table: rows not run yet:$m (rerun with them in ROWS=)"; exit 0; }
echo "second network (cfg/cifar10-vgg.cfg): $(valid_top1 $DATA $V)% top-1"
# Agreement: the synthetic images above (named by their target class),
# judged by the teacher and by the second network.
echo "| teacher's images | n | teacher top-1 | vgg top-1 |"
echo "|---|---|---|---|"
for p in "DeepInversion:$O/kd-di/pool.list" "DeepDream (bn_stat off):$O/deepdream-images/train.list"; do
    list=${p#*:}
    printf '| %-24s | %5s | %6s%% | %6s%% |\n' "${p%%:*}" "$(wc -l < "$list")" \
        "$(valid_top1 $DATA $T -list "$list")" "$(valid_top1 $DATA $V -list "$list")"
done
