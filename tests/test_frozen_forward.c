// The frozen network's own forward (batched convolution, max-pool) must
// compute what Darknet's forward computes, layer by layer, including Darknet's
// reading of 1x1 strided convolutions and its max-pool window offset.
#include <math.h>

#include "check.h"
#include "frozen.h"
#include "rng.h"
#include "testlib.h"

static const char *nets[] = {
    "[net]\nwidth=9\nheight=9\nchannels=3\n"
    "[convolutional]\nbatch_normalize=1\nfilters=6\nsize=3\nstride=1\npad=1\nactivation=leaky\n"
    "[maxpool]\nsize=2\nstride=2\n"
    "[convolutional]\nbatch_normalize=1\nfilters=8\nsize=3\nstride=2\npad=1\ngroups=2\nactivation=relu\n"
    "[convolutional]\nfilters=5\nsize=1\nstride=1\nactivation=logistic\n"
    "[maxpool]\nsize=3\nstride=1\n"
    "[connected]\noutput=4\nactivation=linear\n[softmax]\n",
    "[net]\nwidth=8\nheight=8\nchannels=2\n"
    "[convolutional]\nbatch_normalize=1\nfilters=4\nsize=1\nstride=2\nactivation=tanh\n"
    "[convolutional]\nfilters=6\nsize=2\nstride=1\npad=0\nactivation=elu\n"
    "[avgpool]\n[softmax]\n",
};

int main(void)
{
    rng r = make_rng(17);
    for (size_t k = 0; k < sizeof nets / sizeof *nets; ++k) {
        char *cfg = write_temp(nets[k], ".cfg");
        network *net = load_checked_network(cfg, NULL, 3, LAYERS_FROZEN);
        for (int i = 0; i < net->n; ++i) {
            layer *l = &net->layers[i];
            if (!l->batch_normalize) continue;
            for (int c = 0; c < l->out_c; ++c) {
                l->rolling_mean[c] = (float)(0.3 * rng_normal(&r));
                l->rolling_variance[c] = (float)(0.2 + rng_uniform(&r));
                l->scales[c] = (float)(0.5 + rng_uniform(&r));
            }
        }
        size_t n = (size_t)net->batch * net->inputs;
        float *x = calloc(n, sizeof(float));
        for (size_t i = 0; i < n; ++i) x[i] = (float)rng_uniform(&r);
        // Darknet's own forward, every layer's output kept.
        float **ref = calloc(net->n, sizeof(float *));
        memcpy(net->input, x, n * sizeof(float));
        net->train = 0;
        forward_network(net);
        for (int i = 0; i < net->n; ++i) {
            size_t m = (size_t)net->layers[i].outputs * net->batch;
            ref[i] = malloc(m * sizeof(float));
            memcpy(ref[i], net->layers[i].output, m * sizeof(float));
        }
        frozen_net *f = make_frozen_net(net, cfg);
        frozen_forward(f, x);
        for (int i = 0; i < net->n; ++i) {
            size_t m = (size_t)net->layers[i].outputs * net->batch;
            double worst = 0;
            for (size_t j = 0; j < m; ++j)
                worst = fmax(worst, fabs((double)net->layers[i].output[j] - ref[i][j]) / (1e-3 + fabs(ref[i][j])));
            CHECK(worst < 1e-5, "net %zu layer %d: frozen forward differs from Darknet's by %g (relative)", k, i, worst);
            free(ref[i]);
        }
        free(ref);
        free(x);
        free_frozen_net(f);
        free_network(net);
        unlink(cfg);
        free(cfg);
    }
    return test_summary();
}
