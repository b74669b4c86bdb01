// synth.c on a GPU teacher: the same steps in the same order, with the pixels,
// the network input and every gradient in device memory. What crosses to the
// host each iteration: the softmax outputs and logits (batch*classes floats),
// their gradients back, the loss terms and a finiteness flag. The cross-entropy
// and the competition term are computed on the host by the CPU code itself;
// the random draws (init, jitter, flip) are the CPU's, so a GPU run follows
// the same augmentation sequence as a CPU run with the same seed.
#ifdef GPU
#include <float.h>
#include <math.h>
#include <string.h>

#include "augment.h"
#include "bn_stat.h"
#include "class_loss.h"
#include "compete.h"
#include "darknet_internal.h"
#include "kernel_ops.h"
#include "kernels.h"
#include "prior.h"
#include "synth.h"
#include "util.h"

static void *dev_zeros(size_t bytes)
{
    void *p = NULL;
    if (cudaMalloc(&p, bytes) != cudaSuccess) inv_die("CUDA: cannot allocate %zu bytes on the device", bytes);
    gpu_check_call(cudaMemset(p, 0, bytes), "memset");
    return p;
}

void synth_gpu_init(synth *s)
{
    size_t n = (size_t)s->batch * s->c * s->h * s->w, np = (size_t)s->batch * s->pc * s->h * s->w;
    gpu_check_call(cudaSetDevice(s->teacher->gpu), "set device");
    s->d_params = dev_zeros(np * sizeof(float));
    s->d_best = dev_zeros(np * sizeof(float));
    s->d_grad_params = dev_zeros(np * sizeof(float));
    s->d_m = dev_zeros(np * sizeof(float));
    s->d_v = dev_zeros(np * sizeof(float));
    s->d_input = dev_zeros(n * sizeof(float));
    s->d_grad_input = dev_zeros(n * sizeof(float));
    s->d_grad_student = dev_zeros(n * sizeof(float));
    // The prior sums (8 + batch doubles), then the L2 term's per-image coefficients (batch floats).
    s->d_prior = dev_zeros((8 + (size_t)s->batch) * sizeof(double) + (size_t)s->batch * sizeof(float));
    s->d_prior_part = dev_zeros(gpu_prior_partials_size(s->batch, s->c, s->h, s->w) * sizeof(double));
    s->d_flag = dev_zeros(sizeof(int));
}

void synth_gpu_free(synth *s)
{
    float *bufs[] = {s->d_params, s->d_best, s->d_grad_params, s->d_m, s->d_v, s->d_input, s->d_grad_input, s->d_grad_student};
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; ++i) cudaFree(bufs[i]);
    cudaFree(s->d_prior);
    cudaFree(s->d_prior_part);
    cudaFree(s->d_flag);
}

// prior.c's prior_loss: sums on the device, norms here, gradient on the device.
static prior_terms prior_loss_gpu(synth *s, const float *x, float *grad)
{
    const inversion_params *p = &s->p;
    int B = s->batch, C = s->c, H = s->h, W = s->w;
    double acc[8 + B], t[3];
    float k2[4], k1[4], kl2[B];
    gpu_prior_sums(x, B, C, H, W, s->d_prior, s->d_prior_part);
    gpu_check_call(cudaMemcpy(acc, s->d_prior, sizeof acc, cudaMemcpyDeviceToHost), "prior sums");
    prior_coeffs(acc, B, C, H, W, p->tv_l1, p->tv_l2, p->l2, k2, k1, kl2, t);
    float *d_kl2 = NULL;
    if (grad && p->l2 != 0) {
        // The L2 coefficients' device copy lies after the sums (synth_gpu_init).
        d_kl2 = (float *)(s->d_prior + 8 + B);
        gpu_check_call(cudaMemcpy(d_kl2, kl2, sizeof(float) * B, cudaMemcpyHostToDevice), "prior l2 coefficients");
    }
    if (grad) gpu_prior_grad(x, B, C, H, W, k2, k1, d_kl2, grad);
    prior_terms r = {t[0], t[1], t[2]};
    return r;
}

double synth_loss_gpu(synth *s, const float *input, const int *targets, float *grad_input, synth_record *r)
{
    frozen_net *t = s->teacher;
    const inversion_params *p = &s->p;
    size_t n = (size_t)s->batch * t->inputs;
    const float *prob = frozen_forward_gpu(t, input);
    r->ce = cross_entropy(prob, targets, s->batch, t->classes, p->ce, t->logit_grad);
    r->target_p = target_probability(prob, targets, s->batch, t->classes);
    r->bn = bn_stat_loss(t, p->bn, p->first_bn_multiplier);
    r->compete = 0;
    if (s->student) {
        frozen_net *st = s->student;
        size_t nz = (size_t)s->batch * t->classes;
        frozen_forward_gpu(st, input);
        for (size_t i = 0; i < nz; ++i) s->zt_grad[i] = s->zs_grad[i] = 0;
        r->compete = compete_loss(frozen_logits(t), frozen_logits(st), s->batch, t->classes, p->compete_temperature,
                                  p->compete, s->zt_grad, s->zs_grad);
        for (size_t i = 0; i < nz; ++i) {
            t->logit_grad[i] += frozen_temperature(t) * s->zt_grad[i];
            st->logit_grad[i] = frozen_temperature(st) * s->zs_grad[i];
        }
        frozen_clear_bn_grad(st);
        if (grad_input) frozen_backward_gpu(st, s->d_grad_student);
    }
    if (grad_input) frozen_backward_gpu(t, grad_input);
    if (grad_input && s->student) axpy_gpu((int)n, 1, s->d_grad_student, 1, grad_input, 1);
    prior_terms pr = prior_loss_gpu(s, input, grad_input);
    r->tv_l1 = pr.tv_l1, r->tv_l2 = pr.tv_l2, r->l2 = pr.l2;
    r->total = r->ce + r->bn + r->tv_l1 + r->tv_l2 + r->l2 + r->compete;
    gpu_check_launch("synth_loss");
    return r->total;
}

// synth_batch, step for step.
void synth_batch_gpu(synth *s, const int *targets, uint64_t seed, int batch_index, float *images, synth_observer obs, void *ctx)
{
    const inversion_params *p = &s->p;
    size_t n = (size_t)s->batch * s->c * s->h * s->w;
    rng r = make_rng(seed);
    int stages = p->lowres_iterations > 0 ? 2 : 1;
    int factor = stages == 2 ? p->lowres_factor : 1;
    size_t np = (size_t)s->batch * s->pc * (s->h / factor) * (s->w / factor);
    gpu_check_call(cudaSetDevice(s->teacher->gpu), "set device");
    synth_init_params(s, &r, np);
    cuda_push_array(s->d_params, s->params, np);
    double best = DBL_MAX;
    for (int stage = 2 - stages; stage < 2; ++stage) {
        if (stage == 1 && factor > 1) {
            cuda_pull_array(s->d_params, s->params, np);
            synth_upsample_params(s, factor);
            factor = 1;
            np = (size_t)s->batch * s->pc * s->h * s->w;
            cuda_push_array(s->d_params, s->params, np);
        }
        int iters = stage == 0 ? p->lowres_iterations : p->iterations;
        view v = {s->batch, s->c, s->h, s->w, s->pc, factor, 0, 0, 0};
        adam_state *a = &s->adam;
        a->n = np;
        a->t = 0;
        gpu_check_call(cudaMemset(s->d_m, 0, np * sizeof(float)), "adam");
        gpu_check_call(cudaMemset(s->d_v, 0, np * sizeof(float)), "adam");
        for (int it = 0; it < iters; ++it) {
            synth_record rec = {batch_index, stage, it, iters, 0, 0, 0, 0, 0, 0, 0, 0, 0};
            rec.lr = schedule_lr(p->lr, it, iters, p->warmup, !strcmp(p->policy, "cosine"));
            view_draw(&v, &r, p->jitter, p->flip);
            gpu_view_forward(v.batch, v.c, v.h, v.w, v.pc, v.factor, v.dy, v.dx, v.flip, s->d_params, s->d_input);
            synth_loss_gpu(s, s->d_input, targets, s->d_grad_input, &rec);
            int bad = 0;
            gpu_check_call(cudaMemset(s->d_flag, 0, sizeof(int)), "finiteness flag");
            gpu_any_nonfinite((long)n, s->d_grad_input, s->d_flag);
            gpu_check_call(cudaMemcpy(&bad, s->d_flag, sizeof(int), cudaMemcpyDeviceToHost), "finiteness flag");
            synth_check_finite(&rec, NULL, 0);
            if (bad) inv_die("batch %d iteration %d: the input gradient is not finite", rec.batch_index, rec.iteration);
            if (stage == 1 && rec.total < best) {
                best = rec.total;
                gpu_check_call(cudaMemcpy(s->d_best, s->d_params, np * sizeof(float), cudaMemcpyDeviceToDevice), "best");
            }
            gpu_view_backward(v.batch, v.c, v.h, v.w, v.pc, v.factor, v.dy, v.dx, v.flip, s->d_grad_input, s->d_grad_params);
            // adam_step, then the clip to [0, 1], in one kernel.
            ++a->t;
            float c1 = 1 - powf(a->beta1, a->t), c2 = 1 - powf(a->beta2, a->t);
            gpu_adam_clip((long)np, s->d_params, s->d_grad_params, s->d_m, s->d_v, a->beta1, a->beta2, a->eps,
                          rec.lr / c1, 1 / sqrtf(c2));
            if (obs) obs(&rec, ctx);
        }
    }
    cuda_pull_array(s->d_params, s->params, np);
    cuda_pull_array(s->d_best, s->best, np);
    gpu_check_launch("synth_batch");
    view out = {s->batch, s->c, s->h, s->w, s->pc, 1, 0, 0, 0};
    view_forward(&out, p->keep_best ? s->best : s->params, images);
}
#endif
