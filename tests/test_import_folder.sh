#!/bin/sh
# import-folder: a user's image tree (class folders, with or without
# train/test, or a .tar.gz of one) becomes a dataset that this plugin and stock
# Darknet read; Darknet's substring rule holds on every list path; the split
# is deterministic; bad input is refused with nothing written.
cd "$(dirname "$0")/.." || exit 2
. tests/shlib.sh
scratch_dir importf

${CC:-cc} -O1 -I/usr/include/stb -o "$T/make_image" tests/make_image.c -lstb
check "image helper builds" [ -x "$T/make_image" ]
mk() { "$T/make_image" "$@"; }
import() { "$DARKNET" inversion import-folder "$@"; }
# Nothing of an import into $1 is left: neither $1 nor a temporary beside it.
nothing_written() { [ ! -e "$1" ] && [ -z "$(find "$(dirname "$1")" -maxdepth 1 -name '.*.import-tmp.*')" ]; }

# The source lies under a folder named "location", which contains "cat".
S="$T/location/photos"
mkdir -p "$S/cat/sub" "$S/dog" "$S/bird"
mk 8 8 3 1 "$S"/cat/c1.png "$S"/cat/c2.png "$S"/cat/c3.png "$S"/cat/c4.png "$S"/cat/c5.png \
    "$S"/cat/c6.png "$S"/cat/c7.png "$S"/cat/c8.png "$S"/cat/sub/c9.PNG "$S"/cat/sub/c10.Png
mk 8 8 3 2 "$S"/dog/d1.JPG "$S"/dog/d2.jpg "$S"/dog/d3.jpeg "$S"/dog/d4.JPEG "$S"/dog/d5.jpg \
    "$S"/dog/d6.jpg "$S"/dog/d7.jpg "$S"/dog/d8.jpg
mk 8 8 1 3 "$S"/bird/b1.png "$S"/bird/b2.png "$S"/bird/b3.png "$S"/bird/b4.png "$S"/bird/b5.png "$S"/bird/b6.png
mk 8 8 3 4 "$S"/dog/.hidden.png
echo notes > "$S/cat/README.txt"
echo "not an image" > "$S/dog/broken.png"

# Darknet's rule on a list: every path holds exactly one label, the class
# folder it lies in, and exists; prints the class of each line.
classes_of() {  # labels list
    awk -v labels="$1" 'BEGIN { while ((getline l < labels) > 0) lab[++n] = l }
        { m = 0; for (i = 1; i <= n; ++i) if (index($0, lab[i])) { m++; k = lab[i] }
          if (m != 1 || $0 !~ ("/" k "/[0-9]+_" k "\\.")) { print "BAD " $0; next } print k }' "$2"
}
differ() { ! cmp -s "$1" "$2"; }
lacks() { ! grep -q "$1" "$2"; }
paths_exist() { while read -r p; do [ -e "$p" ] || return 1; done < "$1"; }
# The original images a list's links point to, in list order.
targets() { while read -r p; do readlink "$p"; done < "$1"; }

A="$T/out/a"
import "$S" "$A" -valid-fraction 0.25 -seed 7 >"$T/log" 2>&1
check "import of class folders" [ $? = 0 ]
check "labels sorted" [ "$(tr '\n' ' ' < "$A/labels.txt")" = "bird cat dog " ]
check "data file" grep -qx 'classes=3' "$A/a.data"
check "data file names its lists" [ "$(grep -c "^train=$A/train.list\$\|^valid=$A/valid.list\$\|^labels=$A/labels.txt\$\|^top=1\$" "$A/a.data")" = 4 ]
# round(0.25 * n) of each class validate: cat 10 -> 3, dog 8 -> 2, bird 6 -> 2.
check "train count" [ "$(wc -l < "$A/train.list")" = 17 ]
check "valid count" [ "$(wc -l < "$A/valid.list")" = 7 ]
check "split stratified" [ "$(classes_of "$A/labels.txt" "$A/valid.list" | sort | uniq -c | tr -s ' ' | tr '\n' ',')" = " 2 bird, 3 cat, 2 dog," ]
check "train paths: one label each" [ -z "$(classes_of "$A/labels.txt" "$A/train.list" | grep BAD)" ]
check "valid paths: one label each" [ -z "$(classes_of "$A/labels.txt" "$A/valid.list" | grep BAD)" ]
check "list paths exist" paths_exist "$A/train.list"
check "list paths exist (valid)" paths_exist "$A/valid.list"
check "no text of the source location in the lists" [ -z "$(cat "$A/train.list" "$A/valid.list" | grep 'location\|photos')" ]
check "links have absolute targets" [ -z "$(targets "$A/train.list" | grep -v "^/")" ]
targets "$A/train.list" > "$T/a.train"; targets "$A/valid.list" > "$T/a.valid"
find "$S" -type f ! -name '.*' ! -name README.txt ! -name broken.png | sort > "$T/all"
sort "$T/a.train" "$T/a.valid" > "$T/both"
check "24 readable images in the source" [ "$(wc -l < "$T/all")" = 24 ]
check "every image once, in one split" cmp -s "$T/all" "$T/both"
check "each link lies in its class's folder" [ -z "$(paste -d' ' "$A/train.list" "$T/a.train" | awk '{ n = split($1, p, "/"); if (index($2, "/photos/" p[n-1] "/") == 0) print }')" ]
check "report: skipped files" grep -q 'skipped 1 file not' "$T/log"
check "report: unreadable image" grep -q 'skipped 1 image stb cannot read, first: .*broken.png' "$T/log"
check "report: sizes" grep -q 'sizes: 8x8 RGB: 13, 8x8 gray: 4' "$T/log"
check "report: per class" grep -Eq '^ +cat +7 +3$' "$T/log"

# The same seed, the same split; another seed, another.
import "$S" "$T/out/b" -valid-fraction 0.25 -seed 7 >/dev/null 2>&1
targets "$T/out/b/valid.list" > "$T/b.valid"
check "split deterministic" cmp -s "$T/a.valid" "$T/b.valid"
import "$S" "$T/out/c" -valid-fraction 0.25 -seed 8 >/dev/null 2>&1
targets "$T/out/c/valid.list" > "$T/c.valid"
check "another seed: a split" [ "$(wc -l < "$T/c.valid")" = 7 ]
check "another seed, another split" differ "$T/a.valid" "$T/c.valid"

import "$S" "$T/out/d" -valid-fraction 0 -copy -name mine >/dev/null 2>&1
check "no validation: no valid list" [ -s "$T/out/d/train.list" -a ! -e "$T/out/d/valid.list" ]
check "no validation: data file" grep -qx 'classes=3' "$T/out/d/mine.data"
check "no validation: no valid= key" lacks '^valid=' "$T/out/d/mine.data"
check "copies are files" [ -z "$(find "$T/out/d/images" -type l)" -a "$(find "$T/out/d/images" -type f | wc -l)" = 24 ]
p=$(grep 000002_dog "$T/out/d/train.list")
check "copies are the originals, byte for byte" cmp -s "$p" "$S/dog/d3.jpeg"

# This plugin and stock Darknet read the result (a random-weights RGB network of 8x8).
printf '[net]\nbatch=4\nmax_batches=3\nlearning_rate=0.01\nwidth=8\nheight=8\nchannels=3\n\n[convolutional]\nbatch_normalize=1\nfilters=4\nsize=3\npad=1\nactivation=leaky\n\n[connected]\noutput=3\nactivation=linear\n\n[softmax]\n' > "$T/net.cfg"
${CC:-cc} -O1 -I/usr/lib/darknet/include -o "$T/random_weights" tests/random_weights.c \
    -L/usr/lib/darknet -ldarknet -Wl,-rpath,/usr/lib/darknet -lm -lpthread &&
    "$T/random_weights" "$T/net.cfg" "$T/net.weights" 2>/dev/null
"$DARKNET" inversion valid "$A/a.data" "$T/net.cfg" "$T/net.weights" >"$T/valid" 2>&1
check "plugin valid reads it" [ $? = 0 ]
check "plugin valid: every valid image" grep -q 'top-1 .*(.*/7 images)' "$T/valid"
# (from $T: stock Darknet appends images it cannot load to ./bad.list)
(cd "$T" && /usr/bin/darknet classifier valid "$A/a.data" "$T/net.cfg" "$T/net.weights") >"$T/stock" 2>&1
check "stock darknet valid reads it" [ $? = 0 ]
check "stock darknet valid: every valid image" [ "$(grep -c "^$A/images/valid/" "$T/stock")" = 7 ]
# Its "path, truth, ..." lines: the truth is the index of the path's class in labels.txt.
check "stock darknet labels every image right" [ -z "$(grep "^$A/images/valid/" "$T/stock" | tr -d , |
    awk '{ n = split($1, p, "/"); t = (p[n-1] == "bird" ? 0 : p[n-1] == "cat" ? 1 : 2); if ($2 != t) print }')" ]
"$DARKNET" inversion train "$A/a.data" "$T/net.cfg" -out "$T/trained.weights" >/dev/null 2>&1
check "plugin train reads it" [ -s "$T/trained.weights" ]

# train/test folders in a single wrapping folder; a class missing from test/.
W="$T/wrap"
mkdir -p "$W/cifar/train/cat" "$W/cifar/train/dog" "$W/cifar/train/bird" "$W/cifar/test/cat" "$W/cifar/test/dog"
mk 8 8 3 5 "$W"/cifar/train/cat/1.png "$W"/cifar/train/cat/2.png "$W"/cifar/train/dog/1.jpg \
    "$W"/cifar/train/dog/2.jpg "$W"/cifar/train/dog/3.jpg "$W"/cifar/train/bird/1.png
mk 8 8 3 6 "$W"/cifar/test/cat/1.png "$W"/cifar/test/dog/1.jpg "$W"/cifar/test/dog/2.jpg
echo MIT > "$W/cifar/LICENSE"
import "$W" "$T/out/e" >"$T/log" 2>&1
check "import of train/test folders" [ $? = 0 ]
check "train/test: counts" [ "$(wc -l < "$T/out/e/train.list")" = 6 -a "$(wc -l < "$T/out/e/valid.list")" = 3 ]
check "train/test: test images validate" [ "$(targets "$T/out/e/valid.list" | grep -c /cifar/test/)" = 3 ]
check "train/test: one label each" [ -z "$(classes_of "$T/out/e/labels.txt" "$T/out/e/valid.list" | grep BAD)" ]
check "train/test: missing class named" grep -q "has no folder for class 'bird'" "$T/log"
expect_fail "train/test with -valid-fraction" "has its own train/test folders" import "$W" "$T/out/f" -valid-fraction 0.2
check "train/test with -valid-fraction: nothing written" nothing_written "$T/out/f"

# A .tar.gz of the same tree: extracted, its images moved into out_dir.
tar -czf "$T/cifar.tar.gz" -C "$W" cifar
import "$T/cifar.tar.gz" "$T/out/g" >"$T/log" 2>&1
check "import of a .tar.gz" [ $? = 0 ]
check "archive: counts" [ "$(wc -l < "$T/out/g/train.list")" = 6 -a "$(wc -l < "$T/out/g/valid.list")" = 3 ]
check "archive: images are files" [ -z "$(find "$T/out/g" -type l)" ]
check "archive: list paths exist" paths_exist "$T/out/g/train.list"
check "archive: nothing else left" [ "$(find "$T/out/g" -type f | wc -l)" = 13 -a -z "$(find "$T/out" -name '.*')" ]
check "archive: same lists as the folder" [ "$(sed 's|/out/g/|/out/e/|' "$T/out/g/valid.list")" = "$(cat "$T/out/e/valid.list")" ]

# Refused, with nothing written.
R="$T/bad"
mkdir -p "$R/sub/cat" "$R/sub/bobcat"
mk 8 8 3 7 "$R"/sub/cat/1.png "$R"/sub/bobcat/1.png
expect_fail "label inside a label" "class names 'bobcat' and 'cat'" import "$R/sub" "$T/out/h"
check "label inside a label: nothing written" nothing_written "$T/out/h"
tar -czf "$T/bobcat.tar.gz" -C "$R" sub
expect_fail "label inside a label (archive)" "class names 'bobcat' and 'cat'" import "$T/bobcat.tar.gz" "$T/out/h"
check "label inside a label (archive): nothing written" nothing_written "$T/out/h"
expect_fail "out_dir holds a label" "out_dir '$T/out/catalog' contains the class name 'cat'" import "$S" "$T/out/catalog"
check "out_dir holds a label: nothing written" nothing_written "$T/out/catalog"
expect_fail "missing folder" "cannot open $T/nosuch" import "$T/nosuch" "$T/out/i"
check "missing folder: nothing written" nothing_written "$T/out/i"
expect_fail "out_dir of an earlier import" "exists and is not empty" import "$S" "$A"
check "earlier import untouched" [ "$(wc -l < "$A/train.list")" = 17 ]
mkdir -p "$R/space/sea lion" "$R/space/crab"
mk 8 8 3 8 "$R/space/sea lion/1.png" "$R/space/crab/1.png"
expect_fail "class name with a space" "contains whitespace" import "$R/space" "$T/out/j"
check "class name with a space: nothing written" nothing_written "$T/out/j"
mkdir -p "$R/empty/crab" "$R/empty/frog"
mk 8 8 3 9 "$R/empty/crab/1.png"
echo x > "$R/empty/frog/notes.txt"
expect_fail "empty class folder" "class folder $R/empty/frog holds no .jpg/.jpeg/.png image" import "$R/empty" "$T/out/k"
check "empty class folder: nothing written" nothing_written "$T/out/k"
# File names are NNNNNN_<class>.<ext>: a class name may occur there.
mkdir -p "$R/numbered/0_x" "$R/numbered/xyq"
mk 8 8 3 10 "$R/numbered/0_x/a.png" "$R/numbered/xyq/a.png"
expect_fail "class name in the numbering" "class name '0_x' occurs in the file name 000000_xyq.png" import "$R/numbered" "$T/out/l" -valid-fraction 0
check "class name in the numbering: nothing written" nothing_written "$T/out/l"
# Digit folders (0..9 style) work with a prefix of letters.
mkdir -p "$R/digits/1" "$R/digits/2"
mk 8 8 3 11 "$R/digits/1/a.png" "$R/digits/1/b.png" "$R/digits/2/a.png" "$R/digits/2/b.png"
import "$R/digits" "$T/out/n" -prefix digit -valid-fraction 0.5 >/dev/null 2>&1
check "digit folders with -prefix" [ "$(tr '\n' ' ' < "$T/out/n/labels.txt")" = "digit1 digit2 " ]
check "digit folders with -prefix: one label each" [ -z "$(classes_of "$T/out/n/labels.txt" "$T/out/n/train.list" | grep BAD)" ]
check "digit folders with -prefix: file names" grep -q '/digit2/000000_digit2.png$' "$T/out/n/valid.list"
head -c 100 /dev/urandom > "$T/junk.tar.gz"
expect_fail "broken archive" "tar could not extract $T/junk.tar.gz" import "$T/junk.tar.gz" "$T/out/m"
check "broken archive: nothing written" nothing_written "$T/out/m"
summary
