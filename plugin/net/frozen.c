#include "frozen.h"

#include <math.h>
#include <string.h>

#include "load_network.h"
#include "darknet_internal.h"
#include "frozen_layers.h"
#include "util.h"

// Darknet calls a layer's functions with copies of the layer and network, so
// the frozen state is found through the layer array they point to: the
// network's own, or one of its slices'.
#define MAX_FROZEN 16
static frozen_net *registry[MAX_FROZEN];

frozen_net *frozen_lookup(const network *net)
{
    for (int i = 0; i < MAX_FROZEN; ++i) {
        frozen_net *f = registry[i];
        if (!f) continue;
        if (net->layers == f->net->layers || frozen_slice_index(f, net) >= 0) return f;
    }
    inv_die("internal: frozen layer function called on a network that is not frozen");
}

// delta (grad w.r.t. the BN output) -> grad w.r.t. the BN input l.x, in place, in
// inference mode: the forward normalises with sqrt(rolling_var) + 1e-6
// (normalize_cpu), so that is the derivative used here, plus R_feature.
void backward_frozen_bn(const layer *l, const bn_stat_layer *s)
{
    int spatial = l->out_h * l->out_w, channels = l->out_c;
    for (int b = 0; b < l->batch; ++b)
        for (int c = 0; c < channels; ++c) {
            float k = l->scales[c] / (sqrtf(l->rolling_variance[c]) + .000001f);
            float *d = l->delta + (b * channels + c) * spatial;
            const float *x = l->x + (b * channels + c) * spatial;
            if (s->channels) {
                float ga = s->ga[c], gb = s->gb[c], mu = s->mean[c];
                for (int i = 0; i < spatial; ++i) d[i] = d[i] * k - (ga + gb * (x[i] - mu));
            } else {
                for (int i = 0; i < spatial; ++i) d[i] *= k;
            }
        }
}

// weights [outputs][inputs], delta [batch][outputs], net.delta [batch][inputs].
static void backward_frozen_connected(layer l, network net)
{
    gradient_array(l.output, l.outputs * l.batch, l.activation, l.delta);
    if (l.batch_normalize) backward_frozen_bn(&l, &frozen_lookup(&net)->bn[net.index]);
    float beta = frozen_lookup(&net)->assign[net.index] ? 0 : 1;
    if (net.delta) gemm(0, 0, l.batch, l.inputs, l.outputs, 1, l.delta, l.outputs, l.weights, l.inputs, beta, net.delta, l.inputs);
}

static void backward_frozen_avgpool(layer l, network net)
{
    if (!net.delta) return;
    int spatial = l.h * l.w;
    for (int b = 0; b < l.batch; ++b)
        for (int c = 0; c < l.c; ++c) {
            float g = l.delta[b * l.c + c] / spatial;
            float *d = net.delta + (b * l.c + c) * spatial;
            for (int i = 0; i < spatial; ++i) d[i] += g;
        }
}

// out = act(alpha * input + beta * from): both inputs receive the delta.
static void backward_frozen_shortcut(layer l, network net)
{
    gradient_array(l.output, l.outputs * l.batch, l.activation, l.delta);
    if (net.delta) axpy_cpu(l.outputs * l.batch, l.alpha, l.delta, 1, net.delta, 1);
    shortcut_cpu(l.batch, l.out_w, l.out_h, l.out_c, l.delta, l.w, l.h, l.c, 1, l.beta, net.layers[l.index].delta);
}

static void backward_frozen_route(layer l, network net)
{
    int offset = 0;
    for (int i = 0; i < l.n; ++i) {
        float *delta = net.layers[l.input_layers[i]].delta;
        int size = l.input_sizes[i];
        for (int b = 0; b < l.batch; ++b)
            axpy_cpu(size, 1, l.delta + offset + b * l.outputs, 1, delta + b * size, 1);
        offset += size;
    }
}

// Dropout is the identity at inference, and Darknet makes it share its
// delta buffer with the previous layer: nothing to do.
static void backward_frozen_identity(layer l, network net) { (void)l; (void)net; }

static void backward_frozen_softmax(layer l, network net)
{
    if (!net.delta) return;
    if (frozen_lookup(&net)->assign[net.index]) memcpy(net.delta, l.delta, sizeof(float) * l.inputs * l.batch);
    else axpy_cpu(l.inputs * l.batch, 1, l.delta, 1, net.delta, 1);
}

frozen_net *make_frozen_net(network *net, const char *cfg)
{
    frozen_net *f = xcalloc(1, sizeof *f);
    f->net = net;
    f->out = output_layer_index(net);
    layer *o = &net->layers[f->out];
    if (o->type != SOFTMAX)
        inv_die("%s: the network's output layer %d is %s, not [softmax]: not a classifier", cfg, f->out, layer_type_name(o->type));
    if (o->temperature <= 0) inv_die("%s: layer %d: softmax temperature must be positive", cfg, f->out);
    if (o->groups != 1 || o->softmax_tree)
        inv_die("%s: layer %d: grouped or hierarchical softmax is not supported", cfg, f->out);
    f->classes = o->outputs;
    f->inputs = net->inputs;
    f->input_delta = xcalloc((size_t)net->batch * net->inputs, sizeof(float));
    f->logit_grad = xcalloc((size_t)net->batch * f->classes, sizeof(float));
    f->bn = xcalloc(net->n, sizeof *f->bn);
    for (int i = 0; i < net->n; ++i) {
        layer *l = &net->layers[i];
        switch (l->type) {
        case CONVOLUTIONAL:
            l->forward = forward_frozen_convolutional;
            l->backward = backward_frozen_convolutional;
            break;
        case CONNECTED: l->backward = backward_frozen_connected; break;
        case MAXPOOL:
            l->forward = forward_frozen_maxpool;
            l->backward = backward_frozen_maxpool;
            break;
        case CROP:
#ifdef GPU
            // Darknet's GPU crop rescales the network's input in place and
            // samples bilinearly at half-pixel offsets: not the CPU's crop.
            if (net->gpu_index >= 0)
                inv_die("%s: layer %d [crop] is not supported on the GPU: run with -nogpu", cfg, i);
#endif
            l->forward = forward_frozen_crop;
            l->backward = backward_frozen_crop;
            // Darknet gives a crop no delta: its own backward passes nothing back.
            if (!l->delta) l->delta = xcalloc((size_t)l->outputs * l->batch, sizeof(float));
            break;
        case AVGPOOL: l->backward = backward_frozen_avgpool; break;
        case SHORTCUT: l->backward = backward_frozen_shortcut; break;
        case ROUTE: l->backward = backward_frozen_route; break;
        case DROPOUT:
            // It shares its input's delta, which a crop only has from here on.
            if (!l->delta && i > 0 && l->output == net->layers[i - 1].output) l->delta = net->layers[i - 1].delta;
            l->backward = backward_frozen_identity;
            break;
        case SOFTMAX: l->backward = backward_frozen_softmax; break;
        case COST: l->backward = backward_frozen_identity; break;
        default: inv_die("%s: layer %d (%s) cannot be differentiated by inversion", cfg, i, layer_type_name(l->type));
        }
        if (i > f->out && l->type != COST) inv_die("%s: layer %d follows the output softmax", cfg, i);
        if ((l->type == CONVOLUTIONAL || l->type == CONNECTED) && l->batch_normalize) {
            bn_stat_layer *s = &f->bn[i];
            s->channels = l->out_c;
            s->spatial = l->out_h * l->out_w;
            s->mean = xcalloc(s->channels, sizeof(float));
            s->var = xcalloc(s->channels, sizeof(float));
            s->ga = xcalloc(s->channels, sizeof(float));
            s->gb = xcalloc(s->channels, sizeof(float));
            s->work = xcalloc(2 * (size_t)s->channels, sizeof(double));
            ++f->nbn;
        }
    }
    make_frozen_slices(f);
    int slot;
    for (slot = 0; slot < MAX_FROZEN && registry[slot]; ++slot) {}
    if (slot == MAX_FROZEN) inv_die("internal: more than %d frozen networks", MAX_FROZEN);
    registry[slot] = f;
    net->train = 0;
    f->gpu = -1;
#ifdef GPU
    if (net->gpu_index >= 0) frozen_gpu_init(f);
#endif
    return f;
}

void free_frozen_net(frozen_net *f)
{
    if (!f) return;
    for (int i = 0; i < MAX_FROZEN; ++i)
        if (registry[i] == f) registry[i] = NULL;
#ifdef GPU
    if (f->gpu >= 0) frozen_gpu_free(f);
#endif
    free_frozen_slices(f);   // before f->bn: it frees the layers' partial sums
    for (int i = 0; i < f->net->n; ++i) {
        free(f->bn[i].mean); free(f->bn[i].var); free(f->bn[i].ga); free(f->bn[i].gb); free(f->bn[i].work);
    }
    free(f->bn);
    free(f->input_delta);
    free(f->logit_grad);
    free(f);
}

const float *frozen_logits(const frozen_net *f)
{
    return f->out > 0 ? f->net->layers[f->out - 1].output : f->net->input;
}

float frozen_temperature(const frozen_net *f) { return f->net->layers[f->out].temperature; }

void frozen_clear_bn_grad(frozen_net *f)
{
#ifdef GPU
    if (f->gpu >= 0) frozen_clear_bn_grad_gpu(f);
#endif
    for (int i = 0; i < f->net->n; ++i)
        if (f->bn[i].channels) {
            memset(f->bn[i].ga, 0, sizeof(float) * f->bn[i].channels);
            memset(f->bn[i].gb, 0, sizeof(float) * f->bn[i].channels);
        }
}
