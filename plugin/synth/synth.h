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

typedef struct {
    frozen_net *teacher;
    frozen_net *student;    // NULL, or the student the competition term plays against
    inversion_params p;
    int batch, c, h, w, pc;
    float *params, *best, *input, *grad_input, *grad_params, *grad_student, *zt_grad, *zs_grad;
    adam_state adam;
    // On a GPU teacher (synth_gpu.c): device twins of params, best, input,
    // grad_input, grad_params, grad_student, Adam's m and v; prior sums; a flag.
    float *d_params, *d_best, *d_input, *d_grad_input, *d_grad_params, *d_grad_student, *d_m, *d_v;
    double *d_prior, *d_prior_part;
    int *d_flag;
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

// Shared with synth_gpu.c.
void synth_check_finite(const synth_record *r, const float *grad, size_t n);
void synth_init_params(synth *s, rng *r, size_t np);
void synth_upsample_params(synth *s, int factor);

#ifdef GPU
// synth_gpu.c: the same on the device (teacher->gpu >= 0); every iteration
// stays there but for batch*classes floats each way and the loss terms.
void synth_gpu_init(synth *s);
void synth_gpu_free(synth *s);
double synth_loss_gpu(synth *s, const float *input_gpu, const int *targets, float *grad_input_gpu, synth_record *r);
void synth_batch_gpu(synth *s, const int *targets, uint64_t seed, int batch_index, float *images, synth_observer obs, void *ctx);
#endif
#endif
