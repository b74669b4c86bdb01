#include "load_frozen.h"

#include "load_network.h"

frozen_net *load_frozen(const char *cfg, const char *weights, int batch)
{
    return make_frozen_net(load_checked_network(cfg, weights, batch, LAYERS_FROZEN), cfg);
}

void free_loaded_frozen(frozen_net *f)
{
    if (!f) return;
    network *net = f->net;
    free_frozen_net(f);
    free_network(net);
}
