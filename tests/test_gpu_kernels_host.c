// The CUDA kernels' logic without a GPU: each kernel of kernels.cu is run on
// the host as its launch runs it (grid-stride loops, blocks of KOP_THREADS
// threads, the block sums' tree), with the same per-element and per-thread
// functions (kernel_ops.h), and compared element by element with its CPU
// twin at shapes that are not multiples of the block size: 1000 channels,
// gray and colour views, odd sizes, jitter and flip, upsampling.
#include <math.h>

#include "adam.h"
#include "augment.h"
#include "bn_stat.h"
#include "frozen.h"
#include "frozen_layers.h"
#include "kernel_ops.h"
#include "load_network.h"
#include "prior.h"
#include "rng.h"
#include "testlib.h"

static float *randoms(rng *r, size_t n, double lo, double hi)
{
    float *x = malloc(n * sizeof(float));
    for (size_t i = 0; i < n; ++i) x[i] = (float)(lo + (hi - lo) * rng_uniform(r));
    return x;
}

// Largest |a - b| / (tol_abs + |b|) over n elements; *where: its index.
static double worst_rel(const float *a, const float *b, size_t n, double tol_abs, size_t *where)
{
    double w = 0;
    for (size_t i = 0; i < n; ++i) {
        double e = fabs((double)a[i] - b[i]) / (tol_abs + fabs((double)b[i]));
        if (!(e <= w)) w = e, *where = i;   // NaN counts as worst
    }
    return w;
}

// ---- the view ---------------------------------------------------------------

static void check_view(rng *r, int B, int C, int H, int W, int PC, int f, int dy, int dx, int flip)
{
    view v = {B, C, H, W, PC, f, dy, dx, flip};
    long n = (long)B * C * H * W, np = (long)B * PC * (H / f) * (W / f);
    float *params = randoms(r, np, 0, 1), *gin = randoms(r, n, -1, 1);
    float *in_cpu = malloc(n * sizeof(float)), *in_gpu = malloc(n * sizeof(float));
    float *gp_cpu = malloc(np * sizeof(float)), *gp_gpu = malloc(np * sizeof(float));
    view_forward(&v, params, in_cpu);
    for (long i = 0; i < n; ++i) in_gpu[i] = params[view_source(i, C, H, W, PC, f, dy, dx, flip)];   // k_view_forward
    CHECK(!memcmp(in_cpu, in_gpu, n * sizeof(float)), "view forward %dx%dx%dx%d pc %d factor %d roll (%d, %d) flip %d differs",
          B, C, H, W, PC, f, dy, dx, flip);
    view_backward(&v, gin, gp_cpu);
    for (long i = 0; i < np; ++i) gp_gpu[i] = view_backward_at(i, C, H, W, PC, f, dy, dx, flip, gin);   // k_view_backward
    // The same terms added in another order: relative to the value, or to
    // the largest gradient for a value near 0 (a difference of larger terms).
    double big = 0;
    for (long i = 0; i < np; ++i) big = fmax(big, fabs(gp_cpu[i]));
    size_t at = 0;
    double w = worst_rel(gp_gpu, gp_cpu, np, 1e-2 * big, &at);
    CHECK(w < 1e-5, "view backward %dx%dx%dx%d pc %d factor %d roll (%d, %d) flip %d: %g at %zu (%g, CPU %g)", B, C, H, W,
          PC, f, dy, dx, flip, w, at, gp_gpu[at], gp_cpu[at]);
    free(params), free(gin), free(in_cpu), free(in_gpu), free(gp_cpu), free(gp_gpu);
}

// ---- priors -----------------------------------------------------------------

// gpu_prior_sums: k_prior_partials on a (gx, B*C) grid, then k_prior_reduce.
static void emulate_prior_sums(const float *x, int B, int C, int H, int W, double *acc)
{
    int gx = prior_blocks_x(H, W), planes = B * C;
    double *part = calloc((size_t)planes * gx * 9, sizeof(double)), t[KOP_THREADS][9], v[KOP_THREADS];
    for (int plane = 0; plane < planes; ++plane)
        for (int bx = 0; bx < gx; ++bx) {
            memset(t, 0, sizeof t);
            for (int th = 0; th < KOP_THREADS; ++th)
                for (int i = bx * KOP_THREADS + th; i < H * W; i += gx * KOP_THREADS)
                    prior_pixel_sums(x + (size_t)plane * H * W, H, W, i / W, i % W, t[th]);
            for (int k = 0; k < 9; ++k) {
                for (int th = 0; th < KOP_THREADS; ++th) v[th] = t[th][k];
                part[((size_t)plane * gx + bx) * 9 + k] = kop_tree_sum(v);
            }
        }
    for (int k = 0; k < 8 + B; ++k) {
        memset(v, 0, sizeof v);
        for (int th = 0; th < KOP_THREADS; ++th) {
            if (k < 8)
                for (long j = th; j < (long)planes * gx; j += KOP_THREADS) v[th] += part[j * 9 + k];
            else
                for (long j = th; j < (long)C * gx; j += KOP_THREADS) v[th] += part[((long)(k - 8) * C * gx + j) * 9 + 8];
        }
        acc[k] = kop_tree_sum(v);
    }
    free(part);
}

static void check_prior(rng *r, int B, int C, int H, int W, float w1, float w2, float wl2)
{
    long n = (long)B * C * H * W;
    float *x = randoms(r, n, 0, 1);
    if (n > 4) x[3] = x[2];   // a zero difference: sign(0) = 0 on both
    float *g_cpu = calloc(n, sizeof(float)), *g_gpu = calloc(n, sizeof(float));
    prior_terms t = prior_loss(x, B, C, H, W, w1, w2, wl2, g_cpu);
    double acc[8 + B], tg[3];
    float k2[4], k1[4], kl2[B];
    emulate_prior_sums(x, B, C, H, W, acc);
    prior_coeffs(acc, B, C, H, W, w1, w2, wl2, k2, k1, kl2, tg);
    for (long i = 0; i < n; ++i) {   // k_prior_grad
        long plane = i / ((long)H * W);
        g_gpu[i] += prior_grad_at(x + plane * H * W, H, W, (int)((i / W) % H), (int)(i % W), k2, k1,
                                  wl2 != 0 ? kl2[plane / C] : 0);
    }
    double e1 = fabs(tg[0] - t.tv_l1) / (1e-12 + fabs(t.tv_l1)), e2 = fabs(tg[1] - t.tv_l2) / (1e-12 + fabs(t.tv_l2)),
           e3 = fabs(tg[2] - t.l2) / (1e-12 + fabs(t.l2));
    CHECK(e1 < 1e-7 && e2 < 1e-7 && e3 < 1e-7, "priors %dx%dx%dx%d: terms (%.12g %.12g %.12g), CPU (%.12g %.12g %.12g): %g %g %g", B,
          C, H, W, tg[0], tg[1], tg[2], t.tv_l1, t.tv_l2, t.l2, e1, e2, e3);
    // Gathered against scattered: the same terms, added in another order.
    double scale = 0;
    for (long i = 0; i < n; ++i) scale = fmax(scale, fabs(g_cpu[i]));
    size_t at = 0;
    double w = worst_rel(g_gpu, g_cpu, n, 1e-3 * scale, &at);
    CHECK(w < 1e-4, "priors %dx%dx%dx%d: gradient differs by %g at %zu (%g, CPU %g)", B, C, H, W, w, at, g_gpu[at], g_cpu[at]);
    free(x), free(g_cpu), free(g_gpu);
}

// ---- R_feature: statistics and coefficients ----------------------------------

// gpu_bn_term on x [B][C][S]: k_bn_partials on a (G, C) grid, then k_bn_coeffs.
static double emulate_bn_term(const float *x, int B, int C, int S, const float *rm, const float *rv, double scale,
                              float *mean, float *var, float *ga, float *gb)
{
    long M = (long)B * S;
    int G = bn_chunks(C, M);
    double *part = calloc((size_t)2 * C * G, sizeof(double)), *work = calloc((size_t)2 * C, sizeof(double));
    double v1[KOP_THREADS], v2[KOP_THREADS];
    for (int c = 0; c < C; ++c)
        for (int g = 0; g < G; ++g) {
            long j0, j1;
            bn_chunk(M, G, g, &j0, &j1);
            for (int t = 0; t < KOP_THREADS; ++t) {
                v1[t] = v2[t] = 0;
                bn_thread_sums(x, C, S, c, rm[c], j0, j1, t, &v1[t], &v2[t]);
            }
            part[((size_t)c * G + g) * 2] = kop_tree_sum(v1);
            part[((size_t)c * G + g) * 2 + 1] = kop_tree_sum(v2);
        }
    for (int t = 0; t < KOP_THREADS; ++t) {
        v1[t] = v2[t] = 0;
        for (int c = t; c < C; c += KOP_THREADS) {
            double md, v;
            bn_channel_stats(part, G, c, (double)M, &md, &v);
            work[c] = md, work[C + c] = v;
            mean[c] = (float)(rm[c] + md);
            var[c] = (float)v;
            v1[t] += md * md;
            v2[t] += (v - rv[c]) * (v - rv[c]);
        }
    }
    double D = sqrt(kop_tree_sum(v1)), E = sqrt(kop_tree_sum(v2));
    double kd = bn_norm_coeff(D, (double)M, scale), ke = 2 * bn_norm_coeff(E, (double)M, scale);
    for (int c = 0; c < C; ++c) {
        ga[c] = (float)(kd * work[c]);
        gb[c] = (float)(ke * (work[C + c] - rv[c]));
    }
    free(part), free(work);
    return scale * (D + E);
}

// Values next to their reference, relative to the largest reference value
// (a coefficient near 0 is the difference of larger terms).
static double worst_scaled(const float *a, const float *b, int n)
{
    double scale = 0, w = 0;
    for (int i = 0; i < n; ++i) scale = fmax(scale, fabs(b[i]));
    for (int i = 0; i < n; ++i) w = fmax(w, fabs((double)a[i] - b[i]) / (1e-30 + scale));
    return w;
}

// Each BN layer of a frozen CPU network against the kernels on the same BN
// input, laid out as on the GPU (Darknet's own forward keeps it so in l.x;
// the frozen CPU convolution keeps its GEMM's layout there).
static void check_bn_net(rng *r, const char *text, const char *what)
{
    char *cfg = write_temp(text, ".cfg");
    network *net = load_checked_network(cfg, NULL, 0, LAYERS_FROZEN);
    int B = net->batch;
    for (int i = 0; i < net->n; ++i) {
        layer *l = &net->layers[i];
        if (!l->batch_normalize) continue;
        for (int c = 0; c < l->out_c; ++c) {
            l->rolling_mean[c] = (float)(0.3 * rng_normal(r));
            l->rolling_variance[c] = (float)(0.2 + rng_uniform(r));
            l->scales[c] = (float)(0.5 + rng_uniform(r));
        }
        l->rolling_variance[0] = 1e-4f;   // a nearly dead channel
        size_t nw = l->type == CONVOLUTIONAL ? (size_t)l->nweights : (size_t)l->inputs * l->outputs;
        for (size_t k = 0; k < nw; ++k) l->weights[k] = (float)(0.3 * rng_normal(r));
    }
    float *x = randoms(r, (size_t)B * net->inputs, 0, 1);
    float **xd = calloc(net->n, sizeof(float *));
    memcpy(net->input, x, (size_t)B * net->inputs * sizeof(float));
    net->train = 0;
    forward_network(net);
    for (int i = 0; i < net->n; ++i) {
        layer *l = &net->layers[i];
        if (!l->batch_normalize) continue;
        xd[i] = malloc((size_t)B * l->outputs * sizeof(float));
        memcpy(xd[i], l->x, (size_t)B * l->outputs * sizeof(float));
    }
    frozen_net *f = make_frozen_net(net, cfg);
    frozen_forward(f, x);
    double loss_cpu = bn_stat_loss(f, 0.7f, 3.0f, NULL);
    double loss_gpu = 0;
    int first = 1;
    for (int i = 0; i < net->n; ++i) {
        bn_stat_layer *s = &f->bn[i];
        if (!s->channels) continue;
        layer *l = &net->layers[i];
        int C = s->channels, S = s->spatial;
        float *mean = malloc(4 * C * sizeof(float)), *var = mean + C, *ga = mean + 2 * C, *gb = mean + 3 * C;
        loss_gpu += emulate_bn_term(xd[i], B, C, S, l->rolling_mean, l->rolling_variance, 0.7 * (first ? 3.0 : 1.0), mean, var,
                                    ga, gb);
        first = 0;
        double wm = worst_scaled(mean, s->mean, C), wv = worst_scaled(var, s->var, C), wa = worst_scaled(ga, s->ga, C),
               wb = worst_scaled(gb, s->gb, C);
        CHECK(wm < 1e-5 && wv < 1e-5 && wa < 1e-5 && wb < 1e-5,
              "%s layer %d (%d channels x %d x %d images): mean %g var %g ga %g gb %g", what, i, C, S, B, wm, wv, wa, wb);

        // k_bn_backward against backward_frozen_bn on the same delta.
        size_t n = (size_t)B * C * S;
        float *d_cpu = randoms(r, n, -1, 1), *d_gpu = malloc(n * sizeof(float));
        memcpy(d_gpu, d_cpu, n * sizeof(float));
        layer fake = *l;
        fake.delta = d_cpu;
        fake.x = xd[i];
        backward_frozen_bn(&fake, s);
        for (size_t k = 0; k < n; ++k) {
            int c = (int)((k / S) % C);
            d_gpu[k] = bn_backward_at(d_gpu[k], xd[i][k], l->scales[c], l->rolling_variance[c], 1, s->ga[c], s->gb[c], s->mean[c]);
        }
        size_t at = 0;
        double w = worst_rel(d_gpu, d_cpu, n, 1e-6, &at);
        CHECK(w < 1e-6, "%s layer %d: BN backward differs by %g at %zu", what, i, w, at);
        free(xd[i]), free(mean), free(d_cpu), free(d_gpu);
    }
    CHECK(fabs(loss_gpu - loss_cpu) < 1e-6 * fabs(loss_cpu), "%s: R_feature %.9g, CPU %.9g", what, loss_gpu, loss_cpu);
    free(x), free(xd);
    free_frozen_net(f);
    free_network(net);
    unlink(cfg);
    free(cfg);
}

// ---- Adam -------------------------------------------------------------------

static void check_adam(rng *r, long n)
{
    adam_state a = make_adam(n, 0.5f, 0.9f, 1e-8f);
    float *x = randoms(r, n, 0, 1), *xg = malloc(n * sizeof(float)), *m = calloc(n, sizeof(float)), *v = calloc(n, sizeof(float));
    memcpy(xg, x, n * sizeof(float));
    int same = 1;
    for (int it = 0; it < 5; ++it) {
        float *g = randoms(r, n, -2, 2);
        float lr = 0.1f * (it + 1);
        adam_step(&a, x, g, lr);
        for (long i = 0; i < n; ++i) x[i] = x[i] < 0 ? 0 : x[i] > 1 ? 1 : x[i];   // synth.c's clip
        float c1 = 1 - powf(a.beta1, a.t), c2 = 1 - powf(a.beta2, a.t);
        for (long i = 0; i < n; ++i) adam_clip_at(i, xg, g, m, v, a.beta1, a.beta2, a.eps, lr / c1, 1 / sqrtf(c2));
        size_t at = 0;
        if (worst_rel(xg, x, n, 1e-6, &at) > 1e-6 || worst_rel(m, a.m, n, 1e-6, &at) > 1e-6) same = 0;
        free(g);
    }
    CHECK(same, "Adam + clip on %ld values differs from adam_step", n);
    free(x), free(xg), free(m), free(v);
    free_adam(&a);
}

int main(void)
{
    rng r = make_rng(42);
    // Views: gray (pc 1 of 3 channels) and colour, odd sizes, rolls both ways, flips, upsampling.
    check_view(&r, 3, 3, 29, 31, 1, 1, 2, -3, 0);
    check_view(&r, 3, 3, 29, 31, 1, 1, -5, 7, 1);
    check_view(&r, 2, 3, 30, 26, 3, 2, 1, -1, 1);
    check_view(&r, 2, 3, 30, 26, 1, 2, -4, 3, 0);
    check_view(&r, 5, 1, 28, 28, 1, 1, 2, 2, 1);
    check_view(&r, 1, 3, 17, 17, 3, 1, 16, -16, 1);
    // Priors: odd planes (not multiples of the block), a single row, a single column, gray and colour.
    check_prior(&r, 3, 3, 29, 31, 0.01f, 0.0005f, 0.001f);
    check_prior(&r, 2, 1, 28, 28, 0.01f, 0.0f, 0.0f);
    check_prior(&r, 2, 3, 1, 37, 0.0f, 0.002f, 0.001f);
    check_prior(&r, 4, 1, 23, 1, 0.02f, 0.001f, 0.0f);
    check_prior(&r, 2, 3, 67, 45, 0.01f, 0.0005f, 0.002f);   // several blocks per plane
    // R_feature and the BN backward: 1000 channels (convolution and connected),
    // odd spatial sizes, several chunks per channel, several pieces of the batch.
    check_bn_net(&r,
                 "[net]\nbatch=3\nwidth=5\nheight=3\nchannels=2\n"
                 "[convolutional]\nbatch_normalize=1\nfilters=1000\nsize=1\nstride=1\nactivation=linear\n"
                 "[connected]\nbatch_normalize=1\noutput=1000\nactivation=linear\n"
                 "[connected]\noutput=3\nactivation=linear\n[softmax]\n",
                 "1000 channels");
    check_bn_net(&r,
                 "[net]\nbatch=5\nwidth=45\nheight=37\nchannels=3\n"
                 "[convolutional]\nbatch_normalize=1\nfilters=7\nsize=3\nstride=1\npad=1\nactivation=leaky\n"
                 "[convolutional]\nbatch_normalize=1\nfilters=13\nsize=3\nstride=2\npad=1\nactivation=relu\n"
                 "[avgpool]\n[softmax]\n",
                 "odd planes");
    check_adam(&r, 1);
    check_adam(&r, 1000 * 257 + 3);
    return test_summary();
}
