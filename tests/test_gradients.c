// Finite-difference checks of every loss term's gradient with respect to the
// input pixels, through small random networks that together use every layer
// type and activation the frozen backward supports.
#include <math.h>

#include "check.h"
#include "frozen.h"
#include "icfg.h"
#include "rng.h"
#include "synth.h"
#include "testlib.h"
#include "test_nets.h"

static double loss_at(synth *s, const float *x, const int *t)
{
    synth_record r;
    return synth_loss(s, x, t, NULL, &r);
}

// Directional derivatives along random directions, and single coordinates
// (the largest gradients, where relative error is meaningful in float32).
static void check_synth(synth *s, const char *netname, const char *term, int smooth)
{
    frozen_net *f = s->teacher;
    int batch = s->batch;
    size_t n = (size_t)batch * f->inputs;
    rng r = make_rng(42);
    float *x = calloc(n, sizeof(float)), *g = calloc(n, sizeof(float)), *xp = calloc(n, sizeof(float));
    int targets[8];
    for (int b = 0; b < batch; ++b) targets[b] = b % f->classes;
    for (size_t i = 0; i < n; ++i) x[i] = (float)(0.1 + 0.8 * rng_uniform(&r));
    synth_record rec;
    synth_loss(s, x, targets, g, &rec);
    double gnorm = 0;
    for (size_t i = 0; i < n; ++i) gnorm += (double)g[i] * g[i];
    CHECK(gnorm > 0, "%s/%s: zero gradient", netname, term);
    float *gsave = calloc(n, sizeof(float));
    memcpy(gsave, g, n * sizeof(float));
    // Kinks (ReLU-like activations, max-pool switches, |.| in tv_l1) and
    // float32 rounding each spoil some step sizes; a wrong gradient is wrong
    // at every step size, so the best agreement over several steps is taken.
    // Directions: the gradient itself (largest signal over float32 noise), two
    // random ones (small derivatives that cross many kinks: loose unless the
    // network is smooth), and the six largest single coordinates.
    float *v = calloc(n, sizeof(float));
    for (int dir = 0; dir < 9; ++dir) {
        double tol = dir == 0 ? 1e-2 : dir < 3 ? (smooth ? 1e-2 : 0.15) : (smooth ? 2e-2 : 4e-2);
        memset(v, 0, n * sizeof(float));
        if (dir == 0) {
            for (size_t i = 0; i < n; ++i) v[i] = g[i] / (float)sqrt(gnorm / n);
        } else if (dir < 3) {
            for (size_t i = 0; i < n; ++i) v[i] = (float)rng_normal(&r);
        } else {
            size_t best = 0;
            for (size_t i = 0; i < n; ++i) if (fabsf(g[i]) > fabsf(g[best])) best = i;
            v[best] = 1;
            g[best] = 0;   // the next largest next time; gsave keeps the value
        }
        double an = 0;
        for (size_t i = 0; i < n; ++i) an += (double)(dir < 3 ? g[i] : gsave[i]) * v[i];
        double best_err = 1e30, best_fd = 0;
        const double steps[] = {1e-2, 3e-3, 1e-3, 3e-4, 1e-4};
        for (int k = 0; k < 5; ++k) {
            for (size_t i = 0; i < n; ++i) xp[i] = x[i] + (float)steps[k] * v[i];
            double lp = loss_at(s, xp, targets);
            for (size_t i = 0; i < n; ++i) xp[i] = x[i] - (float)steps[k] * v[i];
            double lm = loss_at(s, xp, targets);
            double fd = (lp - lm) / (2 * steps[k]);
            double err = fabs(fd - an) / fmax(fmax(fabs(fd), fabs(an)), 1e-4);
            if (err < best_err) best_err = err, best_fd = fd;
        }
        CHECK(best_err < tol, "%s/%s direction %d: analytic %.6g, finite difference %.6g (rel err %.3g)", netname, term, dir, an, best_fd, best_err);
    }
    free(v);
    free(gsave);
    free(x); free(g); free(xp);
}

static void check_term(const char *netname, frozen_net *f, inversion_params p, const char *term, int smooth)
{
    synth *s = make_synth(f, NULL, &p);
    check_synth(s, netname, term, smooth);
    free_synth(s);
}

// The frozen network reuses its buffers: the gradient at x2 must not depend on
// what an earlier backward at another input x1 left in them (deltas that
// are overwritten rather than zeroed). Run on a network fresh from make_frozen_net.
static void check_reuse(const char *name, frozen_net *f, int batch)
{
    rng r = make_rng(11);
    inversion_params p = default_inversion_params();
    p.batch = batch;
    p.ce = 1; p.bn = 0.5; p.tv_l2 = 0.1;
    synth *s = make_synth(f, NULL, &p);
    size_t n = (size_t)batch * f->inputs;
    float *x1 = calloc(n, sizeof(float)), *x2 = calloc(n, sizeof(float));
    float *g_first = calloc(n, sizeof(float)), *g = calloc(n, sizeof(float));
    for (size_t i = 0; i < n; ++i) x1[i] = (float)rng_uniform(&r), x2[i] = (float)rng_uniform(&r);
    int targets[8];
    for (int b = 0; b < batch; ++b) targets[b] = b % f->classes;
    synth_record rec;
    synth_loss(s, x2, targets, g_first, &rec);
    synth_loss(s, x1, targets, g, &rec);
    synth_loss(s, x2, targets, g, &rec);
    double diff = 0;
    for (size_t i = 0; i < n; ++i) diff = fmax(diff, fabs((double)g[i] - g_first[i]));
    CHECK(diff == 0, "%s: the gradient at x2 changed by %g after a backward at another input", name, diff);
    free(x1); free(x2); free(g_first); free(g);
    free_synth(s);
}

static void check_network(const char *name, const char *cfg_text, int batch, int smooth)
{
    char *cfg = write_temp(cfg_text, ".cfg");
    network *net = load_checked_network(cfg, NULL, batch, LAYERS_FROZEN);
    rng r = make_rng(7);
    randomize_bn(net, &r);
    frozen_net *f = make_frozen_net(net, cfg);
    check_reuse(name, f, batch);
    inversion_params zero = default_inversion_params();
    zero.batch = batch;
    zero.ce = zero.bn = zero.tv_l1 = zero.tv_l2 = zero.l2 = 0;
    inversion_params p;
    p = zero; p.ce = 1; check_term(name, f, p, "class", smooth);
    p = zero; p.bn = 1; p.first_bn_multiplier = 3; check_term(name, f, p, "bn_stat", smooth);
    p = zero; p.tv_l1 = 1; check_term(name, f, p, "tv_l1", 0);   // |.| has kinks everywhere
    p = zero; p.tv_l2 = 1; check_term(name, f, p, "tv_l2", 1);
    p = zero; p.l2 = 1; check_term(name, f, p, "l2", 1);
    p = zero; p.ce = 1; p.bn = 0.5; p.first_bn_multiplier = 10; p.tv_l1 = 0.3; p.tv_l2 = 0.1; p.l2 = 0.2;
    check_term(name, f, p, "total", smooth);
    free_frozen_net(f);
    free_network(net);
    unlink(cfg);
    free(cfg);
}

// The competition term flows through teacher and student; the student's
// gradient joins the teacher's at the input.
static void check_compete(void)
{
    int batch = 4;
    char *tcfg = write_temp(net_resnet, ".cfg"), *scfg = write_temp(net_student, ".cfg");
    network *tn = load_checked_network(tcfg, NULL, batch, LAYERS_FROZEN);
    network *sn = load_checked_network(scfg, NULL, batch, LAYERS_FROZEN);
    rng r = make_rng(9);
    randomize_bn(tn, &r);
    randomize_bn(sn, &r);
    frozen_net *t = make_frozen_net(tn, tcfg), *st = make_frozen_net(sn, scfg);
    inversion_params p = default_inversion_params();
    p.batch = batch;
    p.ce = p.bn = p.tv_l1 = p.tv_l2 = p.l2 = 0;
    p.compete = 1;
    p.compete_temperature = 3;
    synth *s = make_synth(t, st, &p);
    check_synth(s, "resnet+student", "compete", 1);
    p.ce = 1; p.bn = 0.5; p.tv_l2 = 0.1;
    free_synth(s);
    s = make_synth(t, st, &p);
    check_synth(s, "resnet+student", "total with compete", 1);
    free_synth(s);
    free_frozen_net(t); free_frozen_net(st);
    free_network(tn); free_network(sn);
    unlink(tcfg); unlink(scfg);
    free(tcfg); free(scfg);
}

int main(void)
{
    check_network("conv", net_conv, 3, 0);
    check_network("resnet", net_resnet, 4, 1);
    check_network("misc", net_misc, 2, 0);
    check_network("pool", net_pool, 3, 0);
    check_network("crop", net_crop, 3, 1);
    check_network("crop_mid", net_crop_mid, 4, 0);   // its total's random directions: small beside tv_l1's kinks
    check_compete();
    return test_summary();
}
