// One batch of DeepInversion: the only place that knows the order of the
// steps. Verbs decide what to do with the images it returns.
//
//   params --view (gray, upsample, roll, flip)--> input --frozen teacher-->
//   loss = CE + a_f R_feature + priors --backward--> grad input --view^T-->
//   grad params --Adam, schedule--> params, clipped to [0, 1]; best kept.
#ifndef INV_SYNTH_H
#define INV_SYNTH_H
#include <stdint.h>

#include "adam.h"
#include "bn_stat.h"
#include "frozen.h"
#include "icfg.h"
#include "rng.h"

typedef struct {
    int batch_index, stage, iteration, iterations;  // stage 0: low resolution, 1: full
    float lr;
    double total, ce, bn, tv_l1, tv_l2, l2, compete;
    double target_p;        // mean teacher probability of the targets
} synth_record;

typedef void (*synth_observer)(const synth_record *r, void *ctx);

// The backend that runs the steps (synth_ops.h): the CPU or CUDA.
typedef struct synth_ops synth_ops;

typedef struct {
    frozen_net *teacher;
    frozen_net *student;    // NULL, or the student the competition term plays against
    inversion_params p;
    int batch, c, h, w, pc;
    // Host: the pixels being optimised and the best so far, the logits' gradients.
    float *params, *best, *zt_grad, *zs_grad;
    // The CPU backend's working buffers (host).
    float *input, *grad_input, *grad_params, *grad_student;
    adam_state adam;        // the step count and betas (and on the CPU the moments)
    bn_momentum *momentum;  // fast mode's BN momentum (bn_stat.h), or NULL
    const synth_ops *ops;   // the teacher's backend
    void *backend;          // its own buffers (device memory on CUDA)
} synth;

// teacher's (and student's) batch must equal p->batch. student may be NULL
// (then [compete] weight must be 0). Dies on impossible settings.
synth *make_synth(frozen_net *teacher, frozen_net *student, const inversion_params *p);
void free_synth(synth *s);

// Loss and gradient at a given network input [batch][c][h][w] (grad_input may
// be NULL: loss only). Fills the loss fields of r.
double synth_loss(synth *s, const float *input, const int *targets, float *grad_input, synth_record *r);

// Synthesizes s->batch images for targets into images [batch][c][h][w].
// obs (may be NULL) is called after every iteration. batch_index is only
// reported back through the records.
void synth_batch(synth *s, const int *targets, uint64_t seed, int batch_index, float *images, synth_observer obs, void *ctx);

// Shared by the backends.
void synth_check_finite(const synth_record *r, const float *grad, size_t n);
void synth_init_params(synth *s, rng *r, size_t np);
void synth_upsample_params(synth *s, int factor);
#endif
