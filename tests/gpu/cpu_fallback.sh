#!/bin/sh
# darknet-gpu on the CPU (CI has no GPU): with -nogpu, and with no device at
# all, dream and distill (with the competition term) give the CPU build's
# results bit for bit; -gpu is refused clearly where it cannot be honoured.
cd "$(dirname "$0")/../.." || exit 2
. tests/shlib.sh
if [ ! -x ./darknet-gpu ] || [ ! -x ./darknet ]; then
    echo "tests/gpu/cpu_fallback.sh: needs ./darknet and ./darknet-gpu (make && make GPU=1 CUDNN=1)"; exit 2
fi
T=$(mktemp -d /tmp/inv-gpu-fallback-XXXXXX)
trap 'rm -rf "$T"' EXIT
TCFG=cfg/fmnist-teacher.cfg TW=weights/fmnist-teacher.weights
has_gpu=0
command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1 && has_gpu=1

printf '[inversion]\nbatch=16\niterations=12\nimages=32\ngray=1\nlog_every=4\n[bn_stat]\nweight=0.3\n[prior]\ntv_l1=0.01\ntv_l2=0.0005\nl2=0.001\n[adam]\nwarmup=3\n[multires]\niterations=4\n' > "$T/dream.cfg"
./darknet inversion dream "$T/dream.cfg" $TCFG $TW -out "$T/cpu" >/dev/null 2>&1
check "CPU build dreams" [ -s "$T/cpu/losses.csv" ]
./darknet-gpu inversion dream "$T/dream.cfg" $TCFG $TW -out "$T/nogpu" -nogpu >/dev/null 2>&1
check "darknet-gpu -nogpu: the same losses" cmp -s "$T/cpu/losses.csv" "$T/nogpu/losses.csv"
check "darknet-gpu -nogpu: the same images" cmp -s "$T/cpu/grid.png" "$T/nogpu/grid.png"
if [ $has_gpu = 0 ]; then
    ./darknet-gpu inversion dream "$T/dream.cfg" $TCFG $TW -out "$T/auto" >/dev/null 2>"$T/auto.err"
    check "darknet-gpu without a device: the same losses" cmp -s "$T/cpu/losses.csv" "$T/auto/losses.csv"
    check "darknet-gpu without a device says so" grep -q "no CUDA device" "$T/auto.err"
    expect_fail "-gpu without a device" "-nogpu runs on the CPU" ./darknet-gpu inversion dream "$T/dream.cfg" $TCFG $TW -out "$T/x" -gpu 0
    ./build-gpu/gpu_check $TCFG $TW cfg/fmnist-student.cfg >/dev/null 2>&1
    check "gpu_check without a device: skipped (77)" [ $? -eq 77 ]
fi
expect_fail "CPU build refuses -gpu" "built without GPU support" ./darknet inversion dream "$T/dream.cfg" $TCFG $TW -out "$T/y" -gpu 0
expect_fail "-gpu needs a number" "-gpu needs a device number" ./darknet-gpu inversion dream "$T/dream.cfg" $TCFG $TW -out "$T/z" -gpu

# Distillation with ADI rounds: the frozen student copy is refreshed every round.
sed 's/^batch=128/batch=16/; s/^max_batches=.*/max_batches=12/; s/^burn_in=.*/burn_in=2/' cfg/fmnist-student.cfg > "$T/student.cfg"
printf '[inversion]\nbatch=16\niterations=8\ngray=1\n[adam]\nwarmup=2\n[distill]\nimages=16\nevery=4\nbackup_every=6\n[compete]\nweight=0.5\n' > "$T/adi.cfg"
./darknet inversion distill "$T/adi.cfg" $TCFG $TW "$T/student.cfg" -out "$T/dcpu" >/dev/null 2>&1
check "CPU build distills" [ -s "$T/dcpu/student.weights" ]
./darknet-gpu inversion distill "$T/adi.cfg" $TCFG $TW "$T/student.cfg" -out "$T/dnogpu" -nogpu >/dev/null 2>&1
check "darknet-gpu -nogpu distill: the same log" cmp -s "$T/dcpu/distill.csv" "$T/dnogpu/distill.csv"
check "darknet-gpu -nogpu distill: the same student" cmp -s "$T/dcpu/student.weights" "$T/dnogpu/student.weights"

# A student with each layer type Darknet trains: the GPU library allocated
# device memory unguarded in most layers' make_* and aborted without a device
# (gpu/patches/0005). With every weightless type (crop, activation, maxpool,
# shortcut, upsample, reorg, route, normalization, l2norm, avgpool, dropout,
# softmax, cost) distillation runs through and must match the CPU build.
# Without [compete]: the competition term would load the student as a frozen
# network, which accepts fewer types.
printf '[inversion]\nbatch=16\niterations=4\ngray=1\n[adam]\nwarmup=2\n[distill]\nimages=16\nbackup_every=6\n' > "$T/plain.cfg"
./darknet inversion distill "$T/plain.cfg" $TCFG $TW tests/gpu/student-all-layers.cfg -out "$T/acpu" >/dev/null 2>&1
check "CPU build distills the all-layers student" [ -s "$T/acpu/student.weights" ]
for how in -nogpu auto; do
    [ $how = auto ] && [ $has_gpu = 1 ] && continue
    flag=$how; [ $how = auto ] && flag=
    ./darknet-gpu inversion distill "$T/plain.cfg" $TCFG $TW tests/gpu/student-all-layers.cfg -out "$T/a$how" $flag >/dev/null 2>&1
    check "darknet-gpu $how, all-layers student: the same log" cmp -s "$T/acpu/distill.csv" "$T/a$how/distill.csv"
    check "darknet-gpu $how, all-layers student: the same student" cmp -s "$T/acpu/student.weights" "$T/a$how/student.weights"
done
# Types with weights of their own, one per student: whatever the CPU build
# does with them (train, or stop with an error), darknet-gpu does the same.
for kind in batchnorm local deconvolutional rnn gru lstm crnn; do
    case $kind in
    batchnorm) body='[batchnorm]' ;;
    local) body='[local]\nsize=3\nstride=1\npad=1\nfilters=2\nactivation=leaky' ;;
    deconvolutional) body='[deconvolutional]\nfilters=2\nsize=2\nstride=2\nactivation=leaky' ;;
    crnn) body='[crnn]\noutput_filters=2\nhidden_filters=2' ;;
    *) body="[$kind]\noutput=8" ;;
    esac
    printf "[net]\nbatch=16\nwidth=28\nheight=28\nchannels=3\nlearning_rate=0.01\nmomentum=0.9\nmax_batches=4\n[convolutional]\nfilters=4\nsize=3\nstride=2\npad=1\nactivation=leaky\n$body\n[connected]\noutput=10\nactivation=linear\n[softmax]\n" > "$T/s-$kind.cfg"
    ./darknet inversion distill "$T/plain.cfg" $TCFG $TW "$T/s-$kind.cfg" -out "$T/k-cpu-$kind" >"$T/k-cpu-$kind.out" 2>&1
    rc_cpu=$?
    flag=-nogpu; [ $has_gpu = 0 ] && flag=
    ./darknet-gpu inversion distill "$T/plain.cfg" $TCFG $TW "$T/s-$kind.cfg" -out "$T/k-gpu-$kind" $flag >"$T/k-gpu-$kind.out" 2>&1
    rc_gpu=$?
    check "[$kind] student: darknet-gpu exits as the CPU build ($rc_cpu)" [ $rc_gpu = $rc_cpu ]
    check "[$kind] student: darknet-gpu's last line is the CPU build's" \
        [ "$(tail -1 "$T/k-cpu-$kind.out" | sed "s/k-cpu-$kind/X/g; s/[.]tmp[.][0-9]*//")" = "$(tail -1 "$T/k-gpu-$kind.out" | sed "s/k-gpu-$kind/X/g; s/[.]tmp[.][0-9]*//")" ]
    if [ -s "$T/k-cpu-$kind/distill.csv" ]; then
        check "[$kind] student: the same log" cmp -s "$T/k-cpu-$kind/distill.csv" "$T/k-gpu-$kind/distill.csv"
    fi
done
summary
