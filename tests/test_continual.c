// Continual learning: the three loss terms' deltas against finite
// differences (alone and mixed in one batch), head widening that leaves the
// old classes' logits unchanged, and heads that cannot be widened.
#include <math.h>

#include "check.h"
#include "continual_loss.h"
#include "rng.h"
#include "testlib.h"
#include "widen.h"

enum { B = 4, KO = 3, K = 5 };

typedef double (*loss_fn)(const float *zo, float *zn, const int *y, float *delta);
static float T = 2;
static double syn_fn(const float *zo, float *zn, const int *y, float *d) { return continual_syn_loss(zo, zn, B, KO, K, T, 1, d); }
static double ce_fn(const float *zo, float *zn, const int *y, float *d) { return continual_ce_loss(zn, y, B, K, 1, d); }
static double kd_fn(const float *zo, float *zn, const int *y, float *d) { return continual_kd_loss(zo, zn, B, KO, K, T, 1, d); }
static const continual_weights W = {0.7f, 1.3f, 0.4f, 3};
static double mix_fn(const float *zo, float *zn, const int *y, float *d) { return continual_loss(&W, zo, zn, y, B, 1, KO, K, d, NULL); }

// delta is per sample and negative: the gradient of the batch mean is -delta / B.
static void fd_check(const char *name, loss_fn f, const float *zo, float *zn, const int *y)
{
    float delta[B * K] = {0};
    double l = f(zo, zn, y, delta);
    CHECK(l > 0, "%s: loss of differing outputs must be positive (%g)", name, l);
    double worst = 0;
    for (int i = 0; i < B * K; ++i) {
        const double eps = 1e-3;
        float keep = zn[i];
        zn[i] = keep + (float)eps;
        double lp = f(zo, zn, y, NULL);
        zn[i] = keep - (float)eps;
        double lm = f(zo, zn, y, NULL);
        zn[i] = keep;
        double fd = (lp - lm) / (2 * eps), an = -delta[i] / B;
        if (fabs(fd - an) > worst) worst = fabs(fd - an);
        CHECK(fabs(fd - an) < 1e-4 + 1e-2 * fabs(fd), "%s: logit %d: analytic %g, finite difference %g", name, i, an, fd);
    }
    printf("  %s: loss %.6f, worst |analytic - finite difference| %.2g\n", name, l, worst);
}

static void loss_tests(void)
{
    rng r = make_rng(11);
    float zo[B * KO], zn[B * K];
    int y[B] = {3, 0, 4, 1};
    for (int i = 0; i < B * KO; ++i) zo[i] = (float)(2 * rng_normal(&r));
    for (int i = 0; i < B * K; ++i) zn[i] = (float)(2 * rng_normal(&r));
    fd_check("syn KL(p_old padded || p_new)", syn_fn, zo, zn, y);
    fd_check("CE on new data", ce_fn, zo, zn, y);
    fd_check("KL(p_old || p_new old classes)", kd_fn, zo, zn, y);
    fd_check("mixed batch (1 synthetic + 3 new rows)", mix_fn, zo, zn, y);

    // The KD term ignores the new classes' logits; the syn term pushes them down.
    float delta[B * K] = {0};
    continual_kd_loss(zo, zn, B, KO, K, T, 1, delta);
    int untouched = 1;
    for (int b = 0; b < B; ++b) for (int j = KO; j < K; ++j) untouched &= delta[b * K + j] == 0;
    CHECK(untouched, "KD term must leave the new classes' delta alone");
    memset(delta, 0, sizeof delta);
    continual_syn_loss(zo, zn, B, KO, K, T, 1, delta);
    int down = 1;
    for (int b = 0; b < B; ++b) for (int j = KO; j < K; ++j) down &= delta[b * K + j] < 0;
    CHECK(down, "syn term must lower the new classes' logits (p_old is 0 there)");

    // Zero where the new network agrees with the old one on the old classes.
    float same[B * K];
    for (int b = 0; b < B; ++b) for (int j = 0; j < K; ++j) same[b * K + j] = j < KO ? zo[b * KO + j] + 1.5f : 0;
    CHECK(fabs(continual_kd_loss(zo, same, B, KO, K, T, 1, NULL)) < 1e-9, "KD of agreeing logits (up to a shift) must be 0");
    for (int b = 0; b < B; ++b) for (int j = KO; j < K; ++j) same[b * K + j] = -1e4f;
    CHECK(fabs(continual_syn_loss(zo, same, B, KO, K, T, 1, NULL)) < 1e-9, "syn KL must be 0 when the new classes are impossible");
    // Weighted sum and its parts.
    continual_parts parts;
    double total = continual_loss(&W, zo, zn, y, B, 1, KO, K, NULL, &parts);
    double want = (1 * W.syn * parts.syn + 3 * (W.ce * parts.ce + W.kd * parts.kd)) / B;
    CHECK(fabs(total - want) < 1e-9 && fabs(parts.total - total) < 1e-12, "mixed loss %g, parts give %g", total, want);
}

static const char *old_cfg =
    "[net]\nbatch=1\nwidth=6\nheight=6\nchannels=3\n"
    "[convolutional]\nbatch_normalize=1\nfilters=4\nsize=3\nstride=1\npad=1\nactivation=leaky\n"
    "[maxpool]\nsize=2\nstride=2\n"
    "# the head\n[connected]\nbatch_normalize=1\noutput = 3\nactivation=linear\n"
    "[softmax]\ngroups=1\n[cost]\ntype=sse\n";

static void randomize(network *net, rng *r)
{
    for (int i = 0; i < net->n; ++i) {
        layer *l = &net->layers[i];
        int n = l->type == CONVOLUTIONAL ? l->n : l->outputs;
        size_t nw = l->type == CONVOLUTIONAL ? (size_t)l->nweights : (size_t)l->inputs * l->outputs;
        if (l->type != CONVOLUTIONAL && l->type != CONNECTED) continue;
        for (size_t k = 0; k < nw; ++k) l->weights[k] = (float)(0.5 * rng_normal(r));
        for (int k = 0; k < n; ++k) {
            l->biases[k] = (float)(0.3 * rng_normal(r));
            if (!l->batch_normalize) continue;
            l->scales[k] = (float)(1 + 0.3 * rng_normal(r));
            l->rolling_mean[k] = (float)(0.3 * rng_normal(r));
            l->rolling_variance[k] = (float)(0.5 + rng_uniform(r));
        }
    }
}

static const float *logits(network *net, const float *x)
{
    memcpy(net->input, x, sizeof(float) * net->inputs * net->batch);
    net->train = 0;
    forward_network(net);
    return net->layers[output_layer_index(net) - 1].output;
}

static void widen_tests(void)
{
    int k_old = 0;
    char err[1024] = "";
    char *wide = widen_head_cfg_text(old_cfg, "old.cfg", 4, &k_old, err, sizeof err);
    CHECK(wide != NULL, "widening failed: %s", err);
    if (!wide) return;
    CHECK(k_old == 3, "old head has %d outputs, expected 3", k_old);
    CHECK(strstr(wide, "\noutput=7\n") && !strstr(wide, "output = 3"), "widened cfg:\n%s", wide);
    char *op = write_temp(old_cfg, ".cfg"), *wp = write_temp(wide, ".cfg");
    network *o = load_checked_network(op, NULL, 2, LAYERS_TRAIN), *w = load_checked_network(wp, NULL, 2, LAYERS_TRAIN);
    rng r = make_rng(3);
    randomize(o, &r);
    randomize(w, &r);   // the new rows hold something else entirely
    int head = output_layer_index(w) - 1;
    copy_params_widened(w, o, head);
    float x[2 * 6 * 6 * 3];
    double worst = 0;
    for (int trial = 0; trial < 5; ++trial) {
        for (size_t i = 0; i < sizeof x / sizeof *x; ++i) x[i] = (float)rng_uniform(&r);
        float zo[2 * 3];
        memcpy(zo, logits(o, x), sizeof zo);
        const float *zw = logits(w, x);
        for (int b = 0; b < 2; ++b)
            for (int k = 0; k < 3; ++k) {
                double d = fabs(zo[b * 3 + k] - zw[b * 7 + k]);
                if (d > worst) worst = d;
            }
    }
    CHECK(worst < 1e-5, "old classes' logits changed by %g after widening", worst);
    printf("  widened 3 -> 7 classes: old logits differ by at most %.2g on random inputs\n", worst);
    free_network(o);
    free_network(w);
    unlink(op);
    unlink(wp);
    free(op);
    free(wp);
    free(wide);

    // Heads it cannot extend.
    const char *bad[][2] = {
        {"[net]\nwidth=6\nheight=6\nchannels=3\n[convolutional]\nfilters=3\nsize=1\nactivation=linear\n[avgpool]\n[softmax]\n",
         "no classifier head it can extend: the layer before [softmax] (line 10) is [avgpool] at line 9"},
        {"[net]\nwidth=6\nheight=6\nchannels=3\n[connected]\noutput=3\n", "no classifier head it can extend: the network ends in [connected]"},
        {"[net]\nwidth=6\nheight=6\nchannels=3\n[connected]\nactivation=linear\n[softmax]\n", "has no output= count"},
        {"[net]\nwidth=6\nheight=6\nchannels=3\n[connected]\noutput=4\n[softmax]\ngroups=2\n", "has groups=2"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; ++i) {
        err[0] = 0;
        char *t = widen_head_cfg_text(bad[i][0], "bad.cfg", 2, &k_old, err, sizeof err);
        CHECK(t == NULL && strstr(err, bad[i][1]) && strstr(err, "bad.cfg"), "case %zu: got '%s'", i, err);
        free(t);
    }
}

int main(void)
{
    loss_tests();
    widen_tests();
    return test_summary();
}
