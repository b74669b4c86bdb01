#!/bin/sh
# Every classifier cfg Debian's darknet ships × every verb, on random weights
# with trained-looking BN statistics (build/helpers/random_weights -bn-stats):
#   dream      bench/zoo-dream.cfg: 8 images, batch 8, 4 iterations
#   valid      the network on its own dream's images (dream.data)
#   distill    bench/zoo-distill.cfg into a smaller zoo student of the same
#              input size and classes (itself where there is none), 3 student batches of 8
#   continual  bench/zoo-continual.cfg: two new classes (the dream's images
#              renamed), 3 batches of 8
# Each cell is ✓ or the first error line the verb printed; s/iter is the time
# between the dream's first and last progress lines over the iterations between
# them (batch 8, both cores). Prints a Markdown table and writes out/zoo/table.md.
#   sh bench/zoo_table.sh [net ...]      (default: the whole zoo, 20-40 min)
cd "$(dirname "$0")/.." || exit 2
make -s darknet build/helpers/random_weights || exit 1
ZOO=/usr/share/darknet/cfg
O=out/zoo
mkdir -p "$O"
NETS=${*:-"alexnet cifar darknet darknet19 darknet19_448 darknet53 darknet53_448 densenet201
    extraction extraction22k resnet18 resnet34 resnet50 resnet101 resnet152 resnext50 resnext101-32x4d
    resnext152-32x4d strided tiny vgg-16 darknet9000"}

# The distillation student: same input size and classes, fewer FLOPs.
student_of() {
    case $1 in
        darknet19|strided) echo darknet ;;
        resnet34|resnet50|densenet201|resnext50|vgg-16) echo resnet18 ;;
        resnet101|resnet152) echo resnet50 ;;
        resnext101-32x4d|resnext152-32x4d) echo resnext50 ;;
        darknet53) echo darknet19 ;;
        darknet53_448) echo darknet19_448 ;;
        extraction) echo tiny ;;
        *) echo "$1" ;;
    esac
}
# A zoo cfg with [net] batch=$2, subdivisions=1, and max_batches=3 (the
# students' and continual's schedule), no burn-in.
copy_cfg() {
    sed '/^[[:space:]]*batch[[:space:]]*=/d; /^[[:space:]]*subdivisions[[:space:]]*=/d
         s/^[[:space:]]*max_batches[[:space:]]*=.*/max_batches=3/; s/^[[:space:]]*burn_in[[:space:]]*=.*/burn_in=0/' $ZOO/$1.cfg | sed "0,/^\[net\]/s//[net]\nbatch=$2\nsubdivisions=1/"
}
# ✓, or the verb's first error line (Markdown-safe).
cell() {  # rc, log
    if [ "$1" = 0 ]; then echo "✓"; return; fi
    line=$(sed 's/^[0-9]*\.[0-9]* //' "$2" | grep -m1 -iE 'error|refus|not supported|cannot|killed|fault' || tail -1 "$2")
    [ -n "$line" ] || line="exit $1"
    printf '%s' "$line" | sed 's/^darknet inversion: error: //; s/|/\\|/g' | cut -c1-240
}
weights() {  # net: $O/w/NET.weights, made once
    [ -s "$O/w/$1.weights" ] && return 0
    mkdir -p "$O/w"
    copy_cfg "$1" 2 > "$O/w/$1.cfg"
    build/helpers/random_weights "$O/w/$1.cfg" "$O/w/$1.weights.tmp" -seed 1 -bn-stats >"$O/w/$1.log" 2>&1 &&
        mv "$O/w/$1.weights.tmp" "$O/w/$1.weights"
}
# Seconds per iteration from timestamped progress lines (iterations 1 and last).
stamp() { while IFS= read -r l; do printf '%s %s\n' "$(date +%s.%N)" "$l"; done; }

rows=
for net in $NETS; do
    echo "== $net" >&2
    N=$O/$net
    rm -rf "$N"; mkdir -p "$N"
    copy_cfg "$net" 8 > "$N/net.cfg"
    if ! weights "$net"; then
        e=$(tail -1 "$O/w/$net.log" | sed 's/|/\\|/g')
        rows="$rows| $net | weights: $e | | | | |
"
        continue
    fi
    W=$O/w/$net.weights
    { ./darknet inversion dream bench/zoo-dream.cfg "$N/net.cfg" "$W" -out "$N/dream" 2>&1; echo "rc=$?"; } | stamp > "$N/dream.log"
    rc=$(sed -n 's/^[0-9.]* rc=//p' "$N/dream.log")
    dream=$(cell "$rc" "$N/dream.log")
    spi=$(awk '/ iter [0-9]+\/[0-9]+ /{for(i=1;i<=NF;i++) if($i=="iter"){split($(i+1),a,"/"); if(!t0){t0=$1;i0=a[1]} t1=$1; i1=a[1]}} END{if(i1>i0) printf "%.2f", (t1-t0)/(i1-i0)}' "$N/dream.log")
    valid="–" distill= continual=
    if [ "$rc" = 0 ]; then
        ./darknet inversion valid "$N/dream/dream.data" "$N/net.cfg" "$W" >"$N/valid.log" 2>&1
        valid=$(cell $? "$N/valid.log")
        # New data for continual: the dream's images under two new labels.
        mkdir -p "$N/new"
        i=0
        for p in "$N"/dream/images/*.png; do
            l=$([ $((i % 2)) = 0 ] && echo newone || echo newtwo)
            cp "$p" "$N/new/$(printf %02d $i)_$l.png"; i=$((i + 1))
        done
        ls "$N"/new/*.png > "$N/new.list"
        printf 'newone\nnewtwo\n' > "$N/new.labels"
        printf 'classes=2\ntrain=%s\nvalid=%s\nlabels=%s\nnames=%s\n' "$N/new.list" "$N/new.list" "$N/new.labels" "$N/new.labels" > "$N/new.data"
        ./darknet inversion continual bench/zoo-continual.cfg "$N/net.cfg" "$W" "$N/new.data" -out "$N/continual" >"$N/continual.log" 2>&1
        continual=$(cell $? "$N/continual.log")
    fi
    s=$(student_of "$net")
    copy_cfg "$s" 8 > "$N/student.cfg"
    ./darknet inversion distill bench/zoo-distill.cfg "$N/net.cfg" "$W" "$N/student.cfg" -out "$N/distill" >"$N/distill.log" 2>&1
    distill="→ $s: $(cell $? "$N/distill.log")"
    rows="$rows| $net | $dream | ${spi:-–} | $valid | $distill | ${continual:-–} |
"
    rm -rf "$N/dream/images" "$N/continual/pool" "$N/distill/pool" "$N/continual/backup" "$N/distill/backup"
    # Keep a student's weights until its last teacher is done: the big ones go now.
    case " resnet18 resnet50 resnext50 darknet darknet19 darknet19_448 tiny " in *" $net "*) ;; *) rm -f "$W" ;; esac
done
rm -rf "$O/w"
{
    echo "| network | dream | s/iter (batch 8) | valid | distill | continual |"
    echo "|---|---|---|---|---|---|"
    printf '%s' "$rows"
} > "$O/table.md.tmp" && mv "$O/table.md.tmp" "$O/table.md"
cat "$O/table.md"
