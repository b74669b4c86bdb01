// Darknet's im2col_cpu/col2im_cpu, replaced (like gemm, through the PLT) by
// versions that work a row at a time instead of calling a bounds-checking
// helper for every pixel. Same layout: column row (c, ky, kx), column
// (y, x) of the output; padding reads as 0 and receives nothing.
// The _ld variants write/read column rows `ld` floats apart, so that the
// columns of a whole batch can sit side by side for one GEMM per layer.
#include <string.h>

#include "darknet_internal.h"
#include "im2col.h"

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

void im2col_ld(const float *im, int channels, int height, int width, int ksize, int stride, int pad, float *col, int ld)
{
    int out_h = (height + 2 * pad - ksize) / stride + 1;
    int out_w = (width + 2 * pad - ksize) / stride + 1;
    for (int c = 0; c < channels; ++c)
        for (int ky = 0; ky < ksize; ++ky)
            for (int kx = 0; kx < ksize; ++kx) {
                float *dst = col + (size_t)((c * ksize + ky) * ksize + kx) * ld;
                for (int y = 0; y < out_h; ++y, dst += out_w) {
                    int iy = y * stride + ky - pad;
                    if (iy < 0 || iy >= height) {
                        for (int x = 0; x < out_w; ++x) dst[x] = 0;
                        continue;
                    }
                    const float *src = im + (c * height + iy) * width + kx - pad;
                    int x0, x1;
                    valid_range(out_w, width, kx - pad, stride, &x0, &x1);
                    for (int x = 0; x < x0; ++x) dst[x] = 0;
                    if (stride == 1) memcpy(dst + x0, src + x0, (size_t)(x1 - x0) * sizeof(float));
                    else for (int x = x0; x < x1; ++x) dst[x] = src[x * stride];
                    for (int x = x1; x < out_w; ++x) dst[x] = 0;
                }
            }
}

void col2im_ld(const float *col, int channels, int height, int width, int ksize, int stride, int pad, float *im, int ld)
{
    int out_h = (height + 2 * pad - ksize) / stride + 1;
    int out_w = (width + 2 * pad - ksize) / stride + 1;
    for (int c = 0; c < channels; ++c)
        for (int ky = 0; ky < ksize; ++ky)
            for (int kx = 0; kx < ksize; ++kx) {
                const float *src = col + (size_t)((c * ksize + ky) * ksize + kx) * ld;
                for (int y = 0; y < out_h; ++y, src += out_w) {
                    int iy = y * stride + ky - pad;
                    if (iy < 0 || iy >= height) continue;
                    float *dst = im + (c * height + iy) * width + kx - pad;
                    int x0, x1;
                    valid_range(out_w, width, kx - pad, stride, &x0, &x1);
                    if (stride == 1) for (int x = x0; x < x1; ++x) dst[x] += src[x];
                    else for (int x = x0; x < x1; ++x) dst[x * stride] += src[x];
                }
            }
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
