// Darknet's im2col_cpu/col2im_cpu, replaced (like gemm, through the PLT) by
// versions that work a row at a time instead of calling a bounds-checking
// helper for every pixel. Same layout: column row (c, ky, kx), column
// (y, x) of the output; padding reads as 0 and receives nothing.
#include "darknet_internal.h"

void im2col_cpu(float *im, int channels, int height, int width, int ksize, int stride, int pad, float *col)
{
    int out_h = (height + 2 * pad - ksize) / stride + 1;
    int out_w = (width + 2 * pad - ksize) / stride + 1;
    for (int c = 0; c < channels; ++c)
        for (int ky = 0; ky < ksize; ++ky)
            for (int kx = 0; kx < ksize; ++kx) {
                float *dst = col + ((c * ksize + ky) * ksize + kx) * out_h * out_w;
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

void col2im_cpu(float *col, int channels, int height, int width, int ksize, int stride, int pad, float *im)
{
    int out_h = (height + 2 * pad - ksize) / stride + 1;
    int out_w = (width + 2 * pad - ksize) / stride + 1;
    for (int c = 0; c < channels; ++c)
        for (int ky = 0; ky < ksize; ++ky)
            for (int kx = 0; kx < ksize; ++kx) {
                const float *src = col + ((c * ksize + ky) * ksize + kx) * out_h * out_w;
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
