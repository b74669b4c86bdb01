// The frozen network on a GPU: the same inference-mode forward and input-only
// backward as frozen.c, on Darknet's device buffers (l.output_gpu, l.x_gpu,
// l.delta_gpu, ...). Darknet's own backward_gpu is kept where it is right for a
// frozen network and accumulates into the input delta (maxpool, avgpool,
// shortcut, route, softmax); convolutional and connected layers get the
// inference-mode BN derivative plus R_feature, and no weight gradients;
// dropout and cost are the identity. [crop] is refused (make_frozen_net):
// Darknet's GPU crop rescales the input in place and samples bilinearly.
#ifdef GPU
#include <string.h>

#include "darknet_internal.h"
#include "frozen.h"
#include "kernels.h"
#include "util.h"

// Darknet's cuda_set_device also sets the global gpu_index, which its loaders
// and savers read for every network; the plugin keeps it at -1 between calls
// (check.c sets it while loading a GPU network).
static void enter(int device) { cuda_set_device(device); }
static void leave(void) { gpu_index = -1; }

static float *dev_alloc(size_t n)
{
    float *p = NULL;
    if (cudaMalloc((void **)&p, n * sizeof(float)) != cudaSuccess) inv_die("CUDA: cannot allocate %zu floats on the device", n);
    cudaMemset(p, 0, n * sizeof(float));
    return p;
}

// delta -> gradient w.r.t. the BN input l.x, as backward_frozen_bn.
static void backward_frozen_bn_gpu(const layer *l, const bn_stat_layer *s)
{
    int C = l->out_c, S = l->out_h * l->out_w;
    const float *mean = NULL, *ga = NULL, *gb = NULL;
    if (s->channels) mean = s->dev, ga = s->dev + 2 * C, gb = s->dev + 3 * C;
    gpu_bn_backward(l->delta_gpu, l->x_gpu, l->scales_gpu, l->rolling_variance_gpu, ga, gb, mean, l->batch, C, S);
}

static void backward_frozen_convolutional_gpu(layer l, network net)
{
    gradient_array_gpu(l.output_gpu, l.outputs * l.batch, l.activation, l.delta_gpu);
    if (l.batch_normalize) backward_frozen_bn_gpu(&l, &frozen_lookup(&net)->bn[net.index]);
    if (!net.delta_gpu) return;
#ifdef CUDNN
    // beta = 1: accumulate, as the input delta may already hold a shortcut's or route's share.
    float one = 1;
    cudnnStatus_t st = cudnnConvolutionBackwardData(cudnn_handle(), &one, l.weightDesc, l.weights_gpu, l.ddstTensorDesc,
                                                    l.delta_gpu, l.convDesc, l.bd_algo, net.workspace, l.workspace_size,
                                                    &one, l.dsrcTensorDesc, net.delta_gpu);
    if (st != CUDNN_STATUS_SUCCESS) inv_die("cuDNN backward data (layer %d): %s", net.index, cudnnGetErrorString(st));
#else
    int m = l.n / l.groups, n = l.size * l.size * l.c / l.groups, k = l.out_w * l.out_h;
    for (int i = 0; i < l.batch; ++i)
        for (int j = 0; j < l.groups; ++j) {
            float *w = l.weights_gpu + j * l.nweights / l.groups;
            float *d = l.delta_gpu + (i * l.groups + j) * m * k;
            float *imd = net.delta_gpu + (i * l.groups + j) * l.c / l.groups * l.h * l.w;
            if (l.size == 1) {
                gemm_gpu(1, 0, n, k, m, 1, w, n, d, k, 1, imd, k);
            } else {
                gemm_gpu(1, 0, n, k, m, 1, w, n, d, k, 0, net.workspace, k);
                col2im_gpu(net.workspace, l.c / l.groups, l.h, l.w, l.size, l.stride, l.pad, imd);   // adds
            }
        }
#endif
}

static void backward_frozen_connected_gpu(layer l, network net)
{
    gradient_array_gpu(l.output_gpu, l.outputs * l.batch, l.activation, l.delta_gpu);
    if (l.batch_normalize) backward_frozen_bn_gpu(&l, &frozen_lookup(&net)->bn[net.index]);
    if (net.delta_gpu)
        gemm_gpu(0, 0, l.batch, l.inputs, l.outputs, 1, l.delta_gpu, l.outputs, l.weights_gpu, l.inputs, 1, net.delta_gpu, l.inputs);
}

static void backward_frozen_identity_gpu(layer l, network net) { (void)l; (void)net; }

#ifdef CUDNN
// The fastest deterministic backward-data algorithm that fits the workspace
// Darknet sized for the layer: a resumed run must repeat an uninterrupted one
// exactly (cuDNN's heuristics may otherwise pick one that adds atomically).
static void pick_deterministic_bd_algo(layer *l, int index)
{
    cudnnConvolutionBwdDataAlgoPerf_t perf[CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT];
    int n = 0;
    if (cudnnGetConvolutionBackwardDataAlgorithm_v7(cudnn_handle(), l->weightDesc, l->ddstTensorDesc, l->convDesc,
                                                    l->dsrcTensorDesc, CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT, &n, perf)
        == CUDNN_STATUS_SUCCESS)
        for (int i = 0; i < n; ++i)
            if (perf[i].status == CUDNN_STATUS_SUCCESS && perf[i].determinism == CUDNN_DETERMINISTIC &&
                perf[i].memory <= l->workspace_size) {
                l->bd_algo = perf[i].algo;
                return;
            }
    inv_warn("layer %d: no deterministic cuDNN backward algorithm fits its workspace; GPU runs may differ in the last bits", index);
}
#endif

void frozen_gpu_init(frozen_net *f)
{
    network *net = f->net;
    f->gpu = net->gpu_index;
    enter(f->gpu);
    for (int i = 0; i < net->n; ++i) {
        layer *l = &net->layers[i];
        switch (l->type) {
        case CONVOLUTIONAL:
            l->backward_gpu = backward_frozen_convolutional_gpu;
#ifdef CUDNN
            pick_deterministic_bd_algo(l, i);
#endif
            break;
        case CONNECTED: l->backward_gpu = backward_frozen_connected_gpu; break;
        case DROPOUT: case COST: l->backward_gpu = backward_frozen_identity_gpu; break;
        default: break;   // Darknet's own: maxpool, avgpool, shortcut, route, softmax
        }
        if (f->bn[i].channels) f->bn[i].dev = dev_alloc((size_t)4 * f->bn[i].channels);
    }
    f->input_delta_gpu = dev_alloc((size_t)net->batch * net->inputs);
    if (cudaMalloc((void **)&f->bn_loss_gpu, sizeof(double) * (net->n + 1)) != cudaSuccess)
        inv_die("CUDA: cannot allocate on the device");
    leave();
}

void frozen_gpu_free(frozen_net *f)
{
    for (int i = 0; i < f->net->n; ++i) cudaFree(f->bn[i].dev), f->bn[i].dev = NULL;
    cudaFree(f->input_delta_gpu);
    cudaFree(f->bn_loss_gpu);
    f->input_delta_gpu = NULL;
    f->bn_loss_gpu = NULL;
}

// forward_network_gpu without its host input copy and cost: every layer in
// inference mode from input_gpu; the softmax output and the logits are pulled.
const float *frozen_forward_gpu(frozen_net *f, const float *input_gpu)
{
    network *netp = f->net;
    size_t n = (size_t)netp->batch * netp->inputs;
    enter(f->gpu);
    if (input_gpu != netp->input_gpu) cudaMemcpy(netp->input_gpu, input_gpu, n * sizeof(float), cudaMemcpyDeviceToDevice);
    netp->train = 0;
    network net = *netp;
    net.truth = NULL;
    net.truth_gpu = NULL;
    net.delta_gpu = NULL;
    for (int i = 0; i < net.n; ++i) {
        net.index = i;
        layer l = net.layers[i];
        if (l.delta_gpu) fill_gpu(l.outputs * l.batch, 0, l.delta_gpu, 1);
        l.forward_gpu(l, net);
        net.input_gpu = l.output_gpu;
        net.input = l.output;
    }
    layer *o = &netp->layers[f->out];
    cuda_pull_array(o->output_gpu, o->output, (size_t)o->outputs * o->batch);
    if (f->out > 0) {
        layer *z = &netp->layers[f->out - 1];
        cuda_pull_array(z->output_gpu, z->output, (size_t)z->outputs * z->batch);
    } else {
        cuda_pull_array(netp->input_gpu, netp->input, n);
    }
    gpu_check_launch("forward");
    leave();
    return o->output;
}

void frozen_backward_gpu(frozen_net *f, float *grad_input_gpu)
{
    network *net = f->net;
    layer *o = &net->layers[f->out];
    size_t n = (size_t)net->batch * net->inputs, nz = (size_t)net->batch * f->classes;
    enter(f->gpu);
    // Darknet's deltas are negative gradients; 1/T for the softmax temperature (frozen_backward).
    for (size_t i = 0; i < nz; ++i) o->delta[i] = -f->logit_grad[i] / o->temperature;
    cuda_push_array(o->delta_gpu, o->delta, nz);
    fill_gpu((int)n, 0, f->input_delta_gpu, 1);
    float *saved = net->delta_gpu;
    net->delta_gpu = f->input_delta_gpu;
    backward_network_gpu(net);
    net->delta_gpu = saved;
    gpu_scale_copy((long)n, -1, f->input_delta_gpu, grad_input_gpu);
    leave();
}

// bn_stat.c's R_feature on the device: statistics of l.x_gpu, the per-layer
// terms and the coefficients frozen backward uses; one copy of the terms back.
double bn_stat_loss_gpu(frozen_net *f, float weight, float first_multiplier)
{
    network *net = f->net;
    int first = 1, k = 0;
    enter(f->gpu);
    for (int i = 0; i < net->n; ++i) {
        bn_stat_layer *s = &f->bn[i];
        if (!s->channels) continue;
        layer *l = &net->layers[i];
        int C = s->channels;
        float *mean = s->dev, *var = s->dev + C, *ga = s->dev + 2 * C, *gb = s->dev + 3 * C;
        gpu_bn_stats(l->x_gpu, l->batch, C, s->spatial, mean, var);
        double scale = weight * (first ? first_multiplier : 1.0);
        gpu_bn_coeffs(mean, var, l->rolling_mean_gpu, l->rolling_variance_gpu, C, (double)l->batch * s->spatial,
                      scale, ga, gb, f->bn_loss_gpu + k);
        first = 0;
        ++k;
    }
    double terms[k > 0 ? k : 1], total = 0;
    if (k) cudaMemcpy(terms, f->bn_loss_gpu, sizeof(double) * k, cudaMemcpyDeviceToHost);
    gpu_check_launch("bn_stat");
    for (int i = 0; i < k; ++i) total += terms[i];
    leave();
    return total;
}

void frozen_clear_bn_grad_gpu(frozen_net *f)
{
    enter(f->gpu);
    for (int i = 0; i < f->net->n; ++i)
        if (f->bn[i].channels) cudaMemset(f->bn[i].dev + 2 * f->bn[i].channels, 0, sizeof(float) * 2 * f->bn[i].channels);
    leave();
}

void push_network_params(network *net)
{
    if (net->gpu_index < 0) return;
    enter(net->gpu_index);
    for (int i = 0; i < net->n; ++i) {
        layer l = net->layers[i];
        if (l.type == CONVOLUTIONAL) push_convolutional_layer(l);
        else if (l.type == CONNECTED) push_connected_layer(l);
    }
    leave();
}
#endif
