// A trained network made frozen: BN in inference mode, and a backward pass
// that computes only the gradient with respect to the input pixels. Darknet's
// stock backward is wrong for this in three places (inference-mode BN uses the
// batch formula, dropout masks with an unfilled mask, 1x1 convolutions
// overwrite the input delta); every layer's backward here is the plugin's own.
#ifndef INV_FROZEN_H
#define INV_FROZEN_H
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
    // Per layer: the convolution runs directly instead of by im2col + GEMM
    // (direct_conv.h; INV_DIRECT_CONV=0 in the environment turns it off).
    char *direct;
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
// every layer, dies naming the layer if one cannot be differentiated.
frozen_net *make_frozen_net(network *net, const char *cfg_name);
void free_frozen_net(frozen_net *f);

// Inference-mode forward of batch*inputs pixels; returns the softmax output.
const float *frozen_forward(frozen_net *f, const float *input);
// Backward from f->logit_grad and the BN coefficients; writes dLoss/dinput
// (a true gradient, batch*inputs floats) into grad_input.
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

// The frozen state of a network (or of one of its slices), for the layers'
// forward and backward functions.
frozen_net *frozen_lookup(const network *net);

#ifdef GPU
// frozen_gpu.c: the same on a network loaded on a GPU (f->gpu >= 0), with the
// input and the input gradient in device memory. The softmax output and the
// logits are copied back to the host (batch*classes floats each).
void frozen_gpu_init(frozen_net *f);
void frozen_gpu_free(frozen_net *f);
const float *frozen_forward_gpu(frozen_net *f, const float *input_gpu);
// grad_input_gpu = dLoss/dinput (overwritten).
void frozen_backward_gpu(frozen_net *f, float *grad_input_gpu);
double bn_stat_loss_gpu(frozen_net *f, float weight, float first_multiplier);
void frozen_clear_bn_grad_gpu(frozen_net *f);
// Copies a network's parameters from host to device after they changed on the host.
void push_network_params(network *net);
#endif
#endif
