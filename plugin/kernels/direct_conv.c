// Direct same-size convolution (see direct_conv.h). Each image's planes are
// copied into zero-bordered planes of pitch wp = w + 2*pad; in that layout
// tap (ky, kx) of output position q = y*wp + x reads q + ky*wp + kx, so a
// whole image is one run of positions (the columns x >= w are computed and
// dropped). The backward is the same correlation of the padded output
// gradient with the weights flipped and transposed.
#include <string.h>

#include "direct_conv.h"
#include "simd.h"

// The correlation kernel works on 4 output planes x 64 positions at a time.
#define OUTS 4
#define RUN 64

typedef struct {
    int k, p, h, w, wp;
    int q;      // positions computed per plane: h*wp rounded up to RUN
    int ps;     // floats between padded planes, with room for the reads past q
} plane_geom;

static int round_up(int x, int m) { return (x + m - 1) / m * m; }

static plane_geom geometry(const layer *l)
{
    plane_geom g = {l->size, l->pad, l->h, l->w, l->w + 2 * l->pad, 0, 0};
    g.q = round_up(g.h * g.wp, RUN);
    g.ps = round_up(g.q + (g.k - 1) * (g.wp + 1), 16);
    return g;
}

static int cpu_has_avx512(void)
{
#if defined(__GNUC__) && defined(__x86_64__)
    return __builtin_cpu_supports("avx512f");
#else
    return 0;
#endif
}

static int portable_forced;

void direct_conv_force_portable(int on) { portable_forced = on; }

int direct_conv_applies(const layer *l, int allowed)
{
    return allowed && l->type == CONVOLUTIONAL && l->groups == 1 && l->stride == 1 && l->size > 1 && l->size % 2 &&
           l->pad == l->size / 2 && l->out_h == l->h && l->out_w == l->w && l->c * l->size * l->size <= 32 &&
           (portable_forced || cpu_has_avx512());
}

size_t direct_conv_work(const layer *l)
{
    plane_geom g = geometry(l);
    size_t kk = (size_t)g.k * g.k;
    size_t fwd = (size_t)l->c * g.ps + (size_t)round_up(l->n, OUTS) * l->c * kk;
    size_t bwd = (size_t)l->n * g.ps + (size_t)round_up(l->c, OUTS) * l->n * kk;
    return (fwd > bwd ? fwd : bwd) + (size_t)OUTS * g.q;
}

// 16 floats, the kernels' vector (GCC vector extension: one AVX-512
// register, or as many narrower ones as the target has).
typedef float v16 __attribute__((vector_size(64)));
typedef float v16u __attribute__((vector_size(64), aligned(4)));

// The portable kernels: the same blocking and order of additions in C with
// GCC vector extensions, for any CPU (tests force them: direct_conv.h). The
// last bit can differ from the AVX-512 kernels, which fuse multiply-adds.
// Production does not use them: on AVX2 they are several times slower than
// im2col + GEMM (the 16 accumulators do not fit in 16 registers).
static void copy_rows_c(float *dst, int dp, const float *src, int sp, int rows, int w, int add)
{
    for (int y = 0; y < rows; ++y, dst += dp, src += sp)
        if (add) for (int x = 0; x < w; ++x) dst[x] += src[x];
        else memcpy(dst, src, sizeof(float) * w);
}

INV_SIMD static void correlate_c(const float *planes, int nch, const plane_geom *g, const float *w, float *out)
{
    for (int q = 0; q < g->q; q += RUN) {
        v16 acc[OUTS][RUN / 16] = {{{0}}};
        const float *wt = w;
        for (int ch = 0; ch < nch; ++ch)
            for (int ky = 0; ky < g->k; ++ky) {
                const float *s = planes + (size_t)ch * g->ps + (size_t)ky * g->wp + q;
                for (int kx = 0; kx < g->k; ++kx, wt += OUTS) {
                    v16 x[RUN / 16];
                    for (int v = 0; v < RUN / 16; ++v) x[v] = *(const v16u *)(s + kx + 16 * v);
                    for (int j = 0; j < OUTS; ++j)
                        for (int v = 0; v < RUN / 16; ++v) acc[j][v] += x[v] * wt[j];
                }
            }
        for (int j = 0; j < OUTS; ++j)
            for (int v = 0; v < RUN / 16; ++v) *(v16u *)(out + (size_t)j * g->q + q + 16 * v) = acc[j][v];
    }
}

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#define DIRECT_TARGET __attribute__((target("avx512f,avx2,fma")))

// rows x w floats from src (pitch sp) to dst (pitch dp), or added to dst.
// Rows are short (a plane's width): masked vector moves instead of a memcpy
// call per row.
DIRECT_TARGET static void copy_rows_avx512(float *dst, int dp, const float *src, int sp, int rows, int w, int add)
{
    for (int y = 0; y < rows; ++y, dst += dp, src += sp)
        for (int x = 0; x < w; x += 16) {
            __mmask16 m = w - x >= 16 ? 0xffff : (__mmask16)((1u << (w - x)) - 1);
            __m512 v = _mm512_maskz_loadu_ps(m, src + x);
            if (add) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, dst + x));
            _mm512_mask_storeu_ps(dst + x, m, v);
        }
}

// out[j][q] = sum over (ch, ky, kx) of w[((ch*k + ky)*k + kx)*OUTS + j] *
// planes[ch*ps + ky*wp + kx + q], for q < g->q: 16 accumulators of 16 floats.
DIRECT_TARGET static void correlate_avx512(const float *planes, int nch, const plane_geom *g, const float *w, float *out)
{
    for (int q = 0; q < g->q; q += RUN) {
        v16 acc[OUTS][RUN / 16] = {{{0}}};
        const float *wt = w;
        for (int ch = 0; ch < nch; ++ch)
            for (int ky = 0; ky < g->k; ++ky) {
                const float *s = planes + (size_t)ch * g->ps + (size_t)ky * g->wp + q;
                for (int kx = 0; kx < g->k; ++kx, wt += OUTS) {
                    v16 x[RUN / 16];
#pragma GCC unroll 4
                    for (int v = 0; v < RUN / 16; ++v) x[v] = *(const v16u *)(s + kx + 16 * v);
#pragma GCC unroll 4
                    for (int j = 0; j < OUTS; ++j)
#pragma GCC unroll 4
                        for (int v = 0; v < RUN / 16; ++v) acc[j][v] += x[v] * wt[j];
                }
            }
#pragma GCC unroll 4
        for (int j = 0; j < OUTS; ++j)
#pragma GCC unroll 4
            for (int v = 0; v < RUN / 16; ++v) *(v16u *)(out + (size_t)j * g->q + q + 16 * v) = acc[j][v];
    }
}

static int native(void) { return !portable_forced && cpu_has_avx512(); }
#else
#define copy_rows_avx512 copy_rows_c
#define correlate_avx512 correlate_c
static int native(void) { return 0; }
#endif

static void copy_rows(float *dst, int dp, const float *src, int sp, int rows, int w, int add)
{
    (native() ? copy_rows_avx512 : copy_rows_c)(dst, dp, src, sp, rows, w, add);
}

static void correlate(const float *planes, int nch, const plane_geom *g, const float *w, float *out)
{
    (native() ? correlate_avx512 : correlate_c)(planes, nch, g, w, out);
}

// Copies nch planes (h x w, `stride` floats apart) into the interiors of
// padded planes; their borders stay as they are (zeroed once per call).
static void pad_planes(const float *src, int nch, size_t stride, const plane_geom *g, float *planes)
{
    for (int ch = 0; ch < nch; ++ch)
        copy_rows(planes + (size_t)ch * g->ps + (size_t)g->p * g->wp + g->p, g->wp, src + ch * stride, g->w, g->h, g->w, 0);
}

void forward_direct_conv(const layer *l, const float *input, float *result, float *work)
{
    plane_geom g = geometry(l);
    int c = l->c, kk = g.k * g.k, N = g.h * g.w, blocks = round_up(l->n, OUTS) / OUTS;
    size_t BN = (size_t)l->batch * N;
    float *planes = work, *wpk = planes + (size_t)c * g.ps, *out = wpk + (size_t)blocks * OUTS * c * kk;
    // Weights by block of OUTS filters: [block][c*k*k][OUTS], zero past l->n.
    for (int b = 0; b < blocks; ++b)
        for (int t = 0; t < c * kk; ++t)
            for (int j = 0; j < OUTS; ++j) {
                int o = b * OUTS + j;
                wpk[((size_t)b * c * kk + t) * OUTS + j] = o < l->n ? l->weights[(size_t)o * c * kk + t] : 0;
            }
    memset(planes, 0, sizeof(float) * c * g.ps);
    for (int b = 0; b < l->batch; ++b) {
        pad_planes(input + (size_t)b * c * N, c, N, &g, planes);
        for (int blk = 0; blk < blocks; ++blk) {
            correlate(planes, c, &g, wpk + (size_t)blk * c * kk * OUTS, out);
            for (int j = 0; j < OUTS && blk * OUTS + j < l->n; ++j)
                copy_rows(result + (size_t)(blk * OUTS + j) * BN + (size_t)b * N, g.w, out + (size_t)j * g.q, g.wp, g.h, g.w, 0);
        }
    }
}

void backward_direct_conv(const layer *l, const float *rows, float *delta, int assign, float *work)
{
    plane_geom g = geometry(l);
    int n = l->n, c = l->c, k = g.k, kk = k * k, N = g.h * g.w, blocks = round_up(c, OUTS) / OUTS;
    size_t BN = (size_t)l->batch * N;
    float *planes = work, *wpk = planes + (size_t)n * g.ps, *out = wpk + (size_t)blocks * OUTS * n * kk;
    // The adjoint reads the padded gradient at offset (ky, kx) with the
    // weight of tap (k-1-ky, k-1-kx): [block of OUTS input channels][n*k*k][OUTS].
    for (int b = 0; b < blocks; ++b)
        for (int o = 0; o < n; ++o)
            for (int t = 0; t < kk; ++t)
                for (int j = 0; j < OUTS; ++j) {
                    int ch = b * OUTS + j;
                    wpk[(((size_t)b * n + o) * kk + t) * OUTS + j] =
                        ch < c ? l->weights[((size_t)o * c + ch) * kk + (kk - 1 - t)] : 0;
                }
    memset(planes, 0, sizeof(float) * n * g.ps);
    for (int b = 0; b < l->batch; ++b) {
        pad_planes(rows + (size_t)b * N, n, BN, &g, planes);
        for (int blk = 0; blk < blocks; ++blk) {
            correlate(planes, n, &g, wpk + (size_t)blk * n * kk * OUTS, out);
            for (int j = 0; j < OUTS && blk * OUTS + j < c; ++j)
                copy_rows(delta + ((size_t)b * c + blk * OUTS + j) * N, g.w, out + (size_t)j * g.q, g.wp, g.h, g.w, !assign);
        }
    }
}
