// The frozen network on a GPU: the same inference-mode forward and input-only
// backward as frozen.c, on Darknet's device buffers (l.output_gpu, l.x_gpu,
// l.delta_gpu, ...). Darknet's own backward_gpu is kept where it is right for a
// frozen network and accumulates into the input delta (maxpool, avgpool,
// shortcut, route, softmax); convolutional and connected layers get the
// inference-mode BN derivative plus R_feature, and no weight gradients;
// dropout and cost are the identity. [crop] is refused: Darknet's GPU crop
// rescales the input in place and samples bilinearly. So is a 1x1 convolution
// with a stride or padding. The CUDA side of frozen_ops.h.
#ifdef GPU
#include <stdlib.h>
#include <string.h>

#include "darknet_internal.h"
#include "frozen_layers.h"
#include "frozen_ops.h"
#include "kernels.h"
#include "util.h"

// Darknet's cuda_set_device also sets the global gpu_index, which its loaders
// and savers read for every network; the plugin keeps it at -1 between calls
// (load_network.c sets it while loading a GPU network).
static void enter(int device) { cuda_set_device(device); }
static void leave(void) { gpu_index = -1; }

// What the plugin adds to a network on the device.
typedef struct {
    double *bn_scratch;     // the R_feature sums (gpu_bn_scratch_size of the largest BN layer)
#ifdef CUDNN
    // Per layer: the backward-data convolution's own descriptor (its math
    // type is the algorithm's, independent of the forward's), or NULL.
    cudnnConvolutionDescriptor_t *bd_desc;
#endif
} gpu_state;

#ifdef CUDNN
static void die_cudnn(cudnnStatus_t st, const char *what, int index)
{
    if (st != CUDNN_STATUS_SUCCESS) inv_die("cuDNN %s (layer %d): %s", what, index, cudnnGetErrorString(st));
}
#endif

static float *dev_alloc(size_t n)
{
    float *p = NULL;
    if (cudaMalloc((void **)&p, n * sizeof(float)) != cudaSuccess) inv_die("CUDA: cannot allocate %zu floats on the device", n);
    gpu_check_call(cudaMemset(p, 0, n * sizeof(float)), "memset");
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
    frozen_plan p = frozen_layer_plan(&net);
    if (l.batch_normalize) backward_frozen_bn_gpu(&l, p.bn);
    if (!net.delta_gpu) return;
#ifdef CUDNN
    // beta = 1: accumulate, as the input delta may already hold a shortcut's or route's share.
    float one = 1;
    gpu_state *g = p.device;
    cudnnStatus_t st = cudnnConvolutionBackwardData(cudnn_handle(), &one, l.weightDesc, l.weights_gpu, l.ddstTensorDesc,
                                                    l.delta_gpu, g->bd_desc[net.index], l.bd_algo, net.workspace,
                                                    l.workspace_size, &one, l.dsrcTensorDesc, net.delta_gpu);
    die_cudnn(st, "backward data", net.index);
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
    if (l.batch_normalize) backward_frozen_bn_gpu(&l, frozen_layer_plan(&net).bn);
    if (net.delta_gpu)
        gemm_gpu(0, 0, l.batch, l.inputs, l.outputs, 1, l.delta_gpu, l.outputs, l.weights_gpu, l.inputs, 1, net.delta_gpu, l.inputs);
}

static void backward_frozen_identity_gpu(layer l, network net) { (void)l; (void)net; }

#ifdef CUDNN
// Math types an FP32 convolution may run with: FMA, or the default (TF32 on
// GPUs that have it, unless NVIDIA_TF32_OVERRIDE=0). Never a conversion to half.
static int fp32_math(cudnnMathType_t m) { return m == CUDNN_DEFAULT_MATH || m == CUDNN_FMA_MATH; }

// The frozen network runs each convolution's forward and backward-data only
// (never the filter gradient), so its algorithms and workspace are chosen
// here for those two: the fastest forward, and the fastest deterministic
// backward-data (a resumed run must repeat an uninterrupted one exactly:
// cuDNN's heuristics may otherwise pick one that adds atomically), each with
// the math type the heuristic reported for it set explicitly, and the
// workspace the chosen algorithms really need (asked of cuDNN, not the
// heuristic's estimate), within `budget` bytes. Returns that workspace size.
static size_t pick_conv_algos(layer *l, int index, cudnnConvolutionDescriptor_t *bd_desc, size_t budget)
{
    cudnnHandle_t h = cudnn_handle();
    cudnnConvolutionFwdAlgoPerf_t fw[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
    cudnnConvolutionBwdDataAlgoPerf_t bd[CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT];
    int n = 0, i;
    size_t fw_bytes = 0, bd_bytes = 0;
    die_cudnn(cudnnGetConvolutionForwardAlgorithm_v7(h, l->srcTensorDesc, l->weightDesc, l->convDesc, l->dstTensorDesc,
                                                     CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &n, fw), "forward algorithms", index);
    for (i = 0; i < n; ++i) {
        if (fw[i].status != CUDNN_STATUS_SUCCESS || !fp32_math(fw[i].mathType)) continue;
        if (cudnnSetConvolutionMathType(l->convDesc, fw[i].mathType) != CUDNN_STATUS_SUCCESS) continue;
        size_t bytes = 0;
        if (cudnnGetConvolutionForwardWorkspaceSize(h, l->srcTensorDesc, l->weightDesc, l->convDesc, l->dstTensorDesc,
                                                    fw[i].algo, &bytes) != CUDNN_STATUS_SUCCESS || bytes > budget)
            continue;
        l->fw_algo = fw[i].algo;
        fw_bytes = bytes;
        break;
    }
    if (i == n) inv_die("layer %d: no cuDNN forward algorithm with FP32 math fits %zu bytes of workspace", index, budget);

    die_cudnn(cudnnCreateConvolutionDescriptor(bd_desc), "descriptor", index);
    die_cudnn(cudnnSetConvolution2dDescriptor(*bd_desc, l->pad, l->pad, l->stride, l->stride, 1, 1,
                                              CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT), "descriptor", index);
    die_cudnn(cudnnSetConvolutionGroupCount(*bd_desc, l->groups), "descriptor", index);
    n = 0;
    die_cudnn(cudnnGetConvolutionBackwardDataAlgorithm_v7(h, l->weightDesc, l->ddstTensorDesc, *bd_desc, l->dsrcTensorDesc,
                                                          CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT, &n, bd),
              "backward-data algorithms", index);
    for (i = 0; i < n; ++i) {
        if (bd[i].status != CUDNN_STATUS_SUCCESS || bd[i].determinism != CUDNN_DETERMINISTIC || !fp32_math(bd[i].mathType))
            continue;
        if (cudnnSetConvolutionMathType(*bd_desc, bd[i].mathType) != CUDNN_STATUS_SUCCESS) continue;
        size_t bytes = 0;
        if (cudnnGetConvolutionBackwardDataWorkspaceSize(h, l->weightDesc, l->ddstTensorDesc, *bd_desc, l->dsrcTensorDesc,
                                                         bd[i].algo, &bytes) != CUDNN_STATUS_SUCCESS || bytes > budget)
            continue;
        l->bd_algo = bd[i].algo;
        bd_bytes = bytes;
        break;
    }
    if (i == n) inv_die("layer %d: no deterministic cuDNN backward-data algorithm with FP32 math fits %zu bytes of workspace", index, budget);
    l->workspace_size = fw_bytes > bd_bytes ? fw_bytes : bd_bytes;
    return l->workspace_size;
}
#endif

static void init_gpu(frozen_net *f, const char *cfg)
{
    network *net = f->net;
    gpu_state *g = xcalloc(1, sizeof *g);
    f->gpu_state = g;
    f->gpu = net->gpu_index;
    enter(f->gpu);
#ifdef CUDNN
    g->bd_desc = xcalloc(net->n, sizeof *g->bd_desc);
    size_t free_bytes = 0, total_bytes = 0, workspace = 0;
    gpu_check_call(cudaMemGetInfo(&free_bytes, &total_bytes), "memory info");
    // Darknet's own limit, or a quarter of what the device has free.
    size_t budget = free_bytes / 4 < 2000000000 ? free_bytes / 4 : 2000000000;
#endif
    size_t scratch = 0;
    for (int i = 0; i < net->n; ++i) {
        layer *l = &net->layers[i];
        switch (l->type) {
        case CROP:
            // Darknet's GPU crop rescales the network's input in place and
            // samples bilinearly at half-pixel offsets: not the CPU's crop.
            inv_die("%s: layer %d [crop] is not supported on the GPU: run with -nogpu", cfg, i);
        case CONVOLUTIONAL:
            // Darknet's CPU forward (and the frozen CPU path, bit for bit) reads
            // a 1x1 layer's input as a [c][out_h*out_w] matrix whatever the
            // stride and padding; cuDNN convolves for real. The two agree only
            // without either.
            if (l->size == 1 && (l->stride != 1 || l->pad != 0))
                inv_die("layer %d: a 1x1 convolution with stride %d and padding %d is not supported on the GPU (Darknet's CPU "
                        "forward reads its input as if unstrided and unpadded, cuDNN does not): run with -nogpu",
                        i, l->stride, l->pad);
            l->backward_gpu = backward_frozen_convolutional_gpu;
#ifdef CUDNN
            {
                size_t need = pick_conv_algos(l, i, &g->bd_desc[i], budget);
                if (need > workspace) workspace = need;
            }
#endif
            break;
        case CONNECTED: l->backward_gpu = backward_frozen_connected_gpu; break;
        case DROPOUT: case COST: l->backward_gpu = backward_frozen_identity_gpu; break;
        default: break;   // Darknet's own: maxpool, avgpool, shortcut, route, softmax
        }
        if (f->bn[i].channels) {
            f->bn[i].dev = dev_alloc((size_t)4 * f->bn[i].channels);
            size_t need = gpu_bn_scratch_size(f->bn[i].channels, (long)l->batch * f->bn[i].spatial);
            if (need > scratch) scratch = need;
        }
    }
#ifdef CUDNN
    // Darknet sized the workspace for the filter gradient too, which a frozen
    // network never runs: only what its forward and backward-data need.
    cuda_free(net->workspace);
    net->workspace = dev_alloc(workspace / sizeof(float) + 1);
#endif
    if (scratch && cudaMalloc((void **)&g->bn_scratch, scratch * sizeof(double)) != cudaSuccess)
        inv_die("CUDA: cannot allocate %zu bytes on the device", scratch * sizeof(double));
    f->input_delta_gpu = dev_alloc((size_t)net->batch * net->inputs);
    if (cudaMalloc((void **)&f->bn_loss_gpu, sizeof(double) * (net->n + 1)) != cudaSuccess)
        inv_die("CUDA: cannot allocate on the device");
    gpu_check_launch("frozen network on the GPU");
    leave();
}

static void release_gpu(frozen_net *f)
{
    for (int i = 0; i < f->net->n; ++i) cudaFree(f->bn[i].dev), f->bn[i].dev = NULL;
    cudaFree(f->input_delta_gpu);
    cudaFree(f->bn_loss_gpu);
    f->input_delta_gpu = NULL;
    f->bn_loss_gpu = NULL;
    gpu_state *g = f->gpu_state;
#ifdef CUDNN
    // The workspace init_gpu allocated (Darknet's free_network leaves it).
    if (g) cuda_free(f->net->workspace), f->net->workspace = NULL;
#endif
    if (g) {
        cudaFree(g->bn_scratch);
#ifdef CUDNN
        for (int i = 0; i < f->net->n; ++i)
            if (g->bd_desc[i]) cudnnDestroyConvolutionDescriptor(g->bd_desc[i]);
        free(g->bd_desc);
#endif
        free(g);
        f->gpu_state = NULL;
    }
}

// forward_network_gpu without its host input copy and cost: every layer in
// inference mode from input_gpu; the softmax output and the logits are pulled.
const float *frozen_forward_gpu(frozen_net *f, const float *input_gpu)
{
    network *netp = f->net;
    size_t n = (size_t)netp->batch * netp->inputs;
    enter(f->gpu);
    if (input_gpu != netp->input_gpu)
        gpu_check_call(cudaMemcpy(netp->input_gpu, input_gpu, n * sizeof(float), cudaMemcpyDeviceToDevice), "input");
    netp->train = 0;
    network net = *netp;
    net.truth = NULL;
    net.truth_gpu = NULL;
    net.delta_gpu = NULL;
    for (int i = 0; i < net.n; ++i) {
        net.index = i;
        layer l = net.layers[i];
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
    // Darknet's GPU backward adds into the deltas below each layer: zero them
    // here, for every backward (as the CPU path does), not once per forward.
    for (int i = 0; i < net->n; ++i) {
        layer *l = &net->layers[i];
        if (l->delta_gpu && i != f->out) fill_gpu(l->outputs * l->batch, 0, l->delta_gpu, 1);
    }
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
        double scale = weight * (first ? first_multiplier : 1.0);
        gpu_bn_term(l->x_gpu, l->batch, C, s->spatial, l->rolling_mean_gpu, l->rolling_variance_gpu, scale, mean, var, ga,
                    gb, f->bn_loss_gpu + k, ((gpu_state *)f->gpu_state)->bn_scratch);
        first = 0;
        ++k;
    }
    double terms[k > 0 ? k : 1], total = 0;
    if (k) gpu_check_call(cudaMemcpy(terms, f->bn_loss_gpu, sizeof(double) * k, cudaMemcpyDeviceToHost), "bn_stat terms");
    gpu_check_launch("bn_stat");
    for (int i = 0; i < k; ++i) total += terms[i];
    leave();
    return total;
}

void frozen_clear_bn_grad_gpu(frozen_net *f)
{
    enter(f->gpu);
    for (int i = 0; i < f->net->n; ++i)
        if (f->bn[i].channels)
            gpu_check_call(cudaMemset(f->bn[i].dev + 2 * f->bn[i].channels, 0, sizeof(float) * 2 * f->bn[i].channels), "bn_stat");
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
// frozen.h's forward and backward, with the input and the gradient on the host.
static const float *forward_gpu_host(frozen_net *f, const float *input)
{
    network *net = f->net;
    cuda_push_array(net->input_gpu, (float *)input, (size_t)net->batch * net->inputs);
    return frozen_forward_gpu(f, net->input_gpu);
}

static void backward_gpu_host(frozen_net *f, float *grad_input)
{
    network *net = f->net;
    // net->input_gpu is free once the forward is done: the gradient lands there first.
    frozen_backward_gpu(f, net->input_gpu);
    cuda_pull_array(net->input_gpu, grad_input, (size_t)net->batch * net->inputs);
}

const frozen_ops frozen_cuda_ops = {
    .name = "CUDA",
    .init = init_gpu,
    .release = release_gpu,
    .forward = forward_gpu_host,
    .backward = backward_gpu_host,
    .clear_bn_grad = frozen_clear_bn_grad_gpu,
};
#endif
