#include "fast.h"

#include <stdlib.h>
#include <string.h>

#include "rng.h"
#include "util.h"

fast_synth *make_fast_synth(synth *syn, const char *weights)
{
    const inversion_params *p = &syn->p;
    if (!p->generator_cfg[0]) inv_die("internal: fast mode without a [generator] cfg");
    fast_synth *f = xcalloc(1, sizeof *f);
    f->syn = syn;
    f->p = *p;
    f->c = syn->c;
    int classes = syn->teacher->classes;
    f->meta = load_generator(p->generator_cfg, weights, syn->batch, classes, syn->pc, syn->h, syn->w, p->generator_beta1, p->generator_beta2);
    f->clone = load_generator(p->generator_cfg, NULL, syn->batch, classes, syn->pc, syn->h, syn->w, p->generator_beta1, p->generator_beta2);
    size_t nz = (size_t)syn->batch * f->meta->latent;
    f->latents = xcalloc(nz, sizeof(float));
    f->grad_latents = xcalloc(nz, sizeof(float));
    f->zadam = make_adam(nz, p->generator_beta1, p->generator_beta2, 1e-8f);
    if (p->generator_bn_momentum > 0) {
        if (syn->teacher->gpu >= 0) inv_die("[generator] bn_momentum runs on the CPU only: set it to 0 or run with -nogpu");
        f->momentum = make_bn_momentum(syn->teacher, p->generator_bn_momentum);
        syn->momentum = f->momentum;
    }
    return f;
}

void free_fast_synth(fast_synth *f)
{
    if (!f) return;
    free_generator(f->meta);
    free_generator(f->clone);
    free(f->latents);
    free(f->grad_latents);
    free_adam(&f->zadam);
    if (f->momentum) f->syn->momentum = NULL;
    free_bn_momentum(f->momentum);
    free(f);
}

static void draw_latents(fast_synth *f, rng *r)
{
    size_t nz = (size_t)f->syn->batch * f->meta->latent;
    for (size_t i = 0; i < nz; ++i) f->latents[i] = (float)rng_normal(r);
}

// The generator's output as the teacher sees it without augmentation.
static void images_of(fast_synth *f, generator *g, const int *targets, float *images)
{
    synth *s = f->syn;
    generator_input(g, f->latents, targets);
    const float *out = generator_forward(g);
    view v = {s->batch, s->c, s->h, s->w, s->pc, 1, 0, 0, 0};
    view_forward(&v, out, images);
}

void fast_round(fast_synth *f, const int *targets, uint64_t seed, int batch_index, float *images, synth_record *last,
                int meta_step)
{
    synth *s = f->syn;
    const inversion_params *p = &f->p;
    generator *m = f->meta, *c = f->clone;
    rng r = make_rng(seed);
    draw_latents(f, &r);
    generator_copy(c, m);
    generator_reset_adam(c);
    generator_zero_grad(c);
    reset_adam(&f->zadam);
    view v = {s->batch, s->c, s->h, s->w, s->pc, 1, 0, 0, 0};
    for (int k = 0; k < p->generator_steps; ++k) {
        synth_record rec = {batch_index, 1, k, p->generator_steps, p->generator_lr, 0, 0, 0, 0, 0, 0, 0, 0};
        view_draw(&v, &r, p->augment_jitter, p->augment_flip);
        generator_loss(c, s, f->latents, targets, &v, 1, f->grad_latents, &rec);
        synth_check_finite(&rec, f->grad_latents, (size_t)s->batch * m->latent);
        generator_add_grad(m, c);                  // the meta gradient: the sum of the inner ones
        generator_adam_step(c, p->generator_lr);
        adam_step(&f->zadam, f->latents, f->grad_latents, p->generator_latent_lr);
        if (last) *last = rec;
    }
    if (f->momentum) bn_momentum_update(f->momentum, s->teacher);   // the last step's batch statistics
    images_of(f, c, targets, images);
    if (meta_step) generator_adam_step(m, p->generator_meta_lr);
}

void fast_sample(fast_synth *f, const int *targets, uint64_t seed, float *images)
{
    rng r = make_rng(seed);
    draw_latents(f, &r);
    images_of(f, f->meta, targets, images);
}
