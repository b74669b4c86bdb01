// GPU against CPU, for tests/gpu/run.sh (built by `make GPU=1 CUDNN=1 gpu`):
//   gpu_check <teacher.cfg> <teacher.weights> <student.cfg> [-gpu N] [-batch B] [-iters K] [-quick]
// 0. Every launcher of kernels.h against its CPU twin, element by element, at
//    odd shapes (views gray and colour with jitter, flip and upsampling;
//    priors; Adam with the clip; the BN backward with 1000 channels;
//    finiteness).
// 1. Every loss term, the logits, each BN layer's R_feature statistics and
//    coefficients (element by element) and the input gradient (relative L2,
//    and a count of outliers: near-ties in max-pool and leaky kinks may flip
//    under other rounding) of one synth_loss, on the same input, for the same
//    network loaded on the CPU and on the GPU: the shipped teacher, the small
//    test networks (every supported layer type and activation, grouped
//    convolutions, shortcut, route, dropout, connected with BN, a nearly dead
//    BN channel), and teacher + student with the competition term; two
//    backward passes after one forward give the same gradient.
// 2. A short synth_batch (low-resolution stage, gray, jitter, flip, Adam) on
//    both: the first iteration's terms must agree; the images must stay close.
// 3. Speed: image-iterations per second of synth_batch on the GPU and the CPU.
// -quick: small batches and no timing (the run under compute-sanitizer).
// Exits 77 when there is no CUDA device.
#include <math.h>

#include "adam.h"
#include "augment.h"
#include "frozen_layers.h"
#include "kernel_ops.h"
#include "kernels.h"
#include "load_network.h"
#include "prior.h"
#include "device.h"
#include "frozen.h"
#include "icfg.h"
#include "netstate.h"
#include "rng.h"
#include "synth.h"
#include "testlib.h"
#include "test_nets.h"
#include "util.h"

static int device;
static const double tol = 1e-3;

static int close_to(double a, double b) { return fabs(a - b) <= tol * fmax(fabs(a), fabs(b)) + 1e-6; }

static float *to_dev(const float *x, size_t n)
{
    float *d = NULL;
    gpu_check_call(cudaMalloc((void **)&d, n * sizeof(float) + 1), "malloc");
    if (x) gpu_check_call(cudaMemcpy(d, x, n * sizeof(float), cudaMemcpyHostToDevice), "push");
    else gpu_check_call(cudaMemset(d, 0, n * sizeof(float)), "memset");
    return d;
}

static void from_dev(float *x, const float *d, size_t n)
{
    gpu_check_call(cudaMemcpy(x, d, n * sizeof(float), cudaMemcpyDeviceToHost), "pull");
}

static float *host_randoms(rng *r, size_t n, double lo, double hi)
{
    float *x = xcalloc(n, sizeof(float));
    for (size_t i = 0; i < n; ++i) x[i] = (float)(lo + (hi - lo) * rng_uniform(r));
    return x;
}

// Element by element: |a - b| <= rel (|b| + floor * largest |b|); returns the
// number of elements outside, and the worst ratio in *worst.
static size_t outside(const float *a, const float *b, size_t n, double rel, double floor, double *worst)
{
    double big = 0, w = 0;
    size_t bad = 0;
    for (size_t i = 0; i < n; ++i) big = fmax(big, fabs(b[i]));
    for (size_t i = 0; i < n; ++i) {
        double e = fabs((double)a[i] - b[i]) / (fabs(b[i]) + floor * big + 1e-30);
        if (!(e <= rel)) ++bad;
        if (!(e <= w)) w = e;
    }
    *worst = w;
    return bad;
}

static void check_view_launchers(rng *r, int B, int C, int H, int W, int PC, int f, int dy, int dx, int flip)
{
    view v = {B, C, H, W, PC, f, dy, dx, flip};
    size_t n = (size_t)B * C * H * W, np = (size_t)B * PC * (H / f) * (W / f);
    float *params = host_randoms(r, np, 0, 1), *gin = host_randoms(r, n, -1, 1);
    float *in_c = xcalloc(n, sizeof(float)), *in_g = xcalloc(n, sizeof(float));
    float *gp_c = xcalloc(np, sizeof(float)), *gp_g = xcalloc(np, sizeof(float));
    float *d_params = to_dev(params, np), *d_in = to_dev(NULL, n), *d_gin = to_dev(gin, n), *d_gp = to_dev(NULL, np);
    view_forward(&v, params, in_c);
    gpu_view_forward(B, C, H, W, PC, f, dy, dx, flip, d_params, d_in);
    from_dev(in_g, d_in, n);
    CHECK(!memcmp(in_c, in_g, n * sizeof(float)), "gpu_view_forward %dx%dx%dx%d pc %d factor %d roll (%d, %d) flip %d differs",
          B, C, H, W, PC, f, dy, dx, flip);
    view_backward(&v, gin, gp_c);
    gpu_view_backward(B, C, H, W, PC, f, dy, dx, flip, d_gin, d_gp);
    from_dev(gp_g, d_gp, np);
    double w;
    size_t bad = outside(gp_g, gp_c, np, 1e-5, 1e-2, &w);
    CHECK(!bad, "gpu_view_backward %dx%dx%dx%d pc %d factor %d: %zu of %zu elements differ (worst %g)", B, C, H, W, PC, f, bad,
          np, w);
    cudaFree(d_params), cudaFree(d_in), cudaFree(d_gin), cudaFree(d_gp);
    free(params), free(gin), free(in_c), free(in_g), free(gp_c), free(gp_g);
}

static void check_prior_launchers(rng *r, int B, int C, int H, int W, float w1, float w2, float wl2)
{
    size_t n = (size_t)B * C * H * W;
    float *x = host_randoms(r, n, 0, 1), *g_c = xcalloc(n, sizeof(float)), *g_g = xcalloc(n, sizeof(float));
    prior_terms t = prior_loss(x, B, C, H, W, w1, w2, wl2, g_c);
    float *d_x = to_dev(x, n), *d_g = to_dev(NULL, n), *d_kl2 = to_dev(NULL, B);
    double *d_acc = NULL, *d_part = NULL, acc[8 + B], tg[3];
    gpu_check_call(cudaMalloc((void **)&d_acc, sizeof acc), "malloc");
    gpu_check_call(cudaMalloc((void **)&d_part, gpu_prior_partials_size(B, C, H, W) * sizeof(double)), "malloc");
    gpu_prior_sums(d_x, B, C, H, W, d_acc, d_part);
    gpu_check_call(cudaMemcpy(acc, d_acc, sizeof acc, cudaMemcpyDeviceToHost), "pull");
    float k2[4], k1[4], kl2[B];
    prior_coeffs(acc, B, C, H, W, w1, w2, wl2, k2, k1, kl2, tg);
    gpu_check_call(cudaMemcpy(d_kl2, kl2, sizeof(float) * B, cudaMemcpyHostToDevice), "push");
    gpu_prior_grad(d_x, B, C, H, W, k2, k1, wl2 != 0 ? d_kl2 : NULL, d_g);
    from_dev(g_g, d_g, n);
    CHECK(close_to(tg[0], t.tv_l1) && close_to(tg[1], t.tv_l2) && close_to(tg[2], t.l2),
          "gpu_prior_sums %dx%dx%dx%d: terms %.9g %.9g %.9g, CPU %.9g %.9g %.9g", B, C, H, W, tg[0], tg[1], tg[2], t.tv_l1,
          t.tv_l2, t.l2);
    double w;
    size_t bad = outside(g_g, g_c, n, 1e-4, 1e-3, &w);
    CHECK(!bad, "gpu_prior_grad %dx%dx%dx%d: %zu of %zu elements differ (worst %g)", B, C, H, W, bad, n, w);
    cudaFree(d_x), cudaFree(d_g), cudaFree(d_kl2), cudaFree(d_acc), cudaFree(d_part);
    free(x), free(g_c), free(g_g);
}

static void check_adam_launcher(rng *r, long n)
{
    adam_state a = make_adam(n, 0.5f, 0.9f, 1e-8f);
    float *x = host_randoms(r, n, 0, 1), *xg = xcalloc(n, sizeof(float));
    float *d_x = to_dev(x, n), *d_g = to_dev(NULL, n), *d_m = to_dev(NULL, n), *d_v = to_dev(NULL, n);
    size_t bad = 0;
    double w = 0;
    for (int it = 0; it < 5; ++it) {
        float *g = host_randoms(r, n, -2, 2), lr = 0.1f * (it + 1);
        gpu_check_call(cudaMemcpy(d_g, g, n * sizeof(float), cudaMemcpyHostToDevice), "push");
        adam_step(&a, x, g, lr);
        for (long i = 0; i < n; ++i) x[i] = x[i] < 0 ? 0 : x[i] > 1 ? 1 : x[i];
        float c1 = 1 - powf(a.beta1, a.t), c2 = 1 - powf(a.beta2, a.t);
        gpu_adam_clip(n, d_x, d_g, d_m, d_v, a.beta1, a.beta2, a.eps, lr / c1, 1 / sqrtf(c2));
        from_dev(xg, d_x, n);
        bad += outside(xg, x, n, 1e-5, 1e-3, &w);
        free(g);
    }
    CHECK(!bad, "gpu_adam_clip on %ld values: %zu elements differ over 5 steps (worst %g)", n, bad, w);
    cudaFree(d_x), cudaFree(d_g), cudaFree(d_m), cudaFree(d_v);
    free(x), free(xg);
    free_adam(&a);
}

// gpu_bn_backward against backward_frozen_bn on one layer's worth of values.
static void check_bn_backward_launcher(rng *r, int B, int C, int S)
{
    size_t n = (size_t)B * C * S;
    float *x = host_randoms(r, n, -1, 2), *d = host_randoms(r, n, -1, 1), *dg = xcalloc(n, sizeof(float));
    float *scales = host_randoms(r, C, 0.5, 1.5), *rv = host_randoms(r, C, 0.2, 1.2), *coef = host_randoms(r, 3 * C, -0.1, 0.1);
    rv[0] = 1e-4f;   // a nearly dead channel: where the two BN formulas part most
    bn_stat_layer s = {C, S, coef + 2 * C, NULL, coef, coef + C, NULL, NULL, NULL};
    layer l = {0};
    l.batch = B, l.out_c = C, l.out_h = 1, l.out_w = S, l.delta = d, l.x = x, l.scales = scales, l.rolling_variance = rv;
    float *d_d = to_dev(d, n), *d_x = to_dev(x, n), *d_sc = to_dev(scales, C), *d_rv = to_dev(rv, C), *d_coef = to_dev(coef, 3 * C);
    backward_frozen_bn(&l, &s);
    gpu_bn_backward(d_d, d_x, d_sc, d_rv, d_coef, d_coef + C, d_coef + 2 * C, B, C, S);
    from_dev(dg, d_d, n);
    double w;
    size_t bad = outside(dg, d, n, 1e-5, 1e-4, &w);
    CHECK(!bad, "gpu_bn_backward %dx%dx%d: %zu of %zu elements differ (worst %g)", B, C, S, bad, n, w);
    cudaFree(d_d), cudaFree(d_x), cudaFree(d_sc), cudaFree(d_rv), cudaFree(d_coef);
    free(x), free(d), free(dg), free(scales), free(rv), free(coef);
}

static void check_misc_launchers(rng *r)
{
    long n = 1000 * 257 + 3;
    float *x = host_randoms(r, n, -1, 1), *y = xcalloc(n, sizeof(float));
    float *d_x = to_dev(x, n), *d_y = to_dev(NULL, n);
    gpu_scale_copy(n, -1, d_x, d_y);
    from_dev(y, d_y, n);
    int same = 1;
    for (long i = 0; i < n; ++i) same &= y[i] == -x[i];
    CHECK(same, "gpu_scale_copy differs");
    int *d_flag = NULL, flag = 0;
    gpu_check_call(cudaMalloc((void **)&d_flag, sizeof(int)), "malloc");
    gpu_check_call(cudaMemset(d_flag, 0, sizeof(int)), "memset");
    gpu_any_nonfinite(n, d_x, d_flag);
    gpu_check_call(cudaMemcpy(&flag, d_flag, sizeof(int), cudaMemcpyDeviceToHost), "pull");
    CHECK(flag == 0, "gpu_any_nonfinite: finite values flagged");
    float nan = NAN;
    gpu_check_call(cudaMemcpy(d_x + n - 1, &nan, sizeof(float), cudaMemcpyHostToDevice), "push");
    gpu_any_nonfinite(n, d_x, d_flag);
    gpu_check_call(cudaMemcpy(&flag, d_flag, sizeof(int), cudaMemcpyDeviceToHost), "pull");
    CHECK(flag == 1, "gpu_any_nonfinite: a NaN in the last element not flagged");
    cudaFree(d_x), cudaFree(d_y), cudaFree(d_flag);
    free(x), free(y);
}

static void check_launchers(void)
{
    rng r = make_rng(5);
    gpu_check_call(cudaSetDevice(device), "set device");
    check_view_launchers(&r, 3, 3, 29, 31, 1, 1, 2, -3, 0);
    check_view_launchers(&r, 3, 3, 29, 31, 3, 1, -5, 7, 1);
    check_view_launchers(&r, 2, 3, 30, 26, 3, 2, 1, -1, 1);
    check_view_launchers(&r, 2, 3, 30, 26, 1, 2, -4, 3, 0);
    check_view_launchers(&r, 5, 1, 28, 28, 1, 1, 2, 2, 1);
    check_prior_launchers(&r, 3, 3, 29, 31, 0.01f, 0.0005f, 0.001f);
    check_prior_launchers(&r, 2, 1, 28, 28, 0.01f, 0, 0);
    check_prior_launchers(&r, 2, 3, 1, 37, 0, 0.002f, 0.001f);
    check_prior_launchers(&r, 3, 3, 67, 45, 0.01f, 0.0005f, 0.002f);
    check_adam_launcher(&r, 1000 * 257 + 3);
    check_bn_backward_launcher(&r, 3, 1000, 15);
    check_bn_backward_launcher(&r, 5, 7, 37 * 45);
    check_misc_launchers(&r);
    printf("  launchers against their CPU twins: done\n");
}

static network *load_on(int dev, const char *cfg, const char *weights, int batch)
{
    inv_gpu = dev;
    network *net = load_checked_network(cfg, weights, batch, LAYERS_FROZEN);
    inv_gpu = -1;
    return net;
}

typedef struct { network *net; frozen_net *f; } pair_side;

// The same network on the CPU and on the GPU, with identical parameters.
static void load_pair(const char *cfg, const char *weights, int batch, int randomize, pair_side *cpu, pair_side *gpu)
{
    cpu->net = load_on(-1, cfg, weights, batch);
    gpu->net = load_on(device, cfg, weights, batch);
    if (randomize) {
        rng r = make_rng(7);
        randomize_bn(cpu->net, &r);
    }
    copy_network_params(gpu->net, cpu->net);   // pushes to the device
    cpu->f = make_frozen_net(cpu->net, cfg);
    gpu->f = make_frozen_net(gpu->net, cfg);
    CHECK(cpu->f->gpu == -1 && gpu->f->gpu == device, "%s: loaded on %d and %d", cfg, cpu->f->gpu, gpu->f->gpu);
}

static void free_pair(pair_side *a, pair_side *b)
{
    free_frozen_net(a->f); free_frozen_net(b->f);
    free_network(a->net); free_network(b->net);
}


// The logits of the last forward, element by element.
static void compare_logits(const char *name, frozen_net *c, frozen_net *g)
{
    size_t n = (size_t)c->net->batch * c->classes;
    double w;
    size_t bad = outside(frozen_logits(g), frozen_logits(c), n, 1e-4, 1e-2, &w);
    CHECK(!bad, "%s: %zu of %zu logits differ (worst %g)", name, bad, n, w);
}

// Each BN layer's R_feature statistics and coefficients, element by element
// (the GPU keeps [mean | var | ga | gb] in bn[i].dev).
static void compare_bn_layers(const char *name, frozen_net *c, frozen_net *g)
{
    for (int i = 0; i < c->net->n; ++i) {
        int C = c->bn[i].channels;
        if (!C) continue;
        float *dev = xcalloc(4 * (size_t)C, sizeof(float));
        from_dev(dev, g->bn[i].dev, 4 * (size_t)C);
        const float *cpu[4] = {c->bn[i].mean, c->bn[i].var, c->bn[i].ga, c->bn[i].gb};
        const char *what[4] = {"mean", "variance", "ga", "gb"};
        for (int k = 0; k < 4; ++k) {
            double w;
            size_t bad = outside(dev + (size_t)k * C, cpu[k], C, k < 2 ? 1e-4 : 1e-3, 1e-2, &w);
            CHECK(!bad, "%s: layer %d R_feature %s: %zu of %d channels differ (worst %g)", name, i, what[k], bad, C, w);
        }
        free(dev);
    }
}

// One synth_loss on both sides: each term, the logits, the BN statistics,
// then the whole gradient: the entries off by more than 1e-3 of the largest
// (a max-pool near-tie or a leaky kink flipped by rounding) must be rare, and
// the others' relative L2 difference small.
static void compare_loss(const char *name, synth *sc, synth *sg)
{
    size_t n = (size_t)sc->batch * sc->teacher->inputs;
    float *x = xcalloc(n, sizeof(float)), *gc = xcalloc(n, sizeof(float)), *gg = xcalloc(n, sizeof(float));
    int *targets = xcalloc(sc->batch, sizeof(int));
    rng r = make_rng(3);
    for (size_t i = 0; i < n; ++i) x[i] = (float)(0.1 + 0.8 * rng_uniform(&r));
    for (int b = 0; b < sc->batch; ++b) targets[b] = b % sc->teacher->classes;
    synth_record rc, rg;
    synth_loss(sc, x, targets, gc, &rc);
    synth_loss(sg, x, targets, gg, &rg);
    const char *names[] = {"total", "ce", "bn", "tv_l1", "tv_l2", "l2", "compete"};
    double vc[] = {rc.total, rc.ce, rc.bn, rc.tv_l1, rc.tv_l2, rc.l2, rc.compete};
    double vg[] = {rg.total, rg.ce, rg.bn, rg.tv_l1, rg.tv_l2, rg.l2, rg.compete};
    for (int k = 0; k < 7; ++k)
        CHECK(close_to(vc[k], vg[k]), "%s: %s CPU %.9g GPU %.9g", name, names[k], vc[k], vg[k]);
    compare_logits(name, sc->teacher, sg->teacher);
    if (sc->p.bn_stat_weight != 0) compare_bn_layers(name, sc->teacher, sg->teacher);
    double gmax = 0, d2 = 0, g2 = 0;
    for (size_t i = 0; i < n; ++i) gmax = fmax(gmax, fabs(gc[i]));
    size_t outliers = 0;
    for (size_t i = 0; i < n; ++i) {
        double d = (double)gc[i] - gg[i];
        g2 += (double)gc[i] * gc[i];
        if (!(fabs(d) <= 1e-3 * gmax)) ++outliers;   // counted, and left out of the L2 below
        else d2 += d * d;
    }
    double rel = sqrt(d2 / (g2 > 0 ? g2 : 1));
    CHECK(gmax > 0, "%s: zero gradient", name);
    CHECK(rel <= 1e-4, "%s: input gradient's relative L2 difference %.3g", name, rel);
    CHECK(outliers <= 2 + n / 1000, "%s: %zu of %zu gradient entries differ by more than 1e-3 of the largest", name, outliers, n);
    printf("  %-28s total %.6g (GPU %.6g), ce %.4g bn %.4g tv %.4g l2 %.4g compete %.4g; gradient relative L2 %.2e, "
           "%zu outliers\n",
           name, rc.total, rg.total, rc.ce, rc.bn, rc.tv_l1 + rc.tv_l2, rc.l2, rc.compete, rel, outliers);
    free(x); free(gc); free(gg); free(targets);
}

// Two backward passes after one forward give the same gradient on each side
// (the GPU's deltas are zeroed in each backward, not once per forward).
static void check_double_backward(const char *name, frozen_net *f)
{
    size_t n = (size_t)f->net->batch * f->inputs, nz = (size_t)f->net->batch * f->classes;
    float *x = xcalloc(n, sizeof(float)), *g1 = xcalloc(n, sizeof(float)), *g2 = xcalloc(n, sizeof(float));
    rng r = make_rng(9);
    for (size_t i = 0; i < n; ++i) x[i] = (float)rng_uniform(&r);
    const float *prob = frozen_forward(f, x);
    for (size_t i = 0; i < nz; ++i) f->logit_grad[i] = prob[i] - (i % f->classes == 0);
    frozen_clear_bn_grad(f);
    frozen_backward(f, g1);
    frozen_backward(f, g2);
    CHECK(!memcmp(g1, g2, n * sizeof(float)), "%s on %s: a second backward after one forward changes the gradient", name,
          f->gpu >= 0 ? "the GPU" : "the CPU");
    free(x); free(g1); free(g2);
}

static inversion_params all_terms(int batch)
{
    inversion_params p = default_inversion_params();
    p.batch = batch;
    p.class_weight = 1; p.bn_stat_weight = 0.5; p.bn_stat_first_multiplier = 10; p.prior_tv_l1 = 0.3; p.prior_tv_l2 = 0.1; p.prior_l2 = 0.2;
    return p;
}

static void check_terms(const char *name, const char *cfg, const char *weights, int batch)
{
    pair_side c, g;
    load_pair(cfg, weights, batch, !weights, &c, &g);
    inversion_params p = all_terms(batch);
    synth *sc = make_synth(c.f, NULL, &p), *sg = make_synth(g.f, NULL, &p);
    compare_loss(name, sc, sg);
    free_synth(sc); free_synth(sg);
    // Each term alone, so that a small one cannot hide behind a large one.
    const char *terms[] = {"ce", "bn", "tv_l1", "tv_l2", "l2"};
    for (int k = 0; k < 5; ++k) {
        inversion_params q = p;
        q.class_weight = k == 0; q.bn_stat_weight = k == 1 ? 0.5f : 0; q.prior_tv_l1 = k == 2; q.prior_tv_l2 = k == 3; q.prior_l2 = k == 4;
        sc = make_synth(c.f, NULL, &q), sg = make_synth(g.f, NULL, &q);
        char label[128];
        snprintf(label, sizeof label, "%s/%s", name, terms[k]);
        compare_loss(label, sc, sg);
        free_synth(sc); free_synth(sg);
    }
    check_double_backward(name, c.f);
    check_double_backward(name, g.f);
    free_pair(&c, &g);
}

static void check_compete(const char *name, const char *tcfg, const char *tweights, const char *scfg, int batch)
{
    pair_side tc, tg, stc, stg;
    load_pair(tcfg, tweights, batch, !tweights, &tc, &tg);
    load_pair(scfg, NULL, batch, 1, &stc, &stg);
    inversion_params p = all_terms(batch);
    p.compete_weight = 1;
    p.compete_temperature = 3;
    synth *sc = make_synth(tc.f, stc.f, &p), *sg = make_synth(tg.f, stg.f, &p);
    compare_loss(name, sc, sg);
    free_synth(sc); free_synth(sg);
    free_pair(&tc, &tg);
    free_pair(&stc, &stg);
}

typedef struct { synth_record first; int seen; } first_record;

static void keep_first(const synth_record *r, void *ctx)
{
    first_record *f = ctx;
    if (!f->seen++) f->first = *r;
}

// A short synth_batch on both: same seed, so the same draws.
static void check_batch(const char *cfg, const char *weights, int batch)
{
    pair_side c, g;
    load_pair(cfg, weights, batch, 0, &c, &g);
    inversion_params p = default_inversion_params();
    p.batch = batch;
    p.iterations = 20; p.adam_warmup = 5; p.multires_iterations = 10; p.multires_factor = 2;
    p.gray = 1; p.augment_jitter = 2; p.augment_flip = 1; p.prior_tv_l1 = 0.01f; p.prior_tv_l2 = 1e-3f; p.prior_l2 = 1e-3f;
    synth *sc = make_synth(c.f, NULL, &p), *sg = make_synth(g.f, NULL, &p);
    size_t n = (size_t)batch * c.f->inputs;
    float *ic = xcalloc(n, sizeof(float)), *ig = xcalloc(n, sizeof(float));
    int *targets = xcalloc(batch, sizeof(int));
    for (int b = 0; b < batch; ++b) targets[b] = b % c.f->classes;
    first_record fc = {0}, fg = {0};
    synth_batch(sc, targets, 11, 0, ic, keep_first, &fc);
    synth_batch(sg, targets, 11, 0, ig, keep_first, &fg);
    CHECK(fc.seen == 30 && fg.seen == 30, "synth_batch: %d and %d iterations", fc.seen, fg.seen);
    CHECK(close_to(fc.first.total, fg.first.total) && close_to(fc.first.bn, fg.first.bn),
          "synth_batch first iteration: CPU %.9g (bn %.9g), GPU %.9g (bn %.9g)", fc.first.total, fc.first.bn,
          fg.first.total, fg.first.bn);
    double sum = 0, mx = 0;
    for (size_t i = 0; i < n; ++i) {
        double d = fabs((double)ic[i] - ig[i]);
        sum += d;
        mx = fmax(mx, d);
    }
    // Adam divides by the gradient's running magnitude, so float rounding
    // grows over iterations: only a loose bound on the mean is meaningful.
    CHECK(sum / n < 0.02, "synth_batch images: mean |CPU - GPU| %.3g (max %.3g)", sum / n, mx);
    printf("  synth_batch 10+20 iterations: first total CPU %.6g GPU %.6g; images mean |diff| %.2e, max %.2e\n",
           fc.first.total, fg.first.total, sum / n, mx);
    free(ic); free(ig); free(targets);
    free_synth(sc); free_synth(sg);
    free_pair(&c, &g);
}

static double time_batch(int dev, const char *cfg, const char *weights, int batch, int iters)
{
    network *net = load_on(dev, cfg, weights, batch);
    frozen_net *f = make_frozen_net(net, cfg);
    inversion_params p = default_inversion_params();
    p.batch = batch;
    p.iterations = iters;
    p.adam_warmup = 1;
    synth *s = make_synth(f, NULL, &p);
    float *images = xcalloc((size_t)batch * f->inputs, sizeof(float));
    int *targets = xcalloc(batch, sizeof(int));
    for (int b = 0; b < batch; ++b) targets[b] = b % f->classes;
    s->p.iterations = 2;
    synth_batch(s, targets, 1, 0, images, NULL, NULL);   // warm-up (cuDNN, cuBLAS handles)
    s->p.iterations = iters;
    double t0 = now_seconds();
    synth_batch(s, targets, 2, 0, images, NULL, NULL);
    double rate = (double)batch * iters / (now_seconds() - t0);
    free(images); free(targets);
    free_synth(s);
    free_frozen_net(f);
    free_network(net);
    return rate;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: %s <teacher.cfg> <teacher.weights> <student.cfg> [-gpu N] [-batch B] [-iters K]\n", argv[0]);
        return 2;
    }
    int batch = opt_int(argc, argv, "-batch", 256), iters = opt_int(argc, argv, "-iters", 200);
    int quick = opt_has(argc, argv, "-quick");
    device_select(&argc, argv, 4);
    if (inv_gpu < 0) {
        printf("gpu_check: no CUDA device: nothing to compare\n");
        return 77;
    }
    device = inv_gpu;
    inv_gpu = -1;
    const char *tcfg = argv[1], *tweights = argv[2], *scfg = argv[3];
    printf("gpu_check on %s\n", device_name());
    printf("kernels.h launchers, CPU against GPU:\n");
    check_launchers();
    printf("loss terms and input gradient, CPU against GPU (tolerance %g):\n", tol);
    check_terms("teacher", tcfg, tweights, quick ? 4 : 32);
    const char *nets[][2] = {{"conv", net_conv}, {"resnet", net_resnet}, {"misc", net_misc}};
    for (int k = 0; k < 3; ++k) {
        char *cfg = write_temp(nets[k][1], ".cfg");
        check_terms(nets[k][0], cfg, NULL, 4);
        unlink(cfg);
        free(cfg);
    }
    check_compete("teacher+student compete", tcfg, tweights, scfg, quick ? 4 : 16);
    char *t8 = write_temp(net_resnet, ".cfg"), *s8 = write_temp(net_student, ".cfg");
    check_compete("resnet+student compete", t8, NULL, s8, 4);
    unlink(t8); unlink(s8); free(t8); free(s8);
    printf("synth_batch, CPU against GPU:\n");
    check_batch(tcfg, tweights, quick ? 4 : 32);
    if (quick) return test_summary();
    printf("speed of synth_batch on the teacher, batch %d:\n", batch);
    double g = time_batch(device, tcfg, tweights, batch, iters);
    double c = time_batch(-1, tcfg, tweights, batch, iters / 20 > 2 ? iters / 20 : 2);
    printf("  GPU %.0f image-iterations/s, CPU %.0f image-iterations/s (%.1fx)\n", g, c, g / c);
    return test_summary();
}
