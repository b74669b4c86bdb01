// CUDA twins of the plugin's per-iteration CPU loops (see kernels.h).
#include <cuda_runtime.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "kernel_ops.h"
#include "kernels.h"

#define THREADS KOP_THREADS

extern "C" void inv_die(const char *fmt, ...);

extern "C" void gpu_check_launch(const char *what)
{
    cudaError_t e = cudaGetLastError();
    if (e != cudaSuccess) inv_die("CUDA error in %s: %s", what, cudaGetErrorString(e));
}

extern "C" void gpu_check_call(int status, const char *what)
{
    if (status != cudaSuccess) inv_die("CUDA error in %s: %s", what, cudaGetErrorString((cudaError_t)status));
}

static unsigned blocks(long n) { return kop_blocks(n); }

// Sum of a double over the block (THREADS threads); thread 0 gets the result.
// The tree is kop_tree_sum's (kernel_ops.h), so the host twin adds in this order.
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

// Block (g, c): chunk g of channel c's sums of d = x - rm and d^2.
__global__ static void k_bn_partials(const float *x, int C, int S, long M, const float *rm, double *part)
{
    int g = blockIdx.x, G = gridDim.x, c = blockIdx.y;
    long j0, j1;
    bn_chunk(M, G, g, &j0, &j1);
    double s1 = 0, s2 = 0;
    bn_thread_sums(x, C, S, c, rm[c], j0, j1, threadIdx.x, &s1, &s2);
    s1 = block_sum(s1);
    s2 = block_sum(s2);
    if (threadIdx.x == 0) {
        part[((size_t)c * G + g) * 2] = s1;
        part[((size_t)c * G + g) * 2 + 1] = s2;
    }
}

// One block: per channel statistics from the chunk sums, the two norms, the
// coefficients and the term (bn_stat.c layer_term).
__global__ static void k_bn_coeffs(const double *part, int G, int C, double M, const float *rm, const float *rv,
                                   double scale, float *mean, float *var, float *ga, float *gb, double *work,
                                   double *loss)
{
    double dm2 = 0, dv2 = 0;
    for (int c = threadIdx.x; c < C; c += THREADS) {
        double md, v;
        bn_channel_stats(part, G, c, M, &md, &v);
        work[c] = md;
        work[C + c] = v;
        mean[c] = (float)(rm[c] + md);
        var[c] = (float)v;
        double dv = v - rv[c];
        dm2 += md * md;
        dv2 += dv * dv;
    }
    double D = sqrt(block_sum(dm2)), E = sqrt(block_sum(dv2));
    double kd = bn_norm_coeff(D, M, scale), ke = 2 * bn_norm_coeff(E, M, scale);
    for (int c = threadIdx.x; c < C; c += THREADS) {   // the channels this thread wrote
        ga[c] = (float)(kd * work[c]);
        gb[c] = (float)(ke * (work[C + c] - rv[c]));
    }
    if (threadIdx.x == 0) loss[0] = scale * (D + E);
}

extern "C" size_t gpu_bn_scratch_size(int C, long M) { return (size_t)2 * C * bn_chunks(C, M) + (size_t)2 * C; }

extern "C" void gpu_bn_term(const float *x, int B, int C, int S, const float *rolling_mean, const float *rolling_var,
                            double scale, float *mean, float *var, float *ga, float *gb, double *loss, double *scratch)
{
    long M = (long)B * S;
    int G = bn_chunks(C, M);
    k_bn_partials<<<dim3(G, C), THREADS>>>(x, C, S, M, rolling_mean, scratch);
    k_bn_coeffs<<<1, THREADS>>>(scratch, G, C, (double)M, rolling_mean, rolling_var, scale, mean, var, ga, gb,
                                scratch + (size_t)2 * C * G, loss);
    gpu_check_launch("bn_term");
}

__global__ static void k_bn_backward(long n, float *d, const float *x, const float *scales, const float *rv,
                                     const float *ga, const float *gb, const float *mean, int C, int S)
{
    for (long i = blockIdx.x * (long)blockDim.x + threadIdx.x; i < n; i += (long)gridDim.x * blockDim.x) {
        int c = (int)((i / S) % C);
        d[i] = ga ? bn_backward_at(d[i], x[i], scales[c], rv[c], 1, ga[c], gb[c], mean[c])
                  : bn_backward_at(d[i], x[i], scales[c], rv[c], 0, 0, 0, 0);
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

// Deterministic sums (no atomics, fixed order), so that a run repeats exactly:
// each block writes its 9 partial sums (8 direction sums, the plane's sum of
// squares), then one block per result adds them up in a fixed order.
__global__ static void k_prior_partials(const float *x, int H, int W, double *part)
{
    int plane = blockIdx.y;   // b * C + c
    const float *p = x + (size_t)plane * H * W;
    double s[9] = {0, 0, 0, 0, 0, 0, 0, 0, 0};
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < H * W; i += gridDim.x * blockDim.x)
        prior_pixel_sums(p, H, W, i / W, i % W, s);
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
    int gx = prior_blocks_x(H, W);
    k_prior_partials<<<dim3(gx, B * C), THREADS>>>(x, H, W, part);
    k_prior_reduce<<<8 + B, THREADS>>>(part, B, C, gx, acc);
    gpu_check_launch("prior_sums");
}

extern "C" size_t gpu_prior_partials_size(int B, int C, int H, int W) { return (size_t)B * C * prior_blocks_x(H, W) * 9; }

struct prior_k { float k2[4], k1[4]; };

__global__ static void k_prior_grad(const float *x, int B, int C, int H, int W, prior_k k, const float *kl2,
                                    float *grad)
{
    long n = (long)B * C * H * W;
    for (long i = blockIdx.x * (long)blockDim.x + threadIdx.x; i < n; i += (long)gridDim.x * blockDim.x) {
        int xx = (int)(i % W), y = (int)((i / W) % H);
        long plane = i / ((long)H * W);
        grad[i] += prior_grad_at(x + plane * H * W, H, W, y, xx, k.k2, k.k1, kl2 ? kl2[plane / C] : 0);
    }
}

extern "C" void gpu_prior_grad(const float *x, int B, int C, int H, int W, const float *k2, const float *k1,
                               const float *kl2, float *grad)
{
    prior_k k;
    for (int d = 0; d < 4; ++d) k.k2[d] = k2[d], k.k1[d] = k1[d];
    long n = (long)B * C * H * W;
    k_prior_grad<<<blocks(n), THREADS>>>(x, B, C, H, W, k, kl2, grad);
    gpu_check_launch("prior_grad");
}

// ---- the view (augment.c) -------------------------------------------------

__global__ static void k_view_forward(int B, int C, int H, int W, int PC, int f, int dy, int dx, int flip,
                                      const float *params, float *input)
{
    long n = (long)B * C * H * W;
    for (long i = blockIdx.x * (long)blockDim.x + threadIdx.x; i < n; i += (long)gridDim.x * blockDim.x)
        input[i] = params[view_source(i, C, H, W, PC, f, dy, dx, flip)];
}

__global__ static void k_view_backward(int B, int C, int H, int W, int PC, int f, int dy, int dx, int flip,
                                       const float *grad_input, float *grad_params)
{
    long n = (long)B * PC * (H / f) * (W / f);
    for (long i = blockIdx.x * (long)blockDim.x + threadIdx.x; i < n; i += (long)gridDim.x * blockDim.x)
        grad_params[i] = view_backward_at(i, C, H, W, PC, f, dy, dx, flip, grad_input);
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
    for (long i = blockIdx.x * (long)blockDim.x + threadIdx.x; i < n; i += (long)gridDim.x * blockDim.x)
        adam_clip_at(i, x, g, m, v, b1, b2, eps, step, rc2);
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
