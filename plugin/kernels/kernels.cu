// CUDA twins of the plugin's per-iteration CPU loops (see kernels.h).
#include <cuda_runtime.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "kernels.h"

#define THREADS 256

extern "C" void inv_die(const char *fmt, ...);

extern "C" void gpu_check_launch(const char *what)
{
    cudaError_t e = cudaGetLastError();
    if (e != cudaSuccess) inv_die("CUDA error in %s: %s", what, cudaGetErrorString(e));
}

static unsigned blocks(long n)
{
    long b = (n + THREADS - 1) / THREADS;
    return (unsigned)(b < 65535L * 8 ? (b > 0 ? b : 1) : 65535L * 8);
}

// Sum of a double over the block (THREADS threads); thread 0 gets the result.
__device__ static double block_sum(double v)
{
    __shared__ double s[THREADS];
    s[threadIdx.x] = v;
    __syncthreads();
    for (int k = THREADS / 2; k > 0; k >>= 1) {
        if (threadIdx.x < k) s[threadIdx.x] += s[threadIdx.x + k];
        __syncthreads();
    }
    double r = s[0];
    __syncthreads();
    return r;
}

// ---- R_feature ------------------------------------------------------------

// One block per channel: mean, then the biased variance around it (two passes,
// as bn_stat.c).
__global__ static void k_bn_stats(const float *x, int B, int C, int S, float *mean, float *var)
{
    int c = blockIdx.x;
    double sum = 0;
    for (int b = 0; b < B; ++b)
        for (int i = threadIdx.x; i < S; i += THREADS) sum += x[((size_t)b * C + c) * S + i];
    double M = (double)B * S;
    double mu = block_sum(sum) / M;
    double sq = 0;
    for (int b = 0; b < B; ++b)
        for (int i = threadIdx.x; i < S; i += THREADS) {
            double d = x[((size_t)b * C + c) * S + i] - mu;
            sq += d * d;
        }
    sq = block_sum(sq);
    if (threadIdx.x == 0) {
        mean[c] = (float)mu;
        var[c] = (float)(sq / M);
    }
}

extern "C" void gpu_bn_stats(const float *x, int B, int C, int S, float *mean, float *var)
{
    k_bn_stats<<<C, THREADS>>>(x, B, C, S, mean, var);
    gpu_check_launch("bn_stats");
}

__global__ static void k_bn_coeffs(const float *mean, const float *var, const float *rm, const float *rv,
                                   int C, double M, double scale, float *ga, float *gb, double *loss)
{
    double dm2 = 0, dv2 = 0;
    for (int c = threadIdx.x; c < C; c += THREADS) {
        double dm = (double)mean[c] - rm[c], dv = (double)var[c] - rv[c];
        dm2 += dm * dm;
        dv2 += dv * dv;
    }
    double D = sqrt(block_sum(dm2)), E = sqrt(block_sum(dv2));
    double kd = scale / ((D > 1e-12 ? D : 1e-12) * M), ke = 2 * scale / ((E > 1e-12 ? E : 1e-12) * M);
    for (int c = threadIdx.x; c < C; c += THREADS) {
        ga[c] = (float)(kd * (mean[c] - rm[c]));
        gb[c] = (float)(ke * ((double)var[c] - rv[c]));
    }
    if (threadIdx.x == 0) loss[0] = scale * (D + E);
}

extern "C" void gpu_bn_coeffs(const float *mean, const float *var, const float *rolling_mean, const float *rolling_var,
                              int C, double M, double scale, float *ga, float *gb, double *loss)
{
    k_bn_coeffs<<<1, THREADS>>>(mean, var, rolling_mean, rolling_var, C, M, scale, ga, gb, loss);
    gpu_check_launch("bn_coeffs");
}

__global__ static void k_bn_backward(long n, float *d, const float *x, const float *scales, const float *rv,
                                     const float *ga, const float *gb, const float *mean, int C, int S)
{
    for (long i = blockIdx.x * (long)blockDim.x + threadIdx.x; i < n; i += (long)gridDim.x * blockDim.x) {
        int c = (int)((i / S) % C);
        float k = scales[c] / (sqrtf(rv[c]) + .000001f);
        float v = d[i] * k;
        if (ga) v -= ga[c] + gb[c] * (x[i] - mean[c]);
        d[i] = v;
    }
}

extern "C" void gpu_bn_backward(float *delta, const float *x, const float *scales, const float *rolling_var,
                                const float *ga, const float *gb, const float *mean, int B, int C, int S)
{
    long n = (long)B * C * S;
    k_bn_backward<<<blocks(n), THREADS>>>(n, delta, x, scales, rolling_var, ga, gb, mean, C, S);
    gpu_check_launch("bn_backward");
}

// ---- priors ---------------------------------------------------------------

__constant__ static int dirs[4][2] = {{0, 1}, {1, 0}, {1, 1}, {1, -1}};   // (dy, dx), as prior.c

// Deterministic sums (no atomics, fixed order), so that a run repeats exactly:
// each block writes its 9 partial sums (8 direction sums, the plane's sum of
// squares), then one block per result adds them up in a fixed order.
#define PRIOR_GX 32

__global__ static void k_prior_partials(const float *x, int H, int W, double *part)
{
    int plane = blockIdx.y;   // b * C + c
    const float *p = x + (size_t)plane * H * W;
    double s[9] = {0, 0, 0, 0, 0, 0, 0, 0, 0};
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < H * W; i += gridDim.x * blockDim.x) {
        int y = i / W, xx = i % W;
        float v = p[i];
        s[8] += (double)v * v;
        for (int d = 0; d < 4; ++d) {
            int qy = y + dirs[d][0], qx = xx + dirs[d][1];
            if (qy >= H || qx < 0 || qx >= W) continue;
            float e = v - p[qy * W + qx];
            s[2 * d] += (double)e * e;
            s[2 * d + 1] += fabsf(e);
        }
    }
    for (int k = 0; k < 9; ++k) {
        double t = block_sum(s[k]);
        if (threadIdx.x == 0) part[((size_t)plane * gridDim.x + blockIdx.x) * 9 + k] = t;
    }
}

// Block k < 8: direction sum k over every plane; block 8 + b: image b's sum of squares.
__global__ static void k_prior_reduce(const double *part, int B, int C, int gx, double *acc)
{
    int k = blockIdx.x;
    double s = 0;
    if (k < 8) {
        for (long j = threadIdx.x; j < (long)B * C * gx; j += THREADS) s += part[j * 9 + k];
    } else {
        int b = k - 8;
        for (long j = threadIdx.x; j < (long)C * gx; j += THREADS) s += part[((long)b * C * gx + j) * 9 + 8];
    }
    s = block_sum(s);
    if (threadIdx.x == 0) acc[k] = s;
}

extern "C" void gpu_prior_sums(const float *x, int B, int C, int H, int W, double *acc, double *part)
{
    int per = (H * W + THREADS - 1) / THREADS;
    int gx = per < PRIOR_GX ? per : PRIOR_GX;
    k_prior_partials<<<dim3(gx, B * C), THREADS>>>(x, H, W, part);
    k_prior_reduce<<<8 + B, THREADS>>>(part, B, C, gx, acc);
    gpu_check_launch("prior_sums");
}

extern "C" size_t gpu_prior_partials_size(int B, int C, int H, int W)
{
    int per = (H * W + THREADS - 1) / THREADS;
    return (size_t)B * C * (per < PRIOR_GX ? per : PRIOR_GX) * 9;
}

struct prior_coeffs { float k2[4], k1[4]; };

// Gathered per pixel (no atomics): the pixel is p of the pair (p, p + dir)
// and q of the pair (p - dir, p).
__global__ static void k_prior_grad(const float *x, int B, int C, int H, int W, prior_coeffs k,
                                    const float *kl2, float *grad)
{
    long n = (long)B * C * H * W;
    for (long i = blockIdx.x * (long)blockDim.x + threadIdx.x; i < n; i += (long)gridDim.x * blockDim.x) {
        int xx = (int)(i % W), y = (int)((i / W) % H);
        long plane = i / ((long)H * W);
        const float *p = x + plane * H * W;
        float v = x[i], g = 0;
        for (int d = 0; d < 4; ++d) {
            int dy = dirs[d][0], dx = dirs[d][1];
            int qy = y + dy, qx = xx + dx;
            if (qy < H && qx >= 0 && qx < W) {
                float e = v - p[qy * W + qx];
                g += k.k2[d] * e + k.k1[d] * (float)((e > 0) - (e < 0));
            }
            int ry = y - dy, rx = xx - dx;
            if (ry >= 0 && rx >= 0 && rx < W) {
                float e = p[ry * W + rx] - v;
                g -= k.k2[d] * e + k.k1[d] * (float)((e > 0) - (e < 0));
            }
        }
        if (kl2) g += kl2[plane / C] * v;
        grad[i] += g;
    }
}

extern "C" void gpu_prior_grad(const float *x, int B, int C, int H, int W, const float *k2, const float *k1,
                               const float *kl2, float *grad)
{
    prior_coeffs k;
    for (int d = 0; d < 4; ++d) k.k2[d] = k2[d], k.k1[d] = k1[d];
    float *dkl2 = NULL;
    if (kl2) {
        if (cudaMalloc(&dkl2, sizeof(float) * B) != cudaSuccess) inv_die("CUDA: out of device memory");
        cudaMemcpy(dkl2, kl2, sizeof(float) * B, cudaMemcpyHostToDevice);
    }
    long n = (long)B * C * H * W;
    k_prior_grad<<<blocks(n), THREADS>>>(x, B, C, H, W, k, dkl2, grad);
    gpu_check_launch("prior_grad");
    if (dkl2) cudaFree(dkl2);
}

// ---- the view (augment.c) -------------------------------------------------

__device__ static int wrap(int i, int n) { i %= n; return i < 0 ? i + n : i; }

__global__ static void k_view_forward(int B, int C, int H, int W, int PC, int f, int dy, int dx, int flip,
                                      const float *params, float *input)
{
    long n = (long)B * C * H * W;
    int ph = H / f, pw = W / f;
    for (long i = blockIdx.x * (long)blockDim.x + threadIdx.x; i < n; i += (long)gridDim.x * blockDim.x) {
        int x = (int)(i % W), y = (int)((i / W) % H), c = (int)((i / ((long)W * H)) % C);
        long b = i / ((long)W * H * C);
        int X = flip ? W - 1 - x : x;
        int sy = wrap(y - dy, H), sx = wrap(X - dx, W);
        int pc = PC == 1 ? 0 : c;
        input[i] = params[((b * PC + pc) * ph + sy / f) * pw + sx / f];
    }
}

// Per parameter: the sum over the input pixels that show it (channels when
// PC == 1, and the f x f block of the upsampling).
__global__ static void k_view_backward(int B, int C, int H, int W, int PC, int f, int dy, int dx, int flip,
                                       const float *grad_input, float *grad_params)
{
    int ph = H / f, pw = W / f;
    long n = (long)B * PC * ph * pw;
    for (long i = blockIdx.x * (long)blockDim.x + threadIdx.x; i < n; i += (long)gridDim.x * blockDim.x) {
        int px = (int)(i % pw), py = (int)((i / pw) % ph), pc = (int)((i / ((long)pw * ph)) % PC);
        long b = i / ((long)pw * ph * PC);
        float g = 0;
        for (int c = PC == 1 ? 0 : pc; c < (PC == 1 ? C : pc + 1); ++c)
            for (int sy = py * f; sy < py * f + f; ++sy)
                for (int sx = px * f; sx < px * f + f; ++sx) {
                    int y = wrap(sy + dy, H), X = wrap(sx + dx, W);
                    int x = flip ? W - 1 - X : X;
                    g += grad_input[((b * C + c) * H + y) * W + x];
                }
        grad_params[i] = g;
    }
}

extern "C" void gpu_view_forward(int B, int C, int H, int W, int PC, int factor, int dy, int dx, int flip,
                                 const float *params, float *input)
{
    k_view_forward<<<blocks((long)B * C * H * W), THREADS>>>(B, C, H, W, PC, factor, dy, dx, flip, params, input);
    gpu_check_launch("view_forward");
}

extern "C" void gpu_view_backward(int B, int C, int H, int W, int PC, int factor, int dy, int dx, int flip,
                                  const float *grad_input, float *grad_params)
{
    long n = (long)B * PC * (H / factor) * (W / factor);
    k_view_backward<<<blocks(n), THREADS>>>(B, C, H, W, PC, factor, dy, dx, flip, grad_input, grad_params);
    gpu_check_launch("view_backward");
}

// ---- Adam, copies, checks --------------------------------------------------

__global__ static void k_adam_clip(long n, float *x, const float *g, float *m, float *v, float b1, float b2,
                                   float eps, float step, float rc2)
{
    for (long i = blockIdx.x * (long)blockDim.x + threadIdx.x; i < n; i += (long)gridDim.x * blockDim.x) {
        float gi = g[i];
        float mi = b1 * m[i] + (1 - b1) * gi;
        float vi = b2 * v[i] + (1 - b2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        float xi = x[i] - step * mi / (sqrtf(vi) * rc2 + eps);
        x[i] = xi < 0 ? 0 : xi > 1 ? 1 : xi;
    }
}

extern "C" void gpu_adam_clip(long n, float *x, const float *g, float *m, float *v, float beta1, float beta2,
                              float eps, float step, float rc2)
{
    k_adam_clip<<<blocks(n), THREADS>>>(n, x, g, m, v, beta1, beta2, eps, step, rc2);
    gpu_check_launch("adam");
}

__global__ static void k_scale_copy(long n, float a, const float *x, float *y)
{
    for (long i = blockIdx.x * (long)blockDim.x + threadIdx.x; i < n; i += (long)gridDim.x * blockDim.x) y[i] = a * x[i];
}

extern "C" void gpu_scale_copy(long n, float alpha, const float *x, float *y)
{
    k_scale_copy<<<blocks(n), THREADS>>>(n, alpha, x, y);
    gpu_check_launch("scale_copy");
}

__global__ static void k_nonfinite(long n, const float *x, int *flag)
{
    for (long i = blockIdx.x * (long)blockDim.x + threadIdx.x; i < n; i += (long)gridDim.x * blockDim.x)
        if (!isfinite(x[i])) *flag = 1;
}

extern "C" void gpu_any_nonfinite(long n, const float *x, int *flag)
{
    k_nonfinite<<<blocks(n), THREADS>>>(n, x, flag);
    gpu_check_launch("nonfinite");
}
