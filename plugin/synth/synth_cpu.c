// The CPU backend of synth_ops.h: the steps on host buffers, with the CPU
// loops of augment.c, frozen_run.c, bn_stat.c, prior.c and adam.c.
#include <math.h>
#include <string.h>

#include "adam.h"
#include "bn_stat.h"
#include "synth_ops.h"

static void cpu_init(synth *s) { (void)s; }
static void cpu_release(synth *s) { (void)s; }
static float *cpu_input(synth *s) { return s->input; }
static float *cpu_grad_input(synth *s) { return s->grad_input; }
static const float *cpu_load_input(synth *s, const float *host, size_t n) { (void)s, (void)n; return host; }
static float *cpu_grad_buffer(synth *s, float *host) { (void)s; return host; }
static void cpu_store_grad(synth *s, const float *backend, float *host, size_t n) { (void)s, (void)backend, (void)host, (void)n; }
static void cpu_push_params(synth *s, size_t np) { (void)s, (void)np; }
static void cpu_pull_params(synth *s, size_t np, int best) { (void)s, (void)np, (void)best; }
static void cpu_view_forward(synth *s, const view *v) { view_forward(v, s->params, s->input); }
static void cpu_view_backward(synth *s, const view *v) { view_backward(v, s->grad_input, s->grad_params); }
static float *cpu_grad_student(synth *s) { return s->grad_student; }

static void cpu_add(synth *s, float *grad, const float *other, size_t n)
{
    (void)s;
    for (size_t i = 0; i < n; ++i) grad[i] += other[i];
}

static prior_terms cpu_priors(synth *s, const float *x, float *grad)
{
    return prior_loss(x, s->batch, s->c, s->h, s->w, s->p.prior_tv_l1, s->p.prior_tv_l2, s->p.prior_l2, grad);
}

static int cpu_grad_finite(synth *s, const float *grad, size_t n)
{
    (void)s;
    size_t bad = 0;
    #pragma omp parallel for reduction(+ : bad) schedule(static)
    for (size_t i = 0; i < n; ++i) bad += !isfinite(grad[i]);
    return bad == 0;
}

static void cpu_keep_best(synth *s, size_t np) { memcpy(s->best, s->params, np * sizeof(float)); }

static void cpu_reset_adam(synth *s, size_t np)
{
    s->adam.n = np;
    reset_adam(&s->adam);
}

static void cpu_adam_clip(synth *s, size_t np, float lr)
{
    adam_step(&s->adam, s->params, s->grad_params, lr);
    #pragma omp parallel for simd schedule(static)
    for (size_t i = 0; i < np; ++i) s->params[i] = s->params[i] < 0 ? 0 : s->params[i] > 1 ? 1 : s->params[i];
}

const synth_ops synth_cpu_ops = {
    .name = "CPU",
    .init = cpu_init,
    .release = cpu_release,
    .input = cpu_input,
    .grad_input = cpu_grad_input,
    .load_input = cpu_load_input,
    .grad_buffer = cpu_grad_buffer,
    .store_grad = cpu_store_grad,
    .push_params = cpu_push_params,
    .pull_params = cpu_pull_params,
    .view_forward = cpu_view_forward,
    .view_backward = cpu_view_backward,
    .frozen_forward = frozen_forward,
    .frozen_backward = frozen_backward,
    .bn_stat = bn_stat_loss,
    .clear_bn_grad = frozen_clear_bn_grad,
    .grad_student = cpu_grad_student,
    .add = cpu_add,
    .priors = cpu_priors,
    .grad_finite = cpu_grad_finite,
    .keep_best = cpu_keep_best,
    .reset_adam = cpu_reset_adam,
    .adam_clip = cpu_adam_clip,
};
