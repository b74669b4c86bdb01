// Darknet's im2col_cpu/col2im_cpu, replaced (like gemm, through the PLT) by
// versions that work a row at a time instead of calling a bounds-checking
// helper for every pixel. Same layout: column row (c, ky, kx), column
// (y, x) of the output; padding reads as 0 and receives nothing.
// The _ld variants write/read column rows `ld` floats apart, so that the
// columns of a whole batch can sit side by side for one GEMM per layer.
#include <string.h>

#include "darknet_internal.h"
#include "im2col.h"
#include "simd.h"

// Output columns x in [x0, x1) read input column x*stride + off inside [0, width).
static inline void valid_range(int out_w, int width, int off, int stride, int *x0, int *x1)
{
    int lo = off < 0 ? (-off + stride - 1) / stride : 0;
    int hi = (width - off + stride - 1) / stride;   // first x with x*stride + off >= width
    if (hi > out_w) hi = out_w;
    if (hi < 0) hi = 0;
    if (lo > hi) lo = hi;
    *x0 = lo;
    *x1 = hi;
}

// A stride-1 convolution whose output has the input's size ("same" padding)
// reads, for tap (dy, dx), the input plane shifted by dy*w + dx: one
// contiguous run per tap instead of a short run per row. The columns of the
// run that wrap around to the neighbouring row are the padding.
static int same_size(int height, int width, int ksize, int stride, int pad)
{
    return stride == 1 && 2 * pad == ksize - 1 && height > 0 && width > 0;
}

// Indices [*lo, *hi) of the output plane whose input, i + off, is inside the
// plane and in a row of the input.
static void shifted_run(int h, int w, int dy, int dx, int *lo, int *hi)
{
    int off = dy * w + dx, n = h * w;
    int a = (dy < 0 ? -dy : 0) * w, b = (dy > 0 ? h - dy : h) * w;
    if (a < -off) a = -off;
    if (b > n - off) b = n - off;
    *lo = a;
    *hi = b > a ? b : a;
}

// Zeroes the columns of a plane (h x w) that a shift by dx wraps into the
// neighbouring row: the padding.
static inline void zero_wrapped(float *plane, int h, int w, int dx)
{
    int x0 = dx > 0 ? w - dx : 0, x1 = dx > 0 ? w : -dx;
    for (int y = 0; y < h; ++y)
        for (int x = x0; x < x1; ++x) plane[y * w + x] = 0;
}

INV_SIMD static void im2col_same(const float *im, int channels, int h, int w, int ksize, int pad, float *col, int ld)
{
    int n = h * w;
    for (int c = 0; c < channels; ++c) {
        const float *plane = im + (size_t)c * n;
        for (int t = 0; t < ksize * ksize; ++t) {
            int dy = t / ksize - pad, dx = t % ksize - pad, lo, hi;
            shifted_run(h, w, dy, dx, &lo, &hi);
            float *dst = col + (size_t)(c * ksize * ksize + t) * ld;
            const float *src = plane + dy * w + dx;
            for (int i = 0; i < lo; ++i) dst[i] = 0;
            for (int i = lo; i < hi; ++i) dst[i] = src[i];
            for (int i = hi; i < n; ++i) dst[i] = 0;
            zero_wrapped(dst, h, w, dx);
        }
    }
}

// The adjoint: the wrapped columns of col are padding and are zeroed (col is
// scratch) so that the run can be added in one piece. With assign the
// centre tap, which covers the whole plane, is written first instead of added.
INV_SIMD static void col2im_same(float *col, int channels, int h, int w, int ksize, int pad, float *im, int ld, int assign)
{
    int n = h * w, centre = pad * ksize + pad;
    for (int c = 0; c < channels; ++c) {
        float *plane = im + (size_t)c * n;
        if (assign) {
            const float *src = col + (size_t)(c * ksize * ksize + centre) * ld;
            for (int i = 0; i < n; ++i) plane[i] = src[i];
        }
        for (int t = 0; t < ksize * ksize; ++t) {
            if (assign && t == centre) continue;
            int dy = t / ksize - pad, dx = t % ksize - pad, lo, hi;
            shifted_run(h, w, dy, dx, &lo, &hi);
            float *src = col + (size_t)(c * ksize * ksize + t) * ld;
            zero_wrapped(src, h, w, dx);
            float *restrict dst = plane + dy * w + dx;
            for (int i = lo; i < hi; ++i) dst[i] += src[i];
        }
    }
}

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#define MASKED_TARGET __attribute__((target("avx512f")))
// On AVX-512 a same-size plane of up to MASK_CHUNKS*16 pixels is moved in
// masked vectors: lane i of chunk j of tap t is set when output position
// 16j + i reads a pixel of the plane. Masked-off lanes are neither read nor
// written, so a run needs no zeroed prefix, suffix or wrapped columns.
#define MASK_CHUNKS 64
#define MASK_TAPS 49

int im2col_masked = -1;

static int masked_applies(int h, int w, int ksize)
{
    if (im2col_masked < 0) im2col_masked = __builtin_cpu_supports("avx512f");
    return im2col_masked && h * w <= MASK_CHUNKS * 16 && ksize * ksize <= MASK_TAPS;
}

// The masks of the last plane shape seen by this thread: a layer calls
// im2col/col2im once per image with the same shape.
typedef struct {
    int h, w, ksize, pad;
    __mmask16 m[MASK_TAPS][MASK_CHUNKS];
} tap_masks;

static const tap_masks *masks_for(int h, int w, int ksize, int pad)
{
    static __thread tap_masks cache;
    tap_masks *tm = &cache;
    if (tm->h == h && tm->w == w && tm->ksize == ksize && tm->pad == pad) return tm;
    for (int t = 0; t < ksize * ksize; ++t) {
        int dy = t / ksize - pad, dx = t % ksize - pad;
        memset(tm->m[t], 0, sizeof tm->m[t]);
        for (int i = 0, y = 0; y < h; ++y)
            for (int x = 0; x < w; ++x, ++i)
                if (y + dy >= 0 && y + dy < h && x + dx >= 0 && x + dx < w) tm->m[t][i / 16] |= (__mmask16)(1u << (i % 16));
    }
    tm->h = h, tm->w = w, tm->ksize = ksize, tm->pad = pad;
    return tm;
}

MASKED_TARGET static void im2col_masked_same(const float *im, int channels, int h, int w, int ksize, int pad, float *col,
                                             int ld)
{
    const tap_masks *tm = masks_for(h, w, ksize, pad);
    int n = h * w, chunks = (n + 15) / 16, kk = ksize * ksize;
    __mmask16 tail = (__mmask16)(n % 16 ? (1u << (n % 16)) - 1 : 0xffff);
    for (int c = 0; c < channels; ++c)
        for (int t = 0; t < kk; ++t) {
            const float *src = im + (size_t)c * n + (t / ksize - pad) * w + (t % ksize - pad);
            float *dst = col + (size_t)(c * kk + t) * ld;
            for (int j = 0; j < chunks; ++j)
                _mm512_mask_storeu_ps(dst + 16 * j, j == chunks - 1 ? tail : 0xffff,
                                      _mm512_maskz_loadu_ps(tm->m[t][j], src + 16 * j));
        }
}

MASKED_TARGET static void col2im_masked_same(const float *col, int channels, int h, int w, int ksize, int pad, float *im,
                                             int ld, int assign)
{
    const tap_masks *tm = masks_for(h, w, ksize, pad);
    int n = h * w, chunks = (n + 15) / 16, kk = ksize * ksize, centre = pad * ksize + pad;
    for (int c = 0; c < channels; ++c) {
        float *plane = im + (size_t)c * n;
        if (assign) memcpy(plane, col + (size_t)(c * kk + centre) * ld, n * sizeof(float));
        for (int t = 0; t < kk; ++t) {
            if (assign && t == centre) continue;
            const float *src = col + (size_t)(c * kk + t) * ld;
            float *dst = plane + (t / ksize - pad) * w + (t % ksize - pad);
            for (int j = 0; j < chunks; ++j) {
                __mmask16 m = tm->m[t][j];
                __m512 v = _mm512_add_ps(_mm512_maskz_loadu_ps(m, dst + 16 * j), _mm512_maskz_loadu_ps(m, src + 16 * j));
                _mm512_mask_storeu_ps(dst + 16 * j, m, v);
            }
        }
    }
}
#else
int im2col_masked = 0;
static int masked_applies(int h, int w, int ksize) { return 0; }
static void im2col_masked_same(const float *im, int channels, int h, int w, int ksize, int pad, float *col, int ld) {}
static void col2im_masked_same(const float *col, int channels, int h, int w, int ksize, int pad, float *im, int ld,
                               int assign) {}
#endif

INV_SIMD void im2col_ld(const float *im, int channels, int height, int width, int ksize, int stride, int pad, float *col, int ld)
{
    if (same_size(height, width, ksize, stride, pad)) {
        if (masked_applies(height, width, ksize)) im2col_masked_same(im, channels, height, width, ksize, pad, col, ld);
        else im2col_same(im, channels, height, width, ksize, pad, col, ld);
        return;
    }
    int out_h = (height + 2 * pad - ksize) / stride + 1;
    int out_w = (width + 2 * pad - ksize) / stride + 1;
    for (int c = 0; c < channels; ++c) {
        const float *plane = im + (size_t)c * height * width;
        for (int ky = 0; ky < ksize; ++ky) {
            int y0, y1;   // output rows that read an input row
            valid_range(out_h, height, ky - pad, stride, &y0, &y1);
            for (int kx = 0; kx < ksize; ++kx) {
                int x0, x1;
                valid_range(out_w, width, kx - pad, stride, &x0, &x1);
                float *dst = col + (size_t)((c * ksize + ky) * ksize + kx) * ld;
                for (int y = 0; y < out_h; ++y, dst += out_w) {
                    if (y < y0 || y >= y1) {
                        for (int x = 0; x < out_w; ++x) dst[x] = 0;
                        continue;
                    }
                    const float *src = plane + (y * stride + ky - pad) * width + kx - pad;
                    for (int x = 0; x < x0; ++x) dst[x] = 0;
                    if (stride == 1) for (int x = x0; x < x1; ++x) dst[x] = src[x];
                    else for (int x = x0; x < x1; ++x) dst[x] = src[x * stride];
                    for (int x = x1; x < out_w; ++x) dst[x] = 0;
                }
            }
        }
    }
}

INV_SIMD void col2im_ld(float *col, int channels, int height, int width, int ksize, int stride, int pad, float *im, int ld)
{
    if (same_size(height, width, ksize, stride, pad)) {
        if (masked_applies(height, width, ksize)) col2im_masked_same(col, channels, height, width, ksize, pad, im, ld, 0);
        else col2im_same(col, channels, height, width, ksize, pad, im, ld, 0);
        return;
    }
    int out_h = (height + 2 * pad - ksize) / stride + 1;
    int out_w = (width + 2 * pad - ksize) / stride + 1;
    for (int c = 0; c < channels; ++c) {
        float *plane = im + (size_t)c * height * width;
        for (int ky = 0; ky < ksize; ++ky) {
            int y0, y1;
            valid_range(out_h, height, ky - pad, stride, &y0, &y1);
            for (int kx = 0; kx < ksize; ++kx) {
                int x0, x1;
                valid_range(out_w, width, kx - pad, stride, &x0, &x1);
                const float *src = col + (size_t)((c * ksize + ky) * ksize + kx) * ld + (size_t)y0 * out_w;
                for (int y = y0; y < y1; ++y, src += out_w) {
                    float *restrict dst = plane + (y * stride + ky - pad) * width + kx - pad;
                    if (stride == 1) for (int x = x0; x < x1; ++x) dst[x] += src[x];
                    else for (int x = x0; x < x1; ++x) dst[x * stride] += src[x];
                }
            }
        }
    }
}

int col2im_covers(int height, int width, int ksize, int stride, int pad)
{
    return same_size(height, width, ksize, stride, pad);
}

void col2im_ld_set(float *col, int channels, int height, int width, int ksize, int stride, int pad, float *im, int ld)
{
    if (!same_size(height, width, ksize, stride, pad)) {
        for (int c = 0; c < channels; ++c) memset(im + (size_t)c * height * width, 0, sizeof(float) * height * width);
        col2im_ld(col, channels, height, width, ksize, stride, pad, im, ld);
        return;
    }
    if (masked_applies(height, width, ksize)) col2im_masked_same(col, channels, height, width, ksize, pad, im, ld, 1);
    else col2im_same(col, channels, height, width, ksize, pad, im, ld, 1);
}

void im2col_cpu(float *im, int channels, int height, int width, int ksize, int stride, int pad, float *col)
{
    int out_h = (height + 2 * pad - ksize) / stride + 1, out_w = (width + 2 * pad - ksize) / stride + 1;
    im2col_ld(im, channels, height, width, ksize, stride, pad, col, out_h * out_w);
}

void col2im_cpu(float *col, int channels, int height, int width, int ksize, int stride, int pad, float *im)
{
    int out_h = (height + 2 * pad - ksize) / stride + 1, out_w = (width + 2 * pad - ksize) / stride + 1;
    col2im_ld(col, channels, height, width, ksize, stride, pad, im, out_h * out_w);
}
