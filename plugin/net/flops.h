// Cost of a network per image, counted from its layer shapes.
#ifndef INV_FLOPS_H
#define INV_FLOPS_H
#include "darknet.h"

// Forward FLOPs per image (a multiply-add counts 2) of the convolutional and
// connected layers; pooling, BN and activations are ignored (a few percent).
double network_flops(const network *net);
// Learned floats (weights, biases, BN scales) and stored BN statistics.
size_t network_params(const network *net);
// One line: "<cfg>: 15.9 MFLOP/image forward, 0.10 M parameters, 9 layers".
void print_network_cost(FILE *f, const network *net, const char *cfg);
#endif
