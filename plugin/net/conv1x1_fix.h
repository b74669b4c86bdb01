// Darknet's convolution backward computes a 1x1 layer's input gradient with
// gemm beta=0, straight into the previous layer's delta: it overwrites what a
// [shortcut] or [route] that also reads that layer has already put there.
#ifndef INV_CONV1X1_FIX_H
#define INV_CONV1X1_FIX_H
#include "darknet.h"

// Gives every 1x1 convolution a backward that adds to the input delta.
// Returns how many layers were changed. Not thread-safe (one scratch buffer).
int fix_conv1x1_backward(network *net);
#endif
