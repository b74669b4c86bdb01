// Finite-difference checks of each backward variant of the frozen network on
// its own: every layer type, each way a layer writes its input's delta
// (assign: overwrites it whole; accumulate: adds to what another reader of
// the same input put there), the max-pool whose backward the convolution
// below does (fused), the direct convolution (its portable kernels, on any
// CPU), the Winograd convolution, 1x1 convolutions as Darknet reads them, BN or not, and every
// activation. Each network has the layer under test and at most a layer or
// two around it; a failure names the layer and the variant. The plan
// (frozen_net.assign, fused_pool, conv_path) is checked too, so that a variant
// cannot quietly turn into another. test_gradients.c checks whole networks
// and every loss term; here the loss is CE + R_feature only.
#include <math.h>

#include "direct_conv.h"
#include "fdcheck.h"
#include "frozen.h"
#include "load_network.h"
#include "rng.h"
#include "synth.h"
#include "random_bn.h"
#include "testlib.h"
#include "winograd.h"

#define ANY (-1)

// The layer under test and what the plan must make of it.
typedef struct {
    const char *name;     // layer type and variant, as failures print it
    const char *input;    // the [net] section's width/height/channels
    const char *layers;   // the sections after [net], up to the output [softmax]
    int at;               // index of the layer under test
    int assign;           // expected frozen_net.assign[at] (ANY: not checked)
    int fused;            // expected fused_pool[at + 1]: the max-pool above it is fused
    int path;             // expected conv_path[at] (enum conv_path)
    double tol;           // worst relative error allowed over the directions
} variant;

// A two-writer harness for "accumulate": a 1x1 convolution whose output is
// read by the layer under test and by a shortcut above it, which the backward
// runs first; the layer under test must add to the delta the shortcut left.
#define BASE "[convolutional]\nfilters=3\nsize=1\nstride=1\nactivation=linear\n"
#define ADD_BASE "[shortcut]\nfrom=-2\nactivation=linear\n"
#define RGB8 "width=8\nheight=8\nchannels=3\n"
#define OUT "[softmax]\n"   // the output layer

// Tight where the network is smooth; kinks (relu-like activations, max-pool
// switches) leave fewer clean steps, and a wrong backward is off by far more.
#define TOL 5e-3
#define KINKED 2e-2

static int check_variant(const variant *v)
{
    char text[2048];
    snprintf(text, sizeof text, "[net]\n%s%s", v->input, v->layers);
    char *cfg = write_temp(text, ".cfg");
    int batch = 3;   // two slices of unequal sizes on two threads
    network *net = load_checked_network(cfg, NULL, batch, LAYERS_FROZEN);
    rng r = make_rng(7);
    randomize_bn(net, &r);
    frozen_net *f = make_frozen_net(net, cfg);
    int plan_ok = 1;
    if (v->assign != ANY && f->assign[v->at] != v->assign) {
        plan_ok = 0;
        CHECK(0, "%s: layer %d is planned to %s its input's delta", v->name, v->at, f->assign[v->at] ? "assign" : "accumulate into");
    }
    int fused = v->at + 1 < net->n && f->fused_pool[v->at + 1];
    if (fused != v->fused) {
        plan_ok = 0;
        CHECK(0, "%s: the max-pool above layer %d is %sfused", v->name, v->at, fused ? "" : "not ");
    }
    if (f->conv_path[v->at] != v->path) {
        static const char *how[] = {"by im2col + GEMM", "directly", "by Winograd"};
        plan_ok = 0;
        CHECK(0, "%s: layer %d runs %s", v->name, v->at, how[(int)f->conv_path[v->at]]);
    }
    if (plan_ok) ++tests_passed;
    inversion_params p = default_inversion_params();
    p.batch = batch;
    p.class_weight = 1;
    p.bn_stat_weight = 1;
    p.bn_stat_first_multiplier = 3;
    p.prior_tv_l1 = p.prior_tv_l2 = p.prior_l2 = 0;
    synth *s = make_synth(f, NULL, &p);
    fd_worst w = fd_worst_direction(s, 3, 4);
    CHECK(w.err < v->tol, "%s: max rel err %.3g (tolerance %.3g) in direction %d: analytic %.6g, finite difference %.6g",
          v->name, w.err, v->tol, w.dir, w.analytic, w.fd);
    if (getenv("INV_TEST_VERBOSE")) printf("%-48s max rel err %.2e\n", v->name, w.err);
    free_synth(s);
    free_frozen_net(f);
    free_network(net);
    unlink(cfg);
    free(cfg);
    return w.err < v->tol;
}

// Every activation Darknet has, on a 3x3 convolution with and without BN
// (leaky has its own code in both), and on a connected layer.
static void check_activations(void)
{
    static const char *acts[] = {"logistic", "relu", "relie", "linear", "ramp", "tanh", "plse",
                                 "leaky", "elu", "loggy", "hardtan", "lhtan", "selu", "stair"};
    static const int kinked[] = {0, 1, 1, 0, 1, 0, 1, 1, 0, 0, 1, 1, 0, 1};
    for (size_t a = 0; a < sizeof acts / sizeof *acts; ++a)
        for (int bn = 0; bn < 3; ++bn) {
            char name[96], layers[512];
            if (bn < 2) {
                snprintf(name, sizeof name, "conv 3x3%s %s assign", bn ? " bn" : "", acts[a]);
                snprintf(layers, sizeof layers,
                         "[convolutional]\nbatch_normalize=%d\nfilters=4\nsize=3\nstride=1\npad=1\nactivation=%s\n" OUT,
                         bn, acts[a]);
            } else {
                snprintf(name, sizeof name, "connected bn %s assign", acts[a]);
                snprintf(layers, sizeof layers, "[connected]\noutput=6\nbatch_normalize=1\nactivation=%s\n" OUT, acts[a]);
            }
            variant v = {name, RGB8, layers, 0, 1, 0, 0, kinked[a] ? KINKED : TOL};
            check_variant(&v);
        }
}

static const variant variants[] = {
    // Convolutions by im2col + GEMM.
    {"conv 3x3 bn leaky accumulate", RGB8,
     BASE "[convolutional]\nbatch_normalize=1\nfilters=4\nsize=3\nstride=1\npad=1\nactivation=leaky\n" ADD_BASE OUT, 1,
     0, 0, 0, KINKED},
    {"conv 3x3 tanh accumulate", RGB8,
     BASE "[convolutional]\nfilters=4\nsize=3\nstride=1\npad=1\nactivation=tanh\n" ADD_BASE OUT, 1, 0, 0, 0, TOL},
    {"conv 3x3 stride 2 bn logistic (not same-size: zeroed, added)", RGB8,
     "[convolutional]\nbatch_normalize=1\nfilters=5\nsize=3\nstride=2\npad=1\nactivation=logistic\n" OUT, 0, 0, 0, 0,
     TOL},
    {"conv 3x3 stride 2 bn logistic accumulate", RGB8,
     BASE "[convolutional]\nbatch_normalize=1\nfilters=5\nsize=3\nstride=2\npad=1\nactivation=logistic\n" ADD_BASE OUT,
     1, 0, 0, 0, TOL},
    {"conv 3x3 stride 3 unpadded (windows miss the input's edge) tanh", RGB8,
     "[convolutional]\nfilters=4\nsize=3\nstride=3\npad=0\nactivation=tanh\n" OUT, 0, 0, 0, 0, TOL},
    {"conv 5x5 bn elu assign", RGB8,
     "[convolutional]\nbatch_normalize=1\nfilters=3\nsize=5\nstride=1\npad=1\nactivation=elu\n" OUT, 0, 1, 0, 0, TOL},
    {"conv 2x2 (even size) bn tanh", "width=7\nheight=7\nchannels=3\n",
     "[convolutional]\nbatch_normalize=1\nfilters=4\nsize=2\nstride=1\npad=0\nactivation=tanh\n" OUT, 0, 0, 0, 0, TOL},
    {"conv 3x3 groups=2 bn logistic assign", "width=7\nheight=6\nchannels=4\n",
     "[convolutional]\nbatch_normalize=1\nfilters=6\nsize=3\ngroups=2\nstride=1\npad=1\nactivation=logistic\n" OUT, 0, 1,
     0, 0, TOL},
    {"conv 3x3 groups=3 accumulate", RGB8,
     BASE "[convolutional]\nfilters=6\nsize=3\ngroups=3\nstride=1\npad=1\nactivation=tanh\n" ADD_BASE OUT, 1, 0, 0, 0,
     TOL},
    {"conv 3x3 wide (c*k*k > 32: GEMM even where direct is possible) bn tanh", "width=8\nheight=8\nchannels=4\n",
     "[convolutional]\nbatch_normalize=1\nfilters=4\nsize=3\nstride=1\npad=1\nactivation=tanh\n" OUT, 0, 1, 0, 0, TOL},

    // 1x1 convolutions, which read their input as a [c][out_h*out_w] matrix.
    {"conv 1x1 bn logistic assign", RGB8,
     "[convolutional]\nbatch_normalize=1\nfilters=5\nsize=1\nstride=1\nactivation=logistic\n" OUT, 0, 1, 0, 0, TOL},
    {"conv 1x1 leaky assign", RGB8, "[convolutional]\nfilters=5\nsize=1\nstride=1\nactivation=leaky\n" OUT, 0, 1, 0, 0,
     KINKED},
    {"conv 1x1 pad=1 (Darknet pads size/2 = 0) tanh assign", RGB8,
     "[convolutional]\nfilters=5\nsize=1\nstride=1\npad=1\nactivation=tanh\n" OUT, 0, 1, 0, 0, TOL},
    {"conv 1x1 bn tanh accumulate", RGB8,
     BASE "[convolutional]\nbatch_normalize=1\nfilters=4\nsize=1\nstride=1\nactivation=tanh\n" ADD_BASE OUT, 1, 0, 0, 0,
     TOL},
    {"conv 1x1 stride 2 (reads the plane's first out_h*out_w values) bn tanh", RGB8,
     "[convolutional]\nbatch_normalize=1\nfilters=4\nsize=1\nstride=2\nactivation=tanh\n" OUT, 0, 0, 0, 0, TOL},

    // Max-pools: alone (assign), beside another reader (accumulate), with
    // overlapping or clipped windows, and fused into the convolution below.
    {"maxpool 2x2 stride 2 assign", RGB8, "[maxpool]\nsize=2\nstride=2\n" OUT, 0, 1, 0, 0, KINKED},
    {"maxpool 2x2 stride 2 accumulate", RGB8, BASE "[maxpool]\nsize=2\nstride=2\n" ADD_BASE OUT, 1, 0, 0, 0, KINKED},
    {"maxpool 3x3 stride 1 (overlapping windows)", RGB8, "[maxpool]\nsize=3\nstride=1\n" OUT, 0, 0, 0, 0, KINKED},
    {"maxpool 2x2 stride 2 on an odd side (clipped windows)", "width=7\nheight=5\nchannels=3\n",
     "[maxpool]\nsize=2\nstride=2\n" OUT, 0, 0, 0, 0, KINKED},
    {"conv 3x3 bn leaky + fused maxpool", "width=8\nheight=8\nchannels=4\n",
     "[convolutional]\nbatch_normalize=1\nfilters=5\nsize=3\nstride=1\npad=1\nactivation=leaky\n[maxpool]\nsize=2\nstride=2\n"
     OUT, 0, 1, 1, 0, KINKED},
    {"conv 3x3 bn tanh + fused maxpool", "width=8\nheight=8\nchannels=4\n",
     "[convolutional]\nbatch_normalize=1\nfilters=5\nsize=3\nstride=1\npad=1\nactivation=tanh\n[maxpool]\nsize=2\nstride=2\n"
     OUT, 0, 1, 1, 0, KINKED},
    {"conv 1x1 logistic + fused maxpool", RGB8,
     "[convolutional]\nfilters=4\nsize=1\nstride=1\nactivation=logistic\n[maxpool]\nsize=2\nstride=2\n" OUT, 0, 1, 1, 0,
     KINKED},
    {"conv 3x3 bn leaky accumulate + fused maxpool", "width=8\nheight=8\nchannels=4\n",
     BASE "[convolutional]\nbatch_normalize=1\nfilters=5\nsize=3\nstride=1\npad=1\nactivation=leaky\n"
     "[maxpool]\nsize=2\nstride=2\n[shortcut]\nfrom=-3\nactivation=linear\n" OUT, 1, 0, 1, 0, KINKED},

    // The other layers.
    {"avgpool", RGB8, "[avgpool]\n" OUT, 0, 0, 0, 0, TOL},
    {"avgpool after conv", RGB8, "[convolutional]\nfilters=4\nsize=3\nstride=1\npad=1\nactivation=logistic\n[avgpool]\n" OUT,
     1, 0, 0, 0, TOL},
    {"shortcut tanh alpha beta", RGB8,
     BASE "[convolutional]\nfilters=3\nsize=3\nstride=1\npad=1\nactivation=logistic\n"
          "[shortcut]\nfrom=-2\nactivation=tanh\nalpha=0.7\nbeta=1.6\n" OUT, 2, ANY, 0, 0, TOL},
    {"shortcut from a larger layer (sampled)", RGB8,
     BASE "[convolutional]\nfilters=4\nsize=3\nstride=2\npad=1\nactivation=logistic\n"
          "[shortcut]\nfrom=-2\nactivation=linear\n" OUT, 2, ANY, 0, 0, TOL},
    {"route one layer", RGB8, "[convolutional]\nfilters=4\nsize=3\nstride=1\npad=1\nactivation=tanh\n[route]\nlayers=-1\n" OUT,
     1, ANY, 0, 0, TOL},
    {"route two layers", RGB8,
     BASE "[convolutional]\nfilters=4\nsize=3\nstride=1\npad=1\nactivation=tanh\n[route]\nlayers=-1,-2\n" OUT, 2, ANY, 0, 0,
     TOL},
    {"crop as large as its input (assign)", RGB8, "[crop]\ncrop_height=8\ncrop_width=8\n" OUT, 0, 1, 0, 0, TOL},
    {"crop off-centre window of an odd input", "width=9\nheight=8\nchannels=3\n", "[crop]\ncrop_height=5\ncrop_width=6\n" OUT,
     0, 0, 0, 0, TOL},
    {"crop noadjust after conv (accumulate)", RGB8,
     BASE "[crop]\ncrop_height=6\ncrop_width=5\nnoadjust=1\n" ADD_BASE OUT, 1, 0, 0, 0, TOL},
    {"dropout after conv", RGB8,
     "[convolutional]\nfilters=4\nsize=3\nstride=1\npad=1\nactivation=tanh\n[dropout]\nprobability=.5\n" OUT, 1, ANY, 0, 0,
     TOL},
    {"connected assign", RGB8, "[connected]\noutput=5\nactivation=linear\n" OUT, 0, 1, 0, 0, TOL},
    {"connected bn accumulate", RGB8, BASE "[connected]\noutput=5\nbatch_normalize=1\nactivation=tanh\n" ADD_BASE OUT, 1, 0,
     0, 0, TOL},
    {"softmax assign", RGB8, OUT, 0, 1, 0, 0, TOL},
    {"softmax temperature=3 assign", RGB8, "[connected]\noutput=5\nactivation=linear\n[softmax]\ntemperature=3\n", 1, 1, 0, 0,
     TOL},
    {"softmax accumulate (after dropout)", RGB8,
     "[connected]\noutput=5\nactivation=linear\n[dropout]\nprobability=.5\n" OUT, 2, 0, 0, 0, TOL},
};

// The Winograd convolution, forced on layers smaller than those it takes by
// default (winograd_applies): even and odd planes (tiles overhanging), BN or
// not, both ways of writing the input's delta, a fused max-pool above. Four
// channels in, so that the direct convolution never takes them first.
#define BASE4 "[convolutional]\nfilters=4\nsize=1\nstride=1\nactivation=linear\n"
#define RGBA8 "width=8\nheight=8\nchannels=4\n"
static const variant winograd_variants[] = {
    {"winograd conv 3x3 tanh assign", RGBA8, "[convolutional]\nfilters=5\nsize=3\nstride=1\npad=1\nactivation=tanh\n" OUT, 0,
     1, 0, CONV_WINOGRAD, TOL},
    {"winograd conv 3x3 bn leaky assign, odd plane", "width=7\nheight=5\nchannels=4\n",
     "[convolutional]\nbatch_normalize=1\nfilters=6\nsize=3\nstride=1\npad=1\nactivation=leaky\n" OUT, 0, 1, 0, CONV_WINOGRAD,
     KINKED},
    {"winograd conv 3x3 bn logistic accumulate", RGBA8,
     BASE4 "[convolutional]\nbatch_normalize=1\nfilters=6\nsize=3\nstride=1\npad=1\nactivation=logistic\n" ADD_BASE OUT, 1,
     0, 0, CONV_WINOGRAD, TOL},
    {"winograd conv 3x3 bn leaky + fused maxpool", RGBA8,
     "[convolutional]\nbatch_normalize=1\nfilters=5\nsize=3\nstride=1\npad=1\nactivation=leaky\n[maxpool]\nsize=2\nstride=2\n"
     OUT, 0, 1, 1, CONV_WINOGRAD, KINKED},
    {"winograd conv 3x3 after winograd conv 3x3 (both)", RGBA8,
     "[convolutional]\nbatch_normalize=1\nfilters=4\nsize=3\nstride=1\npad=1\nactivation=tanh\n"
     "[convolutional]\nbatch_normalize=1\nfilters=5\nsize=3\nstride=1\npad=1\nactivation=tanh\n" OUT, 1, 1, 0, CONV_WINOGRAD, TOL},
};

// The direct convolution, with the AVX-512 kernels where the CPU has them and
// with the portable ones everywhere (test_direct_conv.c also compares both
// with the definition).
static const variant direct_variants[] = {
    {"direct conv 3x3 assign", RGB8, "[convolutional]\nfilters=5\nsize=3\nstride=1\npad=1\nactivation=tanh\n" OUT, 0, 1, 0,
     1, TOL},
    {"direct conv 3x3 bn leaky assign", RGB8,
     "[convolutional]\nbatch_normalize=1\nfilters=5\nsize=3\nstride=1\npad=1\nactivation=leaky\n" OUT, 0, 1, 0, 1,
     KINKED},
    {"direct conv 3x3 bn logistic accumulate", RGB8,
     BASE "[convolutional]\nbatch_normalize=1\nfilters=6\nsize=3\nstride=1\npad=1\nactivation=logistic\n" ADD_BASE OUT,
     1, 0, 0, 1, TOL},
    {"direct conv 5x5 bn tanh", "width=7\nheight=9\nchannels=1\n",
     "[convolutional]\nbatch_normalize=1\nfilters=3\nsize=5\nstride=1\npad=1\nactivation=tanh\n" OUT, 0, 1, 0, 1, TOL},
    {"direct conv 3x3 bn leaky + fused maxpool", RGB8,
     "[convolutional]\nbatch_normalize=1\nfilters=5\nsize=3\nstride=1\npad=1\nactivation=leaky\n[maxpool]\nsize=2\nstride=2\n"
     OUT, 0, 1, 1, 1, KINKED},
};

int main(void)
{
    for (size_t i = 0; i < sizeof variants / sizeof *variants; ++i) check_variant(&variants[i]);
    check_activations();
    for (int portable = 0; portable < 2; ++portable) {
        if (!portable && !__builtin_cpu_supports("avx512f")) {
            SKIP("direct convolution with the AVX-512 kernels: this CPU has no AVX-512");
            continue;
        }
        direct_conv_force_portable(portable);
        for (size_t i = 0; i < sizeof direct_variants / sizeof *direct_variants; ++i) {
            variant v = direct_variants[i];
            char name[128];
            snprintf(name, sizeof name, "%s (%s)", v.name, portable ? "portable" : "AVX-512");
            v.name = name;
            check_variant(&v);
        }
    }
    direct_conv_force_portable(0);
    winograd_force(1);
    for (size_t i = 0; i < sizeof winograd_variants / sizeof *winograd_variants; ++i) check_variant(&winograd_variants[i]);
    winograd_force(0);
    return test_summary();
}
