// The executable replaces libdarknet's gemm, im2col_cpu, col2im_cpu,
// activate_array and gradient_array (the
// library calls them through its PLT). Each replacement must compute what
// the library's own version computes; those are reached with dlsym.
#include <dlfcn.h>
#include <math.h>

#include "darknet_internal.h"
#include "im2col.h"
#include "rng.h"
#include "testlib.h"

typedef void (*gemm_fn)(int, int, int, int, int, float, float *, int, float *, int, float, float *, int);
typedef void (*act_fn)(float *, int, ACTIVATION);
typedef void (*grad_fn)(const float *, int, ACTIVATION, float *);
typedef void (*cols_fn)(float *, int, int, int, int, int, int, float *);

static float *random_array(rng *r, size_t n)
{
    float *a = calloc(n, sizeof(float));
    for (size_t i = 0; i < n; ++i) a[i] = (float)rng_normal(r);
    return a;
}

static double max_diff(const float *a, const float *b, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; ++i) {
        double d = fabs((double)a[i] - b[i]);
        if (isnan(d)) return INFINITY;
        m = fmax(m, d);
    }
    return m;
}

int main(void)
{
    void *lib = dlopen("libdarknet.so", RTLD_NOW | RTLD_NOLOAD);
    if (!lib) lib = dlopen("/usr/lib/darknet/libdarknet.so", RTLD_NOW);
    CHECK(lib != NULL, "cannot open libdarknet.so: %s", dlerror());
    if (!lib) return test_summary();
    gemm_fn lib_gemm = (gemm_fn)dlsym(lib, "gemm");
    cols_fn lib_im2col = (cols_fn)dlsym(lib, "im2col_cpu"), lib_col2im = (cols_fn)dlsym(lib, "col2im_cpu");
    CHECK(lib_gemm && lib_im2col && lib_col2im, "symbols not found");
    CHECK(lib_gemm != gemm && lib_im2col != im2col_cpu, "dlsym returned the replacements, not the library's own");
    rng r = make_rng(3);

    for (int ta = 0; ta < 2; ++ta)
        for (int tb = 0; tb < 2; ++tb) {
            int M = 7, N = 13, K = 5;
            float *A = random_array(&r, M * K), *B = random_array(&r, K * N);
            float *C1 = random_array(&r, M * N), *C2 = calloc(M * N, sizeof(float));
            memcpy(C2, C1, sizeof(float) * M * N);
            int lda = ta ? M : K, ldb = tb ? K : N;
            gemm(ta, tb, M, N, K, 0.5f, A, lda, B, ldb, 1, C1, N);
            lib_gemm(ta, tb, M, N, K, 0.5f, A, lda, B, ldb, 1, C2, N);
            CHECK(max_diff(C1, C2, M * N) < 1e-5, "gemm TA=%d TB=%d differs by %g", ta, tb, max_diff(C1, C2, M * N));
            free(A); free(B); free(C1); free(C2);
        }

    const int shapes[][6] = {   // channels, height, width, ksize, stride, pad
        {3, 8, 8, 3, 1, 1}, {2, 7, 9, 3, 2, 1}, {4, 6, 6, 1, 1, 0}, {1, 9, 7, 5, 2, 2}, {2, 5, 5, 2, 1, 0}, {3, 10, 10, 3, 3, 0},
        {1, 3, 3, 5, 1, 2}, {2, 4, 6, 7, 2, 3}, {1, 2, 2, 3, 2, 1}, {2, 7, 7, 3, 1, 1}, {1, 1, 1, 3, 1, 1},
        {2, 5, 9, 5, 1, 2}, {1, 1, 4, 3, 1, 1}, {2, 28, 28, 3, 1, 1}, {1, 32, 32, 5, 1, 2}, {1, 33, 31, 3, 1, 1},
    };
    // Both ways of moving same-size planes: plain runs, and AVX-512 masked
    // vectors where the CPU has them (im2col.h).
    int masked_ways = __builtin_cpu_supports("avx512f") ? 2 : 1;
    for (int masked = 0; masked < masked_ways; ++masked)
    for (size_t s = 0; s < sizeof shapes / sizeof *shapes; ++s) {
        im2col_masked = masked;
        int c = shapes[s][0], h = shapes[s][1], w = shapes[s][2], k = shapes[s][3], st = shapes[s][4], pad = shapes[s][5];
        int oh = (h + 2 * pad - k) / st + 1, ow = (w + 2 * pad - k) / st + 1;
        size_t ncol = (size_t)c * k * k * oh * ow, nim = (size_t)c * h * w;
        float *im = random_array(&r, nim), *col1 = calloc(ncol, sizeof(float)), *col2 = calloc(ncol, sizeof(float));
        im2col_cpu(im, c, h, w, k, st, pad, col1);
        lib_im2col(im, c, h, w, k, st, pad, col2);
        CHECK(max_diff(col1, col2, ncol) == 0, "im2col shape %zu (masked %d) differs", s, masked);
        // With the columns of 3 images side by side (row stride ld), this image third.
        int N = oh * ow, ld = 3 * N;
        float *wide = random_array(&r, ncol * 3);
        im2col_ld(im, c, h, w, k, st, pad, wide + 2 * N, ld);
        size_t bad = 0;
        for (size_t row = 0; row < ncol / N; ++row) bad += memcmp(wide + row * ld + 2 * N, col2 + row * N, N * sizeof(float)) != 0;
        CHECK(bad == 0, "im2col_ld shape %zu (masked %d): %zu rows differ", s, masked, bad);
        // A random col (a gradient): entries at padding positions must be ignored.
        float *im1 = random_array(&r, nim), *im2 = calloc(nim, sizeof(float));
        memcpy(im2, im1, nim * sizeof(float));
        free(col1);
        col1 = random_array(&r, ncol);
        memcpy(col2, col1, ncol * sizeof(float));
        col2im_cpu(col1, c, h, w, k, st, pad, im1);
        lib_col2im(col2, c, h, w, k, st, pad, im2);
        CHECK(max_diff(im1, im2, nim) < 1e-5, "col2im shape %zu (masked %d) differs by %g", s, masked, max_diff(im1, im2, nim));
        // Overwriting (from the wide columns): the library's sum into zeros.
        for (size_t row = 0; row < ncol / N; ++row) memcpy(wide + row * ld + 2 * N, col1 + row * N, N * sizeof(float));
        memset(im2, 0, nim * sizeof(float));
        lib_col2im(col1, c, h, w, k, st, pad, im2);
        for (size_t i = 0; i < nim; ++i) im1[i] = NAN;
        col2im_ld_set(wide + 2 * N, c, h, w, k, st, pad, im1, ld);
        CHECK(max_diff(im1, im2, nim) < 1e-5, "col2im_ld_set shape %zu (masked %d) differs by %g", s, masked,
              max_diff(im1, im2, nim));
        free(im); free(col1); free(col2); free(im1); free(im2); free(wide);
    }

    act_fn lib_activate = (act_fn)dlsym(lib, "activate_array");
    grad_fn lib_gradient = (grad_fn)dlsym(lib, "gradient_array");
    CHECK(lib_activate && lib_gradient && lib_activate != activate_array, "activation symbols");
    const ACTIVATION acts[] = {LOGISTIC, RELU, RELIE, LINEAR, RAMP, TANH, PLSE, LEAKY, ELU, LOGGY, STAIR, HARDTAN, LHTAN, SELU};
    for (size_t a = 0; a < sizeof acts / sizeof *acts; ++a) {
        int n = 257;
        float *x1 = random_array(&r, n), *x2 = calloc(n, sizeof(float));
        x1[0] = 0, x1[1] = -0.f;
        memcpy(x2, x1, n * sizeof(float));
        activate_array(x1, n, acts[a]);
        lib_activate(x2, n, acts[a]);
        CHECK(max_diff(x1, x2, n) == 0, "activate_array(%d) differs by %g", (int)acts[a], max_diff(x1, x2, n));
        float *d1 = random_array(&r, n), *d2 = calloc(n, sizeof(float));
        memcpy(d2, d1, n * sizeof(float));
        gradient_array(x1, n, acts[a], d1);
        lib_gradient(x2, n, acts[a], d2);
        CHECK(max_diff(d1, d2, n) == 0, "gradient_array(%d) differs by %g", (int)acts[a], max_diff(d1, d2, n));
        free(x1); free(x2); free(d1); free(d2);
    }
    return test_summary();
}
