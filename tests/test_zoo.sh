#!/bin/sh
# Every classifier cfg Debian's darknet ships, with random weights that have
# trained-looking BN statistics: a short dream exits 0 and writes images at the
# network's input size, a grid of bounded size, a list and a .data whose
# classes= matches the network; stock Darknet reads the list and .data of the
# small ones. darknet9000 (a softmax tree) is refused, naming the layer.
# Per network: weights (deleted after use), then a dream of one batch of 2
# images, 2 iterations at full resolution: the point is that every network
# loads, runs forward and backward and writes its outputs, not image quality.
# ZOO_NETS="cifar tiny" sh tests/test_zoo.sh runs a subset.
cd "$(dirname "$0")/.." || exit 2
. tests/shlib.sh
scratch_dir zoo
ZOO=/usr/share/darknet/cfg
RW=build/helpers/random_weights
NETS=${ZOO_NETS:-"alexnet cifar darknet darknet19 darknet19_448 darknet53 darknet53_448 densenet201
    extraction extraction22k resnet18 resnet34 resnet50 resnet101 resnet152 resnext50 resnext101-32x4d
    resnext152-32x4d strided tiny vgg-16"}
# Stock Darknet is single-threaded with a naive gemm: only the small networks.
STOCK_NETS="cifar tiny"

if [ ! -x $RW ]; then
    echo "FAIL $RW is not built (make build/helpers/random_weights)"; failed=1; summary; exit 1
fi
printf '[inversion]\nbatch=2\niterations=2\nimages=2\nlog_every=1\n[bn_stat]\nweight=0.01\n[adam]\nwarmup=0\n' > "$T/inv.cfg"

# A zoo cfg with [net] batch=2 (random_weights -bn-stats takes batch
# statistics; Darknet allocates every layer's outputs for it), subdivisions=1.
net_cfg() {
    sed '/^[[:space:]]*batch[[:space:]]*=/d; /^[[:space:]]*subdivisions[[:space:]]*=/d' $ZOO/$1.cfg |
        sed '0,/^\[net\]/s//[net]\nbatch=2\nsubdivisions=1/'
}
# The value of the first KEY= line of a cfg.
cfg_key() { sed -n "s/^$2=//p" "$1" | head -1; }
# Classes: the outputs of the last layer before [softmax] (filters= or output=).
cfg_classes() { awk -F= '/^\[softmax\]/{print c; exit} /^(filters|output)=/{c=$2}' "$1"; }
# Width and height from a PNG's IHDR chunk.
png_size() { od -An -tu1 -j16 -N8 "$1" | awk '{print $1*16777216+$2*65536+$3*256+$4 "x" $5*16777216+$6*65536+$7*256+$8}'; }
is_png() { [ "$(od -An -c -j1 -N3 "$1" | tr -d ' ')" = PNG ]; }

start=$(date +%s)
for net in $NETS; do
    t0=$(date +%s)
    net_cfg $net > "$T/$net.cfg"
    W=$T/$net.weights D=$T/$net
    if ! $RW "$T/$net.cfg" "$W" -seed 1 -bn-stats >"$T/$net.rw.log" 2>&1; then
        echo "FAIL $net: random weights: $(tail -1 "$T/$net.rw.log")"; failed=$((failed + 1)); continue
    fi
    "$DARKNET" inversion dream "$T/inv.cfg" "$T/$net.cfg" "$W" -out "$D" >"$T/$net.log" 2>&1; rc=$?
    if [ $rc -ne 0 ]; then
        echo "FAIL $net: dream exits $rc: $(grep -m1 -i 'error' "$T/$net.log" || tail -1 "$T/$net.log")"
        failed=$((failed + 1)); rm -f "$W"; rm -rf "$D"; continue
    fi
    passed=$((passed + 1))
    size=$(cfg_key "$T/$net.cfg" width)x$(cfg_key "$T/$net.cfg" height) k=$(cfg_classes "$T/$net.cfg")
    n=0 bad=
    for p in "$D"/images/*.png; do
        n=$((n + 1))
        is_png "$p" && [ "$(png_size "$p")" = "$size" ] || bad="$bad $(basename "$p")"
    done
    check "$net: 2 PNG images of $size${bad:+ (not:$bad)}" [ $n = 2 -a -z "$bad" ]
    g=$D/grid.png
    if [ -s "$g" ] && is_png "$g"; then
        gs=$(png_size "$g") gb=$(stat -c %s "$g")
        check "$net: grid ${gs} px, $gb bytes, within 4096x4096 px and 8 MiB" \
            [ "${gs%x*}" -le 4096 -a "${gs#*x}" -le 4096 -a "$gb" -le 8388608 ]
    else
        check "$net: grid.png written" false
    fi
    check "$net: list of 2 images" [ "$(wc -l < "$D/train.list")" = 2 ]
    check "$net: dream.data says classes=$k" grep -qx "classes=$k" "$D/dream.data"
    check "$net: $k labels" [ "$(wc -l < "$D/labels.txt")" = "$k" ]
    check "$net: no temporary files" [ -z "$(find "$D" -name '*.tmp.*')" ]
    case " $STOCK_NETS " in *" $net "*)
        # Stock Darknet finds both images and their classes (0, 1) from the .data file.
        /usr/bin/darknet classifier valid "$D/dream.data" "$T/$net.cfg" "$W" >"$T/$net.stock" 2>&1
        check "$net: stock darknet classifier valid reads the list and labels" \
            sh -c "grep -q '000000_class_0*0.png, 0,' '$T/$net.stock' && grep -q '000001_class_0*1.png, 1,' '$T/$net.stock'"
    esac
    rm -f "$W"; rm -rf "$D"
    echo "  $net: $(( $(date +%s) - t0 )) s"
done

# A softmax tree (darknet9000) has no backward the frozen network could use.
if [ -z "${ZOO_NETS:-}" ]; then
    net_cfg darknet9000 > "$T/d9k.cfg"
    $RW "$T/d9k.cfg" "$T/d9k.weights" -seed 1 >/dev/null 2>&1
    expect_fail "darknet9000 refused, naming its [softmax] tree" "[softmax] tree=" \
        "$DARKNET" inversion dream "$T/inv.cfg" "$T/d9k.cfg" "$T/d9k.weights" -out "$T/d9k"
    check "darknet9000: nothing written" [ ! -e "$T/d9k" ]
    rm -f "$T/d9k.weights"
fi
echo "  whole zoo: $(( $(date +%s) - start )) s"
[ -n "${ZOO_NETS:-}" ] && skip "every zoo network not in ZOO_NETS ($ZOO_NETS), and the darknet9000 refusal"
summary
