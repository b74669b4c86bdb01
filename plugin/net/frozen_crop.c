// The frozen network's [crop]: Darknet's forward_crop_layer at inference,
// which takes the centre crop_height x crop_width window of every plane (no
// flip, no random offset; angle, saturation, exposure and shift are unused on
// the CPU) and maps each value v to scale*v + trans: 2v - 1, or v itself with
// noadjust=1. Written here rather than called so that the forward leaves the C
// library's rand() alone (Darknet's draws a random offset even when it
// discards it).
#include "frozen_layers.h"

// Darknet's value scaling: inputs in [0, 1] become [-1, 1] unless noadjust.
static void crop_scaling(const layer *l, float *scale, float *trans)
{
    *scale = l->noadjust ? 1 : 2;
    *trans = l->noadjust ? 0 : -1;
}

// The window's top-left corner, as Darknet's inference mode places it.
static void crop_offset(const layer *l, int *dh, int *dw)
{
    *dh = (l->h - l->out_h) / 2;
    *dw = (l->w - l->out_w) / 2;
}

// input [batch][c][h][w] -> output [batch][c][out_h][out_w]
void forward_frozen_crop(layer l, network net)
{
    float scale, trans;
    int dh, dw;
    crop_scaling(&l, &scale, &trans);
    crop_offset(&l, &dh, &dw);
    for (int p = 0; p < l.batch * l.c; ++p)
        for (int i = 0; i < l.out_h; ++i) {
            const float *in = net.input + ((size_t)p * l.h + i + dh) * l.w + dw;
            float *out = l.output + ((size_t)p * l.out_h + i) * l.out_w;
            for (int j = 0; j < l.out_w; ++j) out[j] = in[j] * scale + trans;
        }
}

int crop_covers_input(const layer *l) { return l->out_h == l->h && l->out_w == l->w; }

// The input's delta at the cropped positions receives scale * delta; the
// rest of it is not touched, so it was zeroed first unless the crop covers
// the input and is its only writer (assign).
void backward_frozen_crop(layer l, network net)
{
    if (!net.delta) return;
    float scale, trans;
    int dh, dw, assign = frozen_layer_plan(&net).assign;
    crop_scaling(&l, &scale, &trans);
    crop_offset(&l, &dh, &dw);
    for (int p = 0; p < l.batch * l.c; ++p)
        for (int i = 0; i < l.out_h; ++i) {
            float *d = net.delta + ((size_t)p * l.h + i + dh) * l.w + dw;
            const float *g = l.delta + ((size_t)p * l.out_h + i) * l.out_w;
            if (assign)
                for (int j = 0; j < l.out_w; ++j) d[j] = scale * g[j];
            else
                for (int j = 0; j < l.out_w; ++j) d[j] += scale * g[j];
        }
}
