// A generator network that learns to dream (fast mode): a Darknet network in
// Darknet's cfg syntax, trained in Darknet's training mode with its own
// forward_network/backward_network through the frozen teacher's input
// gradient, and Adam (adam.c) on its parameters and on the latent vectors.
//
//   input [batch][latent + classes] = latent vector ‖ one-hot(target)
//     --generator--> output [batch][pc][h][w] (logistic: pixels in [0,1])
//     --view (gray copy, jitter, flip)--> teacher input --> DeepInversion loss
//
// Gradients follow Darknet's convention: backward_network leaves -dL/dθ in
// each layer's *_updates arrays (summed over the batch) and -dL/d(input) in
// the input delta; the meta generator's *_updates hold the sum of the
// gradients its clones met (first-order MAML).
#ifndef INV_GENERATOR_H
#define INV_GENERATOR_H
#include <stddef.h>
#include <stdint.h>

#include "adam.h"
#include "augment.h"
#include "darknet.h"
#include "synth.h"

typedef struct {
    float *x, *update;      // a parameter array and its *_updates (-dL/dx)
    size_t n;
} gen_block;

typedef struct {
    network *net;           // batch = the inversion batch; training mode (BN on batch statistics)
    const char *cfg;
    int batch, latent, classes, pc, h, w;
    int nblocks;
    gen_block *blocks;      // weights, biases, BN scales of each [convolutional]/[connected]
    adam_state *adam;       // one per block
    float *delta_in;        // -dL/d(input) from backward_network [batch][latent + classes]
} generator;

// Loads cfg (weights NULL: Darknet's random initialisation, from rand()) at
// `batch`; its input must hold latent + classes values (latent > 0), its
// output pc x h x w with a logistic last layer. Dies naming the cfg otherwise.
generator *load_generator(const char *cfg, const char *weights, int batch, int classes, int pc, int h, int w,
                          float beta1, float beta2);
void free_generator(generator *g);

// The generator's input for latents [batch][latent] and targets.
void generator_input(const generator *g, const float *latents, const int *targets);
// forward_network on the input in net->input; returns the output [batch][pc][h][w].
const float *generator_forward(generator *g);
// backward_network from dL/d(output) (grad_out, [batch][pc][h][w]) after a
// forward: -dL/dθ added to the *_updates, -dL/d(input) into delta_in.
void generator_backward(generator *g, const float *grad_out);
void generator_zero_grad(generator *g);
// dst's *_updates += src's (same cfg).
void generator_add_grad(generator *dst, const generator *src);
// Adam on every block with the gradient -update, at learning rate lr.
void generator_adam_step(generator *g, float lr);
void generator_reset_adam(generator *g);
// Parameters (and BN running statistics) from src.
void generator_copy(generator *dst, const generator *src);

// The DeepInversion loss of the generator's images for latents and targets,
// seen through view v (syn's teacher, and student with [compete]); with grad,
// -dL/dθ added to the *_updates and dL/d(latents) written to grad_latents
// (may be NULL). Uses syn's input, gradient and parameter-gradient buffers.
double generator_loss(generator *g, synth *syn, const float *latents, const int *targets, const view *v, int grad,
                      float *grad_latents, synth_record *rec);

// Adam moments and step counts of every block (the meta generator's resume point).
void save_generator_adam(const generator *g, const char *path);
void load_generator_adam(generator *g, const char *path);   // dies on a size mismatch
#endif
