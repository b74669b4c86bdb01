#include "synth.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "augment.h"
#include "bn_stat.h"
#include "class_loss.h"
#include "compete.h"
#include "prior.h"
#include "rng.h"
#include "synth_ops.h"
#include "util.h"

synth *make_synth(frozen_net *teacher, frozen_net *student, const inversion_params *p)
{
    network *net = teacher->net;
    if (net->batch != p->batch) inv_die("internal: teacher batch %d != inversion batch %d", net->batch, p->batch);
    if (p->compete_weight > 0 && !student) inv_die("[compete] weight=%g needs a student network (use distill)", p->compete_weight);
    if (student && (student->net->batch != p->batch || student->inputs != teacher->inputs || student->classes != teacher->classes))
        inv_die("internal: student and teacher shapes differ");
    synth *s = xcalloc(1, sizeof *s);
    s->teacher = teacher;
    s->student = p->compete_weight > 0 ? student : NULL;
    s->p = *p;
    s->batch = p->batch;
    s->c = net->c, s->h = net->h, s->w = net->w;
    s->pc = p->gray ? 1 : s->c;
    if (p->multires_iterations && (s->h % p->multires_factor || s->w % p->multires_factor))
        inv_die("[multires] factor=%d does not divide the input size %dx%d", p->multires_factor, s->w, s->h);
    size_t n = (size_t)s->batch * s->c * s->h * s->w, np = (size_t)s->batch * s->pc * s->h * s->w;
    s->params = xcalloc(np, sizeof(float));
    s->best = xcalloc(np, sizeof(float));
    s->grad_params = xcalloc(np, sizeof(float));
    s->input = xcalloc(n, sizeof(float));
    s->grad_input = xcalloc(n, sizeof(float));
    s->grad_student = xcalloc(n, sizeof(float));
    s->zt_grad = xcalloc((size_t)s->batch * teacher->classes, sizeof(float));
    s->zs_grad = xcalloc((size_t)s->batch * teacher->classes, sizeof(float));
    s->adam = make_adam(np, p->adam_beta1, p->adam_beta2, p->adam_eps);
    if (s->student && s->student->gpu != teacher->gpu) inv_die("internal: teacher and student on different devices");
    // The synthesis runs where its teacher was loaded (load_network.c chose
    // the device); this picks the matching table.
    s->ops = &synth_cpu_ops;
#ifdef GPU
    if (teacher->gpu >= 0) s->ops = &synth_cuda_ops;
#endif
    s->ops->init(s);
    return s;
}

void free_synth(synth *s)
{
    if (!s) return;
    s->ops->release(s);
    free(s->params); free(s->best); free(s->grad_params); free(s->input); free(s->grad_input);
    free(s->grad_student); free(s->zt_grad); free(s->zs_grad);
    free_adam(&s->adam);
    free(s);
}

// The loss and gradient at a backend input, into a backend gradient (or
// none): the same steps in the same order on either backend.
static double loss_at(synth *s, const float *input, const int *targets, float *grad_input, synth_record *r)
{
    const synth_ops *o = s->ops;
    frozen_net *t = s->teacher;
    const inversion_params *p = &s->p;
    const float *prob = o->frozen_forward(t, input);
    r->ce = cross_entropy(prob, targets, s->batch, t->classes, p->class_weight, t->logit_grad);
    r->target_p = target_probability(prob, targets, s->batch, t->classes);
    r->bn = o->bn_stat(t, p->bn_stat_weight, p->bn_stat_first_multiplier, s->momentum);
    r->compete = 0;
    if (s->student) {
        // Both logits get gradients; logit_grad is with respect to z / t_softmax.
        frozen_net *st = s->student;
        size_t nz = (size_t)s->batch * t->classes;
        o->frozen_forward(st, input);
        for (size_t i = 0; i < nz; ++i) s->zt_grad[i] = s->zs_grad[i] = 0;
        r->compete = compete_loss(frozen_logits(t), frozen_logits(st), s->batch, t->classes, p->compete_temperature,
                                  p->compete_weight, s->zt_grad, s->zs_grad);
        for (size_t i = 0; i < nz; ++i) {
            t->logit_grad[i] += frozen_temperature(t) * s->zt_grad[i];
            st->logit_grad[i] = frozen_temperature(st) * s->zs_grad[i];
        }
        o->clear_bn_grad(st);
        if (grad_input) o->frozen_backward(st, o->grad_student(s));
    }
    if (grad_input) o->frozen_backward(t, grad_input);
    if (grad_input && s->student) o->add(s, grad_input, o->grad_student(s), (size_t)s->batch * t->inputs);
    prior_terms pr = o->priors(s, input, grad_input);
    r->tv_l1 = pr.tv_l1, r->tv_l2 = pr.tv_l2, r->l2 = pr.l2;
    r->total = r->ce + r->bn + r->tv_l1 + r->tv_l2 + r->l2 + r->compete;
    return r->total;
}

double synth_loss(synth *s, const float *input, const int *targets, float *grad_input, synth_record *r)
{
    const synth_ops *o = s->ops;
    size_t n = (size_t)s->batch * s->teacher->inputs;
    float *grad = grad_input ? o->grad_buffer(s, grad_input) : NULL;
    double total = loss_at(s, o->load_input(s, input, n), targets, grad, r);
    if (grad_input) o->store_grad(s, grad, grad_input, n);
    return total;
}

// A NaN or Inf anywhere stops the run before anything is written.
void synth_check_finite(const synth_record *r, const float *grad, size_t n)
{
    const char *names[] = {"class (cross-entropy)", "bn_stat", "tv_l1", "tv_l2", "l2", "compete"};
    double v[] = {r->ce, r->bn, r->tv_l1, r->tv_l2, r->l2, r->compete};
    for (int i = 0; i < 6; ++i)
        if (!isfinite(v[i]))
            inv_die("batch %d iteration %d: the %s loss is %g; lower [adam] lr or check the teacher's weights",
                    r->batch_index, r->iteration, names[i], v[i]);
    size_t bad = 0;
    #pragma omp parallel for reduction(+ : bad) schedule(static)
    for (size_t i = 0; i < n; ++i) bad += !isfinite(grad[i]);
    if (bad) inv_die("batch %d iteration %d: the input gradient is not finite", r->batch_index, r->iteration);
}

// Nearest upsampling of the low-resolution parameters to full resolution.
void synth_upsample_params(synth *s, int factor)
{
    int ph = s->h / factor, pw = s->w / factor;
    float *low = xcalloc((size_t)s->batch * s->pc * ph * pw, sizeof(float));
    memcpy(low, s->params, sizeof(float) * s->batch * s->pc * ph * pw);
    for (int bc = 0; bc < s->batch * s->pc; ++bc)
        for (int y = 0; y < s->h; ++y)
            for (int x = 0; x < s->w; ++x)
                s->params[(bc * s->h + y) * s->w + x] = low[(bc * ph + y / factor) * pw + x / factor];
    free(low);
}

void synth_init_params(synth *s, rng *r, size_t np)
{
    for (size_t i = 0; i < np; ++i) {
        float v = s->p.init_mean + s->p.init_std * (float)rng_normal(r);
        s->params[i] = v < 0 ? 0 : v > 1 ? 1 : v;
    }
}

void synth_batch(synth *s, const int *targets, uint64_t seed, int batch_index, float *images, synth_observer obs, void *ctx)
{
    const synth_ops *o = s->ops;
    const inversion_params *p = &s->p;
    size_t n = (size_t)s->batch * s->c * s->h * s->w;
    rng r = make_rng(seed);
    int stages = p->multires_iterations > 0 ? 2 : 1;
    int factor = stages == 2 ? p->multires_factor : 1;
    size_t np = (size_t)s->batch * s->pc * (s->h / factor) * (s->w / factor);
    synth_init_params(s, &r, np);
    o->push_params(s, np);
    double best = DBL_MAX;
    for (int stage = 2 - stages; stage < 2; ++stage) {
        if (stage == 1 && factor > 1) {
            o->pull_params(s, np, 0);
            synth_upsample_params(s, factor);
            factor = 1;
            np = (size_t)s->batch * s->pc * s->h * s->w;
            o->push_params(s, np);
        }
        int iters = stage == 0 ? p->multires_iterations : p->iterations;
        view v = {s->batch, s->c, s->h, s->w, s->pc, factor, 0, 0, 0};
        o->reset_adam(s, np);
        for (int it = 0; it < iters; ++it) {
            synth_record rec = {batch_index, stage, it, iters, 0, 0, 0, 0, 0, 0, 0, 0, 0};
            rec.lr = schedule_lr(p->adam_lr, it, iters, p->adam_warmup, !strcmp(p->adam_policy, "cosine"));
            view_draw(&v, &r, p->augment_jitter, p->augment_flip);
            o->view_forward(s, &v);
            loss_at(s, o->input(s), targets, o->grad_input(s), &rec);
            synth_check_finite(&rec, NULL, 0);
            if (!o->grad_finite(s, o->grad_input(s), n))
                inv_die("batch %d iteration %d: the input gradient is not finite", rec.batch_index, rec.iteration);
            if (stage == 1 && rec.total < best) {
                best = rec.total;
                o->keep_best(s, np);
            }
            o->view_backward(s, &v);
            o->adam_clip(s, np, rec.lr);
            if (obs) obs(&rec, ctx);
        }
    }
    o->pull_params(s, np, 1);
    // The images as the teacher sees them: channels filled, no augmentation.
    view out = {s->batch, s->c, s->h, s->w, s->pc, 1, 0, 0, 0};
    view_forward(&out, p->keep_best ? s->best : s->params, images);
}
