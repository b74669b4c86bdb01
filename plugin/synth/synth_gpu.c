// The CUDA backend of synth_ops.h: the pixels, the network input and every
// gradient in device memory (kernels.cu for the view, the priors, Adam and
// the finiteness check; frozen_gpu.c for the networks). What crosses to the
// host each iteration: the softmax outputs and logits (batch*classes floats),
// their gradients back, the loss terms and a finiteness flag.
#ifdef GPU
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "darknet_internal.h"
#include "frozen_ops.h"
#include "kernel_ops.h"
#include "kernels.h"
#include "synth_ops.h"
#include "util.h"

// The backend's buffers (s->backend), all on the device.
typedef struct {
    float *params, *best, *grad_params, *m, *v, *input, *grad_input, *grad_student;
    double *prior;          // the prior sums (8 + batch doubles), then the L2 coefficients (batch floats)
    double *prior_part;     // the prior kernels' partial sums
    int *flag;              // the finiteness flag
} cuda_bufs;

static cuda_bufs *bufs(synth *s) { return s->backend; }

static void *dev_zeros(size_t bytes)
{
    void *p = NULL;
    if (cudaMalloc(&p, bytes) != cudaSuccess) inv_die("CUDA: cannot allocate %zu bytes on the device", bytes);
    gpu_check_call(cudaMemset(p, 0, bytes), "memset");
    return p;
}

static void cuda_init(synth *s)
{
    size_t n = (size_t)s->batch * s->c * s->h * s->w, np = (size_t)s->batch * s->pc * s->h * s->w;
    cuda_bufs *d = xcalloc(1, sizeof *d);
    s->backend = d;
    gpu_check_call(cudaSetDevice(s->teacher->gpu), "set device");
    d->params = dev_zeros(np * sizeof(float));
    d->best = dev_zeros(np * sizeof(float));
    d->grad_params = dev_zeros(np * sizeof(float));
    d->m = dev_zeros(np * sizeof(float));
    d->v = dev_zeros(np * sizeof(float));
    d->input = dev_zeros(n * sizeof(float));
    d->grad_input = dev_zeros(n * sizeof(float));
    d->grad_student = dev_zeros(n * sizeof(float));
    d->prior = dev_zeros((8 + (size_t)s->batch) * sizeof(double) + (size_t)s->batch * sizeof(float));
    d->prior_part = dev_zeros(gpu_prior_partials_size(s->batch, s->c, s->h, s->w) * sizeof(double));
    d->flag = dev_zeros(sizeof(int));
}

static void cuda_release(synth *s)
{
    cuda_bufs *d = bufs(s);
    if (!d) return;
    float *f[] = {d->params, d->best, d->grad_params, d->m, d->v, d->input, d->grad_input, d->grad_student};
    for (size_t i = 0; i < sizeof f / sizeof *f; ++i) cudaFree(f[i]);
    cudaFree(d->prior);
    cudaFree(d->prior_part);
    cudaFree(d->flag);
    free(d);
    s->backend = NULL;
}

// prior.c's prior_loss: sums on the device, norms here, gradient on the device.
static prior_terms cuda_priors(synth *s, const float *x, float *grad)
{
    cuda_bufs *d = bufs(s);
    const inversion_params *p = &s->p;
    int B = s->batch, C = s->c, H = s->h, W = s->w;
    double acc[8 + B], t[3];
    float k2[4], k1[4], kl2[B];
    gpu_prior_sums(x, B, C, H, W, d->prior, d->prior_part);
    gpu_check_call(cudaMemcpy(acc, d->prior, sizeof acc, cudaMemcpyDeviceToHost), "prior sums");
    prior_coeffs(acc, B, C, H, W, p->prior_tv_l1, p->prior_tv_l2, p->prior_l2, k2, k1, kl2, t);
    float *d_kl2 = NULL;
    if (grad && p->prior_l2 != 0) {
        // The L2 coefficients' device copy lies after the sums (synth_gpu_init).
        d_kl2 = (float *)(d->prior + 8 + B);
        gpu_check_call(cudaMemcpy(d_kl2, kl2, sizeof(float) * B, cudaMemcpyHostToDevice), "prior l2 coefficients");
    }
    if (grad) gpu_prior_grad(x, B, C, H, W, k2, k1, d_kl2, grad);
    gpu_check_launch("priors");
    prior_terms r = {t[0], t[1], t[2]};
    return r;
}

// bn_stat.h's bn_stat_loss on the device (a zero weight clears the coefficients).
// The BN momentum is the CPU's only: make_fast_synth refuses it on a GPU.
static double cuda_bn_stat(frozen_net *f, float weight, float first_multiplier, const bn_momentum *m)
{
    if (m && m->rate > 0) inv_die("internal: [bn_stat] momentum on a GPU");
    if (weight == 0) {
        frozen_clear_bn_grad_gpu(f);
        return 0;
    }
    return bn_stat_loss_gpu(f, weight, first_multiplier);
}

static float *cuda_input(synth *s) { return bufs(s)->input; }
static float *cuda_grad_input(synth *s) { return bufs(s)->grad_input; }
static float *cuda_grad_student(synth *s) { return bufs(s)->grad_student; }

static const float *cuda_load_input(synth *s, const float *host, size_t n)
{
    gpu_check_call(cudaMemcpy(bufs(s)->input, host, n * sizeof(float), cudaMemcpyHostToDevice), "input");
    return bufs(s)->input;
}

static float *cuda_grad_buffer(synth *s, float *host) { (void)host; return bufs(s)->grad_input; }

static void cuda_store_grad(synth *s, const float *backend, float *host, size_t n)
{
    (void)s;
    gpu_check_call(cudaMemcpy(host, backend, n * sizeof(float), cudaMemcpyDeviceToHost), "input gradient");
}

static void cuda_push_params(synth *s, size_t np)
{
    gpu_check_call(cudaSetDevice(s->teacher->gpu), "set device");
    gpu_check_call(cudaMemcpy(bufs(s)->params, s->params, np * sizeof(float), cudaMemcpyHostToDevice), "params");
}

static void cuda_pull_params(synth *s, size_t np, int best)
{
    gpu_check_call(cudaMemcpy(s->params, bufs(s)->params, np * sizeof(float), cudaMemcpyDeviceToHost), "params");
    if (best) gpu_check_call(cudaMemcpy(s->best, bufs(s)->best, np * sizeof(float), cudaMemcpyDeviceToHost), "best");
}

static void cuda_view_forward(synth *s, const view *v)
{
    gpu_view_forward(v->batch, v->c, v->h, v->w, v->pc, v->factor, v->dy, v->dx, v->flip, bufs(s)->params, bufs(s)->input);
}

static void cuda_view_backward(synth *s, const view *v)
{
    gpu_view_backward(v->batch, v->c, v->h, v->w, v->pc, v->factor, v->dy, v->dx, v->flip, bufs(s)->grad_input,
                      bufs(s)->grad_params);
}

static void cuda_add(synth *s, float *grad, const float *other, size_t n)
{
    (void)s;
    axpy_gpu((int)n, 1, (float *)other, 1, grad, 1);
}

static int cuda_grad_finite(synth *s, const float *grad, size_t n)
{
    int bad = 0;
    gpu_check_call(cudaMemset(bufs(s)->flag, 0, sizeof(int)), "finiteness flag");
    gpu_any_nonfinite((long)n, grad, bufs(s)->flag);
    gpu_check_call(cudaMemcpy(&bad, bufs(s)->flag, sizeof(int), cudaMemcpyDeviceToHost), "finiteness flag");
    return !bad;
}

static void cuda_keep_best(synth *s, size_t np)
{
    gpu_check_call(cudaMemcpy(bufs(s)->best, bufs(s)->params, np * sizeof(float), cudaMemcpyDeviceToDevice), "best");
}

static void cuda_reset_adam(synth *s, size_t np)
{
    s->adam.n = np;
    s->adam.t = 0;
    gpu_check_call(cudaMemset(bufs(s)->m, 0, np * sizeof(float)), "adam");
    gpu_check_call(cudaMemset(bufs(s)->v, 0, np * sizeof(float)), "adam");
}

// adam.c's adam_step, then the clip to [0, 1], in one kernel.
static void cuda_adam_clip(synth *s, size_t np, float lr)
{
    adam_state *a = &s->adam;
    ++a->t;
    float c1 = 1 - powf(a->beta1, a->t), c2 = 1 - powf(a->beta2, a->t);
    gpu_adam_clip((long)np, bufs(s)->params, bufs(s)->grad_params, bufs(s)->m, bufs(s)->v, a->beta1, a->beta2, a->eps,
                  lr / c1, 1 / sqrtf(c2));
}

const synth_ops synth_cuda_ops = {
    .name = "CUDA",
    .init = cuda_init,
    .release = cuda_release,
    .input = cuda_input,
    .grad_input = cuda_grad_input,
    .load_input = cuda_load_input,
    .grad_buffer = cuda_grad_buffer,
    .store_grad = cuda_store_grad,
    .push_params = cuda_push_params,
    .pull_params = cuda_pull_params,
    .view_forward = cuda_view_forward,
    .view_backward = cuda_view_backward,
    .frozen_forward = frozen_forward_gpu,
    .frozen_backward = frozen_backward_gpu,
    .bn_stat = cuda_bn_stat,
    .clear_bn_grad = frozen_clear_bn_grad_gpu,
    .grad_student = cuda_grad_student,
    .add = cuda_add,
    .priors = cuda_priors,
    .grad_finite = cuda_grad_finite,
    .keep_best = cuda_keep_best,
    .reset_adam = cuda_reset_adam,
    .adam_clip = cuda_adam_clip,
};
#endif
