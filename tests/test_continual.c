// Continual learning: the three loss terms' deltas against finite
// differences (alone and mixed in one batch), head widening on every head
// shape of Darknet's classifier zoo that leaves the old classes' logits
// unchanged and gives the new ones from the new filters, and heads that
// cannot be widened.
#include <math.h>
#include <unistd.h>

#include "load_network.h"
#include "continual_loss.h"
#include "netstate.h"
#include "rng.h"
#include "testlib.h"
#include "util.h"
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

// One small network of each head shape in Darknet's classifier zoo; %d is
// the class count (the head's filters= or output=).
enum { KA = 4 };   // classes added
static const struct { const char *name, *cfg; int head, head_line, conv; } heads[] = {
    {"1x1 [convolutional] (no BN) then [avgpool], [softmax], [cost] (darknet19, tiny)",
     "[net]\nbatch=1\nwidth=16\nheight=16\nchannels=3\n"
     "[convolutional]\nbatch_normalize=1\nfilters=6\nsize=3\nstride=1\npad=1\nactivation=leaky\n"
     "[maxpool]\nsize=2\nstride=2\n"
     "[convolutional]\nfilters=%d\nsize=1\nstride=1\npad=1\nactivation=linear\n"
     "[avgpool]\n\n[softmax]\ngroups=1\n\n[cost]\ntype=sse\n", 2, 16, 1},
    {"3x3 [convolutional] with BN, then [avgpool] and [dropout]",
     "[net]\nbatch=1\nwidth=16\nheight=16\nchannels=3\n"
     "[conv]\nbatch_normalize=1\nfilters=6\nsize=3\nstride=2\npad=1\nactivation=leaky\n"
     "[convolutional]\nbatch_normalize=1\nfilters=%d\nsize=3\nstride=1\npad=1\nactivation=leaky\n"
     "[avgpool]\n[dropout]\nprobability=.5\n[softmax]\n", 1, 13, 1},
    {"[avgpool] then 1x1 [convolutional] (resnet, darknet53)",
     "[net]\nbatch=1\nwidth=16\nheight=16\nchannels=3\n"
     "[convolutional]\nbatch_normalize=1\nfilters=6\nsize=3\nstride=1\npad=1\nactivation=leaky\n"
     "[convolutional]\nbatch_normalize=1\nfilters=6\nsize=3\nstride=1\npad=1\nactivation=linear\n"
     "[shortcut]\nfrom=-2\nactivation=leaky\n"
     "[avgpool]\n"
     "[convolutional]\nfilters=%d\nsize=1\nstride=1\npad=1\nactivation=linear\n"
     "[softmax]\ngroups=1\n", 4, 24, 1},
    {"[connected] with BN (alexnet, vgg-16)",
     "[net]\nbatch=1\nwidth=16\nheight=16\nchannels=3\n"
     "[convolutional]\nbatch_normalize=1\nfilters=4\nsize=3\nstride=1\npad=1\nactivation=leaky\n"
     "[maxpool]\nsize=4\nstride=4\n"
     "# the head\n[connected]\nbatch_normalize=1\noutput=%d\nactivation=linear\n"
     "[softmax]\ngroups=1\n[cost]\ntype=sse\n", 2, 17, 0},
    {"[avgpool] then [connected] (extraction22k)",
     "[net]\nbatch=1\nwidth=16\nheight=16\nchannels=3\n"
     "[convolutional]\nbatch_normalize=1\nfilters=6\nsize=3\nstride=1\npad=1\nactivation=leaky\n"
     "[avgpool]\n[connected]\noutput=%d\nactivation=linear\n[softmax]\n", 2, 14, 0},
};

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

// The head's parameters of filters/rows [from, from + k): pointers and float counts.
static int head_rows(const layer *l, int from, int k, float *a[5], size_t n[5])
{
    size_t per = l->type == CONVOLUTIONAL ? (size_t)l->nweights / l->n : (size_t)l->inputs;
    a[0] = l->weights + from * per, n[0] = k * per;
    a[1] = l->biases + from, n[1] = k;
    if (!l->batch_normalize) return 2;
    a[2] = l->scales + from, a[3] = l->rolling_mean + from, a[4] = l->rolling_variance + from;
    n[2] = n[3] = n[4] = k;
    return 5;
}

static network *load_text(const char *text, int batch)
{
    char *path = write_temp(text, ".cfg");
    network *net = load_checked_network(path, NULL, batch, LAYERS_TRAIN);
    unlink(path);
    free(path);
    return net;
}

static void widen_one(int t)
{
    char old_text[2048], wide_want[2048], add_text[2048], err[1024] = "";
    snprintf(old_text, sizeof old_text, heads[t].cfg, KO);
    snprintf(wide_want, sizeof wide_want, heads[t].cfg, KO + KA);
    snprintf(add_text, sizeof add_text, heads[t].cfg, KA);
    widen_head h = {0};
    char *wide = widen_head_cfg_text(old_text, "old.cfg", KA, &h, err, sizeof err);
    CHECK(wide != NULL, "%s: widening failed: %s", heads[t].name, err);
    if (!wide) return;
    CHECK(h.k_old == KO && h.head == heads[t].head && h.head_line == heads[t].head_line && h.conv == heads[t].conv,
          "%s: head k_old %d, layer %d, line %d, conv %d", heads[t].name, h.k_old, h.head, h.head_line, h.conv);
    // Every line kept but the count, which gets a comment line before it.
    char *c = strstr(wide, "# widened by"), *nl = c ? strchr(c, '\n') : NULL, stripped[2048];
    CHECK(nl != NULL, "%s: no comment line in\n%s", heads[t].name, wide);
    if (nl) {
        snprintf(stripped, sizeof stripped, "%.*s%s", (int)(c - wide), wide, nl + 1);
        CHECK(!strcmp(stripped, wide_want), "%s: widened cfg:\n%s", heads[t].name, wide);
    }

    network *o = load_text(old_text, 2), *w = load_text(wide, 2), *a = load_text(add_text, 2);
    CHECK(!check_widen_head(o, &h, "old.cfg", err, sizeof err), "%s: %s", heads[t].name, err);
    rng r = make_rng(3 + t);
    randomize(o, &r);
    randomize(w, &r);   // the new filters/rows hold something else entirely
    float *keep[5], *rows[5];
    size_t nk[5];
    int m = head_rows(&w->layers[h.head], KO, KA, rows, nk);
    for (int j = 0; j < m; ++j) keep[j] = xcalloc(nk[j], sizeof(float)), memcpy(keep[j], rows[j], nk[j] * sizeof(float));
    copy_params_widened(w, o, h.head);
    int untouched = 1;
    for (int j = 0; j < m; ++j) untouched &= !memcmp(keep[j], rows[j], nk[j] * sizeof(float)), free(keep[j]);
    CHECK(untouched, "%s: widening must leave the new filters/rows alone", heads[t].name);
    // `a`: the old network with only the new classes' filters/rows as its head.
    copy_network_params_except(a, o, h.head);
    float *to[5];
    size_t nt[5];
    head_rows(&a->layers[h.head], 0, KA, to, nt);
    for (int j = 0; j < m; ++j) memcpy(to[j], rows[j], nt[j] * sizeof(float));

    enum { X = 2 * 16 * 16 * 3 };
    float x[X], zo[2 * KO], za[2 * KA];
    double worst_old = 0, worst_new = 0;
    for (int trial = 0; trial < 4; ++trial) {
        for (int i = 0; i < X; ++i) x[i] = (float)rng_uniform(&r);
        memcpy(zo, logits(o, x), sizeof zo);
        memcpy(za, logits(a, x), sizeof za);
        const float *zw = logits(w, x);
        for (int b = 0; b < 2; ++b) {
            for (int k = 0; k < KO; ++k) worst_old = fmax(worst_old, fabs(zo[b * KO + k] - zw[b * (KO + KA) + k]));
            for (int k = 0; k < KA; ++k) worst_new = fmax(worst_new, fabs(za[b * KA + k] - zw[b * (KO + KA) + KO + k]));
        }
    }
    CHECK(worst_old < 1e-5, "%s: old classes' logits changed by %g after widening", heads[t].name, worst_old);
    CHECK(worst_new < 1e-5, "%s: new classes' logits differ by %g from a head of the new filters alone", heads[t].name, worst_new);
    printf("  %s: widened %d -> %d classes, old logits within %.2g, new logits within %.2g of the new filters'\n",
           heads[t].name, KO, KO + KA, worst_old, worst_new);
    free_network(o);
    free_network(w);
    free_network(a);
    free(wide);
}

static void widen_tests(void)
{
    for (size_t t = 0; t < sizeof heads / sizeof *heads; ++t) widen_one((int)t);

    // Heads it cannot extend: file, line and why.
    widen_head h;
    char err[1024];
#define NET "[net]\nwidth=16\nheight=16\nchannels=3\n"
    const char *bad[][2] = {
        {NET "[convolutional]\nfilters=4\nsize=1\ngroups=2\nactivation=linear\n[avgpool]\n[softmax]\n",
         "bad.cfg:5: no classifier head it can extend: the [convolutional] head has groups=2"},
        {NET "[convolutional]\nfilters=3\nsize=1\nactivation=linear\n[route]\nlayers=-1\n[softmax]\n",
         "bad.cfg:9: no classifier head it can extend: the [softmax] at line 11 reads [route]"},
        {NET "[convolutional]\nfilters=3\nsize=1\n[convolutional]\nfilters=3\nsize=1\n[shortcut]\nfrom=-2\n[avgpool]\n[softmax]\n",
         "bad.cfg:11: no classifier head it can extend: the [softmax] at line 14 reads [shortcut]"},
        {NET "[convolutional]\nfilters=3\nsize=1\n[maxpool]\nsize=2\n[softmax]\n", "bad.cfg:8: no classifier head it can extend: the [softmax] at line 10 reads [maxpool]"},
        {NET "[connected]\noutput=3\n", "bad.cfg:5: no classifier head it can extend: the network ends in [connected]"},
        {NET "[connected]\nactivation=linear\n[softmax]\n", "bad.cfg:5: no classifier head it can extend: the [connected] head has no output= count"},
        {NET "[conv]\nsize=1\n[avgpool]\n[softmax]\n", "bad.cfg:5: no classifier head it can extend: the [convolutional] head has no filters= count"},
        {NET "[connected]\noutput=4\n[softmax]\ngroups=2\n", "bad.cfg:7: no classifier head it can extend: the [softmax] has groups=2"},
        {NET "[conv]\nfilters=4\nsize=1\n[avgpool]\n[softmax]\ntree=9k.tree\n[cost]\n", "bad.cfg:9: no classifier head it can extend: the [softmax] has tree="},
        {NET "[avgpool]\n[dropout]\n[softmax]\n", "bad.cfg:1: no classifier head it can extend: no layer with parameters before the [softmax] at line 7"},
        {"[convolutional]\nfilters=3\n[softmax]\n", "bad.cfg:1: no classifier head it can extend: not a Darknet classifier cfg"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; ++i) {
        err[0] = 0;
        char *t = widen_head_cfg_text(bad[i][0], "bad.cfg", 2, &h, err, sizeof err);
        CHECK(t == NULL && strstr(err, bad[i][1]), "case %zu: got '%s'", i, err);
        free(t);
    }
    // A convolutional head with a spatial output straight into the [softmax]:
    // only the parsed network tells.
    const char *spatial = NET "[convolutional]\nfilters=3\nsize=1\nstride=2\nactivation=linear\n[softmax]\n";
    char *t = widen_head_cfg_text(spatial, "bad.cfg", 2, &h, err, sizeof err);
    CHECK(t != NULL, "the text of a spatial head is fine: %s", err);
    network *net = load_text(spatial, 1);
    err[0] = 0;
    CHECK(check_widen_head(net, &h, "bad.cfg", err, sizeof err) == -1 &&
              strstr(err, "bad.cfg:5: no classifier head it can extend: the [convolutional] head has filters=3 but the [softmax] at "
                          "line 10 reads 192 values (3 channels of 8x8)"),
          "spatial head: got '%s'", err);
    free_network(net);
    free(t);
#undef NET
}

int main(void)
{
    loss_tests();
    widen_tests();
    return test_summary();
}
