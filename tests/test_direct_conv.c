// The direct convolution (plugin/kernels/direct_conv.c) against a double-precision
// definition of the convolution and of its adjoint, at shapes that exercise
// the padding, planes narrower than the kernel, filter and channel counts that
// are not multiples of the kernel's block of 4, and several images; and the
// rule for which layers take the direct path. The portable kernels are
// checked on every CPU, the AVX-512 ones where the CPU has it.
#include <math.h>

#include "direct_conv.h"
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

// Input value (b, ch, y, x) of a [batch][c][h][w] array, 0 outside the plane.
static double at(const float *a, const layer *l, int b, int ch, int y, int x)
{
    if (y < 0 || y >= l->h || x < 0 || x >= l->w) return 0;
    return a[(((size_t)b * l->c + ch) * l->h + y) * l->w + x];
}

// Whether got is the exact value up to float rounding of a sum of `terms`
// products whose absolute values add up to `mass`.
static int close_to(double got, double exact, double mass, int terms)
{
    return fabs(got - exact) <= (terms + 2) * 6e-8 * mass + 1e-30;
}

static const char *kernels = "AVX-512";

static void check_shape(rng *r, int batch, int c, int h, int w, int n, int size)
{
    layer l = conv_layer(batch, c, h, w, n, size, 1, size / 2, 1);
    CHECK(direct_conv_applies(&l, 1), "%s: c=%d %dx%d size %d: direct path not taken", kernels, c, h, w, size);
    if (!direct_conv_applies(&l, 1)) return;
    int N = h * w, kk = size * size, p = size / 2;
    size_t BN = (size_t)batch * N, nin = (size_t)batch * c * N;
    float *weights = malloc(sizeof(float) * n * c * kk), *in = malloc(sizeof(float) * nin);
    float *result = malloc(sizeof(float) * n * BN), *rows = malloc(sizeof(float) * n * BN);
    float *delta = malloc(sizeof(float) * nin), *prior = malloc(sizeof(float) * nin);
    float *work = malloc(sizeof(float) * direct_conv_work(&l));
    for (int i = 0; i < n * c * kk; ++i) weights[i] = (float)rng_normal(r);
    for (size_t i = 0; i < nin; ++i) in[i] = (float)rng_normal(r), prior[i] = (float)rng_normal(r);
    for (size_t i = 0; i < n * BN; ++i) rows[i] = (float)rng_normal(r), result[i] = NAN;
    l.weights = weights;
    // Whatever the workspace holds must not matter.
    for (size_t i = 0; i < direct_conv_work(&l); ++i) work[i] = NAN;
    forward_direct_conv(&l, in, result, work);
    int bad = 0;
    for (int b = 0; b < batch; ++b)
        for (int o = 0; o < n; ++o)
            for (int y = 0; y < h; ++y)
                for (int x = 0; x < w; ++x) {
                    double sum = 0, mass = 0;
                    for (int ch = 0; ch < c; ++ch)
                        for (int ky = 0; ky < size; ++ky)
                            for (int kx = 0; kx < size; ++kx) {
                                double t = weights[(o * c + ch) * kk + ky * size + kx] * at(in, &l, b, ch, y + ky - p, x + kx - p);
                                sum += t, mass += fabs(t);
                            }
                    bad += !close_to(result[(size_t)o * BN + (size_t)b * N + y * w + x], sum, mass, c * kk);
                }
    CHECK(bad == 0, "%s: c=%d %dx%d n=%d size %d batch %d: %d forward outputs differ from the definition", kernels, c, h, w,
          n, size, batch, bad);

    // The adjoint: delta[b][ch][y][x] = sum over (o, ky, kx) of w * rows at
    // the output position that read (y, x) through tap (ky, kx); assigned,
    // then added to what delta held.
    for (int assign = 1; assign >= 0; --assign) {
        for (size_t i = 0; i < nin; ++i) delta[i] = assign ? NAN : prior[i];
        for (size_t i = 0; i < direct_conv_work(&l); ++i) work[i] = NAN;
        backward_direct_conv(&l, rows, delta, assign, work);
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
                                    int oy = y - ky + p, ox = x - kx + p;
                                    if (oy < 0 || oy >= h || ox < 0 || ox >= w) continue;
                                    double t = weights[(o * c + ch) * kk + ky * size + kx] *
                                               rows[(size_t)o * BN + (size_t)b * N + oy * w + ox];
                                    sum += t, mass += fabs(t);
                                }
                        bad += !close_to(delta[i], sum, mass, n * kk + 1);
                    }
        CHECK(bad == 0, "%s: c=%d %dx%d n=%d size %d batch %d assign %d: %d input gradients differ from the definition",
              kernels, c, h, w, n, size, batch, assign, bad);
    }
    free(weights), free(in), free(result), free(rows), free(delta), free(prior), free(work);
}

static void check_shapes(void)
{
    rng r = make_rng(5);
    check_shape(&r, 2, 3, 28, 28, 16, 3);   // the shipped teacher's first layer
    check_shape(&r, 3, 1, 5, 11, 5, 5);     // 5x5 on a plane barely larger; 5 filters
    check_shape(&r, 2, 2, 7, 3, 6, 3);      // narrow plane
    check_shape(&r, 1, 3, 1, 1, 4, 3);      // a single pixel: only the centre tap
    check_shape(&r, 2, 1, 3, 2, 7, 5);      // kernel larger than the plane
    check_shape(&r, 1, 3, 12, 30, 2, 3);    // more positions than one run, fewer filters than a block
}

int main(void)
{
    layer first = conv_layer(8, 3, 28, 28, 16, 3, 1, 1, 1);
    CHECK(!direct_conv_applies(&first, 0), "the direct path cannot be turned off");
    layer other[] = {
        conv_layer(1, 4, 9, 9, 8, 3, 1, 1, 1),    // 36 values per output: GEMM
        conv_layer(1, 2, 9, 9, 8, 3, 1, 1, 2),    // grouped
        conv_layer(1, 3, 9, 9, 8, 3, 2, 1, 1),    // strided
        conv_layer(1, 3, 9, 9, 8, 1, 1, 0, 1),    // 1x1 (Darknet's own reading)
        conv_layer(1, 3, 9, 9, 8, 3, 1, 0, 1),    // unpadded: smaller output
        conv_layer(1, 3, 9, 9, 8, 2, 1, 1, 1),    // even size
    };
    for (size_t i = 0; i < sizeof other / sizeof *other; ++i)
        CHECK(!direct_conv_applies(&other[i], 1), "layer shape %zu should take the GEMM path", i);
    if (__builtin_cpu_supports("avx512f")) {
        check_shapes();
    } else {
        CHECK(!direct_conv_applies(&first, 1), "direct path chosen without AVX-512");
        SKIP("direct convolution forward and backward with the AVX-512 kernels: this CPU has no AVX-512");
    }
    direct_conv_force_portable(1);
    kernels = "portable";
    CHECK(direct_conv_applies(&first, 1), "the portable direct path cannot be forced");
    CHECK(!direct_conv_applies(&first, 0), "the forced portable direct path cannot be turned off");
    for (size_t i = 0; i < sizeof other / sizeof *other; ++i)
        CHECK(!direct_conv_applies(&other[i], 1), "portable: layer shape %zu should take the GEMM path", i);
    check_shapes();
    direct_conv_force_portable(0);
    return test_summary();
}
