// The generator of fast mode: the DeepInversion loss's gradient with respect
// to the generator's parameters (coordinates of every parameter block of
// every layer) and to the latent vectors, through Darknet's own training-mode
// forward/backward and the jitter/flip view, against central finite
// differences; RGB and gray (one generated channel shown on three), with and
// without the ADI competition term. Then one fast round: the gradient summed
// into the meta generator equals the sum of the gradients of its inner steps
// (recomputed independently), the meta step is one Adam step on that sum,
// and a round is a function of its seed.
#include <float.h>
#include <math.h>

#include "fast.h"
#include "frozen.h"
#include "generator.h"
#include "load_network.h"
#include "random_bn.h"
#include "testlib.h"
#include "util.h"

enum { B = 6, CLASSES = 4, LATENT = 5 };

// Smooth activations in both networks: every step size of the differences
// sees the same branch, so the agreement is limited by float32 alone.
static const char *teacher_cfg =
    "[net]\nwidth=8\nheight=8\nchannels=3\n"
    "[convolutional]\nbatch_normalize=1\nfilters=4\nsize=3\nstride=1\npad=1\nactivation=tanh\n"
    "[convolutional]\nbatch_normalize=1\nfilters=5\nsize=3\nstride=2\npad=1\nactivation=logistic\n"
    "[connected]\noutput=4\nactivation=linear\n[softmax]\n";

// latent + one-hot (9) -> 32 -> 2x2x8 (depth to space) -> 4x4 -> conv -> 8x8
// -> conv (BN or not) -> image.
static const char *gen_cfg_fmt =
    "[net]\nwidth=1\nheight=1\nchannels=9\n"
    "[connected]\noutput=32\nactivation=tanh\n"
    "[reorg]\nstride=2\nreverse=1\n"
    "[upsample]\nstride=2\n"
    "[convolutional]\nfilters=6\nsize=3\nstride=1\npad=1\nactivation=tanh\n"
    "[upsample]\nstride=2\n"
    "[convolutional]\nbatch_normalize=%d\nfilters=6\nsize=3\nstride=1\npad=1\nactivation=tanh\n"
    "[convolutional]\nfilters=%d\nsize=3\nstride=1\npad=1\nactivation=logistic\n";

// Float32 losses of ~1 leave ~1e-6 of rounding in each difference: with
// steps down to 1e-3, 1e-3 of a derivative of 1 (measured: 3e-3 at worst).
// A wrong path or sign is off by 100%.
#define TOL 1e-2
// With BN in the generator, Darknet's training forward divides each batch
// variance by N - 1 (N = batch x 8 x 8 = 384 values a channel) and its
// backward differentiates it as if divided by N: a relative 1/384 on the
// variance path, which the normalisation's cancellations amplify (measured:
// 2.1% at worst here, 0.8% at N = 768). Still far from a wrong backward.
#define TOL_BN 4e-2

static const double steps[] = {1e-2, 3e-3, 1e-3};

// Central difference of the loss in x[i], the best agreement with analytic
// over the step sizes (a wrong gradient is wrong at every one).
static double fd_err(generator *g, synth *s, const float *latents, const int *t, const view *v, float *x, double analytic,
                     double scale, double *fd_out)
{
    double best = DBL_MAX;
    float x0 = *x;
    for (int k = 0; k < 3; ++k) {
        synth_record r;
        *x = x0 + (float)steps[k];
        double hp = *x - x0, lp = generator_loss(g, s, latents, t, v, 0, NULL, &r);
        *x = x0 - (float)steps[k];
        double hm = x0 - *x, lm = generator_loss(g, s, latents, t, v, 0, NULL, &r);
        *x = x0;
        double fd = (lp - lm) / (hp + hm), err = fabs(fd - analytic) / fmax(fabs(analytic), scale);
        if (err < best) best = err, *fd_out = fd;
    }
    return best;
}

// cfg at batch B with trained-looking BN statistics, frozen; *net is freed by the caller.
static frozen_net *random_frozen(const char *cfg, rng *r, network **net)
{
    *net = load_checked_network(cfg, NULL, B, LAYERS_FROZEN);
    randomize_bn(*net, r);
    return make_frozen_net(*net, cfg);
}

static void check_gradients(int gray, int compete, int bn, int momentum)
{
    char *tcfg = write_temp(teacher_cfg, ".cfg"), text[1024];
    snprintf(text, sizeof text, gen_cfg_fmt, bn, gray ? 1 : 3);
    char *gcfg = write_temp(text, ".cfg");
    rng r = make_rng(11);
    network *tn, *sn = NULL;
    frozen_net *teacher = random_frozen(tcfg, &r, &tn), *student = compete ? random_frozen(tcfg, &r, &sn) : NULL;
    inversion_params p = default_inversion_params();
    p.batch = B, p.gray = gray;
    p.class_weight = 1, p.bn_stat_weight = 1, p.bn_stat_first_multiplier = 3, p.prior_tv_l1 = 0, p.prior_tv_l2 = 0.01f, p.prior_l2 = 0.01f;
    p.compete_weight = compete ? 1 : 0;
    synth *s = make_synth(teacher, student, &p);
    bn_momentum *m = NULL;
    if (momentum) {
        // An average of past rounds away from the running statistics.
        m = make_bn_momentum(teacher, 0.9f);
        for (int i = 0; i < m->n; ++i) m->avg[i] = 0.5 + rng_uniform(&r);
        m->set = 1;
        s->momentum = m;
    }
    generator *g = load_generator(gcfg, NULL, B, CLASSES, gray ? 1 : 3, 8, 8, 0.5f, 0.999f);
    CHECK(g->latent == LATENT && g->nblocks == 8 + bn, "latent %d, %d parameter blocks", g->latent, g->nblocks);
    float latents[B * LATENT], grad_latents[B * LATENT];
    int targets[B] = {2, 0, 3, 1, 1, 2};
    for (int i = 0; i < B * LATENT; ++i) latents[i] = (float)rng_normal(&r);
    view v = {B, 3, 8, 8, gray ? 1 : 3, 1, 1, -2, 1};   // a roll and the flip
    synth_record rec;
    generator_zero_grad(g);
    generator_loss(g, s, latents, targets, &v, 1, grad_latents, &rec);
    // Analytic gradients of every block: Darknet leaves -dL/dx in the updates.
    size_t total = 0;
    for (int k = 0; k < g->nblocks; ++k) total += g->blocks[k].n;
    float *grad = xcalloc(total, sizeof(float));
    size_t off = 0;
    for (int k = 0; k < g->nblocks; ++k, off += g->blocks[k - 1].n)
        for (size_t i = 0; i < g->blocks[k].n; ++i) grad[off + i] = -g->blocks[k].update[i];
    char what[64];
    snprintf(what, sizeof what, "%s%s%s%s", gray ? "gray" : "rgb", compete ? "+compete" : "", bn ? "+bn" : "",
             momentum ? "+bn_momentum" : "");
    double tol = bn ? TOL_BN : TOL;
    double worst = 0;
    off = 0;
    for (int k = 0; k < g->nblocks; ++k) {
        gen_block *b = &g->blocks[k];
        const float *gk = grad + off;
        size_t imax = 0;
        double gmax = 0;
        for (size_t i = 0; i < b->n; ++i) if (fabs(gk[i]) > gmax) gmax = fabs(gk[i]), imax = i;
        CHECK(gmax > 0, "%s: block %d has a zero gradient", what, k);
        // The largest coordinate and three random ones; derivatives under 5%
        // of the block's largest are compared against that 5% (float noise).
        for (int j = 0; j < 4; ++j) {
            size_t i = j == 0 ? imax : (size_t)rng_int(&r, 0, (int)b->n - 1);
            double fd, err = fd_err(g, s, latents, targets, &v, b->x + i, gk[i], 0.05 * gmax, &fd);
            if (err > worst) worst = err;
            CHECK(err < tol, "%s: block %d (layer parameters) coordinate %zu: analytic %.6g, finite difference %.6g", what, k,
                  i, gk[i], fd);
        }
        off += b->n;
    }
    double zmax = 0;
    for (int i = 0; i < B * LATENT; ++i) zmax = fmax(zmax, fabs(grad_latents[i]));
    CHECK(zmax > 0, "%s: zero latent gradient", what);
    for (int i = 0; i < B * LATENT; ++i) {
        double fd, err = fd_err(g, s, latents, targets, &v, latents + i, grad_latents[i], 0.05 * zmax, &fd);
        if (err > worst) worst = err;
        CHECK(err < tol, "%s: latent %d of image %d: analytic %.6g, finite difference %.6g", what, i % LATENT, i / LATENT,
              grad_latents[i], fd);
    }
    if (getenv("INV_TEST_VERBOSE")) printf("%-14s worst relative error %.2e\n", what, worst);
    free(grad);
    free_generator(g);
    free_bn_momentum(m);
    free_synth(s);
    free_frozen_net(teacher);
    free_network(tn);
    if (compete) free_frozen_net(student), free_network(sn);
    unlink(tcfg), unlink(gcfg);
    free(tcfg), free(gcfg);
}

// Every parameter of g, flattened.
static float *params_of(const generator *g, size_t *n)
{
    size_t total = 0, off = 0;
    for (int k = 0; k < g->nblocks; ++k) total += g->blocks[k].n;
    float *x = xcalloc(total, sizeof(float));
    for (int k = 0; k < g->nblocks; ++k) memcpy(x + off, g->blocks[k].x, g->blocks[k].n * sizeof(float)), off += g->blocks[k].n;
    *n = total;
    return x;
}

static void check_meta_step(void)
{
    char *tcfg = write_temp(teacher_cfg, ".cfg"), text[1024];
    snprintf(text, sizeof text, gen_cfg_fmt, 1, 3);
    char *gcfg = write_temp(text, ".cfg");
    rng r = make_rng(5);
    network *tn;
    frozen_net *teacher = random_frozen(tcfg, &r, &tn);
    inversion_params p = default_inversion_params();
    p.batch = B;
    snprintf(p.generator_cfg, sizeof p.generator_cfg, "%s", gcfg);
    p.generator_steps = 4, p.generator_lr = 0.01f, p.generator_latent_lr = 0.05f, p.generator_meta_lr = 0.003f;
    synth *s = make_synth(teacher, NULL, &p);
    fast_synth *f = make_fast_synth(s, NULL);
    int targets[B] = {1, 3, 0, 2, 2, 1};
    float images[B * 3 * 64], again[B * 3 * 64];
    size_t n;
    float *before = params_of(f->meta, &n);

    // The round without its meta step: the meta generator's updates hold -Σ g_k.
    fast_round(f, targets, 77, 0, images, NULL, 0);
    float *sum = xcalloc(n, sizeof(float));
    size_t off = 0;
    for (int k = 0; k < f->meta->nblocks; ++k)
        for (size_t i = 0; i < f->meta->blocks[k].n; ++i) sum[off++] = -f->meta->blocks[k].update[i];
    size_t n2;
    float *unchanged = params_of(f->meta, &n2);
    CHECK(!memcmp(unchanged, before, n * sizeof(float)), "the round changed the meta generator without its meta step");

    // The same steps by hand on a separate copy: the gradient of each, summed.
    generator *x = load_generator(gcfg, NULL, B, CLASSES, 3, 8, 8, p.generator_beta1, p.generator_beta2);
    generator_copy(x, f->meta);
    rng rr = make_rng(77);
    float z[B * LATENT], gz[B * LATENT];
    for (int i = 0; i < B * LATENT; ++i) z[i] = (float)rng_normal(&rr);
    adam_state za = make_adam(B * LATENT, p.generator_beta1, p.generator_beta2, 1e-8f);
    double *expect = calloc(n, sizeof(double));
    view v = {B, 3, 8, 8, 3, 1, 0, 0, 0};
    for (int k = 0; k < p.generator_steps; ++k) {
        synth_record rec;
        view_draw(&v, &rr, p.augment_jitter, p.augment_flip);
        generator_zero_grad(x);
        generator_loss(x, s, z, targets, &v, 1, gz, &rec);
        off = 0;
        for (int b = 0; b < x->nblocks; ++b)
            for (size_t i = 0; i < x->blocks[b].n; ++i) expect[off++] -= x->blocks[b].update[i];
        generator_adam_step(x, p.generator_lr);
        adam_step(&za, z, gz, p.generator_latent_lr);
    }
    double worst = 0, scale = 0;
    for (size_t i = 0; i < n; ++i) scale = fmax(scale, fabs(expect[i]));
    for (size_t i = 0; i < n; ++i) worst = fmax(worst, fabs(sum[i] - expect[i]));
    // Same float operations in the same order: equal up to the order of the sums.
    CHECK(scale > 0 && worst <= 1e-5 * scale, "meta gradient differs from the sum of the inner gradients by %.3g (scale %.3g)", worst,
          scale);
    // The steps changed the copy: the inner gradients were taken at moving parameters.
    size_t nx;
    float *moved = params_of(x, &nx);
    CHECK(memcmp(moved, before, n * sizeof(float)), "the inner steps did not move the copy");

    // The meta step: the first step of a fresh Adam moves each parameter by
    // lr * g / (|g| + eps) against its summed gradient.
    generator_zero_grad(f->meta);
    fast_round(f, targets, 77, 0, again, NULL, 1);
    CHECK(!memcmp(images, again, sizeof images), "a round is not a function of its seed");
    float *after = params_of(f->meta, &n2);
    int bad = 0;
    for (size_t i = 0; i < n; ++i) {
        double want = before[i] - p.generator_meta_lr * sum[i] / (fabs(sum[i]) + 1e-8);
        if (fabs(after[i] - want) > 1e-6 + 1e-3 * p.generator_meta_lr) ++bad;
    }
    CHECK(bad == 0, "%d of %zu parameters are not one Adam step on the summed gradient", bad, n);
    for (size_t i = 0; i < sizeof images / sizeof *images; ++i)
        if (!(images[i] >= 0 && images[i] <= 1)) { CHECK(0, "image value %g outside [0,1]", images[i]); break; }

    free(before), free(sum), free(unchanged), free(expect), free(moved), free(after);
    free_adam(&za);
    free_generator(x);
    free_fast_synth(f);
    free_synth(s);
    free_frozen_net(teacher);
    free_network(tn);
    unlink(tcfg), unlink(gcfg);
    free(tcfg), free(gcfg);
}

// The BN momentum's term, against its definition: with an average equal to
// the batch's own statistics the term is the plain one, an update by the same
// batch leaves the average where it is, and for another batch the term is
// sum_l m_l (||(1 - a) mu + a avg - rm|| + ||(1 - a) var + a avg_var - rv||),
// computed here from the statistics the plain term saw (another batch, with
// other statistics).
static void check_bn_momentum(void)
{
    char *tcfg = write_temp(teacher_cfg, ".cfg");
    rng r = make_rng(9);
    network *tn;
    frozen_net *t = random_frozen(tcfg, &r, &tn);
    inversion_params p = default_inversion_params();
    p.batch = B;
    p.class_weight = 0, p.bn_stat_weight = 1, p.bn_stat_first_multiplier = 3, p.prior_tv_l1 = 0, p.prior_tv_l2 = 0, p.prior_l2 = 0;
    synth *s = make_synth(t, NULL, &p);
    int targets[B] = {0, 1, 2, 3, 0, 1};
    float x[B * 3 * 64], y[B * 3 * 64];
    for (int i = 0; i < B * 3 * 64; ++i) x[i] = (float)rng_uniform(&r), y[i] = 0.2f + 0.3f * (float)rng_uniform(&r);
    synth_record rec;
    double plain_x = synth_loss(s, x, targets, NULL, &rec);
    const float a = 0.9f;
    bn_momentum *m = make_bn_momentum(t, a);
    CHECK(m->n > 0 && !m->set, "a fresh BN momentum holds %d values, set %d", m->n, m->set);
    bn_momentum_update(m, t);
    s->momentum = m;
    double mixed_x = synth_loss(s, x, targets, NULL, &rec);
    CHECK(fabs(mixed_x - plain_x) <= 1e-6 * plain_x, "average = the batch's statistics: %.9g, plain term %.9g", mixed_x, plain_x);
    double *first = xcalloc(m->n, sizeof(double));
    memcpy(first, m->avg, m->n * sizeof(double));
    bn_momentum_update(m, t);
    double moved = 0;
    for (int i = 0; i < m->n; ++i) moved = fmax(moved, fabs(m->avg[i] - first[i]) / fmax(fabs(first[i]), 1e-6));
    CHECK(moved < 1e-6, "an update by the same batch moved the average by %.3g", moved);

    s->momentum = NULL;
    double plain_y = synth_loss(s, y, targets, NULL, &rec), expect = 0;
    size_t at = 0;
    int firstbn = 1;
    for (int i = 0; i < tn->n; ++i) {
        const bn_stat_layer *b = &t->bn[i];
        if (!b->channels) continue;
        const layer *l = &tn->layers[i];
        double dm = 0, dv = 0;
        for (int c = 0; c < b->channels; ++c) {
            double em = (1 - a) * b->mean[c] + a * m->avg[at + c] - l->rolling_mean[c];
            double ev = (1 - a) * b->var[c] + a * m->avg[at + b->channels + c] - l->rolling_variance[c];
            dm += em * em, dv += ev * ev;
        }
        expect += (firstbn ? p.bn_stat_first_multiplier : 1) * (sqrt(dm) + sqrt(dv));
        at += 2 * (size_t)b->channels, firstbn = 0;
    }
    s->momentum = m;
    double mixed_y = synth_loss(s, y, targets, NULL, &rec);
    CHECK(fabs(mixed_y - expect) <= 1e-5 * expect && fabs(mixed_y - plain_y) > 1e-3 * plain_y,
          "another batch: %.9g, definition %.9g (plain %.9g)", mixed_y, expect, plain_y);

    // Saved and loaded (backups): the same average and flag.
    char *path = write_temp("", ".bin");
    save_bn_momentum(m, path);
    bn_momentum *back = make_bn_momentum(t, a);
    load_bn_momentum(back, path);
    CHECK(back->set == 1 && !memcmp(back->avg, m->avg, m->n * sizeof(double)), "BN momentum differs after save and load");

    unlink(path), free(path);
    free(first);
    free_bn_momentum(back);
    free_bn_momentum(m);
    free_synth(s);
    free_frozen_net(t);
    free_network(tn);
    unlink(tcfg), free(tcfg);
}

int main(void)
{
    check_gradients(0, 0, 0, 0);
    check_gradients(1, 0, 0, 0);
    check_gradients(0, 1, 0, 0);
    check_gradients(0, 0, 1, 0);
    check_gradients(1, 1, 1, 0);
    check_gradients(0, 0, 0, 1);
    check_gradients(1, 1, 1, 1);
    check_meta_step();
    check_bn_momentum();
    return test_summary();
}
