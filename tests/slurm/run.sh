#!/bin/bash
# A real Slurm cluster on this machine: munged, slurmctld and slurmd (Debian's
# munge, slurmctld, slurmd, slurm-client) started as root without systemd, one
# node with 2 CPUs, no accounting. examples/slurm/dream-array.sbatch is
# submitted as an array of 4 shards and a merge job that depends on it; the
# merged set must be byte for byte one process's run. Everything runs from a
# scratch directory with its own config, munge socket and ports; the daemons
# (and anything the jobs left) are stopped by their pids at the end, on
# failure too. Needs root and ./darknet (make). ~1-2 minutes.
set -u
cd "$(dirname "$0")/../.." || exit 2
ROOT=$PWD
passed=0; failed=0
check() {
    name=$1; shift
    if "$@"; then passed=$((passed + 1)); echo "ok $name"; else failed=$((failed + 1)); echo "FAIL $name"; fi
}
die() { echo "tests/slurm/run.sh: $*" >&2; echo "$passed passed, $((failed + 1)) failed"; exit 1; }

[ "$(id -u)" = 0 ] || die "slurmd runs jobs as their users: run this as root"
for t in munged slurmctld slurmd sbatch squeue scontrol scancel sinfo; do
    command -v $t >/dev/null || die "$t not found: apt-get install munge slurmctld slurmd slurm-client (deps.txt)"
done
[ -x ./darknet ] || die "./darknet not found: run make first"

W=$(mktemp -d /tmp/inv-slurm-XXXXXX) || exit 2
chmod 755 "$W"   # munged wants its socket's directory searchable by all
CONF=$W/slurm.conf
# Client commands and the daemons see this cluster's config only; the jobs
# inherit it, which is how cleanup finds whatever they left running.
sl() { SLURM_CONF=$CONF "$@"; }

# Stops what this script started: jobs first, then the daemons by their pid
# files, then any process that still carries this cluster's SLURM_CONF.
cleanup() {
    rc=$?
    trap - EXIT INT TERM
    if [ -s "$W/slurmctld.pid" ]; then
        sl scancel --user=root >/dev/null 2>&1
        for _ in $(seq 50); do [ -z "$(sl squeue -h 2>/dev/null)" ] && break; sleep 0.2; done
    fi
    for d in slurmd slurmctld munged; do
        p=$(cat "$W/$d.pid" 2>/dev/null) || continue
        kill "$p" 2>/dev/null
        for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.2; done
        kill -0 "$p" 2>/dev/null && kill -KILL "$p" 2>/dev/null
    done
    for e in /proc/[0-9]*/environ; do
        p=${e#/proc/}; p=${p%/environ}
        [ "$p" = $$ ] && continue
        if tr '\0' '\n' 2>/dev/null < "$e" | grep -qxF "SLURM_CONF=$CONF"; then
            echo "stopping leftover process $p ($(cat /proc/$p/comm 2>/dev/null))"
            kill -KILL "$p" 2>/dev/null
        fi
    done
    if [ "$rc" != 0 ] || [ "$failed" != 0 ]; then
        for f in "$W"/*.log "$W"/slurm/*.out; do [ -f "$f" ] && { echo "== $f"; tail -15 "$f"; }; done
    fi
    rm -rf "$W"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# munge: a fresh key, its own socket.
dd if=/dev/urandom of="$W/munge.key" bs=1024 count=1 2>/dev/null && chmod 400 "$W/munge.key"
munged -S "$W/munge.socket" --key-file="$W/munge.key" --pid-file="$W/munged.pid" \
    --log-file="$W/munged.log" --seed-file="$W/munged.seed" || die "munged did not start ($(tail -1 "$W/munged.log" 2>/dev/null))"

# Two free ports for slurmctld and slurmd.
used=$(cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | while read -r _ local _; do
    case $local in *:*) echo $((16#${local##*:})) ;; esac; done | sort -u)
ports=""
for p in $(seq $((20000 + $$ % 20000)) 65000); do
    printf '%s\n' "$used" | grep -qx "$p" && continue
    ports="$ports $p"; [ "$(echo $ports | wc -w)" = 2 ] && break
done
set -- $ports
H=$(hostname -s)
mkdir -p "$W/state" "$W/spool" "$W/slurm"
cat > "$CONF" <<EOF
ClusterName=invtest
SlurmctldHost=$H(127.0.0.1)
SlurmctldPort=$1
SlurmdPort=$2
AuthType=auth/munge
AuthInfo=socket=$W/munge.socket
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$W/state
SlurmdSpoolDir=$W/spool
SlurmctldPidFile=$W/slurmctld.pid
SlurmdPidFile=$W/slurmd.pid
SlurmctldLogFile=$W/slurmctld.log
SlurmdLogFile=$W/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SwitchType=switch/none
MpiDefault=none
ReturnToService=2
MinJobAge=600
NodeName=$H NodeAddr=127.0.0.1 CPUs=2 State=UNKNOWN
PartitionName=local Nodes=$H Default=YES MaxTime=INFINITE State=UP
EOF
sl slurmctld -f "$CONF" || die "slurmctld did not start"
sl slurmd -f "$CONF" -N "$H" || die "slurmd did not start"
for _ in $(seq 150); do [ "$(sl sinfo -h -o %t 2>/dev/null)" = idle ] && break; sleep 0.2; done
check "the node is up" [ "$(sl sinfo -h -o %t)" = idle ]
echo "slurm: $(sl sinfo -h -o '%P %D node(s) %c CPUs %t') on ports $1 and $2"

# A short run: 400 images in 8 batches of 50, 100 iterations each.
sed 's/^batch=100/batch=50/; s/^iterations=250/iterations=100/; s/^images=500/images=400/' \
    cfg/fmnist-inversion.cfg > "$W/inversion.cfg"
export DARKNET=$ROOT/darknet ICFG=$W/inversion.cfg TEACHER_CFG=$ROOT/cfg/fmnist-teacher.cfg \
       TEACHER_WEIGHTS=$ROOT/weights/fmnist-teacher.weights LABELS=$ROOT/cfg/fmnist.labels \
       OUT=set SHARDS=shards OMP_NUM_THREADS=1

# The array and the merge that waits for it, as examples/slurm/dream-array.sbatch says.
start=$(date +%s%N)
cd "$W/slurm" || exit 2
jid=$(sl sbatch --parsable --array=0-3 "$ROOT/examples/slurm/dream-array.sbatch") || die "sbatch of the array failed"
mid=$(sl sbatch --parsable --dependency=afterok:$jid "$ROOT/examples/slurm/dream-array.sbatch") || die "sbatch of the merge failed"
echo "submitted array job $jid (4 tasks) and merge job $mid (afterok:$jid)"
for _ in $(seq 1800); do [ -z "$(sl squeue -h -j "$jid,$mid" 2>/dev/null)" ] && break; sleep 0.5; done
slurm_ms=$((($(date +%s%N) - start) / 1000000))
for t in 0 1 2 3; do
    echo "array task $t: $(sl scontrol show job "${jid}_$t" 2>/dev/null | grep -o 'JobState=[A-Z_]*' | head -1); $(grep '^dream: shard' "slurm-${jid}_$t.out" 2>/dev/null)"
    check "array task $t completed" grep -q "^dream: shard $t/4" "slurm-${jid}_$t.out"
done
echo "merge job: $(sl scontrol show job "$mid" 2>/dev/null | grep -o 'JobState=[A-Z_]*' | head -1); $(cat "slurm-$mid.out" 2>/dev/null)"
check "merge job completed" grep -q "^merge: 4 shards, 400 images in set" "slurm-$mid.out"

# One process, the same settings: the same bytes.
mkdir -p "$W/one" && cd "$W/one" || exit 2
one_start=$(date +%s%N)
"$DARKNET" inversion dream "$ICFG" "$TEACHER_CFG" "$TEACHER_WEIGHTS" -labels "$LABELS" -out set >"$W/one.log" 2>&1
one_ms=$((($(date +%s%N) - one_start) / 1000000))
check "one-process run" [ -s "$W/one/set/dream.data" ]
check "Slurm array + merge == one process, byte for byte" diff -r "$W/one/set" "$W/slurm/set"
secs() { echo "$(($1 / 1000)).$(($1 % 1000 / 100)) s"; }
echo "time: 4 shards on the 2-CPU node, from submission to the merged set, $(secs $slurm_ms); one process (1 thread), $(secs $one_ms)"
cd "$ROOT" || exit 2
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
