#!/bin/sh
# A full disk. dream writing into a small tmpfs (4 MiB, filled up by a filler
# file but for a few KiB) stops with an error naming the file and "No space
# left on device", leaves no temporary or truncated file and keeps the images
# already written; once space is freed the same command resumes and ends with
# exactly the files of a run that never failed. distill's weights file (written
# by Darknet's unchecked save_weights) fails as clearly. Needs to mount a
# tmpfs: as root, or inside a user namespace (unshare -rm); skipped with a
# message otherwise.
cd "$(dirname "$0")/.." || exit 2
. tests/shlib.sh

T=$(mktemp -d /tmp/inv-enospc-XXXXXX)
M="$T/disk"
mkdir "$M"
if ! mount -t tmpfs -o size=4m tmpfs "$M" 2>"$T/mount.err"; then
    why=$(cat "$T/mount.err")
    rm -rf "$T"
    if [ -z "$INV_ENOSPC_NS" ] && command -v unshare >/dev/null 2>&1 && unshare -rm true 2>/dev/null; then
        INV_ENOSPC_NS=1 exec unshare -rm sh "$0"
    fi
    skip "full-disk test: cannot mount a tmpfs here (not root, no user namespaces): $why"
    summary; exit
fi
trap 'umount "$M" 2>/dev/null; [ -n "$KEEP" ] || rm -rf "$T"' EXIT

TCFG=cfg/fmnist-teacher.cfg TW=weights/fmnist-teacher.weights
if [ ! -s "$TW" ]; then
    # No trained teacher: Darknet's random initialisation does for a disk test.
    TW="$T/random.weights"
    ${CC:-cc} -O1 -I/usr/lib/darknet/include -o "$T/random_weights" tests/random_weights.c \
        -L/usr/lib/darknet -ldarknet -Wl,-rpath,/usr/lib/darknet -lm -lpthread &&
        "$T/random_weights" $TCFG "$TW" 2>/dev/null
    check "random teacher weights" [ -s "$TW" ]
fi
# 4 batches of 8 images, and a CSV row per iteration (about 6 KB in all).
printf '[inversion]\nbatch=8\niterations=20\nimages=32\ngray=1\nlog_every=20\n[bn_stat]\nweight=1\n[adam]\nlr=0.05\nwarmup=2\n' > "$T/inv.cfg"
dream() { "$DARKNET" inversion dream "$T/inv.cfg" $TCFG "$TW" -labels cfg/fmnist.labels -out "$1"; }

# Every PNG must be complete: it ends with the IEND chunk.
pngs_complete() {
    for f in "$1"/images/*.png "$1"/*.png; do
        [ -e "$f" ] || continue
        [ "$(tail -c 8 "$f" | od -An -tx1 | tr -d ' \n')" = 49454e44ae426082 ] || { echo "  truncated: $f"; return 1; }
    done
}
no_temporaries() { [ -z "$(find "$1" -name '*.tmp.*')" ]; }
# Leaves about $1 KiB free on the 4 MiB tmpfs by (re)writing a filler file.
leave_free() {
    rm -f "$M/filler"
    avail=$(df -k "$M" | awk 'NR == 2 { print $4 }')
    dd if=/dev/zero of="$M/filler" bs=4k count=$(( (avail - $1) / 4 )) 2>/dev/null
}

dream "$T/whole" >/dev/null 2>&1
check "reference run on a roomy disk" [ -s "$T/whole/dream.data" ]

# 1. The disk fills up during the run.
leave_free 48
dream "$M/out" >/dev/null 2>"$T/err"; rc=$?
echo "  with 48 KiB free: exit $rc: $(tail -1 "$T/err")"
check "full disk: non-zero exit" [ $rc -ne 0 ]
check "full disk: error names a file in the output" grep -q "cannot write $M/out/[^ ]*: No space left on device" "$T/err"
check "full disk: no temporary files left" no_temporaries "$M/out"
check "full disk: every PNG left is complete" pngs_complete "$M/out"
check "full disk: no dream.data (the run did not finish)" [ ! -e "$M/out/dream.data" ]
check "full disk: earlier images unchanged" sh -c "cd '$M/out' && for f in images/*.png; do cmp -s \$f '$T/whole/'\$f || exit 1; done"

# 2. Space is freed: the same command resumes and ends as the run that never failed.
rm -f "$M/filler"
dream "$M/out" >/dev/null 2>"$T/err2"
check "after freeing space: the rerun finishes" [ $? = 0 -a -s "$M/out/dream.data" ]
check "after freeing space: same images, grid and losses as an uninterrupted run" \
    sh -c "cd '$T/whole' && for f in images/*.png grid.png losses.csv; do cmp -s \$f '$M/out/'\$f || exit 1; done"
check "after freeing space: the same image list" [ "$(sed "s|^$T/whole/||" "$T/whole/train.list")" = "$(sed "s|^$M/out/||" "$M/out/train.list")" ]
check "after freeing space: no temporary files" no_temporaries "$M/out"

# 2b. The disk fills up while the last, largest file (grid.png, several
# pages) is being written: the half-written temporary is removed.
rm -rf "$M/out"
leave_free 176
dream "$M/out" >/dev/null 2>"$T/err4"; rc=$?
echo "  with 176 KiB free: exit $rc: $(tail -1 "$T/err4")"
check "full disk at the grid: non-zero exit" [ $rc -ne 0 ]
check "full disk at the grid: error names grid.png" grep -q "cannot write $M/out/grid.png: No space left on device" "$T/err4"
check "full disk at the grid: no temporary files left" no_temporaries "$M/out"
check "full disk at the grid: every image complete and as in an uninterrupted run" \
    sh -c "cd '$T/whole' && for f in images/*.png; do cmp -s \$f '$M/out/'\$f || exit 1; done"

# 3. A disk already full when the run starts: the first image cannot be written.
rm -rf "$M/out"
leave_free 0
dream "$M/out" >/dev/null 2>"$T/err3"; rc=$?
echo "  on a full disk: exit $rc: $(tail -1 "$T/err3")"
check "disk full from the start: non-zero exit" [ $rc -ne 0 ]
check "disk full from the start: error names the first image" grep -q "cannot write $M/out/images/000000_[a-z]*.png: No space left on device" "$T/err3"
check "disk full from the start: no files written" [ -z "$(find "$M/out" -type f)" ]
# 4. distill: the student's weights (written by Darknet's unchecked
# save_weights) do not fit: the same clear error, no temporary left.
leave_free 100
sed 's/^batch=128/batch=10/; s/^max_batches=.*/max_batches=20/; s/^burn_in=.*/burn_in=5/' cfg/fmnist-student.cfg > "$T/student.cfg"
printf '[inversion]\nbatch=10\niterations=5\ngray=1\n[adam]\nwarmup=1\n[distill]\nimages=20\nbackup_every=10\n' > "$T/di.cfg"
"$DARKNET" inversion distill "$T/di.cfg" $TCFG "$TW" "$T/student.cfg" -out "$M/d" -labels cfg/fmnist.labels >/dev/null 2>"$T/err5"; rc=$?
echo "  distill with 100 KiB free: exit $rc: $(tail -1 "$T/err5")"
check "distill, full disk: non-zero exit" [ $rc -ne 0 ]
check "distill, full disk: error names the weights file" grep -q "cannot write $M/d/backup/student-[0-9]*.weights: No space left on device" "$T/err5"
check "distill, full disk: no temporary files left" no_temporaries "$M/d"
check "distill, full disk: every PNG left is complete" pngs_complete "$M/d/pool"
summary
