// Images synthesized with DeepInversion into a training pool, each also
// written as out/pool/<index>_<label>.png (targets round robin over the
// teacher's classes), listed in out/pool.list and reloaded from it on resume.
#ifndef INV_SYNTH_POOL_H
#define INV_SYNTH_POOL_H
#include <stdint.h>

#include "darknet.h"
#include "fast.h"
#include "frozen.h"
#include "pool.h"
#include "synth.h"

typedef struct {
    const char *out;
    synth *syn;
    frozen_net *teacher;        // the synthesizer's (batch = its inversion batch)
    char **labels;              // one per teacher class, for file names
    int gray;
    uint64_t seed;
    image_pool *pool;
    int nlisted;                // pool images before the synthesized ones
    int synthesized;            // synthesized batches so far
    // Adaptive DeepInversion: the synthesizer's student (competitor) takes
    // the trained student's parameters before each batch (NULL: none).
    network *competitor;
    const network *student;
    // Fast mode: each batch is a round of this generator (NULL: pixel-by-pixel
    // DeepInversion with syn); its weights and Adam state go into backups.
    fast_synth *fast;
} synth_pool;

// One batch into the pool and onto disk.
void synth_pool_batch(synth_pool *sp);
// out/pool.list: the synthesized images so far, in pool order.
void synth_pool_write_list(const synth_pool *sp);
// Reloads the first `batches` synthesized batches from out/pool.list.
void synth_pool_reload(synth_pool *sp, int batches);
#endif
