// The steps of one DeepInversion iteration as one table of functions with a
// CPU implementation (synth_cpu.c) and a CUDA one (synth_gpu.c): synth.c's
// synth_batch and synth_loss are written once and drive either. "Backend"
// memory is the host's for the CPU and the device's for CUDA; each backend
// keeps its own buffers (s->backend). What crosses to the host on CUDA: the
// softmax outputs and logits (batch*classes floats), their gradients back, the
// loss terms and a finiteness flag; the cross-entropy, the competition term
// and every random draw are the CPU code's, so both backends follow the same
// sequence from the same seed.
#ifndef INV_SYNTH_OPS_H
#define INV_SYNTH_OPS_H
#include <stddef.h>

#include "augment.h"
#include "frozen.h"
#include "prior.h"
#include "synth.h"

struct synth_ops {
    const char *name;
    void (*init)(synth *s);                     // the backend's buffers (s->backend)
    void (*release)(synth *s);
    // The backend's network input [batch][c][h][w] and input gradient.
    float *(*input)(synth *s);
    float *(*grad_input)(synth *s);
    // Host data for synth_loss: a backend pointer holding host[0..n) (the
    // CPU returns host itself), a backend gradient buffer to write into, and
    // that gradient copied to host (nothing to do on the CPU).
    const float *(*load_input)(synth *s, const float *host, size_t n);
    float *(*grad_buffer)(synth *s, float *host);
    void (*store_grad)(synth *s, const float *backend, float *host, size_t n);
    // s->params (host, np values) to the backend; the backend's params (and
    // with best, its best) back to s->params (s->best).
    void (*push_params)(synth *s, size_t np);
    void (*pull_params)(synth *s, size_t np, int best);
    // The view (augment.h): backend params -> backend input, and backend
    // input gradient -> the params' gradient.
    void (*view_forward)(synth *s, const view *v);
    void (*view_backward)(synth *s, const view *v);
    // The frozen networks: forward of a backend input (the softmax output and
    // the logits come back on the host), backward into a backend gradient
    // (overwritten), R_feature after a forward (bn_stat.h), its coefficients cleared.
    const float *(*frozen_forward)(frozen_net *f, const float *input);
    void (*frozen_backward)(frozen_net *f, float *grad_input);
    double (*bn_stat)(frozen_net *f, float weight, float first_multiplier, const bn_momentum *m);
    void (*clear_bn_grad)(frozen_net *f);
    // The student's share of the input gradient: its backend buffer, and grad += it.
    float *(*grad_student)(synth *s);
    void (*add)(synth *s, float *grad, const float *other, size_t n);
    // prior.h's prior_loss on backend x, adding to backend grad (may be NULL).
    prior_terms (*priors)(synth *s, const float *x, float *grad);
    // 1 if every value of the backend gradient is finite.
    int (*grad_finite)(synth *s, const float *grad, size_t n);
    // best = params; Adam's moments zeroed (s->adam.t too); Adam's step with
    // the learning rate, then the clip to [0, 1].
    void (*keep_best)(synth *s, size_t np);
    void (*reset_adam)(synth *s, size_t np);
    void (*adam_clip)(synth *s, size_t np, float lr);
};

extern const synth_ops synth_cpu_ops;
#ifdef GPU
extern const synth_ops synth_cuda_ops;
#endif
#endif
