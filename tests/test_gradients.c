// Finite-difference checks of every loss term's gradient with respect to the
// input pixels, through small random networks that together use every layer
// type and activation the frozen backward supports.
#include <math.h>

#include "load_network.h"
#include "fdcheck.h"
#include "frozen.h"
#include "icfg.h"
#include "rng.h"
#include "synth.h"
#include "testlib.h"
#include "test_nets.h"

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
    p.class_weight = 1; p.bn_stat_weight = 0.5; p.prior_tv_l2 = 0.1;
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
    zero.class_weight = zero.bn_stat_weight = zero.prior_tv_l1 = zero.prior_tv_l2 = zero.prior_l2 = 0;
    inversion_params p;
    p = zero; p.class_weight = 1; check_term(name, f, p, "class", smooth);
    p = zero; p.bn_stat_weight = 1; p.bn_stat_first_multiplier = 3; check_term(name, f, p, "bn_stat", smooth);
    p = zero; p.prior_tv_l1 = 1; check_term(name, f, p, "tv_l1", 0);   // |.| has kinks everywhere
    p = zero; p.prior_tv_l2 = 1; check_term(name, f, p, "tv_l2", 1);
    p = zero; p.prior_l2 = 1; check_term(name, f, p, "l2", 1);
    p = zero; p.class_weight = 1; p.bn_stat_weight = 0.5; p.bn_stat_first_multiplier = 10; p.prior_tv_l1 = 0.3; p.prior_tv_l2 = 0.1; p.prior_l2 = 0.2;
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
    p.class_weight = p.bn_stat_weight = p.prior_tv_l1 = p.prior_tv_l2 = p.prior_l2 = 0;
    p.compete_weight = 1;
    p.compete_temperature = 3;
    synth *s = make_synth(t, st, &p);
    check_synth(s, "resnet+student", "compete", 1);
    p.class_weight = 1; p.bn_stat_weight = 0.5; p.prior_tv_l2 = 0.1;
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
