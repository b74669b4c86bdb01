// The frozen backward of the layers whose Darknet forward is kept and whose
// backward takes a few lines: connected, avgpool, shortcut, route, softmax,
// and the identity of dropout and cost; with the inference-mode BN
// derivative they share, and layer_images, which the convolution and the
// slices (frozen_run.c) use.
#include <math.h>
#include <string.h>

#include "darknet_internal.h"
#include "frozen_layers.h"

layer layer_images(const layer *l, int b0, int nb)
{
    layer s = *l;
    size_t out = (size_t)b0 * l->outputs;
    s.batch = nb;
    if (s.output) s.output += out;
    if (s.delta) s.delta += out;
    if (s.x) s.x += out;
    if (s.x_norm) s.x_norm += out;
    if (s.indexes) s.indexes += out;
    return s;
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
void backward_frozen_connected(layer l, network net)
{
    gradient_array(l.output, l.outputs * l.batch, l.activation, l.delta);
    frozen_plan p = frozen_layer_plan(&net);
    if (l.batch_normalize) backward_frozen_bn(&l, p.bn);
    float beta = p.assign ? 0 : 1;
    if (net.delta) gemm(0, 0, l.batch, l.inputs, l.outputs, 1, l.delta, l.outputs, l.weights, l.inputs, beta, net.delta, l.inputs);
}

void backward_frozen_avgpool(layer l, network net)
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
void backward_frozen_shortcut(layer l, network net)
{
    gradient_array(l.output, l.outputs * l.batch, l.activation, l.delta);
    if (net.delta) axpy_cpu(l.outputs * l.batch, l.alpha, l.delta, 1, net.delta, 1);
    shortcut_cpu(l.batch, l.out_w, l.out_h, l.out_c, l.delta, l.w, l.h, l.c, 1, l.beta, net.layers[l.index].delta);
}

void backward_frozen_route(layer l, network net)
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
void backward_frozen_identity(layer l, network net) { (void)l; (void)net; }

void backward_frozen_softmax(layer l, network net)
{
    if (!net.delta) return;
    if (frozen_layer_plan(&net).assign) memcpy(net.delta, l.delta, sizeof(float) * l.inputs * l.batch);
    else axpy_cpu(l.inputs * l.batch, 1, l.delta, 1, net.delta, 1);
}
