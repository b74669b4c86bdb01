// Winograd convolution F(2x2, 3x3) for the frozen network's 3x3 layers
// (Lavin and Gray, "Fast Algorithms for Convolutional Neural Networks", 2016):
// each 2x2 block of outputs of a same-size, stride-1 3x3 layer is computed
// from a 4x4 tile of its input with 16 multiplications per (filter, channel)
// pair instead of 36, as 16 GEMMs of [filters] x [channels] x [tiles].
// The multiplications are what the im2col GEMM spends its time on, so the
// 3x3 layers of ResNets and Darknet's classifiers run 1.2-1.6x as fast here
// (bench/SPEED.md); the input and output transforms are a few additions per
// value, but they stream the tiles through memory, so small planes (7x7:
// overhanging tiles, few of them per filter transform) are left to GEMM. The
// input gradient is the same algorithm: the correlation of the output's
// gradient with the filters turned by 180 degrees and transposed, whose
// transform is the forward one with rows and columns 0 and 3 swapped.
#ifndef INV_WINOGRAD_H
#define INV_WINOGRAD_H
#include <stddef.h>

#include "darknet.h"

// Whether l runs by Winograd: 3x3, stride 1, pad 1, one group, output the
// size of the input, at least 16 channels in and out and planes of at least
// 8x8 (smaller ones gain less than the transforms cost). `allowed` 0 forces
// the GEMM path (INV_WINOGRAD=0 in the environment).
int winograd_applies(const layer *l, int allowed);
// For tests: on (1), every layer of the Winograd shape takes it, whatever its
// channels and plane size; off (0, the default), the rule above. Set before
// the networks are frozen.
void winograd_force(int on);
// Workspace floats the forward or backward of l needs (transformed filters,
// input tiles and products).
size_t winograd_work(const layer *l);
// result[n][batch*out_h*out_w] (the GEMM's layout) = the convolution of the
// input [batch][c][h][w] with l's weights, no bias.
void forward_winograd_conv(const layer *l, const float *input, float *result, float *work);
// delta [batch][c][h][w] = (assign) or += the adjoint applied to rows
// [n][batch*out_h*out_w].
void backward_winograd_conv(const layer *l, const float *rows, float *delta, int assign, float *work);
#endif
