#include "generator.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "load_network.h"
#include "netstate.h"
#include "util.h"

static void add_block(generator *g, float *x, float *update, size_t n)
{
    g->blocks = realloc(g->blocks, (g->nblocks + 1) * sizeof *g->blocks);
    if (!g->blocks) inv_die("out of memory");
    g->blocks[g->nblocks++] = (gen_block){x, update, n};
}

generator *load_generator(const char *cfg, const char *weights, int batch, int classes, int pc, int h, int w,
                          float beta1, float beta2)
{
    // Every check before the generator's own allocations: a refusal exits
    // with nothing of the plugin's left unreferenced.
    network *net = load_checked_network(cfg, weights, batch, LAYERS_TRAIN);
    int latent = net->inputs - classes;
    if (latent <= 0)
        inv_die("%s: the generator's input (%d values) must hold a latent vector and the one-hot target (%d classes)", cfg,
                net->inputs, classes);
    int out = output_layer_index(net);
    if (out != net->n - 1) inv_die("%s: the generator ends in its image layer (no [cost] or [softmax] after it)", cfg);
    layer *o = &net->layers[out];
    if (o->out_c != pc || o->out_h != h || o->out_w != w)
        inv_die("%s: the generator's output is %dx%dx%d, the teacher needs %dx%dx%d%s", cfg, o->out_w, o->out_h, o->out_c, w, h,
                pc, pc == 1 ? " ([inversion] gray=1: one channel)" : "");
    if ((o->type != CONVOLUTIONAL && o->type != CONNECTED) || o->activation != LOGISTIC)
        inv_die("%s: the generator's last layer must be a [convolutional] or [connected] with activation=logistic (pixels in [0,1])", cfg);
    for (int i = 0; i < net->n; ++i) {
        layer *l = &net->layers[i];
        if (l->type != CONVOLUTIONAL && l->type != CONNECTED && l->type != UPSAMPLE && l->type != REORG && l->type != ACTIVE &&
            l->type != MAXPOOL)
            inv_die("%s: layer %d is a [%s]; a generator has [connected], [reorg], [upsample], [convolutional], [activation] and [maxpool]",
                    cfg, i, layer_type_name(l->type));
    }
    generator *g = xcalloc(1, sizeof *g);
    g->net = net;
    g->cfg = cfg;
    g->batch = batch, g->classes = classes, g->pc = pc, g->h = h, g->w = w;
    g->latent = latent;
    for (int i = 0; i < net->n; ++i) {
        layer *l = &net->layers[i];
        if (l->type != CONVOLUTIONAL && l->type != CONNECTED) continue;
        size_t nw = l->type == CONVOLUTIONAL ? (size_t)l->nweights : (size_t)l->inputs * l->outputs;
        size_t nb = l->type == CONVOLUTIONAL ? (size_t)l->n : (size_t)l->outputs;
        add_block(g, l->weights, l->weight_updates, nw);
        add_block(g, l->biases, l->bias_updates, nb);
        if (l->batch_normalize) add_block(g, l->scales, l->scale_updates, nb);
    }
    g->adam = xcalloc(g->nblocks, sizeof *g->adam);
    for (int k = 0; k < g->nblocks; ++k) g->adam[k] = make_adam(g->blocks[k].n, beta1, beta2, 1e-8f);
    g->delta_in = xcalloc((size_t)batch * net->inputs, sizeof(float));
    net->delta = g->delta_in;   // backward_network writes layer 0's input gradient here
    net->train = 1;
    generator_zero_grad(g);
    return g;
}

void free_generator(generator *g)
{
    if (!g) return;
    for (int k = 0; k < g->nblocks; ++k) free_adam(&g->adam[k]);
    free(g->adam);
    free(g->blocks);
    g->net->delta = NULL;
    free(g->delta_in);
    free_network(g->net);
    free(g);
}

void generator_input(const generator *g, const float *latents, const int *targets)
{
    int in = g->net->inputs;
    for (int b = 0; b < g->batch; ++b) {
        float *x = g->net->input + (size_t)b * in;
        memcpy(x, latents + (size_t)b * g->latent, g->latent * sizeof(float));
        memset(x + g->latent, 0, g->classes * sizeof(float));
        x[g->latent + targets[b]] = 1;
    }
}

const float *generator_forward(generator *g)
{
    g->net->train = 1;
    forward_network(g->net);
    return g->net->layers[g->net->n - 1].output;
}

void generator_backward(generator *g, const float *grad_out)
{
    network *net = g->net;
    layer *o = &net->layers[net->n - 1];
    size_t n = (size_t)o->outputs * g->batch;
    for (size_t i = 0; i < n; ++i) o->delta[i] = -grad_out[i];
    memset(g->delta_in, 0, (size_t)g->batch * net->inputs * sizeof(float));
    backward_network(net);
}

void generator_zero_grad(generator *g)
{
    for (int k = 0; k < g->nblocks; ++k) memset(g->blocks[k].update, 0, g->blocks[k].n * sizeof(float));
}

void generator_add_grad(generator *dst, const generator *src)
{
    if (dst->nblocks != src->nblocks) inv_die("internal: generators differ");
    for (int k = 0; k < dst->nblocks; ++k) {
        float *a = dst->blocks[k].update;
        const float *b = src->blocks[k].update;
        for (size_t i = 0; i < dst->blocks[k].n; ++i) a[i] += b[i];
    }
}

void generator_adam_step(generator *g, float lr)
{
    for (int k = 0; k < g->nblocks; ++k) {
        gen_block *b = &g->blocks[k];
        for (size_t i = 0; i < b->n; ++i) b->update[i] = -b->update[i];   // Darknet's -dL/dx to the gradient
        adam_step(&g->adam[k], b->x, b->update, lr);
    }
    generator_zero_grad(g);
}

void generator_reset_adam(generator *g)
{
    for (int k = 0; k < g->nblocks; ++k) reset_adam(&g->adam[k]);
}

void generator_copy(generator *dst, const generator *src) { copy_network_params(dst->net, src->net); }

double generator_loss(generator *g, synth *syn, const float *latents, const int *targets, const view *v, int grad,
                      float *grad_latents, synth_record *rec)
{
    generator_input(g, latents, targets);
    const float *out = generator_forward(g);
    view_forward(v, out, syn->input);
    double loss = synth_loss(syn, syn->input, targets, grad ? syn->grad_input : NULL, rec);
    if (!grad) return loss;
    view_backward(v, syn->grad_input, syn->grad_params);
    generator_backward(g, syn->grad_params);
    if (grad_latents) {
        int in = g->net->inputs;
        for (int b = 0; b < g->batch; ++b)
            for (int j = 0; j < g->latent; ++j) grad_latents[(size_t)b * g->latent + j] = -g->delta_in[(size_t)b * in + j];
    }
    return loss;
}

void save_generator_adam(const generator *g, const char *path)
{
    atomic_file f = atomic_open(path);
    for (int k = 0; k < g->nblocks; ++k) {
        fwrite(&g->adam[k].t, sizeof(int), 1, f.f);
        fwrite(g->adam[k].m, sizeof(float), g->adam[k].n, f.f);
        fwrite(g->adam[k].v, sizeof(float), g->adam[k].n, f.f);
    }
    atomic_commit(&f);
}

void load_generator_adam(generator *g, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) inv_die("cannot open %s: %s", path, strerror(errno));
    for (int k = 0; k < g->nblocks; ++k) {
        adam_state *a = &g->adam[k];
        if (fread(&a->t, sizeof(int), 1, f) != 1 || fread(a->m, sizeof(float), a->n, f) != a->n ||
            fread(a->v, sizeof(float), a->n, f) != a->n)
            inv_die("%s: truncated (generator %s, parameter block %d)", path, g->cfg, k);
    }
    if (fgetc(f) != EOF) inv_die("%s: longer than the Adam state of generator %s", path, g->cfg);
    fclose(f);
}
