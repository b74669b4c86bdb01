#include <stdlib.h>
#include <string.h>

#include "conv1x1_fix.h"
#include "util.h"

// Exported by libdarknet.so, not declared in darknet.h.
void backward_convolutional_layer(layer l, network net);

static float *saved_delta;   // the input delta as it was before the stock backward

static void backward_conv1x1_accumulating(layer l, network net)
{
    size_t n = (size_t)l.batch * l.inputs;
    if (net.delta) memcpy(saved_delta, net.delta, n * sizeof(float));
    backward_convolutional_layer(l, net);
    if (net.delta)
        for (size_t i = 0; i < n; ++i) net.delta[i] += saved_delta[i];
}

int fix_conv1x1_backward(network *net)
{
    size_t most = 0;
    int fixed = 0;
    for (int i = 0; i < net->n; ++i) {
        layer *l = &net->layers[i];
        if (l->type != CONVOLUTIONAL || l->size != 1) continue;
        l->backward = backward_conv1x1_accumulating;
        if ((size_t)l->batch * l->inputs > most) most = (size_t)l->batch * l->inputs;
        ++fixed;
    }
    if (most) {
        static size_t have;
        if (most > have) {
            free(saved_delta);
            saved_delta = xcalloc(most, sizeof(float));
            have = most;
        }
    }
    return fixed;
}
