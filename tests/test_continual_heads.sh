#!/bin/sh
# continual end to end on one small network of each head shape in Darknet's
# classifier zoo (random weights, a few batches): a 1x1 [convolutional] then
# [avgpool] (darknet19, tiny), [avgpool] then a 1x1 [convolutional] (resnet),
# a [connected] (alexnet, vgg-16). Each run exits 0 and writes a
# continual.cfg with the head widened that Darknet parses and whose weights
# load (valid reads them). Heads it cannot widen are refused with the line.
cd "$(dirname "$0")/.." || exit 2
. tests/shlib.sh
scratch_dir continual-heads

${CC:-cc} -O1 -I/usr/lib/darknet/include -o "$T/random_weights" tests/random_weights.c \
    -L/usr/lib/darknet -ldarknet -Wl,-rpath,/usr/lib/darknet -lm
check "random_weights builds" [ -x "$T/random_weights" ]

NET='[net]\nbatch=4\nwidth=16\nheight=16\nchannels=3\nlearning_rate=0.01\nmomentum=0.9\ndecay=0.0005\nmax_batches=3\npolicy=constant\n'
CONV='[convolutional]\nbatch_normalize=1\nfilters=8\nsize=3\nstride=1\npad=1\nactivation=leaky\n'
printf "$NET$CONV"'[convolutional]\nfilters=3\nsize=1\nstride=1\npad=1\nactivation=linear\n[avgpool]\n[softmax]\ngroups=1\n[cost]\ntype=sse\n' > "$T/conv_avg.cfg"
printf "$NET$CONV$CONV"'[shortcut]\nfrom=-2\nactivation=leaky\n[avgpool]\n[convolutional]\nfilters=3\nsize=1\nstride=1\npad=1\nactivation=linear\n[softmax]\ngroups=1\n' > "$T/avg_conv.cfg"
printf "$NET$CONV"'[maxpool]\nsize=4\nstride=4\n[dropout]\nprobability=.5\n[connected]\noutput=3\nactivation=linear\n[softmax]\ngroups=1\n' > "$T/connected.cfg"

# Two new classes of noise images; validation: images of all five labels.
mkdir "$T/img"
for c in apple pear class_00 class_01 class_02; do
    for i in 1 2 3; do
        { printf 'P6\n16 16\n255\n'; head -c 768 /dev/urandom; } > "$T/img/${i}_$c.ppm"
    done
done
ls "$T"/img/*_apple.ppm "$T"/img/*_pear.ppm > "$T/train.list"
ls "$T"/img/*.ppm > "$T/valid.list"
printf 'apple\npear\n' > "$T/new.labels"
printf 'class_00\nclass_01\nclass_02\napple\npear\n' > "$T/all.labels"
printf 'classes=2\ntrain=%s\nlabels=%s\n' "$T/train.list" "$T/new.labels" > "$T/new.data"
printf 'classes=5\nvalid=%s\nlabels=%s\n' "$T/valid.list" "$T/all.labels" > "$T/all.data"
printf '[inversion]\nbatch=2\niterations=3\n[bn_stat]\nweight=0.01\n[adam]\nwarmup=0\n[continual]\nimages=2\nsynthetic=0.5\n' > "$T/cl.cfg"

for head in conv_avg:filters avg_conv:filters connected:output; do
    net=${head%%:*} key=${head#*:}
    "$T/random_weights" "$T/$net.cfg" "$T/$net.weights" 2>/dev/null
    "$DARKNET" inversion continual "$T/cl.cfg" "$T/$net.cfg" "$T/$net.weights" "$T/new.data" -valid "$T/all.data" \
        -out "$T/$net" >"$T/$net.log" 2>&1
    rc=$?
    check "$net: continual exits 0" [ $rc -eq 0 ]
    [ $rc -eq 0 ] || tail -3 "$T/$net.log"
    check "$net: head widened to $key=5" [ "$(grep -A1 '^# widened by' "$T/$net/continual.cfg" | tail -1)" = "$key=5" ]
    check "$net: every other line kept" sh -c "grep -v '^# widened by' '$T/$net/continual.cfg' | diff - '$T/$net.cfg' | grep -c '^[<>]' | grep -qx 2"
    "$DARKNET" inversion valid "$T/$net/continual.data" "$T/$net/continual.cfg" "$T/$net/continual.weights" >"$T/$net.valid" 2>&1
    check "$net: Darknet parses continual.cfg and loads its weights" grep -q 'top-1' "$T/$net.valid"
done

bad() {  # name, expected message, cfg
    rm -rf "$T/out"
    "$T/random_weights" "$3" "$T/bad.weights" 2>/dev/null
    expect_fail "$1" "$2" "$DARKNET" inversion continual "$T/cl.cfg" "$3" "$T/bad.weights" "$T/new.data" -out "$T/out"
    check "$1: nothing written" [ ! -e "$T/out" ]
}
printf "$NET$CONV"'[convolutional]\nfilters=3\nsize=1\nactivation=linear\n[softmax]\n' > "$T/spatial.cfg"
bad "spatial head" "$T/spatial.cfg:18: no classifier head it can extend: the [convolutional] head has filters=3 but the [softmax] at line 22 reads 768 values" "$T/spatial.cfg"
printf "$NET$CONV"'[convolutional]\nfilters=4\nsize=1\ngroups=2\nactivation=linear\n[avgpool]\n[softmax]\n' > "$T/grouped.cfg"
bad "grouped head" "$T/grouped.cfg:18: no classifier head it can extend: the [convolutional] head has groups=2" "$T/grouped.cfg"
printf "$NET$CONV"'[convolutional]\nfilters=3\nsize=1\nactivation=linear\n[avgpool]\n[route]\nlayers=-2\n[softmax]\n' > "$T/route.cfg"
bad "head feeding a [route]" "$T/route.cfg:23: no classifier head it can extend: the [softmax] at line 25 reads [route]" "$T/route.cfg"
summary
