# Sourced by the bench scripts (from the project root): the inversion cfgs
# their rows derive from a shipped one, and CPU-time accounting.

# Random noise: the starting pixels (one iteration at learning rate 0).
noise_cfg() { sed 's/^lr=.*/lr=0/; /^\[inversion\]/,/^\[/{s/^iterations=.*/iterations=1/}' "$1"; }

# DeepDream: the BN-statistic term off ([bn_stat] weight=0).
deepdream_cfg() { sed 's/^\[bn_stat\]$/[bn_stat]\nweight=0/; /^\[bn_stat\]/,/^\[/{/^weight=[0-9.]*$/d}' "$1"; }

# cpu TAG COMMAND...: runs it (output appended to $O/TAG.log; the script
# exits on failure) and adds its CPU seconds (user + system) to $O/cpu.TAG.
cpu() {
    tag=$1; shift
    /usr/bin/time -f "%U %S" -o "$O/time.$tag" "$@" >>"$O/$tag.log" 2>&1 || { echo "$tag failed:"; tail -5 "$O/$tag.log"; exit 1; }
    awk '{print $1 + $2}' "$O/time.$tag" >> "$O/cpu.$tag"
}
