// The frozen network's convolution, batched: the columns of every image of
// the batch sit side by side, so each layer (and group) is one GEMM of
// [filters] x [batch*out_h*out_w] instead of one small GEMM per image, which
// OpenBLAS runs several times faster. Inference-mode BN, bias and activation
// are applied while the GEMM result is scattered back to Darknet's layout.
// A BN layer's GEMM writes straight into l.x, which only the frozen backward
// and R_feature read, so l.x keeps the GEMM's layout (per piece of the batch).
//
// Shapes: input [batch][c][h][w]; weights [n][c/groups*size*size];
// rows (GEMM result / gathered delta) [n][batch*out_h*out_w];
// output, l.delta [batch][n][out_h*out_w]; l.x [n][batch*out_h*out_w] per piece.
#include <math.h>
#include <string.h>

#include "darknet_internal.h"
#include "direct_conv.h"
#include "frozen_layers.h"
#include "im2col.h"
#include "simd.h"
#include "util.h"
#include "winograd.h"

size_t frozen_conv_cols(const layer *l)
{
    return (size_t)l->size * l->size * (l->c / l->groups) * l->batch * l->out_h * l->out_w;
}

size_t frozen_conv_rows(const layer *l) { return (size_t)l->n * l->batch * l->out_h * l->out_w; }

enum conv_path conv_path_of(const layer *l)
{
    if (direct_conv_applies(l, env_switch_on("INV_DIRECT_CONV"))) return CONV_DIRECT;
    if (winograd_applies(l, env_switch_on("INV_WINOGRAD"))) return CONV_WINOGRAD;
    return CONV_GEMM;
}

size_t conv_work(const layer *l, enum conv_path path)
{
    return path == CONV_DIRECT ? direct_conv_work(l) : path == CONV_WINOGRAD ? winograd_work(l) : frozen_conv_cols(l);
}

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

// Forward of a piece of the batch that fits the workspaces; with sums (of a
// BN layer run on a slice), adds per channel the sum of x - rolling_mean and of
// its square: [2][n] doubles, for R_feature.
INV_SIMD static void forward_conv_piece(const layer *l, const float *input, float *cols, float *rows, double *sums,
                                        int path)
{
    int G = l->groups, M = l->n / G, K = l->size * l->size * l->c / G, N = l->out_h * l->out_w, BN = l->batch * N;
    float *result = l->batch_normalize ? l->x : rows;
    if (path == CONV_DIRECT) forward_direct_conv(l, input, result, cols);
    else if (path == CONV_WINOGRAD) forward_winograd_conv(l, input, result, cols);
    else
        for (int g = 0; g < G; ++g) {
            gather_columns(l, input, g, cols);
            gemm(0, 0, M, BN, K, 1, l->weights + (size_t)g * M * K, K, cols, BN, 0, result + (size_t)g * M * BN, BN);
        }
    // Darknet's normalize_cpu, scale_bias and add_bias (inference mode), with
    // the division by the deviation folded into the scale.
    for (int b = 0; b < l->batch; ++b)
        for (int c = 0; c < l->n; ++c) {
            const float *src = result + (size_t)c * BN + (size_t)b * N;
            float *out = l->output + ((size_t)b * l->n + c) * N;
            if (l->batch_normalize) {
                float m = l->rolling_mean[c], k = l->scales[c] / (sqrtf(l->rolling_variance[c]) + .000001f), bias = l->biases[c];
                float s1 = 0, s2 = 0;
                if (l->activation == LEAKY) {   // activate_array's leaky, in the same pass
                    #pragma omp simd reduction(+ : s1, s2)
                    for (int i = 0; i < N; ++i) {
                        float d = src[i] - m, v = d * k + bias;
                        out[i] = v > 0 ? v : (float)(.1 * v);
                        s1 += d;
                        s2 += d * d;
                    }
                } else {
                    #pragma omp simd reduction(+ : s1, s2)
                    for (int i = 0; i < N; ++i) {
                        float d = src[i] - m;
                        out[i] = d * k + bias;
                        s1 += d;
                        s2 += d * d;
                    }
                    activate_array(out, N, l->activation);
                }
                if (sums) sums[c] += s1, sums[l->n + c] += s2;
            } else {
                float bias = l->biases[c];
                for (int i = 0; i < N; ++i) out[i] = src[i] + bias;
                activate_array(out, N, l->activation);
            }
        }
}

// Backward of a piece: activation, inference BN and R_feature gathered into
// rows [n][batch*N], then one GEMM per group to columns and col2im into delta.
// With pool (a max-pool fused above, frozen_plan.pool_above; first_index as
// maxpool_plane_delta takes it) the gradient at the output comes from the
// pool's delta, a plane at a time in cols, instead of from l.delta.
INV_SIMD static void backward_conv_piece(const layer *l, const bn_stat_layer *s, float *delta, float *cols, float *rows,
                                         int assign, int path, const layer *pool, long first_index)
{
    int G = l->groups, M = l->n / G, K = l->size * l->size * l->c / G, N = l->out_h * l->out_w, BN = l->batch * N;
    int cg = l->c / G;
    // Channel by channel: l.x, read from far caches (written by the forward
    // of the whole batch), and rows are then contiguous.
    for (int c = 0; c < l->n; ++c)
        for (int b = 0; b < l->batch; ++b) {
            size_t at = ((size_t)b * l->n + c) * N;
            float *d = l->delta + at;
            if (pool) maxpool_plane_delta(pool, b, c, first_index, d = cols);
            const float *y = l->output + at;
            float *dst = rows + (size_t)c * BN + (size_t)b * N;
            int leaky = l->activation == LEAKY;   // its gradient is folded into the passes below
            if (!leaky) gradient_array(y, N, l->activation, d);
            if (!l->batch_normalize) {
                if (leaky) for (int i = 0; i < N; ++i) dst[i] = d[i] * (y[i] > 0 ? 1.f : .1f);
                else memcpy(dst, d, N * sizeof(float));
                continue;
            }
            float k = l->scales[c] / (sqrtf(l->rolling_variance[c]) + .000001f);
            const float *x = l->x + (size_t)c * BN + (size_t)b * N;
            float ga = s->channels ? s->ga[c] : 0, gb = s->channels ? s->gb[c] : 0, mu = s->channels ? s->mean[c] : 0;
            if (leaky) {
                // leaky's input (x - m) k + bias, recomputed as the forward did,
                // instead of reading the output back.
                float m = l->rolling_mean[c], bias = l->biases[c];
                for (int i = 0; i < N; ++i)
                    dst[i] = d[i] * ((x[i] - m) * k + bias > 0 ? 1.f : .1f) * k - (ga + gb * (x[i] - mu));
            }
            else
                for (int i = 0; i < N; ++i) dst[i] = d[i] * k - (ga + gb * (x[i] - mu));
        }
    if (!delta) return;
    if (path == CONV_DIRECT) {
        backward_direct_conv(l, rows, delta, assign, cols);
        return;
    }
    if (path == CONV_WINOGRAD) {
        backward_winograd_conv(l, rows, delta, assign, cols);
        return;
    }
    for (int g = 0; g < G; ++g) {
        gemm(1, 0, K, BN, M, 1, l->weights + (size_t)g * M * K, K, rows + (size_t)g * M * BN, BN, 0, cols, BN);
        for (int b = 0; b < l->batch; ++b) {
            float *imd = delta + ((size_t)b * l->c + (size_t)g * cg) * l->h * l->w;
            float *col = cols + (size_t)b * N;
            if (l->size == 1) {
                for (int c = 0; c < cg; ++c)
                    for (int i = 0; i < N; ++i) imd[(size_t)c * N + i] = (assign ? 0 : imd[(size_t)c * N + i]) + col[(size_t)c * BN + i];
            } else if (assign) {
                col2im_ld_set(col, cg, l->h, l->w, l->size, l->stride, l->pad, imd, BN);
            } else {
                col2im_ld(col, cg, l->h, l->w, l->size, l->stride, l->pad, imd, BN);
            }
        }
    }
}

// Called on a slice (from frozen_run.c) or on the whole network (Darknet's
// forward_network): either way in pieces of at most the plan's chunk of images.
void forward_frozen_convolutional(layer l, network net)
{
    frozen_plan f = frozen_layer_plan(&net);
    for (int b0 = 0; b0 < l.batch; b0 += f.chunk) {
        layer p = layer_images(&l, b0, l.batch - b0 < f.chunk ? l.batch - b0 : f.chunk);
        forward_conv_piece(&p, net.input + (size_t)b0 * l.inputs, f.cols, f.rows, f.bn_sums, f.conv_path);
    }
}

void backward_frozen_convolutional(layer l, network net)
{
    frozen_plan f = frozen_layer_plan(&net);
    for (int b0 = 0; b0 < l.batch; b0 += f.chunk) {
        int nb = l.batch - b0 < f.chunk ? l.batch - b0 : f.chunk;
        layer p = layer_images(&l, b0, nb), pool;
        if (f.pool_above) pool = layer_images(&net.layers[net.index + 1], b0, nb);
        backward_conv_piece(&p, f.bn, net.delta ? net.delta + (size_t)b0 * l.inputs : NULL, f.cols, f.rows, f.assign,
                            f.conv_path, f.pool_above ? &pool : NULL, (long)b0 * l.outputs);
    }
}

int conv_covers_input(const layer *l)
{
    if (l->size == 1) return l->stride == 1 && l->out_h == l->h && l->out_w == l->w;
    return col2im_covers(l->h, l->w, l->size, l->stride, l->pad);
}
