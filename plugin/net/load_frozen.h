// A frozen network that owns its Darknet network: loaded, checked and frozen
// in one call, freed with it in one call.
#ifndef INV_LOAD_FROZEN_H
#define INV_LOAD_FROZEN_H
#include "frozen.h"

// load_checked_network(cfg, weights, batch, LAYERS_FROZEN) made frozen
// (weights NULL: Darknet's random initialisation, drawn with rand()).
frozen_net *load_frozen(const char *cfg, const char *weights, int batch);
// Frees f and the network it was loaded with (NULL: nothing).
void free_loaded_frozen(frozen_net *f);
#endif
