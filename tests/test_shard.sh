#!/bin/sh
# Sharded dream and merge: N shards joined by merge are byte for byte one
# unsharded run, whatever N; a shard killed mid-run resumes; shards of
# another run, missing, duplicated or unfinished shards are refused.
cd "$(dirname "$0")/.." || exit 2
. tests/shlib.sh

scratch_dir shard
D=$(cd "$(dirname "$DARKNET")" && pwd)/$(basename "$DARKNET")
TCFG=$PWD/cfg/fmnist-teacher.cfg TW=$PWD/weights/fmnist-teacher.weights LAB=$PWD/cfg/fmnist.labels
# Results depend on the thread count (the batch is sliced per thread): one for every run here.
export OMP_NUM_THREADS=1
unset SLURM_ARRAY_TASK_ID SLURM_ARRAY_TASK_MIN SLURM_ARRAY_TASK_COUNT JOB_COMPLETION_INDEX
# 26 images at 7 batches of 4, the last one short.
printf '[inversion]\nbatch=4\niterations=30\nimages=26\ngray=1\nlog_every=1000\n[bn_stat]\nweight=1\n[adam]\nlr=0.05\nwarmup=2\n' > "$T/i.cfg"
dream() { "$D" inversion dream "$T/i.cfg" "$TCFG" "$TW" -labels "$LAB" "$@"; }
# Every set is written as `set` from its own folder, so lists and .data name the same paths.
at() { d=$1; shift; mkdir -p "$T/$d" && (cd "$T/$d" && "$@"); }
same() { diff -r "$T/$1/set" "$T/$2/set" >"$T/diff" 2>&1 || { head -5 "$T/diff"; return 1; }; }

at one dream -out set >/dev/null 2>&1
check "unsharded run" [ -s "$T/one/set/dream.data" ]

# Three shards, the last one (3 batches) killed after its first batch, then resumed.
at sh dream -out s0 -shard 0/3 >/dev/null 2>&1
at sh dream -out s1 -shard 1/3 >/dev/null 2>&1
(cd "$T/sh" && exec "$D" inversion dream "$T/i.cfg" "$TCFG" "$TW" -labels "$LAB" -out s2 -shard 2/3) >/dev/null 2>&1 &
kill_when_exists $! "$T/sh/s2/dream.progress" 3000 0.01
if [ -e "$T/sh/s2/shard.manifest" ]; then
    skip "a shard killed mid-run (it finished before the kill)"
else
    check "killed shard: part of its batches written" grep -q '^batches=[12]$' "$T/sh/s2/dream.progress"
    expect_fail "unfinished shard refused" "s2: the shard has not finished" at m0 "$D" inversion merge set ../sh/s0 ../sh/s1 ../sh/s2
    check "unfinished shard: nothing merged" [ ! -e "$T/m0/set" ]
    at sh dream -out s2 -shard 2/3 >"$T/resume.log" 2>&1
    check "killed shard resumes" grep -q 'resuming s2 after' "$T/resume.log"
fi
check "shard writes a manifest" grep -q '^shard=2/3$' "$T/sh/s2/shard.manifest"
check "shard 2/3 made batches 4 to 6" grep -q '^batches=4-7$' "$T/sh/s2/shard.manifest"
check "shard 1/3 keeps only its images" [ "$(ls "$T/sh/s1/images" | wc -l)" = 8 ]
check "shard 2/3 keeps only its images" [ "$(ls "$T/sh/s2/images" | wc -l)" = 10 ]
check "no temporary files at the shards" [ -z "$(find "$T/sh" -name '*.tmp.*')" ]

# Shards given at any order; the merged set is the unsharded one, byte for byte.
at m3 "$D" inversion merge set ../sh/s2 ../sh/s0 ../sh/s1 >"$T/merge.log" 2>&1
check "merge of 3 shards runs" [ -s "$T/m3/set/dream.data" ]
check "3 shards + merge == one unsharded run, byte for byte" same one m3
check "merge hard-links the images" [ "$(stat -c %h "$T/m3/set/images/000000_tee.png")" = 2 ]
check "merge says how the images were placed" grep -q '26 hard-linked, 0 copied' "$T/merge.log"
at m3 "$D" inversion merge set ../sh/s0 ../sh/s1 ../sh/s2 >/dev/null 2>&1
check "merging again into the same set" same one m3
at c3 "$D" inversion merge set ../sh/s0 ../sh/s1 ../sh/s2 -copy >"$T/copy.log" 2>&1
check "merge -copy: same bytes" same one c3
check "merge -copy copies" [ "$(stat -c %h "$T/c3/set/images/000000_tee.png")" = 1 ]
check "merge -copy says so" grep -q '0 hard-linked, 26 copied' "$T/copy.log"

# Two shards, the index from a Slurm array (ids 4-5) and a Kubernetes indexed job;
# eight shards, one of them with no batch at all.
(export JOB_COMPLETION_INDEX=0; at sh2 dream -out a -shards 2) >/dev/null 2>&1
(export SLURM_ARRAY_TASK_ID=5 SLURM_ARRAY_TASK_MIN=4 SLURM_ARRAY_TASK_COUNT=2; at sh2 dream -out b -shards 2) >/dev/null 2>&1
check "index from JOB_COMPLETION_INDEX" grep -q '^shard=0/2$' "$T/sh2/a/shard.manifest"
check "index from SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN" grep -q '^shard=1/2$' "$T/sh2/b/shard.manifest"
at m2 "$D" inversion merge set ../sh2/b ../sh2/a >/dev/null 2>&1
check "2 shards + merge == one unsharded run" same one m2
for i in 0 1 2 3 4 5 6 7; do at sh8 dream -out $i -shard $i/8 >/dev/null 2>&1; done
check "one of 8 shards of 7 batches is empty" [ "$(for i in 0 1 2 3 4 5 6 7; do ls "$T/sh8/$i/images" | wc -l; done | grep -c '^0$')" = 1 ]
at m8 sh -c '"$0" inversion merge set ../sh8/*' "$D" >/dev/null 2>&1
check "8 shards + merge == one unsharded run" same one m8

# A shard made with another thread count belongs to the run, but its last bits may differ: merge says so.
(export OMP_NUM_THREADS=2; at sh dream -out t1 -shard 1/3) >/dev/null 2>&1
at mt "$D" inversion merge set ../sh/s0 ../sh/t1 ../sh/s2 >"$T/mt.log" 2>&1
check "shards of other thread counts: merged" [ -s "$T/mt/set/dream.data" ]
check "shards of other thread counts: a warning" grep -q 'warning: ../sh/s0 ran on cpu (.*) with 1 thread, ../sh/t1 on cpu (.*) with 2: the merged set is not byte for byte' "$T/mt.log"

# What merge refuses; nothing is written then.
refused() {  # name, message, shard dirs (relative to $T/bad)...
    name=$1 msg=$2; shift 2
    rm -rf "$T/bad/set"
    expect_fail "$name" "$msg" at bad "$D" inversion merge set "$@"
    check "$name: nothing written" [ ! -e "$T/bad/set" ]
}
mkdir -p "$T/bad"
refused "missing shard" "1 of the run's 3 shards is missing: shard 1/3" ../sh/s0 ../sh/s2
refused "same shard twice" "../sh/s0 is given twice" ../sh/s0 ../sh/s0 ../sh/s1 ../sh/s2
cp -r "$T/sh/s0" "$T/sh/s0copy"
refused "two directories of one shard" "shard 0/3 is given twice: ../sh/s0 and ../sh/s0copy" ../sh/s0 ../sh/s0copy ../sh/s1 ../sh/s2
refused "shards of another count" "of 2 shards, not 3" ../sh/s0 ../sh2/b ../sh/s2
at other dream -out s1 -shard 1/3 -seed 2 >/dev/null 2>&1
refused "shard of another seed" "../other/s1 is not a shard of the same run as ../sh/s0: -seed 2, not 1" ../sh/s0 ../other/s1 ../sh/s2
cp -r "$T/sh/s1" "$T/sh/forged"
sed -i 's/^weights=[0-9a-f]*/weights=0123456789abcdef/' "$T/sh/forged/shard.manifest"
refused "shard of other weights" "the teacher weights differ" ../sh/s0 ../sh/forged ../sh/s2
cp -r "$T/sh/s1" "$T/sh/cut" && sed -i '/^weights=/d' "$T/sh/cut/shard.manifest"
refused "damaged manifest" "cut/shard.manifest: no weights= line; the shard is damaged" ../sh/s0 ../sh/cut ../sh/s2
cp -r "$T/sh/s1" "$T/sh/bent" && sed -i 's/^batches=.*/batches=1-3/' "$T/sh/bent/shard.manifest"
refused "manifest of the wrong batches" "bent/shard.manifest: batches=1-3, but shard 1/3 of 7 batches makes 2-4" ../sh/s0 ../sh/bent ../sh/s2
refused "not a shard" "../one/set is not a dream shard" ../sh/s0 ../one/set ../sh/s2
refused "no such shard" "../sh/none: no such directory" ../sh/s0 ../sh/none ../sh/s2
expect_fail "merge into a shard" "is one of the shards" at sh "$D" inversion merge s1 s0 s1 s2
at two "$D" inversion dream "$T/i.cfg" "$TCFG" "$TW" -labels "$LAB" -out set -n 4 >/dev/null 2>&1
expect_fail "merge over another run's set" "holds the output of another dream run" at two "$D" inversion merge set ../sh/s0 ../sh/s1 ../sh/s2
check "another run's set untouched" [ "$(wc -l < "$T/two/set/train.list")" = 4 ]
check "another run's images untouched" [ "$(ls "$T/two/set/images" | wc -l)" = 4 ]

# What dream refuses before any work.
expect_fail "-shard out of range" "-shard 3/3: shards are numbered 0 to 2" dream -out "$T/x" -shard 3/3
expect_fail "-shard malformed" "-shard 1: expected I/N" dream -out "$T/x" -shard 1
expect_fail "-shards without an index" "-shards 3 needs the shard's index" dream -out "$T/x" -shards 3
expect_fail "-shards against the array's size" "the job array has 4 tasks" \
    env SLURM_ARRAY_TASK_ID=0 SLURM_ARRAY_TASK_COUNT=4 "$D" inversion dream "$T/i.cfg" "$TCFG" "$TW" -labels "$LAB" -out "$T/x" -shards 3
expect_fail "-shard and -shards" "not both" dream -out "$T/x" -shard 0/2 -shards 2
check "refused shards: nothing written" [ ! -e "$T/x" ]
expect_fail "a shard's directory for another shard" "holds the output of another dream run" at sh dream -out s0 -shard 1/3

# distill takes the merged set as its pool.
sed 's/^batch=128/batch=8/; s/^max_batches=2400/max_batches=3/' cfg/fmnist-student.cfg > "$T/student.cfg"
printf '[inversion]\nbatch=4\niterations=2\n[distill]\nimages=0\nbackup_every=100\nvalid_every=100\n' > "$T/di.cfg"
at m3 "$D" inversion distill "$T/di.cfg" "$TCFG" "$TW" "$T/student.cfg" -pool set/dream.data -out "$T/distill" >"$T/distill.log" 2>&1
check "distill -pool reads the merged set" [ -s "$T/distill/student.weights" ]
check "distill's pool is the merged set" grep -q 'pool 26 images (0 synthesized)' "$T/distill.log"
summary
