// A sharded dream: which batches shard I of N makes, and the manifest that
// lets `merge` check that a set of shard directories is one whole run.
#ifndef INV_SHARD_H
#define INV_SHARD_H
#include <stdint.h>

#include "grid.h"

typedef struct { int index, count; } shard_spec;   // count 0: not sharded

// -shard I/N, or -shards N with the index from a Slurm job array
// (SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN, checked against
// SLURM_ARRAY_TASK_COUNT) or a Kubernetes indexed job (JOB_COMPLETION_INDEX).
// Dies on a malformed or out-of-range index.
shard_spec opt_shard(int argc, char **argv);
// Shard s makes batches [*first, *end) of nbatches: contiguous runs, sizes
// differing by at most one.
void shard_batches(shard_spec s, int nbatches, int *first, int *end);

#define SHARD_MANIFEST "shard.manifest"
#define SHARD_PATH_MAX 1024

// What identifies the run a shard belongs to, and what `merge` needs to
// write the whole set without the networks.
typedef struct {
    shard_spec shard;
    uint64_t run;                 // the whole run's identity (its dream.progress)
    unsigned seed;
    int images, batch, nbatches, classes, c, h, w;
    uint64_t icfg_hash, cfg_hash, weights_hash, labels_hash;  // FNV-1a of each file's bytes, of the labels
    char icfg[SHARD_PATH_MAX], cfg[SHARD_PATH_MAX], weights[SHARD_PATH_MAX];  // as given to dream
    int grid_n, grid_list[GRID_MAX_ROWS];  // -grid-classes (grid_n 0: the default rows)
    // What else decides the images' last bits: OpenMP threads (the batch is
    // sliced per thread), the CPU's vector kernels, CPU or GPU.
    int threads;
    char cpu[16], device[8];
} shard_manifest;

// DIR/shard.manifest, atomically: a shard writes it last, when it is whole.
void write_shard_manifest(const char *dir, const shard_manifest *m);
// Reads DIR/shard.manifest; 0 when it does not exist. Dies naming the file
// and line on anything malformed.
int read_shard_manifest(const char *dir, shard_manifest *m);
#endif
