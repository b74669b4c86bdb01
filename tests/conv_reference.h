// A convolution kernel of the frozen network (direct_conv.h, winograd.h: the
// GEMM's layout in, the input gradient out) against a double-precision
// definition of the convolution and of its adjoint, for same-size layers
// (stride 1, pad size/2), with a NaN-filled workspace.
#ifndef INV_TEST_CONV_REFERENCE_H
#define INV_TEST_CONV_REFERENCE_H
#include <math.h>

#include "darknet.h"
#include "rng.h"
#include "testlib.h"

static layer conv_layer(int batch, int c, int h, int w, int n, int size, int stride, int pad, int groups)
{
    layer l = {0};
    l.type = CONVOLUTIONAL;
    l.batch = batch, l.c = c, l.h = h, l.w = w, l.n = n;
    l.size = size, l.stride = stride, l.pad = pad, l.groups = groups;
    l.out_h = (h + 2 * pad - size) / stride + 1;
    l.out_w = (w + 2 * pad - size) / stride + 1;
    return l;
}

// Value (b, ch, y, x) of planes h x w at a + b*bs + ch*cs, 0 outside the plane.
static double conv_ref_at(const float *a, size_t bs, size_t cs, int h, int w, int b, int ch, int y, int x)
{
    if (y < 0 || y >= h || x < 0 || x >= w) return 0;
    return a[b * bs + ch * cs + (size_t)y * w + x];
}

// The error of got, in units of float rounding's bound on a plain sum of
// `terms` products whose absolute values add up to `mass`.
static double conv_ref_error(double got, double exact, double mass, int terms)
{
    return fabs(got - exact) / ((terms + 2) * 6e-8 * mass + 1e-30);
}

typedef struct {
    const char *name;   // as failures print it
    // result[n][batch*h*w] = the convolution of input [batch][c][h][w]
    void (*forward)(const layer *l, const float *input, float *result, float *work);
    // delta [batch][c][h][w] = (assign) or += the adjoint applied to rows [n][batch*h*w]
    void (*backward)(const layer *l, const float *rows, float *delta, int assign, float *work);
    size_t (*work)(const layer *l);
    double slack;       // errors allowed, in units of conv_ref_error
} conv_kernel;

// Checks k's forward and its adjoint (assigned, then added to what delta
// held) on random weights and inputs of a same-size size x size layer;
// returns the largest error seen (conv_ref_error's units).
static double check_conv_kernel(const conv_kernel *k, rng *r, int batch, int c, int h, int w, int n, int size)
{
    layer l = conv_layer(batch, c, h, w, n, size, 1, size / 2, 1);
    int N = h * w, kk = size * size, p = size / 2;
    size_t BN = (size_t)batch * N, nin = (size_t)batch * c * N, nw = k->work(&l);
    float *weights = malloc(sizeof(float) * n * c * kk), *in = malloc(sizeof(float) * nin);
    float *result = malloc(sizeof(float) * n * BN), *rows = malloc(sizeof(float) * n * BN);
    float *delta = malloc(sizeof(float) * nin), *prior = malloc(sizeof(float) * nin), *work = malloc(sizeof(float) * nw);
    for (int i = 0; i < n * c * kk; ++i) weights[i] = (float)rng_normal(r);
    for (size_t i = 0; i < nin; ++i) in[i] = (float)rng_normal(r), prior[i] = (float)rng_normal(r);
    for (size_t i = 0; i < n * BN; ++i) rows[i] = (float)rng_normal(r), result[i] = NAN;
    l.weights = weights;
    double worst = 0;
    for (size_t i = 0; i < nw; ++i) work[i] = NAN;   // whatever the workspace holds must not matter
    k->forward(&l, in, result, work);
    int bad = 0;
    for (int b = 0; b < batch; ++b)
        for (int o = 0; o < n; ++o)
            for (int y = 0; y < h; ++y)
                for (int x = 0; x < w; ++x) {
                    double sum = 0, mass = 0;
                    for (int ch = 0; ch < c; ++ch)
                        for (int ky = 0; ky < size; ++ky)
                            for (int kx = 0; kx < size; ++kx) {
                                double t = weights[(o * c + ch) * kk + ky * size + kx] *
                                           conv_ref_at(in, (size_t)c * N, N, h, w, b, ch, y + ky - p, x + kx - p);
                                sum += t, mass += fabs(t);
                            }
                    double e = conv_ref_error(result[(size_t)o * BN + (size_t)b * N + y * w + x], sum, mass, c * kk);
                    if (e > worst) worst = e;
                    bad += !(e <= k->slack);
                }
    CHECK(bad == 0, "%s: c=%d %dx%d n=%d size %d batch %d: %d forward outputs differ from the definition", k->name, c, h,
          w, n, size, batch, bad);

    // The adjoint: delta[b][ch][y][x] = sum over (o, ky, kx) of w * rows at
    // the output position that read (y, x) through tap (ky, kx).
    for (int assign = 1; assign >= 0; --assign) {
        for (size_t i = 0; i < nin; ++i) delta[i] = assign ? NAN : prior[i];
        for (size_t i = 0; i < nw; ++i) work[i] = NAN;
        k->backward(&l, rows, delta, assign, work);
        bad = 0;
        for (int b = 0; b < batch; ++b)
            for (int ch = 0; ch < c; ++ch)
                for (int y = 0; y < h; ++y)
                    for (int x = 0; x < w; ++x) {
                        size_t i = (((size_t)b * c + ch) * h + y) * w + x;
                        double sum = assign ? 0 : prior[i], mass = fabs(sum);
                        for (int o = 0; o < n; ++o)
                            for (int ky = 0; ky < size; ++ky)
                                for (int kx = 0; kx < size; ++kx) {
                                    double t = weights[(o * c + ch) * kk + ky * size + kx] *
                                               conv_ref_at(rows, N, BN, h, w, b, o, y - ky + p, x - kx + p);
                                    sum += t, mass += fabs(t);
                                }
                        double e = conv_ref_error(delta[i], sum, mass, n * kk + 1);
                        if (e > worst) worst = e;
                        bad += !(e <= k->slack);
                    }
        CHECK(bad == 0, "%s: c=%d %dx%d n=%d size %d batch %d assign %d: %d input gradients differ from the definition",
              k->name, c, h, w, n, size, batch, assign, bad);
    }
    free(weights), free(in), free(result), free(rows), free(delta), free(prior), free(work);
    return worst;
}
#endif
