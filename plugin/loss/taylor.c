#include "taylor.h"

#include <stdlib.h>
#include <string.h>

#include "load_network.h"
#include "util.h"

void zero_network_updates(network *net)
{
    for (int i = 0; i < net->n; ++i) {
        layer *l = &net->layers[i];
        size_t nw, nb;
        if (l->type == CONVOLUTIONAL) nw = (size_t)l->nweights, nb = (size_t)l->n;
        else if (l->type == CONNECTED) nw = (size_t)l->inputs * l->outputs, nb = (size_t)l->outputs;
        else continue;
        if (l->weight_updates) memset(l->weight_updates, 0, sizeof(float) * nw);
        if (l->bias_updates) memset(l->bias_updates, 0, sizeof(float) * nb);
        if (l->batch_normalize && l->scale_updates) memset(l->scale_updates, 0, sizeof(float) * nb);
    }
}

// BN running statistics: a training-mode forward moves them.
static float *save_rolling(const network *net)
{
    size_t n = 0;
    for (int i = 0; i < net->n; ++i)
        if (net->layers[i].batch_normalize && net->layers[i].rolling_mean) n += 2 * (size_t)net->layers[i].out_c;
    float *s = xcalloc(n + 1, sizeof(float)), *at = s;
    for (int i = 0; i < net->n; ++i) {
        const layer *l = &net->layers[i];
        if (!l->batch_normalize || !l->rolling_mean) continue;
        memcpy(at, l->rolling_mean, sizeof(float) * l->out_c), at += l->out_c;
        memcpy(at, l->rolling_variance, sizeof(float) * l->out_c), at += l->out_c;
    }
    return s;
}

static void restore_rolling(network *net, const float *s)
{
    for (int i = 0; i < net->n; ++i) {
        layer *l = &net->layers[i];
        if (!l->batch_normalize || !l->rolling_mean) continue;
        memcpy(l->rolling_mean, s, sizeof(float) * l->out_c), s += l->out_c;
        memcpy(l->rolling_variance, s, sizeof(float) * l->out_c), s += l->out_c;
    }
}

double taylor_batch(network *net, const prune_plan *p, taylor_delta_fn fn, void *ctx, double *imp, double *grad)
{
    int B = net->batch, out = output_layer_index(net), train = net->train;
    float *rolling = save_rolling(net);
    zero_network_updates(net);
    net->train = 1;
    forward_network(net);
    layer *o = &net->layers[out];
    double loss = fn(ctx, net->layers[out - 1].output, B, o->outputs, o->delta);
    for (int i = out + 1; i < net->n; ++i)   // a [cost] after the softmax adds nothing
        if (net->layers[i].delta) memset(net->layers[i].delta, 0, sizeof(float) * net->layers[i].outputs * B);
    backward_network(net);
    for (int g = 0; g < p->ngroups; ++g) {
        double dg = 0;
        for (int m = p->first[g]; m < p->first[g] + p->count[g]; ++m) {
            const layer *l = &net->layers[p->member_layer[m]];
            int c = p->member_channel[m];
            dg -= (double)l->scales[c] * l->scale_updates[c] + (double)l->biases[c] * l->bias_updates[c];
        }
        if (imp) imp[g] += dg * dg;
        if (grad) grad[g] = dg;
    }
    zero_network_updates(net);
    restore_rolling(net, rolling);
    net->train = train;
    free(rolling);
    return loss;
}
