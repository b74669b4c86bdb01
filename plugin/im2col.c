// Darknet's im2col_cpu/col2im_cpu, replaced (like gemm, through the PLT) by
// versions that work a row at a time instead of calling a bounds-checking
// helper for every pixel. Same layout: column row (c, ky, kx), column
// (y, x) of the output; padding reads as 0 and receives nothing.
// The _ld variants write/read column rows `ld` floats apart, so that the
// columns of a whole batch can sit side by side for one GEMM per layer.
#include "darknet_internal.h"
#include "im2col.h"

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
                    const float *src = im + (c * height + iy) * width;
                    for (int x = 0; x < out_w; ++x) {
                        int ix = x * stride + kx - pad;
                        dst[x] = (ix >= 0 && ix < width) ? src[ix] : 0;
                    }
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
                    float *dst = im + (c * height + iy) * width;
                    for (int x = 0; x < out_w; ++x) {
                        int ix = x * stride + kx - pad;
                        if (ix >= 0 && ix < width) dst[ix] += src[x];
                    }
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
