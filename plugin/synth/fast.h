// Fast mode (first-order MAML over a generator): one round clones the meta
// generator, takes `steps` Adam steps on the clone and on fresh latent vectors
// against the DeepInversion loss (one gradient per step, each through a new
// jitter/flip view), returns the final clone's images, and applies the sum of
// the gradients the clone met to the meta generator with the meta Adam.
//
//   clone = meta; z ~ N(0, 1)
//   for k < steps: g_k = dL/dθ at the clone; clone, z <- Adam(g_k, dL/dz)
//   images = clone(z); meta <- Adam_meta(Σ_k g_k)
#ifndef INV_FAST_H
#define INV_FAST_H
#include <stdint.h>

#include "generator.h"
#include "synth.h"

typedef struct {
    generator *meta;        // learnt across rounds; its Adam is the meta optimiser (in backups)
    generator *clone;       // the round's copy; its Adam restarts every round
    synth *syn;             // the DeepInversion loss (teacher, student with [compete])
    inversion_params p;
    float *latents, *grad_latents;
    adam_state zadam;
    bn_momentum *momentum;  // [generator] bn_momentum > 0: the rounds' average (in backups), else NULL
    int c;                  // the teacher's input channels (images returned)
} fast_synth;

// The meta generator from p->generator_cfg (weights NULL: random initialisation).
fast_synth *make_fast_synth(synth *syn, const char *weights);
void free_fast_synth(fast_synth *f);
// Draws the round's latents from seed (then the views), runs the round and
// writes the images [batch][c][h][w]; last: the record of the last inner step
// (may be NULL). meta_step 0 leaves the meta generator as it was (tests).
void fast_round(fast_synth *f, const int *targets, uint64_t seed, int batch_index, float *images, synth_record *last,
                int meta_step);
// Images of the meta generator itself for latents drawn from seed (dream -generator).
void fast_sample(fast_synth *f, const int *targets, uint64_t seed, float *images);
#endif
