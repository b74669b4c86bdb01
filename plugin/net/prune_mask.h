// Which output channels of a network can be pruned, and masking them.
//
// A prunable channel is an output channel of a [convolutional] layer with
// batch_normalize=1, groups=1 and an activation f with f(0) = 0 (linear,
// leaky, relu, ...): setting its BN scale and bias to 0 makes its output
// exactly 0 after the activation, so consumers see no contribution from it
// and removing it (prune_compact.h) changes nothing. Channels that meet in a
// [shortcut] (the sum of two layers' channel k) form one group and are pruned
// together. Never pruned: the classifier (the last [convolutional] or
// [connected] layer), channels that reach a [softmax], [cost], [crop] (which
// maps 0 to -1), a grouped convolution, a [shortcut] of unequal shapes or one
// whose activation has f(0) != 0, and every channel of a layer that is not
// prunable itself.
#ifndef INV_PRUNE_MASK_H
#define INV_PRUNE_MASK_H
#include "darknet.h"

typedef struct {
    int n;                      // layers
    int *out_c;                 // output channels of each layer
    int **group;                // [layer][out_c]: the group of each output channel, -1: never pruned
    int ngroups;
    int *first, *count;         // group g's members are member_layer/channel[first[g] .. first[g]+count[g]-1]
    int *member_layer, *member_channel;
    int *owner;                 // per group: the first member's layer (for per-layer counts)
    char *masked;               // per group
    char *owns;                 // per layer: 1 when it is a BN convolution some of whose channels are in groups
} prune_plan;

// Dies naming the layer if the network holds a layer type pruning does not
// know ([convolutional], [connected], [maxpool], [avgpool], [dropout],
// [shortcut], [route], [crop], [softmax], [cost] are known). `cfg` names it.
prune_plan make_prune_plan(const network *net, const char *cfg);
void free_prune_plan(prune_plan *p);

// 1 when output channel k of layer i survives the masks.
static inline int prune_kept(const prune_plan *p, int i, int k)
{
    int g = p->group[i][k];
    return g < 0 || !p->masked[g];
}
// Surviving output channels of layer i.
int prune_kept_channels(const prune_plan *p, int i);
// Forward FLOPs per image of the network once compacted (as network_flops counts them).
double prune_flops(const prune_plan *p, const network *net);
// Surviving channels over all layers that own prunable channels (and their total).
int prune_kept_filters(const prune_plan *p, int *total);
// 1 when layer i owns at least one group (its channels can be pruned).
int prune_layer_prunable(const prune_plan *p, int i);
// Masking group g would leave a layer with no output channel.
int prune_would_empty(const prune_plan *p, int g);

// Zeroes the BN scale and bias of every masked channel, and their momentum.
void apply_prune_mask(network *net, const prune_plan *p);
#endif
