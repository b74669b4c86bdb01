// First-order Taylor importance of BN channels, the gate criterion of
// Molchanov et al. (CVPR 2019): a gate g multiplying channel c's BN output
// y = gamma_c x^ + beta_c (before the activation) has, at g = 1,
//   dL/dg = gamma_c * sum x^ dL/dy + beta_c * sum dL/dy   (sums over batch and pixels),
// and the channel's importance is (dL/dg)^2, summed over batches. Darknet's
// own backward already forms both sums: a BN layer adds sum x^ delta to
// scale_updates and sum delta to bias_updates (delta = -dL/dy), so the
// network is run through Darknet's forward and backward in training mode
// (batch statistics; on synthesized images they match the running ones).
#ifndef INV_TAYLOR_H
#define INV_TAYLOR_H
#include "darknet.h"
#include "prune_mask.h"

// Writes Darknet's delta (-dLoss_b/dz) for the logits z (batch x outputs) of
// the output softmax and returns the batch's loss.
typedef double (*taylor_delta_fn)(void *ctx, const float *logits, int batch, int outputs, float *delta);

// One batch already in net->input: forward in training mode, fn's delta,
// backward. Adds to imp[g] (when not NULL) the square of the gate gradient of
// each group (its members share one gate: the sum of their dL/dg), and writes
// that gradient to grad[g] (when not NULL). Parameters, BN running statistics
// and *net->seen are left as they were; every update (momentum) buffer is zero
// afterwards. Returns fn's loss.
double taylor_batch(network *net, const prune_plan *p, taylor_delta_fn fn, void *ctx, double *imp, double *grad);

// Zeroes the weight, bias and scale update buffers of every layer (Darknet
// keeps SGD momentum there).
void zero_network_updates(network *net);
#endif
