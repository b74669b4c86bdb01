// The frozen network's convolution, batched: the columns of every image of
// the batch sit side by side, so each layer (and group) is one GEMM of
// [filters] x [batch*out_h*out_w] instead of one small GEMM per image, which
// OpenBLAS runs several times faster. Inference-mode BN, bias and activation
// are applied while the GEMM result is scattered back to Darknet's layout.
//
// Shapes: input [batch][c][h][w]; weights [n][c/groups*size*size];
// rows (GEMM result / gathered delta) [n][batch*out_h*out_w];
// output, l.x, l.delta [batch][n][out_h*out_w].
#include <float.h>
#include <math.h>
#include <string.h>

#include "darknet_internal.h"
#include "frozen_layers.h"
#include "im2col.h"

size_t frozen_conv_cols(const layer *l)
{
    return (size_t)l->size * l->size * (l->c / l->groups) * l->batch * l->out_h * l->out_w;
}

size_t frozen_conv_rows(const layer *l) { return (size_t)l->n * l->batch * l->out_h * l->out_w; }

// Image b's columns for group g. Darknet's forward reads a 1x1 layer's input
// directly as a [c][out_h*out_w] matrix (rows out_h*out_w apart, whatever the
// stride): the same here, and its adjoint in the backward.
static void gather_columns(const layer *l, const float *input, int g, float *cols)
{
    int cg = l->c / l->groups, N = l->out_h * l->out_w, ld = l->batch * N;
    for (int b = 0; b < l->batch; ++b) {
        const float *im = input + ((size_t)b * l->c + (size_t)g * cg) * l->h * l->w;
        if (l->size == 1) {
            for (int c = 0; c < cg; ++c) memcpy(cols + (size_t)c * ld + (size_t)b * N, im + (size_t)c * N, N * sizeof(float));
        } else {
            im2col_ld(im, cg, l->h, l->w, l->size, l->stride, l->pad, cols + (size_t)b * N, ld);
        }
    }
}

void forward_frozen_convolutional(layer l, network net)
{
    frozen_net *f = frozen_lookup(&net);
    int G = l.groups, M = l.n / G, K = l.size * l.size * l.c / G, N = l.out_h * l.out_w, BN = l.batch * N;
    for (int g = 0; g < G; ++g) {
        gather_columns(&l, net.input, g, f->cols);
        gemm(0, 0, M, BN, K, 1, l.weights + (size_t)g * M * K, K, f->cols, BN, 0, f->rows + (size_t)g * M * BN, BN);
    }
    // Same arithmetic, in the same order, as Darknet's normalize_cpu,
    // scale_bias and add_bias (inference mode).
    #pragma omp parallel for collapse(2) schedule(static)
    for (int b = 0; b < l.batch; ++b)
        for (int c = 0; c < l.n; ++c) {
            const float *src = f->rows + (size_t)c * BN + (size_t)b * N;
            float *out = l.output + ((size_t)b * l.n + c) * N;
            if (l.batch_normalize) {
                float *x = l.x + ((size_t)b * l.n + c) * N;
                float m = l.rolling_mean[c], sd = sqrtf(l.rolling_variance[c]) + .000001f, s = l.scales[c], bias = l.biases[c];
                for (int i = 0; i < N; ++i) {
                    x[i] = src[i];
                    out[i] = (src[i] - m) / sd * s + bias;
                }
            } else {
                float bias = l.biases[c];
                for (int i = 0; i < N; ++i) out[i] = src[i] + bias;
            }
            activate_array(out, N, l.activation);
        }
}

void backward_frozen_convolutional(layer l, network net)
{
    frozen_net *f = frozen_lookup(&net);
    const bn_stat_layer *s = &f->bn[net.index];
    int G = l.groups, M = l.n / G, K = l.size * l.size * l.c / G, N = l.out_h * l.out_w, BN = l.batch * N;
    int cg = l.c / G;
    // Activation, inference BN and R_feature, gathered into rows [n][batch*N].
    #pragma omp parallel for collapse(2) schedule(static)
    for (int b = 0; b < l.batch; ++b)
        for (int c = 0; c < l.n; ++c) {
            size_t at = ((size_t)b * l.n + c) * N;
            float *d = l.delta + at;
            gradient_array(l.output + at, N, l.activation, d);
            float *dst = f->rows + (size_t)c * BN + (size_t)b * N;
            if (!l.batch_normalize) {
                memcpy(dst, d, N * sizeof(float));
                continue;
            }
            float k = l.scales[c] / (sqrtf(l.rolling_variance[c]) + .000001f);
            const float *x = l.x + at;
            if (s->channels) {
                float ga = s->ga[c], gb = s->gb[c], mu = s->mean[c];
                for (int i = 0; i < N; ++i) dst[i] = d[i] * k - (ga + gb * (x[i] - mu));
            } else {
                for (int i = 0; i < N; ++i) dst[i] = d[i] * k;
            }
        }
    if (!net.delta) return;
    for (int g = 0; g < G; ++g) {
        gemm(1, 0, K, BN, M, 1, l.weights + (size_t)g * M * K, K, f->rows + (size_t)g * M * BN, BN, 0, f->cols, BN);
        #pragma omp parallel for schedule(static)
        for (int b = 0; b < l.batch; ++b) {
            float *imd = net.delta + ((size_t)b * l.c + (size_t)g * cg) * l.h * l.w;
            const float *cols = f->cols + (size_t)b * N;
            if (l.size == 1) {
                for (int c = 0; c < cg; ++c)
                    for (int i = 0; i < N; ++i) imd[(size_t)c * N + i] += cols[(size_t)c * BN + i];
            } else {
                col2im_ld(cols, cg, l.h, l.w, l.size, l.stride, l.pad, imd, BN);
            }
        }
    }
}

// Darknet's max-pool forward (window offset by -pad/2, first maximum wins,
// indexes kept for the backward), parallel over images and channels; the
// common 2x2 stride-2 window whose offset is 0 without bounds checks.
void forward_frozen_maxpool(layer l, network net)
{
    int off = -l.pad / 2, H = l.out_h, W = l.out_w;
    #pragma omp parallel for collapse(2) schedule(static)
    for (int b = 0; b < l.batch; ++b)
        for (int c = 0; c < l.c; ++c) {
            size_t base = ((size_t)b * l.c + c) * l.h * l.w, o = (((size_t)b * l.c + c) * H) * W;
            const float *in = net.input + base;
            for (int i = 0; i < H; ++i)
                for (int j = 0; j < W; ++j, ++o) {
                    float max = -FLT_MAX;
                    int max_i = -1;
                    int y0 = off + i * l.stride, x0 = off + j * l.stride;
                    if (l.size == 2 && y0 >= 0 && x0 >= 0 && y0 + 1 < l.h && x0 + 1 < l.w) {
                        int k = y0 * l.w + x0;
                        const int cand[4] = {k, k + 1, k + l.w, k + l.w + 1};
                        for (int t = 0; t < 4; ++t)
                            if (in[cand[t]] > max) max = in[cand[t]], max_i = (int)base + cand[t];
                    } else {
                        for (int n = 0; n < l.size; ++n) {
                            int y = y0 + n;
                            if (y < 0 || y >= l.h) continue;
                            for (int m = 0; m < l.size; ++m) {
                                int x = x0 + m;
                                if (x < 0 || x >= l.w) continue;
                                float v = in[y * l.w + x];
                                if (v > max) max = v, max_i = (int)base + y * l.w + x;
                            }
                        }
                    }
                    l.output[o] = max;
                    l.indexes[o] = max_i;
                }
        }
}
