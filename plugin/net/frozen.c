// The frozen network: make_frozen_net installs the frozen layer functions
// (frozen_layers.h), plans the deltas and slices (frozen_run.c), registers
// the network for its layers (frozen_plan.c) and picks the device's steps
// (frozen_ops.h).
#include "frozen.h"

#include <string.h>

#include "frozen_layers.h"
#include "frozen_ops.h"
#include "load_network.h"
#include "util.h"

// The one place a frozen network's device is chosen: where Darknet loaded it
// (load_network.c puts frozen networks on the -gpu device).
static const frozen_ops *device_ops(const network *net)
{
#ifdef GPU
    if (net->gpu_index >= 0) return &frozen_cuda_ops;
#endif
    (void)net;
    return &frozen_cpu_ops;
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
    f->ops = device_ops(net);
    // Shared output/delta buffers are host memory: the CPU backend's only.
    make_frozen_slices(f, f->ops == &frozen_cpu_ops);
    register_frozen(f);
    net->train = 0;
    f->gpu = -1;
    f->ops->init(f, cfg);
    return f;
}

void free_frozen_net(frozen_net *f)
{
    if (!f) return;
    unregister_frozen(f);
    f->ops->release(f);
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

const float *frozen_forward(frozen_net *f, const float *input) { return f->ops->forward(f, input); }
void frozen_backward(frozen_net *f, float *grad_input) { f->ops->backward(f, grad_input); }
void frozen_clear_bn_grad(frozen_net *f) { f->ops->clear_bn_grad(f); }
