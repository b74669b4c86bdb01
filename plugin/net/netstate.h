// Network state beyond what Darknet's own functions handle: atomic, checked
// weights files; SGD momentum buffers (Darknet keeps them in the *_updates
// arrays and never saves them); parameters copied between two instances of
// one cfg built with different batch sizes.
#ifndef INV_NETSTATE_H
#define INV_NETSTATE_H
#include "darknet.h"

// save_weights to a temporary name, size checked (full disk), fsync, rename.
void save_weights_atomic(network *net, const char *path);
// Momentum buffers of every convolutional/connected layer, raw floats.
void save_momentum(const network *net, const char *path);
void load_momentum(network *net, const char *path);   // dies on a size mismatch
// Weights, biases, BN scales and running statistics from src to dst.
void copy_network_params(network *dst, const network *src);
// The same for every layer but `skip`.
void copy_network_params_except(network *dst, const network *src, int skip);
#endif
