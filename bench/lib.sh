# Sourced by the bench scripts (from the project root): the inversion cfgs
# their rows derive from a shipped one, the CIFAR-10 inputs, reading top-1
# figures, and CPU-time accounting.

# Train only on a given pool (-pool): no synthesis, none up front, none later.
pool_only_cfg() { sed 's/^images=.*/images=0/; s/^every=.*/every=0/' "$1"; }

# valid_top1 DATA CFG WEIGHTS [valid's options]: the top-1 `valid` prints, as a number.
valid_top1() { ./darknet inversion valid "$@" 2>/dev/null | sed -n 's/^top-1 \([0-9.]*\)%.*/\1/p'; }

# calibration_args SOURCE SET: calibrate's options for a source of
# bench/int8_table.sh (real, deepinversion, zeroq, gaussian, uniform).
calibration_args() {
    case $1 in
        real) echo "-images data/$2/train.list" ;;
        deepinversion | zeroq) echo "-method $1" ;;
        *) echo "-noise $1" ;;
    esac
}

# Random noise: the starting pixels (one iteration at learning rate 0).
noise_cfg() { sed 's/^lr=.*/lr=0/; /^\[inversion\]/,/^\[/{s/^iterations=.*/iterations=1/}' "$1"; }

# DeepDream: the BN-statistic term off ([bn_stat] weight=0).
deepdream_cfg() { sed 's/^\[bn_stat\]$/[bn_stat]\nweight=0/; /^\[bn_stat\]/,/^\[/{/^weight=[0-9.]*$/d}' "$1"; }

# cifar10_inputs PATH: builds darknet, imports CIFAR-10 from PATH and trains
# the teacher unless done, and sets T (the teacher's cfg and weights), DATA and L.
cifar10_inputs() {
    make -s darknet
    [ -s data/cifar10/cifar10.data ] || make -s data/cifar10/cifar10.data CIFAR10="$1"
    [ -s weights/cifar10-teacher.weights ] || make -s cifar-teacher CIFAR10="$1"
    T="cfg/cifar10-teacher.cfg weights/cifar10-teacher.weights"
    DATA=data/cifar10/cifar10.data
    L=cfg/cifar10.labels
}

# evaluations LOG: "batch top1" for every periodic evaluation a distill log
# holds (not the final one distill prints on standard output).
evaluations() { sed -n 's/^distill: batch \([0-9]*\)  student top-1 \([0-9.]*\)%.*/\1 \2/p' "$1"; }

# cpu TAG COMMAND...: runs it (output appended to $O/TAG.log; the script
# exits on failure) and adds its CPU seconds (user + system) to $O/cpu.TAG.
cpu() {
    tag=$1; shift
    /usr/bin/time -f "%U %S" -o "$O/time.$tag" "$@" >>"$O/$tag.log" 2>&1 || { echo "$tag failed:"; tail -5 "$O/$tag.log"; exit 1; }
    awk '{print $1 + $2}' "$O/time.$tag" >> "$O/cpu.$tag"
}

# race TAG ICFG [ARGS]: (time_to_student.sh, cifar10_fast_time.sh; uses O, T, S,
# L, DATA, TARGET, VALID, TICK) distills until the first top-1 >= TARGET (or the end);
# $O/TAG.curve gets "batch top1 cpu_s" per evaluation, $O/TAG.result the
# first line at or above the target ("-" when never reached).
race() {
    tag=$1
    sed "s/^valid_every=.*/valid_every=$VALID/" "$2" > "$O/$tag.cfg"
    rm -rf "$O/$tag" "$O/$tag.curve" "$O/$tag.result"
    : > "$O/$tag.curve"
    shift 2
    ./darknet inversion distill "$O/$tag.cfg" $T $S -out "$O/$tag" -labels $L -valid $DATA -seed 1 "$@" >/dev/null 2>"$O/$tag.log" &
    pid=$!
    seen=0 cpu=0
    while kill -0 $pid 2>/dev/null; do
        cpu=$(awk -v t="$TICK" '{print ($14 + $15) / t}' /proc/$pid/stat 2>/dev/null || echo "$cpu")
        n=$(evaluations "$O/$tag.log" | wc -l)
        if [ "$n" -gt "$seen" ]; then
            evaluations "$O/$tag.log" | sed -n "$((seen + 1)),${n}p" |
                while read -r b t; do echo "$b $t $cpu" >> "$O/$tag.curve"; done
            seen=$n
            if awk -v g="$TARGET" '$2 >= g {f = 1} END {exit !f}' "$O/$tag.curve"; then
                kill $pid 2>/dev/null || true
                break
            fi
        fi
        sleep 0.2
    done
    wait $pid 2>/dev/null || true
    awk -v g="$TARGET" '$2 >= g {print; f = 1; exit} END {if (!f) print "-"}' "$O/$tag.curve" > "$O/$tag.result"
}
