// The bodies of the CUDA kernels (kernels.cu) as plain C functions of one
// element, one thread's share or one block's result, so that the host
// compiles them too: tests/test_gpu_kernels_host.c runs every kernel's
// decomposition (grid, block, threads, the block sums' tree) on the host with
// these same functions and compares the result with the kernel's CPU twin,
// without a GPU. kernels.cu adds only the launch and the shared-memory sums.
#ifndef INV_KERNEL_OPS_H
#define INV_KERNEL_OPS_H
#include <math.h>
#include <stddef.h>

#ifdef __CUDACC__
#define KOP static __host__ __device__ inline
#else
#define KOP static inline
#endif

// Threads per block of every kernel.
#define KOP_THREADS 256

// Grid-stride loops run with at most this many blocks (kernels.cu blocks()).
KOP unsigned kop_blocks(long n)
{
    long b = (n + KOP_THREADS - 1) / KOP_THREADS;
    return (unsigned)(b < 65535L * 8 ? (b > 0 ? b : 1) : 65535L * 8);
}

// ---- R_feature -------------------------------------------------------------
// Per channel c of x [B][C][S], over its M = B*S values, the sums of
// d = x - rolling_mean[c] and of d^2 (bn_stat.c's convolution path: d is
// centred near 0, so E[d^2] - E[d]^2 loses little). The statistics kernel runs
// C x G blocks: block (g, c) sums chunk g of channel c; G fills a GPU with
// ~2048 blocks whatever C is, each with at least 4 values per thread.
KOP int bn_chunks(int C, long M)
{
    long most = (M + 4L * KOP_THREADS - 1) / (4L * KOP_THREADS), want = (2048 + C - 1) / C;
    long g = want < most ? want : most;
    return (int)(g < 1 ? 1 : g > 1024 ? 1024 : g);
}

// Chunk g of G over [0, M): [*j0, *j1).
KOP void bn_chunk(long M, int G, int g, long *j0, long *j1)
{
    long per = (M + G - 1) / G;
    *j0 = g * per < M ? g * per : M;
    *j1 = *j0 + per < M ? *j0 + per : M;
}

// Thread t's share of the chunk: values j0 + t, j0 + t + KOP_THREADS, ...
// (j = b*S + s), added to s1 and s2.
KOP void bn_thread_sums(const float *x, int C, int S, int c, float rm, long j0, long j1, int t, double *s1, double *s2)
{
    double a = 0, q = 0;
    for (long j = j0 + t; j < j1; j += KOP_THREADS) {
        long b = j / S, i = j - b * S;
        double d = (double)x[((size_t)b * C + c) * S + i] - rm;
        a += d;
        q += d * d;
    }
    *s1 += a;
    *s2 += q;
}

// Channel c's mean offset md = E[d] and biased variance from its G chunk sums
// part[(c*G + g)*2 + {0, 1}], added in chunk order.
KOP void bn_channel_stats(const double *part, int G, int c, double M, double *md, double *var)
{
    double s1 = 0, s2 = 0;
    for (int g = 0; g < G; ++g) {
        s1 += part[((size_t)c * G + g) * 2];
        s2 += part[((size_t)c * G + g) * 2 + 1];
    }
    double m = s1 / M, v = s2 / M - m * m;
    *md = m;
    *var = v < 0 ? 0 : v;
}

// scale / (norm M), with bn_stat.c's floor: a zero norm has no direction.
KOP double bn_norm_coeff(double norm, double M, double scale) { return scale / ((norm > 1e-12 ? norm : 1e-12) * M); }

// frozen_layers.c backward_frozen_bn at one element: Darknet's (negative) delta d
// w.r.t. the BN output -> w.r.t. the BN input x, in inference mode (the
// forward divides by sqrt(rolling_var) + 1e-6), minus R_feature's gradient
// ga + gb (x - mean) when there is one.
KOP float bn_backward_at(float d, float x, float scale, float rv, int has_r, float ga, float gb, float mean)
{
    float k = scale / (sqrtf(rv) + .000001f);
    float v = d * k;
    if (has_r) v -= ga + gb * (x - mean);
    return v;
}

// ---- priors (prior.c) -----------------------------------------------------
// Directions (dy, dx): right, down, down-right, down-left.
KOP int prior_dy(int d) { return d == 0 ? 0 : 1; }
KOP int prior_dx(int d) { return d == 0 ? 1 : d == 1 ? 0 : d == 2 ? 1 : -1; }

// Pixel (y, x) of plane p [H][W] as the first pixel of each direction's pair:
// s[2d] += e^2, s[2d+1] += |e| with e = p(y, x) - p(y + dy, x + dx); s[8] += p^2.
KOP void prior_pixel_sums(const float *p, int H, int W, int y, int x, double s[9])
{
    float v = p[(size_t)y * W + x];
    s[8] += (double)v * v;
    for (int d = 0; d < 4; ++d) {
        int qy = y + prior_dy(d), qx = x + prior_dx(d);
        if (qy >= H || qx < 0 || qx >= W) continue;
        float e = v - p[(size_t)qy * W + qx];
        s[2 * d] += (double)e * e;
        s[2 * d + 1] += fabsf(e);
    }
}

// The priors' gradient at pixel (y, x) of plane p, gathered (no atomics): the
// pixel is the first of the pair (p, p + dir) and the second of (p - dir, p);
// per direction k2 e + k1 sign(e), plus kl2 x for the L2 term.
KOP float prior_grad_at(const float *p, int H, int W, int y, int x, const float *k2, const float *k1, float kl2)
{
    float v = p[(size_t)y * W + x], g = 0;
    for (int d = 0; d < 4; ++d) {
        int dy = prior_dy(d), dx = prior_dx(d);
        int qy = y + dy, qx = x + dx;
        if (qy < H && qx >= 0 && qx < W) {
            float e = v - p[(size_t)qy * W + qx];
            g += k2[d] * e + k1[d] * (float)((e > 0) - (e < 0));
        }
        int ry = y - dy, rx = x - dx;
        if (ry >= 0 && rx >= 0 && rx < W) {
            float e = p[(size_t)ry * W + rx] - v;
            g -= k2[d] * e + k1[d] * (float)((e > 0) - (e < 0));
        }
    }
    return g + kl2 * v;
}

// The host step between the two prior kernels (synth_gpu.c), prior.c's norms
// and coefficients: from acc (8 direction sums: e^2 at 2d, |e| at 2d + 1; then
// B per-image sums of x^2) the weighted terms t[0] = tv_l1, t[1] = tv_l2,
// t[2] = l2 and the gradient's per-direction k2, k1 and per-image kl2 (a zero
// weight's terms and coefficients are 0, as prior.c skips them).
static inline void prior_coeffs(const double *acc, int B, int C, int H, int W, float w_tv_l1, float w_tv_l2, float w_l2,
                                float k2[4], float k1[4], float *kl2, double t[3])
{
    t[0] = t[1] = t[2] = 0;
    for (int d = 0; d < 4; ++d) {
        int dy = prior_dy(d), adx = prior_dx(d) < 0 ? -prior_dx(d) : prior_dx(d);
        k2[d] = k1[d] = 0;
        if (H <= dy || W <= adx || (w_tv_l1 == 0 && w_tv_l2 == 0)) continue;
        double count = (double)B * C * (H - dy) * (W - adx), norm = sqrt(acc[2 * d]);
        t[1] += w_tv_l2 * norm;
        t[0] += w_tv_l1 * acc[2 * d + 1] / count;
        k2[d] = norm > 0 ? (float)(w_tv_l2 / norm) : 0;
        k1[d] = (float)(w_tv_l1 / count);
    }
    for (int b = 0; b < B; ++b) {
        kl2[b] = 0;
        if (w_l2 == 0) continue;
        double norm = sqrt(acc[8 + b]);
        t[2] += w_l2 * norm / B;
        kl2[b] = norm > 0 ? (float)(w_l2 / (B * norm)) : 0;
    }
}

// Partial-sum blocks per plane of the prior sums kernel.
KOP int prior_blocks_x(int H, int W)
{
    int per = (H * W + KOP_THREADS - 1) / KOP_THREADS;
    return per < 32 ? per : 32;
}

// ---- the view (augment.c) -------------------------------------------------
KOP int kop_wrap(int i, int n) { i %= n; return i < 0 ? i + n : i; }

// Index into params [B][PC][H/f][W/f] of the pixel shown at input element i
// of [B][C][H][W] (augment.c source()).
KOP long view_source(long i, int C, int H, int W, int PC, int f, int dy, int dx, int flip)
{
    int x = (int)(i % W), y = (int)((i / W) % H), c = (int)((i / ((long)W * H)) % C);
    long b = i / ((long)W * H * C);
    int ph = H / f, pw = W / f;
    int X = flip ? W - 1 - x : x;
    int sy = kop_wrap(y - dy, H), sx = kop_wrap(X - dx, W);
    int pc = PC == 1 ? 0 : c;
    return ((b * PC + pc) * ph + sy / f) * pw + sx / f;
}

// Parameter i's gradient: the sum over the input pixels that show it (every
// channel when PC == 1, and the f x f block of the upsampling).
KOP float view_backward_at(long i, int C, int H, int W, int PC, int f, int dy, int dx, int flip, const float *grad_input)
{
    int ph = H / f, pw = W / f;
    int px = (int)(i % pw), py = (int)((i / pw) % ph), pc = (int)((i / ((long)pw * ph)) % PC);
    long b = i / ((long)pw * ph * PC);
    float g = 0;
    for (int c = PC == 1 ? 0 : pc; c < (PC == 1 ? C : pc + 1); ++c)
        for (int sy = py * f; sy < py * f + f; ++sy)
            for (int sx = px * f; sx < px * f + f; ++sx) {
                int y = kop_wrap(sy + dy, H), X = kop_wrap(sx + dx, W);
                int x = flip ? W - 1 - X : X;
                g += grad_input[((b * C + c) * H + y) * W + x];
            }
    return g;
}

// ---- Adam (adam.c adam_step, then synth.c's clip to [0, 1]) --------------
KOP void adam_clip_at(long i, float *x, const float *g, float *m, float *v, float b1, float b2, float eps, float step,
                      float rc2)
{
    float gi = g[i];
    float mi = b1 * m[i] + (1 - b1) * gi;
    float vi = b2 * v[i] + (1 - b2) * gi * gi;
    m[i] = mi;
    v[i] = vi;
    float xi = x[i] - step * mi / (sqrtf(vi) * rc2 + eps);
    x[i] = xi < 0 ? 0 : xi > 1 ? 1 : xi;
}

#ifndef __CUDACC__
// The kernels' block sum (kernels.cu block_sum) on the host: the same tree
// over KOP_THREADS values, in the same order; returns v[0].
static inline double kop_tree_sum(double *v)
{
    for (int k = KOP_THREADS / 2; k > 0; k >>= 1)
        for (int t = 0; t < k; ++t) v[t] += v[t + k];
    return v[0];
}
#endif
#endif
