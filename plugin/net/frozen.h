// A trained network made frozen: BN in inference mode, and a backward pass
// that computes only the gradient with respect to the input pixels. Darknet's
// stock backward is wrong for this in three places (inference-mode BN uses the
// batch formula, dropout masks with an unfilled mask, 1x1 convolutions
// overwrite the input delta); every layer's backward here is the plugin's own.
#ifndef INV_FROZEN_H
#define INV_FROZEN_H
#include "darknet.h"
#include "frozen_layers.h"

// The device-dependent steps (frozen_ops.h).
typedef struct frozen_ops frozen_ops;

// A run of images of the batch with its own copies of the layers (batch
// nb, per-image buffers offset to image b0): slices run on separate threads,
// each with single-threaded BLAS, and meet only for the BN statistics.
typedef struct {
    layer *layers;
    int b0, nb;
} frozen_slice;

typedef struct {
    network *net;
    int out;                // index of the softmax layer that gives the prediction
    int classes;
    int inputs;             // per image: w*h*c
    float *input_delta;     // batch*inputs, Darknet's (negative) delta at the input
    float *logit_grad;      // batch*classes, dLoss/d(logits/temperature), set before backward
    bn_stat_layer *bn;      // net->n entries
    int nbn;                // layers with BN
    const frozen_ops *ops;  // the CPU's or the CUDA device's (frozen_ops.h), chosen once by make_frozen_net
    int gpu;                // CUDA device the network runs on (frozen_gpu.c), -1: the CPU
    float *input_delta_gpu; // on the GPU: device twin of input_delta
    double *bn_loss_gpu;    // on the GPU: one R_feature term per BN layer (device)
    void *gpu_state;        // on the GPU: frozen_gpu.c's own (scratch, cuDNN descriptors)
    int threads;            // OpenMP threads the slices run on
    int nslices;
    frozen_slice *slices;
    layer *slice_layers;    // nslices * net->n
    int chunk;              // images a convolution workspace holds (the largest slice)
    float **cols, **rows;   // per thread: batched convolution workspaces (columns; [filters][chunk*out_h*out_w])
    // Per layer (frozen_run.c): layer i's backward overwrites the delta it
    // passes back (it is that delta's only writer and covers all of it), so
    // that delta is not zeroed first.
    char *assign;
    // Per layer: how the convolution runs (enum conv_path, frozen_layers.h):
    // directly or by Winograd instead of by im2col + GEMM where the layer's
    // shape allows (direct_conv.h, winograd.h; INV_DIRECT_CONV=0 and
    // INV_WINOGRAD=0 in the environment turn them off).
    char *conv_path;
    // Per layer: a max-pool whose backward the convolution below it does,
    // reading the pool's delta instead of a delta the pool would write
    // (frozen_run.c plans it, frozen_conv.c does it).
    char *fused_pool;
    // Per layer: the first layer whose backward writes its delta (zeroed
    // just before, unless overwritten).
    int *first_writer;
    // Buffers that outputs and deltas with disjoint lifetimes share
    // (frozen_buffers.c), and the layers' own buffers set aside meanwhile,
    // [net->n][2] (output, delta; NULL: not shared).
    float **shared;
    int nshared;
    float **kept;
    // When set (frozen_time_layers): wall seconds each thread spent in each
    // layer, [threads][net->n][2] (forward, backward), accumulated.
    double *layer_seconds;
} frozen_net;

// Freezes `net` (from load_checked_network): installs the frozen backward of
// every layer, dies naming the layer if one cannot be differentiated. It runs
// where Darknet loaded it: on the CPU, or on the GPU net->gpu_index.
frozen_net *make_frozen_net(network *net, const char *cfg_name);
void free_frozen_net(frozen_net *f);

// Inference-mode forward of batch*inputs pixels (host memory); returns the
// softmax output (host memory).
const float *frozen_forward(frozen_net *f, const float *input);
// Backward from f->logit_grad and the BN coefficients; writes dLoss/dinput
// (a true gradient, batch*inputs floats) into grad_input (host memory).
void frozen_backward(frozen_net *f, float *grad_input);
// The logits z of the last forward (the softmax layer's input), batch*classes.
const float *frozen_logits(const frozen_net *f);
// The output softmax's temperature t (logit_grad is dLoss/d(z/t)).
float frozen_temperature(const frozen_net *f);
// Starts timing every layer's forward and backward on the CPU (f->layer_seconds,
// zeroed); for benchmarks: two clock reads per layer call.
void frozen_time_layers(frozen_net *f);
// Sets every BN layer's coefficients to zero (no R_feature gradient).
void frozen_clear_bn_grad(frozen_net *f);
// How many slices a batch is cut into on `threads` threads, and the images of
// the largest (frozen_run.c; memory.c sizes the workspaces with it).
void frozen_slicing(int batch, int threads, int *nslices, int *chunk);

// Who writes which delta in the backward (n = net->n entries each): assign[i],
// layer i overwrites its input's delta whole; fused_pool[i], max-pool i hands
// its gradient to the convolution below; first_writer[i], the first layer
// whose backward writes layer i's delta (i itself when none does; the top
// layer for all with dropout or stopbackward, whose writes are not tracked).
// Shared with memory.c's estimate.
void plan_delta_writes(const network *net, char *assign, char *fused_pool, int *first_writer);

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

#endif
