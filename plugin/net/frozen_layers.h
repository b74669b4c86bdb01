// Inside the frozen network: the per-layer forward and backward functions
// installed by make_frozen_net, and how they find their frozen_net (Darknet
// passes them copies of the layer and network).
#ifndef INV_FROZEN_LAYERS_H
#define INV_FROZEN_LAYERS_H
#include "frozen.h"

// frozen_run.c: the slices and the per-thread workspaces (make_frozen_net).
// Who writes which delta in the backward (n = net->n entries each): assign[i],
// layer i overwrites its input's delta whole; fused_pool[i], max-pool i hands
// its gradient to the convolution below; first_writer[i], the first layer
// whose backward writes layer i's delta (i itself when none does; the top
// layer for all with dropout or stopbackward, whose writes are not tracked).
void plan_delta_writes(const network *net, char *assign, char *fused_pool, int *first_writer);
void make_frozen_slices(frozen_net *f);
void free_frozen_slices(frozen_net *f);
// How many slices a batch is cut into on `threads` threads, and the images of the largest.
void frozen_slicing(int batch, int threads, int *nslices, int *chunk);
// Layer l restricted to images [b0, b0 + nb) of its batch (per-image buffers offset).
layer layer_images(const layer *l, int b0, int nb);
// Which slice a layer function was called on (-1: the whole network).
int frozen_slice_index(const frozen_net *f, const network *net);
// Slice k's sums of layer i's BN input (bn_stat_layer.part).
double *frozen_bn_part(const frozen_net *f, int layer_index, int slice);
// The calling thread's convolution workspaces (f->chunk images' worth).
float *frozen_workspace_cols(const frozen_net *f);
float *frozen_workspace_rows(const frozen_net *f);

// frozen_buffers.c: outputs and deltas that share memory by their lifetimes.
typedef struct {
    int n;              // shared buffers
    size_t *size;       // floats per image of each
    int *output, *delta;   // per layer: the shared buffer of its output / delta, -1: its own
} frozen_buffer_plan;
// out: the output softmax's index. No sharing with dropout or stopbackward,
// or with INV_SHARE_BUFFERS=0 in the environment (frozen_share_allowed).
frozen_buffer_plan plan_frozen_buffers(const network *net, int out, const char *fused_pool, const int *first_writer);
void free_frozen_buffer_plan(frozen_buffer_plan *p);
int frozen_share_allowed(void);

// Workspace sizes (floats) the batched convolution needs for layer l.
size_t frozen_conv_cols(const layer *l);
size_t frozen_conv_rows(const layer *l);

void forward_frozen_convolutional(layer l, network net);
void backward_frozen_convolutional(layer l, network net);
void forward_frozen_maxpool(layer l, network net);
void backward_frozen_maxpool(layer l, network net);
void forward_frozen_crop(layer l, network net);
void backward_frozen_crop(layer l, network net);
// Whether the layer's backward can overwrite all of its input's delta
// (frozen_net.assign): a convolution whose output has its input's size, a
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
