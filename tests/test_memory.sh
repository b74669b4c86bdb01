#!/bin/sh
# The memory check before work: a dream that cannot fit is refused with the
# figures before anything is created; one that fits prints its memory line.
. tests/shlib.sh
scratch_dir memory
cc -O2 -I/usr/lib/darknet/include -o "$T/random_weights" tests/random_weights.c -L/usr/lib/darknet -ldarknet -Wl,-rpath,/usr/lib/darknet -lm
CFG=/usr/share/darknet/cfg/darknet19_448.cfg
"$T/random_weights" $CFG "$T/d19.weights" >/dev/null 2>&1
printf '[inversion]\nbatch=1024\niterations=1\n' > "$T/big.cfg"
printf '[inversion]\nbatch=2\niterations=1\nlog_every=1\n[bn_stat]\nweight=0.01\n[adam]\nwarmup=0\n' > "$T/small.cfg"

# darknet19_448 at batch 1024: hundreds of GiB, refused naming the inversion cfg, with the figure.
expect_fail big-batch "big.cfg: at batch 1024 this run needs about" \
    $DARKNET inversion dream "$T/big.cfg" $CFG "$T/d19.weights" -out "$T/big"
check big-batch-nothing-created test ! -e "$T/big"
# With little memory available, the largest batch that fits is named.
expect_fail advice "[inversion] batch=" env INV_MEMORY_AVAILABLE=300M \
    $DARKNET inversion dream "$T/big.cfg" cfg/fmnist-teacher.cfg weights/fmnist-teacher.weights -out "$T/adv"
expect_fail too-small "but 100 MiB is available" env INV_MEMORY_AVAILABLE=100M \
    $DARKNET inversion dream "$T/small.cfg" $CFG "$T/d19.weights" -out "$T/small"
check too-small-nothing-created test ! -e "$T/small"
expect_fail bad-size "INV_MEMORY_AVAILABLE=lots: not a size" env INV_MEMORY_AVAILABLE=lots \
    $DARKNET inversion dream "$T/small.cfg" cfg/fmnist-teacher.cfg weights/fmnist-teacher.weights -out "$T/bad"

# A small run that fits says how much it needs.
err=$($DARKNET inversion dream "$T/small.cfg" cfg/fmnist-teacher.cfg weights/fmnist-teacher.weights -out "$T/fits" 2>&1 >/dev/null)
check fits-line sh -c 'printf "%s" "$1" | grep -q "^memory: about .* at batch 2 (teacher .*, synthesis .*available)"' - "$err"
check fits-output test -f "$T/fits/dream.data"
check help-documents $DARKNET inversion dream --help | grep -q INV_MEMORY_AVAILABLE
summary
