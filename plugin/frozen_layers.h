// Inside the frozen network: the per-layer forward and backward functions
// installed by make_frozen_net, and how they find their frozen_net (Darknet
// passes them copies of the layer and network).
#ifndef INV_FROZEN_LAYERS_H
#define INV_FROZEN_LAYERS_H
#include "frozen.h"

// Workspace sizes (floats) the batched convolution needs for layer l.
size_t frozen_conv_cols(const layer *l);
size_t frozen_conv_rows(const layer *l);

void forward_frozen_convolutional(layer l, network net);
void backward_frozen_convolutional(layer l, network net);
void forward_frozen_maxpool(layer l, network net);
// delta (grad w.r.t. the BN output, in place) -> grad w.r.t. the BN input.
void backward_frozen_bn(const layer *l, const bn_stat_layer *s);
#endif
