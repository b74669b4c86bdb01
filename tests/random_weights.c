// Weights for a cfg from Darknet's own random initialisation: a stand-in
// teacher for tests that need a network but not a trained one.
//   random_weights <cfg> <out.weights> [-seed S] [-bn-stats]
// Every BN layer's rolling variance is set to 1 (Darknet leaves it 0). With
// -bn-stats the running statistics look trained instead (bn_calibrate.h), so
// that R_feature is not trivially matched; the cfg's batch must then be >= 2.
// -seed S (default 0) seeds Darknet's rand(), which draws every parameter:
// the same cfg and seed give the same file. Linked with the plugin's gemm
// (make build/helpers/random_weights) the calibration forward is fast; it
// also builds on its own against libdarknet.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "darknet.h"
#include "bn_calibrate.h"

int main(int argc, char **argv)
{
    unsigned seed = 0;
    int bn_stats = 0;
    if (argc < 3) goto usage;
    for (int i = 3; i < argc; ++i) {
        if (!strcmp(argv[i], "-bn-stats")) bn_stats = 1;
        else if (!strcmp(argv[i], "-seed") && i + 1 < argc) seed = (unsigned)strtoul(argv[++i], NULL, 10);
        else goto usage;
    }
    srand(seed);
    network *net = parse_network_cfg(argv[1]);
    if (bn_stats) {
        if (net->batch < 2) { fprintf(stderr, "%s: -bn-stats needs batch >= 2 in %s\n", argv[0], argv[1]); return 2; }
        calibrate_bn(net);
    } else {
        for (int i = 0; i < net->n; ++i) {
            layer *l = &net->layers[i];
            if (!l->batch_normalize || !l->rolling_variance) continue;
            for (int k = 0; k < l->out_c; ++k) l->rolling_variance[k] = 1;
        }
    }
    save_weights(net, argv[2]);
    free_network(net);
    return 0;
usage:
    fprintf(stderr, "usage: %s <cfg> <out.weights> [-seed S] [-bn-stats]\n", argv[0]);
    return 2;
}
