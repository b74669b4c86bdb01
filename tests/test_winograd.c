// The Winograd convolution (plugin/kernels/winograd.c) against a
// double-precision definition of the convolution and of its adjoint, at shapes
// with odd planes (tiles overhanging the edge), single rows and pixels,
// channel and filter counts that differ, and several images; its workspace
// garbage-filled; and the rule for which layers take it.
#include <math.h>

#include "rng.h"
#include "testlib.h"
#include "winograd.h"

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

// Value (b, ch, y, x) of a plane set with the given strides, 0 outside the plane.
static double at(const float *a, size_t bs, size_t cs, int h, int w, int b, int ch, int y, int x)
{
    if (y < 0 || y >= h || x < 0 || x >= w) return 0;
    return a[b * bs + ch * cs + (size_t)y * w + x];
}

// Whether got is the exact value up to float rounding: Winograd's transforms
// add up to 4x4 inputs, products and outputs before and after the products,
// so the bound is a few times that of a plain sum of `terms` products whose
// absolute values add up to `mass`.
static int close_to(double got, double exact, double mass, int terms)
{
    return fabs(got - exact) <= 4 * (terms + 2) * 6e-8 * mass + 1e-30;
}

static double worst;   // largest error seen, in units of the plain sum's bound

static void note(double got, double exact, double mass, int terms)
{
    double e = fabs(got - exact) / ((terms + 2) * 6e-8 * mass + 1e-30);
    if (e > worst) worst = e;
}

static void check_shape(rng *r, int batch, int c, int h, int w, int n)
{
    layer l = conv_layer(batch, c, h, w, n, 3, 1, 1, 1);
    int N = h * w;
    size_t BN = (size_t)batch * N, nin = (size_t)batch * c * N, nw = winograd_work(&l);
    float *weights = malloc(sizeof(float) * n * c * 9), *in = malloc(sizeof(float) * nin);
    float *result = malloc(sizeof(float) * n * BN), *rows = malloc(sizeof(float) * n * BN);
    float *delta = malloc(sizeof(float) * nin), *prior = malloc(sizeof(float) * nin), *work = malloc(sizeof(float) * nw);
    for (int i = 0; i < n * c * 9; ++i) weights[i] = (float)rng_normal(r);
    for (size_t i = 0; i < nin; ++i) in[i] = (float)rng_normal(r), prior[i] = (float)rng_normal(r);
    for (size_t i = 0; i < n * BN; ++i) rows[i] = (float)rng_normal(r), result[i] = NAN;
    l.weights = weights;
    for (size_t i = 0; i < nw; ++i) work[i] = NAN;   // whatever the workspace holds must not matter
    forward_winograd_conv(&l, in, result, work);
    int bad = 0;
    for (int b = 0; b < batch; ++b)
        for (int o = 0; o < n; ++o)
            for (int y = 0; y < h; ++y)
                for (int x = 0; x < w; ++x) {
                    double sum = 0, mass = 0;
                    for (int ch = 0; ch < c; ++ch)
                        for (int ky = 0; ky < 3; ++ky)
                            for (int kx = 0; kx < 3; ++kx) {
                                double t = weights[(o * c + ch) * 9 + ky * 3 + kx] *
                                           at(in, (size_t)c * N, N, h, w, b, ch, y + ky - 1, x + kx - 1);
                                sum += t, mass += fabs(t);
                            }
                    float got = result[(size_t)o * BN + (size_t)b * N + y * w + x];
                    note(got, sum, mass, c * 9);
                    bad += !close_to(got, sum, mass, c * 9);
                }
    CHECK(bad == 0, "c=%d %dx%d n=%d batch %d: %d forward outputs differ from the definition", c, h, w, n, batch, bad);

    // The adjoint: delta[b][ch][y][x] = sum over (o, ky, kx) of w * rows at
    // the output position that read (y, x) through tap (ky, kx); assigned,
    // then added to what delta held.
    for (int assign = 1; assign >= 0; --assign) {
        for (size_t i = 0; i < nin; ++i) delta[i] = assign ? NAN : prior[i];
        for (size_t i = 0; i < nw; ++i) work[i] = NAN;
        backward_winograd_conv(&l, rows, delta, assign, work);
        bad = 0;
        for (int b = 0; b < batch; ++b)
            for (int ch = 0; ch < c; ++ch)
                for (int y = 0; y < h; ++y)
                    for (int x = 0; x < w; ++x) {
                        size_t i = (((size_t)b * c + ch) * h + y) * w + x;
                        double sum = assign ? 0 : prior[i], mass = fabs(sum);
                        for (int o = 0; o < n; ++o)
                            for (int ky = 0; ky < 3; ++ky)
                                for (int kx = 0; kx < 3; ++kx) {
                                    double t = weights[(o * c + ch) * 9 + ky * 3 + kx] *
                                               at(rows, N, BN, h, w, b, o, y - ky + 1, x - kx + 1);
                                    sum += t, mass += fabs(t);
                                }
                        note(delta[i], sum, mass, n * 9 + 1);
                        bad += !close_to(delta[i], sum, mass, n * 9 + 1);
                    }
        CHECK(bad == 0, "c=%d %dx%d n=%d batch %d assign %d: %d input gradients differ from the definition", c, h, w, n,
              batch, assign, bad);
    }
    free(weights), free(in), free(result), free(rows), free(delta), free(prior), free(work);
}

int main(void)
{
    layer deep = conv_layer(8, 64, 56, 56, 64, 3, 1, 1, 1);   // resnet18's first stage
    CHECK(winograd_applies(&deep, 1), "a 64-channel 56x56 3x3 layer should run by Winograd");
    CHECK(!winograd_applies(&deep, 0), "the Winograd path cannot be turned off");
    layer other[] = {
        conv_layer(1, 3, 28, 28, 16, 3, 1, 1, 1),     // 3 channels in: few multiplications to save
        conv_layer(1, 64, 7, 7, 64, 3, 1, 1, 1),      // a 7x7 plane: tiles overhang, transforms dominate
        conv_layer(1, 64, 56, 56, 64, 3, 1, 1, 2),    // grouped
        conv_layer(1, 64, 56, 56, 64, 3, 2, 1, 1),    // strided
        conv_layer(1, 64, 56, 56, 64, 1, 1, 0, 1),    // 1x1
        conv_layer(1, 64, 56, 56, 64, 3, 1, 0, 1),    // unpadded: smaller output
        conv_layer(1, 64, 56, 56, 64, 5, 1, 2, 1),    // 5x5
    };
    for (size_t i = 0; i < sizeof other / sizeof *other; ++i)
        CHECK(!winograd_applies(&other[i], 1), "layer shape %zu should take the GEMM path", i);
    winograd_force(1);
    CHECK(winograd_applies(&other[0], 1) && winograd_applies(&other[1], 1), "forced: every 3x3 same-size layer");
    CHECK(!winograd_applies(&other[2], 1) && !winograd_applies(&other[3], 1), "forced: still not grouped or strided");
    winograd_force(0);

    rng r = make_rng(11);
    check_shape(&r, 2, 3, 6, 6, 4);      // even plane, whole tiles
    check_shape(&r, 3, 2, 5, 7, 3);      // odd plane: the last tiles overhang
    check_shape(&r, 1, 3, 1, 1, 2);      // a single pixel: only the centre tap
    check_shape(&r, 2, 4, 1, 9, 5);      // a single row
    check_shape(&r, 1, 5, 2, 3, 1);      // one filter
    check_shape(&r, 2, 17, 9, 8, 16);    // more channels than filters
    check_shape(&r, 1, 32, 12, 10, 48);  // the deep layers' kind of shape
    printf("largest error: %.2f times the bound of a plain sum of products\n", worst);
    return test_summary();
}
