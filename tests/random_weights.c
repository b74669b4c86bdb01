// Weights for a cfg from Darknet's own random initialisation, with every BN
// layer's rolling variance set to 1 (Darknet leaves it 0): a stand-in teacher
// for tests that need a network but not a trained one.
//   random_weights <cfg> <out.weights>
#include <stdio.h>

#include "darknet.h"

int main(int argc, char **argv)
{
    if (argc != 3) { fprintf(stderr, "usage: %s <cfg> <out.weights>\n", argv[0]); return 2; }
    network *net = parse_network_cfg(argv[1]);
    for (int i = 0; i < net->n; ++i) {
        layer *l = &net->layers[i];
        if (!l->batch_normalize || !l->rolling_variance) continue;
        int n = l->type == CONVOLUTIONAL ? l->n : l->outputs;
        for (int k = 0; k < n; ++k) l->rolling_variance[k] = 1;
    }
    save_weights(net, argv[2]);
    free_network(net);
    return 0;
}
