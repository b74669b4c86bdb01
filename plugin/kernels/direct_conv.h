// Direct convolution for the frozen network's thin layers: a same-size,
// stride-1 convolution with few input values per output (c*size*size <= 32,
// typically the first layer on RGB input). There im2col + GEMM spends more
// time copying columns and clearing and packing small matrices than
// multiplying (K = 27 for 3x3x3); correlating zero-padded planes directly keeps
// 16 accumulators in AVX-512 registers instead.
#ifndef INV_DIRECT_CONV_H
#define INV_DIRECT_CONV_H
#include <stddef.h>

#include "darknet.h"

// Whether l can run directly on this CPU (AVX-512); `allowed` 0 forces the
// GEMM path (INV_DIRECT_CONV=0, for tests and benchmarks).
int direct_conv_applies(const layer *l, int allowed);
// For tests: on (1), every layer of the direct shape runs directly, on any
// CPU, with the portable kernels (the same algorithm in plain C); off (0,
// the default), only CPUs with AVX-512 run it, with their own kernels. Set
// before the networks are frozen.
void direct_conv_force_portable(int on);
// Workspace floats the direct forward or backward of l needs.
size_t direct_conv_work(const layer *l);
// result[n][batch*out_h*out_w] (the GEMM's layout) = the convolution of the
// input [batch][c][h][w] with l's weights, no bias.
void forward_direct_conv(const layer *l, const float *input, float *result, float *work);
// delta [batch][c][h][w] = (assign) or += the adjoint applied to rows
// [n][batch*out_h*out_w].
void backward_direct_conv(const layer *l, const float *rows, float *delta, int assign, float *work);
#endif
