#include <stdio.h>

#include "flops.h"

double network_flops(const network *net)
{
    double flops = 0;
    for (int i = 0; i < net->n; ++i) {
        const layer *l = &net->layers[i];
        if (l->type == CONVOLUTIONAL)
            flops += 2.0 * l->n * (l->c / l->groups) * l->size * l->size * l->out_h * l->out_w;
        else if (l->type == CONNECTED)
            flops += 2.0 * l->inputs * l->outputs;
    }
    return flops;
}

size_t network_params(const network *net)
{
    size_t n = 0;
    for (int i = 0; i < net->n; ++i) {
        const layer *l = &net->layers[i];
        int bn = l->batch_normalize ? 4 : 1;
        if (l->type == CONVOLUTIONAL) n += (size_t)l->nweights + (size_t)l->n * bn;
        else if (l->type == CONNECTED) n += (size_t)l->inputs * l->outputs + (size_t)l->outputs * bn;
    }
    return n;
}

void print_network_cost(FILE *f, const network *net, const char *cfg)
{
    fprintf(f, "%s: %.2f MFLOP/image forward, %.3f M parameters, %d layers, input %dx%dx%d\n",
            cfg, network_flops(net) / 1e6, network_params(net) / 1e6, net->n, net->w, net->h, net->c);
}
