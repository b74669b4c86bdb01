// GPU against CPU, for tests/gpu/run.sh (built by `make GPU=1 CUDNN=1 gpu`):
//   gpu_check <teacher.cfg> <teacher.weights> <student.cfg> [-gpu N] [-batch B] [-iters K]
// 1. Every loss term and the input gradient of one synth_loss, on the same
//    input, for the same network loaded on the CPU and on the GPU: the
//    shipped teacher, the small test networks (every supported layer type and
//    activation, grouped convolutions, shortcut, route, dropout, connected with
//    BN), and teacher + student with the competition term.
// 2. A short synth_batch (low-resolution stage, gray, jitter, flip, Adam) on
//    both: the first iteration's terms must agree; the images must stay close.
// 3. Speed: image-iterations per second of synth_batch on the GPU and the CPU.
// Exits 77 when there is no CUDA device.
#include <math.h>

#include "load_network.h"
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

static int close_to(double a, double b) { return fabs(a - b) <= tol * fmax(fabs(a), fabs(b)) + 1e-6; }

// One synth_loss on both sides: each term, then the gradient relative to its largest entry.
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
    double gmax = 0, dmax = 0;
    for (size_t i = 0; i < n; ++i) {
        gmax = fmax(gmax, fabs(gc[i]));
        dmax = fmax(dmax, fabs((double)gc[i] - gg[i]));
    }
    CHECK(gmax > 0, "%s: zero gradient", name);
    CHECK(dmax <= tol * gmax, "%s: input gradient differs by %.3g (largest entry %.3g)", name, dmax, gmax);
    printf("  %-28s total %.6g (GPU %.6g), ce %.4g bn %.4g tv %.4g l2 %.4g compete %.4g; gradient max diff %.2e of %.2e\n",
           name, rc.total, rg.total, rc.ce, rc.bn, rc.tv_l1 + rc.tv_l2, rc.l2, rc.compete, dmax, gmax);
    free(x); free(gc); free(gg); free(targets);
}

static inversion_params all_terms(int batch)
{
    inversion_params p = default_inversion_params();
    p.batch = batch;
    p.ce = 1; p.bn = 0.5; p.first_bn_multiplier = 10; p.tv_l1 = 0.3; p.tv_l2 = 0.1; p.l2 = 0.2;
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
        q.ce = k == 0; q.bn = k == 1 ? 0.5f : 0; q.tv_l1 = k == 2; q.tv_l2 = k == 3; q.l2 = k == 4;
        sc = make_synth(c.f, NULL, &q), sg = make_synth(g.f, NULL, &q);
        char label[128];
        snprintf(label, sizeof label, "%s/%s", name, terms[k]);
        compare_loss(label, sc, sg);
        free_synth(sc); free_synth(sg);
    }
    free_pair(&c, &g);
}

static void check_compete(const char *name, const char *tcfg, const char *tweights, const char *scfg, int batch)
{
    pair_side tc, tg, stc, stg;
    load_pair(tcfg, tweights, batch, !tweights, &tc, &tg);
    load_pair(scfg, NULL, batch, 1, &stc, &stg);
    inversion_params p = all_terms(batch);
    p.compete = 1;
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
    p.iterations = 20; p.warmup = 5; p.lowres_iterations = 10; p.lowres_factor = 2;
    p.gray = 1; p.jitter = 2; p.flip = 1; p.tv_l1 = 0.01f; p.tv_l2 = 1e-3f; p.l2 = 1e-3f;
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
    p.warmup = 1;
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
    device_select(&argc, argv, 4);
    if (inv_gpu < 0) {
        printf("gpu_check: no CUDA device: nothing to compare\n");
        return 77;
    }
    device = inv_gpu;
    inv_gpu = -1;
    const char *tcfg = argv[1], *tweights = argv[2], *scfg = argv[3];
    printf("gpu_check on %s\n", device_name());
    printf("loss terms and input gradient, CPU against GPU (tolerance %g):\n", tol);
    check_terms("teacher", tcfg, tweights, 32);
    const char *nets[][2] = {{"conv", net_conv}, {"resnet", net_resnet}, {"misc", net_misc}};
    for (int k = 0; k < 3; ++k) {
        char *cfg = write_temp(nets[k][1], ".cfg");
        check_terms(nets[k][0], cfg, NULL, 4);
        unlink(cfg);
        free(cfg);
    }
    check_compete("teacher+student compete", tcfg, tweights, scfg, 16);
    char *t8 = write_temp(net_resnet, ".cfg"), *s8 = write_temp(net_student, ".cfg");
    check_compete("resnet+student compete", t8, NULL, s8, 4);
    unlink(t8); unlink(s8); free(t8); free(s8);
    printf("synth_batch, CPU against GPU:\n");
    check_batch(tcfg, tweights, 32);
    printf("speed of synth_batch on the teacher, batch %d:\n", batch);
    double g = time_batch(device, tcfg, tweights, batch, iters);
    double c = time_batch(-1, tcfg, tweights, batch, iters / 20 > 2 ? iters / 20 : 2);
    printf("  GPU %.0f image-iterations/s, CPU %.0f image-iterations/s (%.1fx)\n", g, c, g / c);
    return test_summary();
}
