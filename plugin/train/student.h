// One training step of a network with Darknet's own machinery on a loss the
// plugin owns (the trainer's step; distill, continual): a per-sample delta
// writer at the output softmax, and the random crop and flip of its inputs.
#ifndef INV_STUDENT_H
#define INV_STUDENT_H
#include "darknet.h"
#include "rng.h"

// Writes, for each of the batch rows, Darknet's delta (-dLoss_b/dz) for the
// logits z of the network's output softmax (batch x outputs) and returns the
// batch's loss.
typedef double (*student_delta_fn)(void *ctx, const float *logits, int batch, int outputs, float *delta);

// One step on the batch already in net->input: Darknet's forward in training
// mode, the delta from fn at the output softmax (a [cost] after it adds
// nothing), Darknet's backward and, every `subdivisions` batches,
// update_network. Returns fn's loss.
double student_train_step(network *net, student_delta_fn fn, void *ctx);

// A training image as distill and continual see it: src shifted by a random
// (dx, dy) in [-crop, crop] (zero where it uncovers the border) and, if flip,
// mirrored with probability 1/2 (shift_flip_image); draws dx, dy, then the flip.
void random_crop_flip(rng *r, const float *src, float *dst, int c, int h, int w, int crop, int flip);
#endif
