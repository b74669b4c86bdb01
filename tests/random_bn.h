// Trained-looking BN statistics for small random networks (test_nets.h,
// test_layer_gradients.c).
#ifndef INV_RANDOM_BN_H
#define INV_RANDOM_BN_H
#include "darknet.h"
#include "rng.h"

// Trained-looking BN statistics and parameters, so every term is non-trivial.
static void randomize_bn(network *net, rng *r)
{
    for (int i = 0; i < net->n; ++i) {
        layer *l = &net->layers[i];
        if (!l->batch_normalize) continue;
        int c = l->out_c;
        for (int k = 0; k < c; ++k) {
            l->rolling_mean[k] = (float)(0.3 * rng_normal(r));
            l->rolling_variance[k] = (float)(0.2 + rng_uniform(r));
            l->scales[k] = (float)(0.5 + rng_uniform(r));
            l->biases[k] = (float)(0.2 * rng_normal(r));
        }
        // A nearly dead channel, as trained networks have: here the forward's
        // sqrt(var) + 1e-6 and the textbook sqrt(var + 1e-5) differ by 5%.
        l->rolling_variance[0] = 1e-4f;
        l->scales[0] = 0.01f;
    }
}

#endif
