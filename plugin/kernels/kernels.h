// The plugin's CUDA kernels (kernels.cu), behind plain C launchers. Every
// pointer is device memory unless it says host. Each launcher is the device
// twin of a CPU function, named in its comment, and computes the same thing
// (in float, with double accumulators where the CPU code uses double).
#ifndef INV_KERNELS_H
#define INV_KERNELS_H
#include <stddef.h>
#ifdef __cplusplus
extern "C" {
#endif

// Dies with the CUDA error string if the last launch or call failed.
void gpu_check_launch(const char *what);
// Dies with the CUDA error string if status (a cudaError_t) is not success.
void gpu_check_call(int status, const char *what);

// bn_stat.c layer_term: with d = x - rolling_mean over channel c's M = B*S
// values of x [B][C][S], mean[c] = rolling_mean + E[d], var[c] = E[d^2] -
// E[d]^2 (biased); D = ||mean - rm||, E = ||var - rv||; ga[c] = scale (mean_c -
// rm_c) / (D M), gb[c] = 2 scale (var_c - rv_c) / (E M); loss[0] = scale (D +
// E) (a double). scratch: device, gpu_bn_scratch_size(C, M) doubles. C x G
// blocks share the sums, deterministically (kernel_ops.h bn_chunks).
void gpu_bn_term(const float *x, int B, int C, int S, const float *rolling_mean, const float *rolling_var,
                 double scale, float *mean, float *var, float *ga, float *gb, double *loss, double *scratch);
size_t gpu_bn_scratch_size(int C, long M);
// frozen_layers.c backward_frozen_bn: delta [B][C][S] (dLoss/d BN output, Darknet's
// negative sign) -> w.r.t. the BN input x: delta * scales / (sqrt(rolling_var) + 1e-6)
// - (ga + gb (x - mean)); ga == NULL: no R_feature term.
void gpu_bn_backward(float *delta, const float *x, const float *scales, const float *rolling_var,
                     const float *ga, const float *gb, const float *mean, int B, int C, int S);

// prior.c prior_loss in two passes. Pass 1 writes acc (device, 8 + B
// doubles): per direction d sum e^2 at acc[2d], sum |e| at acc[2d+1]; per
// image sum x^2 at acc[8+b]; in a fixed order (deterministic), through `part`,
// device scratch of gpu_prior_partials_size() doubles.
void gpu_prior_sums(const float *x, int B, int C, int H, int W, double *acc, double *part);
size_t gpu_prior_partials_size(int B, int C, int H, int W);
// Pass 2: grad += per direction k2[d] e + k1[d] sign(e) at p and minus it at q
// (k2, k1: host arrays of 4), and kl2[b] x (kl2: device, B floats, or NULL).
void gpu_prior_grad(const float *x, int B, int C, int H, int W, const float *k2, const float *k1,
                    const float *kl2, float *grad);

// augment.c view_forward / view_backward (same view fields, passed flat).
void gpu_view_forward(int B, int C, int H, int W, int PC, int factor, int dy, int dx, int flip,
                      const float *params, float *input);
void gpu_view_backward(int B, int C, int H, int W, int PC, int factor, int dy, int dx, int flip,
                       const float *grad_input, float *grad_params);

// adam.c adam_step followed by synth.c's clip to [0, 1].
void gpu_adam_clip(long n, float *x, const float *g, float *m, float *v, float beta1, float beta2,
                   float eps, float step, float rc2);

// y = alpha * x.
void gpu_scale_copy(long n, float alpha, const float *x, float *y);
// Sets *flag (device int) to 1 if any x[i] is not finite (never clears it).
void gpu_any_nonfinite(long n, const float *x, int *flag);
#ifdef __cplusplus
}
#endif
#endif
