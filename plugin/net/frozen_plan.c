// Where a frozen layer function finds what the network planned for it
// (frozen_layers.h's frozen_layer_plan): a registry of the frozen networks,
// filled by make_frozen_net. It reads the frozen_net and calls nothing of the
// network, so the layers depend on this file and the network on the layers,
// never back.
#include <omp.h>

#include "frozen_layers.h"
#include "frozen_ops.h"
#include "util.h"

// Darknet calls a layer's functions with copies of the layer and network, so
// the frozen state is found through the layer array they point to: the
// network's own, or one of its slices'.
#define MAX_FROZEN 16
static frozen_net *registry[MAX_FROZEN];

// Which slice a layer function was called on (-1: the whole network).
static int slice_index(const frozen_net *f, const network *net)
{
    if (net->layers < f->slice_layers || net->layers >= f->slice_layers + (size_t)f->nslices * f->net->n) return -1;
    return (int)((net->layers - f->slice_layers) / f->net->n);
}

void register_frozen(frozen_net *f)
{
    int slot;
    for (slot = 0; slot < MAX_FROZEN && registry[slot]; ++slot) {}
    if (slot == MAX_FROZEN) inv_die("internal: more than %d frozen networks", MAX_FROZEN);
    registry[slot] = f;
}

void unregister_frozen(frozen_net *f)
{
    for (int i = 0; i < MAX_FROZEN; ++i)
        if (registry[i] == f) registry[i] = NULL;
}

frozen_plan frozen_layer_plan(const network *net)
{
    frozen_net *f = NULL;
    int k = -1;
    for (int i = 0; i < MAX_FROZEN && !f; ++i) {
        frozen_net *r = registry[i];
        if (!r) continue;
        k = slice_index(r, net);
        if (net->layers == r->net->layers || k >= 0) f = r;
    }
    if (!f) inv_die("internal: frozen layer function called on a network that is not frozen");
    int i = net->index, t = omp_get_thread_num();
    bn_stat_layer *s = &f->bn[i];
    frozen_plan p = {s, NULL, f->assign[i], f->conv_path[i], f->fused_pool[i], i + 1 < f->net->n && f->fused_pool[i + 1],
                     f->chunk, f->cols[t], f->rows[t], f->gpu_state};
    // Slice k's sums of the layer's BN input.
    if (k >= 0 && s->part) p.bn_sums = s->part + (size_t)k * 2 * s->channels;
    return p;
}
