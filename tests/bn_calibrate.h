// Trained-looking BN running statistics for a randomly initialised network
// (Darknet API and rand() only, so that tests/random_weights.c also builds on
// its own). Fixed statistics such as variance 1 let activations grow or
// vanish through deep and residual networks (ResNet-152 reaches inf); taken
// from the network's own batch statistics instead, every layer sees roughly
// normalised inputs, and the perturbation keeps R_feature non-trivial.
#ifndef INV_BN_CALIBRATE_H
#define INV_BN_CALIBRATE_H
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "darknet.h"

static float calib_uniform(void) { return (rand() + 0.5f) / ((float)RAND_MAX + 1); }
static float calib_normal(void)
{
    float u = calib_uniform(), v = calib_uniform();   // Box-Muller
    return sqrtf(-2 * logf(u)) * cosf(6.2831853f * v);
}

// One training-mode forward of uniform random pixels (net->batch >= 2: a
// connected layer's batch variance needs two samples); then every BN layer's
// rolling_mean = batch mean + N(0, 0.2) * batch sd and rolling_variance =
// batch variance * U(0.5, 2), per channel. Draws from rand().
static void calibrate_bn(network *net)
{
    size_t n = (size_t)net->batch * net->inputs;
    for (size_t i = 0; i < n; ++i) net->input[i] = calib_uniform();
    int train = net->train;
    float *truth = net->truth;
    net->train = 1;
    net->truth = NULL;
    net->delta = NULL;
    forward_network(net);
    net->train = train;
    net->truth = truth;
    for (int i = 0; i < net->n; ++i) {
        layer *l = &net->layers[i];
        if (!l->batch_normalize || !l->rolling_variance || !l->variance) continue;
        // A channel whose batch variance is far below its layer's (two
        // samples at a 1x1 map can nearly agree) would amplify its input
        // without bound: floored at a tenth of the layer's mean.
        double mean_var = 0;
        for (int k = 0; k < l->out_c; ++k) mean_var += l->variance[k] / l->out_c;
        float floor_var = (float)fmax(0.1 * mean_var, 1e-6);
        for (int k = 0; k < l->out_c; ++k) {
            float var = l->variance[k] > floor_var ? l->variance[k] : floor_var;
            l->rolling_mean[k] = l->mean[k] + 0.2f * calib_normal() * sqrtf(var);
            l->rolling_variance[k] = var * (0.5f + 1.5f * calib_uniform());
        }
    }
}
#endif
