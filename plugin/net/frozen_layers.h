// The frozen network's layers: the forward and backward functions that
// make_frozen_net installs (frozen_conv.c, frozen_maxpool.c, frozen_crop.c,
// frozen_layers.c; frozen_gpu.c's on a GPU), and all that they ask of the
// network: frozen_layer_plan. Layer files include this header and not
// frozen.h; the network (frozen.c, frozen_run.c) includes both.
#ifndef INV_FROZEN_LAYERS_H
#define INV_FROZEN_LAYERS_H
#include <stddef.h>

#include "darknet.h"

// R_feature bookkeeping of one BN layer (channels == 0: the layer has no BN).
typedef struct {
    int channels, spatial;
    float *mean, *var;      // batch mean and biased variance of the BN input l.x
    float *ga, *gb;         // dR/dx = ga[c] + gb[c] * (x - mean[c]); zero when unused
    float *dev;             // on a GPU network: device [mean | var | ga | gb], channels each
    // A convolution's forward sums, per slice, x - running_mean and its square
    // over the slice: [nslices][2][channels] (NULL: bn_stat.c reads l.x).
    double *part;
    double *work;           // 2 * channels (bn_stat.c)
} bn_stat_layer;

// How a frozen convolution runs: im2col + GEMM, directly (direct_conv.h), or
// by Winograd's F(2x2, 3x3) (winograd.h).
enum conv_path { CONV_GEMM, CONV_DIRECT, CONV_WINOGRAD };

// What the frozen network has planned for layer net->index, as seen from the
// calling thread and slice (frozen_plan.c).
typedef struct {
    bn_stat_layer *bn;      // the layer's R_feature coefficients (bn->channels 0: none)
    double *bn_sums;        // a convolution's BN sums for the calling slice (bn_stat_layer.part), or NULL
    // The backward overwrites all of its input's delta instead of adding to
    // it: it is that delta's only writer and covers it (frozen_net.assign).
    int assign;
    int conv_path;          // how the convolution runs (conv_path)
    int fused_pool;         // a max-pool whose backward the convolution below does
    int pool_above;         // a convolution that does the backward of the max-pool above it
    int chunk;              // images the workspaces hold
    float *cols, *rows;     // the calling thread's convolution workspaces
    void *device;           // the device backend's own state (frozen_gpu.c), or NULL
} frozen_plan;

// Darknet calls a layer's functions with copies of the layer and network:
// the plan is found through the layer array net->layers points to (the
// network's own, or one of its slices'). Dies on a network that is not frozen.
frozen_plan frozen_layer_plan(const network *net);

// Layer l restricted to images [b0, b0 + nb) of its batch (per-image buffers offset).
layer layer_images(const layer *l, int b0, int nb);

// Workspace sizes (floats) the batched convolution needs for layer l.
size_t frozen_conv_cols(const layer *l);
// How layer l (at its batch) runs; INV_DIRECT_CONV=0 and INV_WINOGRAD=0 in
// the environment turn those paths off. The columns workspace it needs.
enum conv_path conv_path_of(const layer *l);
size_t conv_work(const layer *l, enum conv_path path);
size_t frozen_conv_rows(const layer *l);

void forward_frozen_convolutional(layer l, network net);
void backward_frozen_convolutional(layer l, network net);
void forward_frozen_maxpool(layer l, network net);
void backward_frozen_maxpool(layer l, network net);
void forward_frozen_crop(layer l, network net);
void backward_frozen_crop(layer l, network net);
// frozen_layers.c: the backward of the layers Darknet's forward serves.
void backward_frozen_connected(layer l, network net);
void backward_frozen_avgpool(layer l, network net);
void backward_frozen_shortcut(layer l, network net);
void backward_frozen_route(layer l, network net);
void backward_frozen_softmax(layer l, network net);
void backward_frozen_identity(layer l, network net);
// Whether the layer's backward can overwrite all of its input's delta
// (frozen_plan.assign): a convolution whose output has its input's size, a
// max-pool whose windows tile the input, a crop as large as its input.
int conv_covers_input(const layer *l);
int maxpool_covers_input(const layer *l);
int crop_covers_input(const layer *l);
// What a max-pool's backward passes to plane (b, c) of its input, into
// d[h*w]: each window's delta at its maximum, 0 elsewhere. first_index: the
// index (as pool->indexes count) of the pool's first input value.
void maxpool_plane_delta(const layer *pool, int b, int c, long first_index, float *d);
// delta (grad w.r.t. the BN output, in place) -> grad w.r.t. the BN input.
void backward_frozen_bn(const layer *l, const bn_stat_layer *s);
#endif
