#!/bin/sh
# dream on a 1000-class RGB network labelled with ImageNet's short names:
# labels that contain one another are refused before the weights are read,
# naming two of them, and nothing is written; -label-ids makes every image
# path match exactly one label; the grid is bounded and -grid-classes picks
# its rows.
cd "$(dirname "$0")/.." || exit 2
. tests/shlib.sh

scratch_dir grid
NAMES=/usr/share/darknet/data/imagenet.shortnames.list
[ -r $NAMES ] || { skip "ImageNet-label grid: $NAMES missing"; summary; exit; }
# A cheap RGB classifier with ImageNet's 1000 classes, random weights.
printf '[net]\nbatch=1\nwidth=16\nheight=16\nchannels=3\n\n[convolutional]\nbatch_normalize=1\nfilters=8\nsize=3\nstride=1\npad=1\nactivation=leaky\n\n[avgpool]\n\n[connected]\noutput=1000\nactivation=linear\n\n[softmax]\n' > "$T/net.cfg"
${CC:-cc} -O1 -I/usr/lib/darknet/include -o "$T/random_weights" tests/random_weights.c \
    -L/usr/lib/darknet -ldarknet -Wl,-rpath,/usr/lib/darknet -lm || exit 2
"$T/random_weights" "$T/net.cfg" "$T/net.weights" 2>/dev/null
printf '[inversion]\nbatch=10\niterations=2\nlog_every=1\n[bn_stat]\nweight=0.01\n[adam]\nwarmup=0\n' > "$T/inv.cfg"
DREAM="$DARKNET inversion dream $T/inv.cfg $T/net.cfg"

# Refused before any work: the weights file given does not even exist.
expect_fail "substring labels refused" "label 'kit fox' contains label 'ox' (classes 0 and 107)" $DREAM "$T/none.weights" -labels $NAMES -out "$T/out"
expect_fail "the refusal names the way out" "-label-ids writes label k as c<k>_<label>" $DREAM "$T/none.weights" -labels $NAMES -out "$T/out"
check "refused: nothing written" [ ! -e "$T/out" ]
head -5 $NAMES > "$T/five.labels"
expect_fail "too few labels" "has 5 labels but $T/net.cfg has 1000 classes" $DREAM "$T/net.weights" -labels "$T/five.labels" -label-ids -out "$T/out"
expect_fail "grid class out of range" "-grid-classes: class 1000, but $T/net.cfg has 1000 classes" $DREAM "$T/net.weights" -grid-classes 3,1000 -out "$T/out"
expect_fail "malformed grid classes" "-grid-classes 3,x: expected class numbers" $DREAM "$T/net.weights" -grid-classes 3,x -out "$T/out"
check "bad options: nothing written" [ ! -e "$T/out" ]

# -label-ids: c0000_kit_fox ...; every path matches exactly one label, as
# Darknet's classifier requires.
$DREAM "$T/net.weights" -labels $NAMES -label-ids -n 30 -grid-classes 25,3 -out "$T/ids" >/dev/null 2>"$T/err"
check "dream with -label-ids runs" [ $? = 0 ]
check "only the first 1000 names are used, as Darknet does" grep -q "using the first 1000" "$T/err"
check "1000 labels with ids" [ "$(wc -l < "$T/ids/labels.txt")" = 1000 ]
check "ids are fixed-width, spaces become _" [ "$(sed -n '1p;108p' "$T/ids/labels.txt" | tr '\n' ' ')" = "c0000_kit_fox c0107_ox " ]
check "file names carry the id labels" grep -q "/images/000003_c0003_Australian_terrier.png$" "$T/ids/train.list"
check "dream.data names labels.txt" grep -q "^labels=$T/ids/labels.txt$" "$T/ids/dream.data"
# Darknet's rule: an image has every label that is a substring of its path.
one_label_each() {  # labels, paths: every path contains exactly one label
    awk 'NR == FNR { lab[n++] = $0; next }
         { m = 0; for (i = 0; i < n; ++i) if (index($0, lab[i])) ++m; if (m != 1) { print "path " $0 " matches " m " labels"; bad = 1 } }
         END { exit bad }' "$1" "$2"
}
check "every image path matches exactly one label" one_label_each "$T/ids/labels.txt" "$T/ids/train.list"
sed "s|^\(.*\)$|$T/ids/images/012345_\1.png|" "$T/ids/labels.txt" > "$T/all.list"
check "so would an image of each of the 1000 classes" one_label_each "$T/ids/labels.txt" "$T/all.list"
# Every shown image of -grid-classes 25,3 is 16x16 doubled: 10 columns, 2 rows.
png_size() { od -An -tu1 -j16 -N8 "$1" | awk '{ print $3 * 256 + $4 "x" $7 * 256 + $8 }'; }
check "grid: 2 rows of 10 cells of 32 px" [ "$(png_size "$T/ids/grid.png")" = "342x70" ]

# A larger 1000-class run: the grid holds the first 10 classes present.
$DREAM "$T/net.weights" -n 40 -out "$T/many" >/dev/null 2>&1
check "default labels: dream runs" [ $? = 0 ]
check "grid: 10 rows" [ "$(png_size "$T/many/grid.png")" = "342x342" ]
summary
