#!/bin/sh
# The GPU build against the CPU one, on a machine with an NVIDIA GPU (`make
# gpu-test`, or sh tests/gpu/run.sh; about 2-5 minutes):
#   0. builds darknet-gpu and build-gpu/gpu_check for this machine's GPU alone
#      (CUDA_ARCH=native) when they are not there yet;
#   1. gpu_check -quick under compute-sanitizer (memcheck, then racecheck;
#      GPU_SANITIZE_TOOLS chooses) with CUDA_LAUNCH_BLOCKING=1: an invalid
#      access, a shared-memory race or an unchecked launch error fails here,
#      where it is reported at the kernel that made it;
#   2. gpu_check: every launcher against its CPU twin element by element, each
#      loss term, the logits, per-layer R_feature statistics and the input
#      gradient, GPU against CPU on the same inputs, on the shipped teacher and
#      small networks covering every supported layer, with the competition
#      term; a short synth_batch on both; image-iterations per second of each;
#   3. a short dream on the GPU: image-iterations per second of the whole verb;
#   4. tests/test_distill.sh with DARKNET=./darknet-gpu: distillation with the
#      teacher on the GPU raises the student's agreement, and a killed run
#      resumes to exactly the uninterrupted result.
# TF32 is disabled for the comparisons (cuDNN would otherwise use it for FP32
# convolutions on Ampere and newer, ~1e-3 relative error by itself) and left to
# the default for the speed of the dream.
# Without a GPU it says so and exits 77 (skipped).
cd "$(dirname "$0")/../.." || exit 2
if ! command -v nvidia-smi >/dev/null 2>&1 || ! nvidia-smi -L >/dev/null 2>&1; then
    echo "tests/gpu/run.sh: no NVIDIA GPU here (nvidia-smi finds none): nothing tested"
    exit 77
fi
nvidia-smi -L
failed=0
start=$(date +%s)
TCFG=cfg/fmnist-teacher.cfg TW=weights/fmnist-teacher.weights SCFG=cfg/fmnist-student.cfg

if [ ! -x darknet-gpu ] || [ ! -x build-gpu/gpu_check ]; then
    echo "== building for this GPU (make GPU=1 CUDNN=1 CUDA_ARCH=native gpu)"
    log=$(mktemp /tmp/gpu-build-XXXXXX.log)
    if ! timeout 300 make GPU=1 CUDNN=1 CUDA_ARCH=native CUDA_PTX= -j"$(nproc)" gpu >"$log" 2>&1; then
        tail -30 "$log"; echo "tests/gpu/run.sh: the GPU build failed (log $log)"; exit 1
    fi
    echo "  built in $(( $(date +%s) - start )) s"
fi

SAN=${COMPUTE_SANITIZER:-$(command -v compute-sanitizer || echo "${CUDA_HOME:-/usr/local/cuda}/bin/compute-sanitizer")}
steps=3
if [ -x "$SAN" ]; then
    for tool in ${GPU_SANITIZE_TOOLS:-memcheck racecheck}; do
        steps=$((steps + 1))
        echo "== gpu_check -quick under compute-sanitizer --tool $tool"
        log=$(mktemp /tmp/gpu-sanitize-XXXXXX.log)
        CUDA_LAUNCH_BLOCKING=1 NVIDIA_TF32_OVERRIDE=0 timeout 400 "$SAN" --tool "$tool" --error-exitcode 86 --print-limit 20 \
            ./build-gpu/gpu_check $TCFG $TW $SCFG -quick >"$log" 2>&1
        rc=$?
        if [ $rc -eq 0 ]; then
            grep -E "ERROR SUMMARY|passed" "$log" | tail -2 | sed 's/^/  /'
        else
            # 86: the sanitizer found errors; 124: timed out; else gpu_check failed.
            tail -40 "$log"; echo "FAIL gpu_check under compute-sanitizer --tool $tool (exit $rc, log $log)"; failed=$((failed + 1))
        fi
    done
else
    echo "== compute-sanitizer: not found ($SAN; set COMPUTE_SANITIZER): NOT RUN"
    steps=$((steps + 1)) skipped=1
fi

echo "== gpu_check: GPU against CPU"
NVIDIA_TF32_OVERRIDE=0 timeout 240 ./build-gpu/gpu_check $TCFG $TW $SCFG -batch 256 -iters 200 || failed=$((failed + 1))

echo "== a 1x1 convolution with stride 2 is refused on the GPU"
T1=$(mktemp -d /tmp/gpu-1x1-XXXXXX)
printf '[net]\nwidth=28\nheight=28\nchannels=3\n[convolutional]\nfilters=4\nsize=1\nstride=2\nactivation=linear\n[connected]\noutput=10\nactivation=linear\n[softmax]\n' > "$T1/t.cfg"
# Weights 0.2.0, seen 0, then 16 + 7850 zero floats.
{ printf '\000\000\000\000\002\000\000\000\000\000\000\000'; head -c $((8 + 4 * (16 + 7850))) /dev/zero; } > "$T1/t.weights"
printf '[inversion]\nbatch=4\niterations=2\nimages=4\n' > "$T1/d.cfg"
steps=$((steps + 1))
if ./darknet-gpu inversion dream "$T1/d.cfg" "$T1/t.cfg" "$T1/t.weights" -out "$T1/out" >"$T1/log" 2>&1; then
    echo "FAIL: darknet-gpu accepted a 1x1 convolution with stride 2 on the GPU"; failed=$((failed + 1))
elif grep -q "1x1 convolution with stride 2" "$T1/log"; then
    echo "  refused: $(grep -o 'layer 0: a 1x1 convolution[^(]*' "$T1/log")"
else
    tail -5 "$T1/log"; echo "FAIL: darknet-gpu failed otherwise on a 1x1 convolution with stride 2"; failed=$((failed + 1))
fi
rm -rf "$T1"

echo "== dream on the GPU"
T=$(mktemp -d /tmp/gpu-test-XXXXXX)
trap 'rm -rf "$T"' EXIT
sed 's/^images=.*/images=500/' cfg/fmnist-inversion.cfg > "$T/inv.cfg"
iters=$(sed -n 's/^iterations=//p' "$T/inv.cfg" | head -1)
t0=$(date +%s.%N)
if timeout 180 ./darknet-gpu inversion dream "$T/inv.cfg" $TCFG $TW -labels cfg/fmnist.labels -out "$T/dream" >"$T/dream.log" 2>&1 \
   && [ "$(wc -l < "$T/dream/train.list")" = 500 ]; then
    secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{print b - a}')
    echo "  500 images x $iters iterations in $secs s: $(awk -v s="$secs" -v i="$iters" 'BEGIN{printf "%.0f", 500 * i / s}') image-iterations/s (whole verb, PNGs included)"
    tail -2 "$T/dream.log" | sed 's/^/  /'
else
    tail -20 "$T/dream.log"; echo "FAIL dream on the GPU"; failed=$((failed + 1))
fi

echo "== distill with the teacher on the GPU (tests/test_distill.sh)"
out=$(DARKNET=./darknet-gpu timeout 300 sh tests/test_distill.sh 2>&1); rc=$?
printf '%s\n' "$out" | grep -E '^(FAIL|ok|not ok|  )|passed' | head -30
[ $rc -eq 0 ] || failed=$((failed + 1))

echo "tests/gpu/run.sh: $(( $(date +%s) - start )) s"
echo "gpu: $((steps - ${skipped:-0} - failed)) passed, $failed failed${skipped:+, $skipped skipped}"
[ $failed -eq 0 ]
