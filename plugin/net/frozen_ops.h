// The frozen network's device-dependent steps as one table with a CPU
// implementation (frozen_run.c) and a CUDA one (frozen_gpu.c), in the manner
// of synth_ops.h. make_frozen_net picks the table once, from the device
// Darknet loaded the network on (frozen.c, device_ops); frozen.h's forward,
// backward and clear_bn_grad call through f->ops, so no CPU file asks
// which device it runs on.
#ifndef INV_FROZEN_OPS_H
#define INV_FROZEN_OPS_H
#include "frozen.h"

struct frozen_ops {
    const char *name;
    // The device's own state (f->gpu, f->gpu_state, device buffers), and its
    // release; init dies naming the cfg and layer the device cannot run.
    void (*init)(frozen_net *f, const char *cfg);
    void (*release)(frozen_net *f);
    // frozen.h's: the input and the input gradient in host memory.
    const float *(*forward)(frozen_net *f, const float *input);
    void (*backward)(frozen_net *f, float *grad_input);
    void (*clear_bn_grad)(frozen_net *f);
};

extern const frozen_ops frozen_cpu_ops;

// frozen_plan.c: the network's layer functions find it from here on (until unregistered).
void register_frozen(frozen_net *f);
void unregister_frozen(frozen_net *f);

// frozen_run.c: the CPU's slices and workspaces (make_frozen_net, free_frozen_net);
// share_buffers: outputs and deltas share buffers by their lifetimes (frozen_buffers.c).
void make_frozen_slices(frozen_net *f, int share_buffers);
void free_frozen_slices(frozen_net *f);

#ifdef GPU
extern const frozen_ops frozen_cuda_ops;
// frozen_gpu.c's steps on device memory, for synth_gpu.c (the synthesis keeps
// its images on the device): the input and the input gradient in device
// memory; the softmax output and the logits are copied back to the host
// (batch*classes floats each).
const float *frozen_forward_gpu(frozen_net *f, const float *input_gpu);
// grad_input_gpu = dLoss/dinput (overwritten).
void frozen_backward_gpu(frozen_net *f, float *grad_input_gpu);
double bn_stat_loss_gpu(frozen_net *f, float weight, float first_multiplier);
void frozen_clear_bn_grad_gpu(frozen_net *f);
// Copies a network's parameters from host to device after they changed on the host.
void push_network_params(network *net);
#endif
#endif
