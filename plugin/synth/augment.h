// The view from the optimised pixels to the network input:
//   params [batch][pc][h/factor][w/factor]
//     -> copy to every input channel when pc == 1 < c (gray)
//     -> nearest upsampling by `factor` (multi-resolution stage)
//     -> roll by (dy, dx) with wrap-around (jitter), then optional horizontal flip
//   -> input [batch][c][h][w]
// Every step only moves pixels, so the backward is the matching scatter-add.
#ifndef INV_AUGMENT_H
#define INV_AUGMENT_H
#include "rng.h"

typedef struct {
    int batch, c, h, w;     // network input
    int pc, factor;         // parameter channels and downsampling factor
    int dy, dx, flip;       // this iteration's augmentation
} view;

// Draws a roll in [-jitter, jitter]^2 and, when flip is allowed, a coin for the flip.
void view_draw(view *v, rng *r, int jitter, int allow_flip);
void view_forward(const view *v, const float *params, float *input);
// grad_params = sum of grad_input over the input pixels each parameter feeds.
void view_backward(const view *v, const float *grad_input, float *grad_params);
// Ordinary training augmentation of one image [c][h][w]: shifted by (dx, dy)
// with zeros where the shift uncovers the border (a random crop of the image
// padded by |shift| pixels), then mirrored left-right if flip.
void shift_flip_image(const float *src, float *dst, int c, int h, int w, int dx, int dy, int flip);
#endif
