// Pruning: which channels a plan may prune (ties across [shortcut], the
// classifier and non-zero activations left whole); masked and compacted
// networks give the same logits on random inputs (teacher, residual, route,
// connected after a convolution); the compacted cost is what the plan
// predicts; the Taylor gate gradient equals a finite difference of the loss
// in the gate.
#include <math.h>

#include "conv1x1_fix.h"
#include "flops.h"
#include "load_network.h"
#include "prune_compact.h"
#include "prune_mask.h"
#include "rng.h"
#include "taylor.h"
#pragma GCC diagnostic ignored "-Wunused-variable"   // test_nets.h: only randomize_bn and net_conv are used
#include "test_nets.h"
#include "testlib.h"

// A residual pair tied by a [shortcut], a [route] of it and a 1x1
// convolution, a [connected] layer reading a convolution directly.
static const char *net_tied =
    "[net]\nwidth=8\nheight=8\nchannels=3\n"
    "[convolutional]\nbatch_normalize=1\nfilters=6\nsize=3\nstride=1\npad=1\nactivation=leaky\n"
    "[convolutional]\nbatch_normalize=1\nfilters=6\nsize=3\nstride=1\npad=1\nactivation=linear\n"
    "[shortcut]\nfrom=-2\nactivation=leaky\n"
    "[maxpool]\nsize=2\nstride=2\n"
    "[convolutional]\nbatch_normalize=1\nfilters=8\nsize=1\nstride=1\npad=1\nactivation=relu\n"
    "[route]\nlayers=-1,-2\n"
    "[convolutional]\nbatch_normalize=1\nfilters=5\nsize=3\nstride=1\npad=1\nactivation=leaky\n"
    "[connected]\noutput=4\nactivation=linear\n"
    "[softmax]\n";

// The same with smooth activations (f(0) = 0 still) and no pooling, for
// tight finite differences. Darknet's training-mode BN forward divides the
// variance by N - 1, its backward differentiates the biased one: gradients
// below a BN layer are off by O(1/N), N = batch * pixels, so every BN layer
// here sees N = 8 * 64.
static const char *net_smooth =
    "[net]\nwidth=8\nheight=8\nchannels=3\n"
    "[convolutional]\nbatch_normalize=1\nfilters=6\nsize=3\nstride=1\npad=1\nactivation=tanh\n"
    "[convolutional]\nbatch_normalize=1\nfilters=6\nsize=3\nstride=1\npad=1\nactivation=linear\n"
    "[shortcut]\nfrom=-2\nactivation=tanh\n"
    "[convolutional]\nbatch_normalize=1\nfilters=8\nsize=1\nstride=1\npad=1\nactivation=elu\n"
    "[route]\nlayers=-1,-2\n"
    "[connected]\noutput=4\nactivation=linear\n"
    "[softmax]\n";

static network *load_random(const char *cfg, int batch, uint64_t seed)
{
    srand((unsigned)seed);
    network *net = load_checked_network(cfg, NULL, batch, LAYERS_TRAIN);
    rng r = make_rng(seed);
    randomize_bn(net, &r);
    return net;
}

static void fill_input(network *net, rng *r)
{
    for (int i = 0; i < net->batch * net->inputs; ++i) net->input[i] = (float)rng_uniform(r);
}

// Logits (the output softmax's input) in inference mode.
static float *logits_of(network *net, const float *input)
{
    int out = output_layer_index(net), n = net->layers[out].inputs * net->batch;
    memcpy(net->input, input, sizeof(float) * net->batch * net->inputs);
    net->train = 0;
    forward_network(net);
    float *z = malloc(sizeof(float) * n);
    memcpy(z, net->layers[out - 1].output, sizeof(float) * n);
    return z;
}

// Masks about `fraction` of the groups at random (never emptying a layer),
// compacts, and compares logits; returns the largest difference relative
// to the largest logit.
static double masked_vs_compacted(const char *cfg, const char *name, double fraction, uint64_t seed)
{
    network *net = load_random(cfg, 3, seed);
    prune_plan p = make_prune_plan(net, cfg);
    rng r = make_rng(seed + 1);
    for (int g = 0; g < p.ngroups; ++g)
        if (rng_uniform(&r) < fraction && !prune_would_empty(&p, g)) p.masked[g] = 1;
    apply_prune_mask(net, &p);
    fill_input(net, &r);
    float *input = malloc(sizeof(float) * net->batch * net->inputs);
    memcpy(input, net->input, sizeof(float) * net->batch * net->inputs);
    float *zm = logits_of(net, input);
    char *small_cfg = write_temp("", ".cfg");
    network *small = compact_network(net, &p, cfg, small_cfg, 3);
    float *zc = logits_of(small, input);
    int n = net->layers[output_layer_index(net)].inputs * net->batch;
    double worst = 0, scale = 1e-6;
    for (int i = 0; i < n; ++i) {
        worst = fmax(worst, fabs(zm[i] - zc[i]));
        scale = fmax(scale, fabs(zm[i]));
    }
    int masked = 0;
    for (int g = 0; g < p.ngroups; ++g) masked += p.masked[g];
    CHECK(masked > 0, "%s: nothing masked", name);
    CHECK(network_flops(small) < network_flops(net), "%s: compacted network not cheaper", name);
    CHECK(fabs(network_flops(small) - prune_flops(&p, net)) < 1e-6 * network_flops(small),
          "%s: plan predicts %.0f FLOPs, compacted network has %.0f", name, prune_flops(&p, net), network_flops(small));
    printf("%s: %d of %d groups masked, %.3f -> %.3f MFLOP, logits differ by %.2g (relative)\n", name, masked, p.ngroups,
           network_flops(net) / 1e6, network_flops(small) / 1e6, worst / scale);
    free(zm); free(zc); free(input);
    unlink(small_cfg); free(small_cfg);
    free_network(small);
    free_prune_plan(&p);
    free_network(net);
    return worst / scale;
}

static void test_plan(void)
{
    char *cfg = write_temp(net_tied, ".cfg");
    network *net = load_random(cfg, 2, 5);
    prune_plan p = make_prune_plan(net, cfg);
    // Layers 0 and 1 meet in the shortcut: 6 groups of 2, then 8 and 5 alone.
    CHECK(p.ngroups == 6 + 8 + 5, "%d groups", p.ngroups);
    CHECK(p.count[0] == 2 && p.member_layer[p.first[0]] == 0 && p.member_layer[p.first[0] + 1] == 1, "shortcut tie");
    CHECK(p.group[2][3] == p.group[0][3] && p.group[3][3] == p.group[0][3], "shortcut and maxpool carry the group");
    CHECK(p.group[5][0] == p.group[4][0] && p.group[5][8] == p.group[0][0], "route concatenates the groups");
    CHECK(p.group[7][0] < 0, "the classifier is never pruned");
    CHECK(p.owns[0] && p.owns[1] && !p.owns[2] && !p.owns[3] && p.owns[4] && !p.owns[5] && p.owns[6] && !p.owns[7],
          "layers that own channels: the BN convolutions");
    double f = network_flops(net);
    CHECK(fabs(prune_flops(&p, net) - f) < 1e-6 * f, "unmasked plan FLOPs %.0f, network %.0f", prune_flops(&p, net), f);
    for (int g = 0; g < p.ngroups; ++g)
        if (p.owner[g] == 6) p.masked[g] = p.masked[g] || !prune_would_empty(&p, g);
    CHECK(prune_kept_channels(&p, 6) == 1, "a layer keeps at least one channel (%d)", prune_kept_channels(&p, 6));
    free_prune_plan(&p);
    free_network(net);
    unlink(cfg); free(cfg);

    // Logistic/tanh layers and a layer without BN are never pruned.
    cfg = write_temp(net_conv, ".cfg");
    net = load_random(cfg, 2, 5);
    p = make_prune_plan(net, cfg);
    CHECK(p.ngroups == 4 && p.owner[3] == 0, "net_conv: %d groups, expected the leaky layer's 4 (not logistic, tanh, no BN)", p.ngroups);
    free_prune_plan(&p);
    free_network(net);
    unlink(cfg); free(cfg);
}

static void test_compact_text(void)
{
    const char *text = "[net]\nwidth=8\n[convolutional]\nfilters = 16\nsize=3\n[conv]\nsize=1\n[maxpool]\n";
    int filters[3] = {9, 4, 0};
    char *t = compact_cfg_text(text, "t.cfg", 3, filters, "# hdr");
    CHECK(t && !strcmp(t, "# hdr\n[net]\nwidth=8\n[convolutional]\nfilters=9\nsize=3\n[conv]\nfilters=4\nsize=1\n[maxpool]\n"),
          "rewritten cfg:\n%s", t ? t : "(null)");
    free(t);
}

// L = sum_b sum_k w_bk z_bk: Darknet's delta is -w.
typedef struct { const float *w; } linear_loss;
static double linear_delta(void *ctx, const float *z, int batch, int outputs, float *delta)
{
    const linear_loss *l = ctx;
    double s = 0;
    for (int i = 0; i < batch * outputs; ++i) s += (double)l->w[i] * z[i], delta[i] = -l->w[i];
    return s;
}

static double train_loss(network *net, const float *input, const float *w)
{
    int out = output_layer_index(net), n = net->batch * net->layers[out].inputs;
    memcpy(net->input, input, sizeof(float) * net->batch * net->inputs);
    net->train = 1;
    forward_network(net);
    double s = 0;
    for (int i = 0; i < n; ++i) s += (double)w[i] * net->layers[out - 1].output[i];
    return s;
}

static void scale_gate(network *net, const prune_plan *p, int g, float f)
{
    for (int m = p->first[g]; m < p->first[g] + p->count[g]; ++m) {
        layer *l = &net->layers[p->member_layer[m]];
        l->scales[p->member_channel[m]] *= f;
        l->biases[p->member_channel[m]] *= f;
    }
}

static void test_taylor(const char *cfg, const char *name, double step, double tolerance)
{
    network *net = load_random(cfg, 8, 11);
    fix_conv1x1_backward(net);   // Darknet's 1x1 backward overwrites the delta a [route] also feeds
    prune_plan p = make_prune_plan(net, cfg);
    rng r = make_rng(12);
    fill_input(net, &r);
    int n = net->batch * net->inputs, nz = net->batch * net->layers[output_layer_index(net)].inputs;
    float *input = malloc(sizeof(float) * n), *w = malloc(sizeof(float) * nz);
    memcpy(input, net->input, sizeof(float) * n);
    for (int i = 0; i < nz; ++i) w[i] = (float)rng_normal(&r);
    linear_loss ll = {w};
    double *grad = calloc(p.ngroups, sizeof(double)), *imp = calloc(p.ngroups, sizeof(double));
    float before = net->layers[0].rolling_mean[1];
    double loss = taylor_batch(net, &p, linear_delta, &ll, imp, grad);
    CHECK(net->layers[0].rolling_mean[1] == before, "%s: running statistics moved", name);
    CHECK(fabs(loss - train_loss(net, input, w)) < 1e-4 * (1 + fabs(loss)), "%s: loss", name);
    double worst = 0, scale = 1e-9, eps = step;
    int checked = 0;
    for (int g = 0; g < p.ngroups; g += 1 + p.ngroups / 12) {
        scale_gate(net, &p, g, (float)(1 + eps));
        double up = train_loss(net, input, w);
        scale_gate(net, &p, g, (float)((1 - eps) / (1 + eps)));
        double down = train_loss(net, input, w);
        scale_gate(net, &p, g, (float)(1 / (1 - eps)));
        double fd = (up - down) / (2 * eps);
        worst = fmax(worst, fabs(fd - grad[g]));
        if (getenv("VERBOSE")) printf("  group %d: fd %.6g analytic %.6g\n", g, fd, grad[g]);
        scale = fmax(scale, fabs(fd));
        CHECK(fabs(imp[g] - grad[g] * grad[g]) <= 1e-9 * (1 + imp[g]), "%s: importance is the squared gate gradient", name);
        ++checked;
    }
    printf("%s: gate gradient vs finite difference, %d groups: %.2g (relative)\n", name, checked, worst / scale);
    CHECK(checked > 3 && worst / scale < tolerance, "%s: Taylor gate gradient off by %.3g (relative)", name, worst / scale);
    free(grad); free(imp); free(input); free(w);
    free_prune_plan(&p);
    free_network(net);
}

int main(void)
{
    test_plan();
    test_compact_text();
    char *tied = write_temp(net_tied, ".cfg");
    CHECK(masked_vs_compacted("cfg/fmnist-teacher.cfg", "teacher", 0.5, 1) < 1e-5, "teacher: masked != compacted");
    CHECK(masked_vs_compacted("cfg/fmnist-resnet.cfg", "resnet", 0.5, 2) < 1e-5, "resnet: masked != compacted");
    CHECK(masked_vs_compacted(tied, "tied", 0.4, 3) < 1e-5, "tied: masked != compacted");
    // Leaky kinks and max-pool switches bend the finite differences of the
    // last two by up to a percent; the smooth network's are exact to rounding.
    char *smooth = write_temp(net_smooth, ".cfg");
    test_taylor(smooth, "smooth", 1e-2, 1e-3);
    test_taylor("cfg/fmnist-teacher.cfg", "teacher", 1e-3, 2e-2);
    test_taylor(tied, "tied", 1e-3, 2e-2);
    unlink(smooth); free(smooth);
    unlink(tied); free(tied);
    return test_summary();
}
