// Running the frozen network: the batch is cut into slices that the OpenMP
// threads take in turn, each slice going through every layer with
// single-threaded BLAS. Images never interact in the forward or the backward
// (BN runs in inference mode); only the R_feature statistics, computed between
// the two (bn_stat.c), span the batch. So the threads synchronise once per
// pass instead of once per layer, and no second thread pool competes with
// OpenMP for the cores. A slice of a few images keeps a layer's columns in the
// core's cache between im2col and the GEMM.
#include <cblas.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "frozen_layers.h"
#include "frozen_ops.h"
#include "util.h"

// Images per slice aimed at; the slices of a batch are made equal and their
// number a multiple of the thread count, so that no thread waits long.
#define SLICE_IMAGES 8

// Who writes which delta in the backward: layer i+1 writes layer i's (f->input_delta
// for layer 0), a shortcut also its source's, a route its inputs'. A delta with
// one writer that covers it is overwritten (assign); any other is zeroed
// before its first writer runs (backward_slice). Dropout shares its delta with the layer before, and stopbackward
// leaves earlier deltas unwritten: with either, every delta is zeroed.
void plan_delta_writes(const network *net, char *assign, char *fused_pool, int *first_writer)
{
    int n = net->n, *writers = xcalloc(n + 1, sizeof(int)), zero_all = 0;   // writers[i + 1]: of layer i's delta
    for (int i = 0; i < n; ++i) first_writer[i] = i;
    for (int i = 0; i < n; ++i) {
        layer *l = &net->layers[i];
        if (l->type == DROPOUT || l->stopbackward) zero_all = 1;
        if (l->type != COST && l->type != DROPOUT) {
            ++writers[i];
            if (i > 0) first_writer[i - 1] = i;
        }
        if (l->type == SHORTCUT) ++writers[l->index + 1], first_writer[l->index] = i;
        if (l->type == ROUTE)
            for (int k = 0; k < l->n; ++k) ++writers[l->input_layers[k] + 1], first_writer[l->input_layers[k]] = i;
    }
    for (int i = 0; i < n; ++i) {
        layer *l = &net->layers[i];
        int covers = (l->type == CONVOLUTIONAL && conv_covers_input(l)) || (l->type == MAXPOOL && maxpool_covers_input(l)) ||
                     (l->type == CROP && crop_covers_input(l)) || l->type == CONNECTED || l->type == SOFTMAX;
        assign[i] = !zero_all && covers && writers[i] == 1;
        if (zero_all) first_writer[i] = n - 1;   // zeroed before the first backward
    }
    // A max-pool that alone writes the whole delta of the convolution below
    // it hands its gradient straight to that convolution's backward.
    fused_pool[0] = 0;
    for (int i = 1; i < n; ++i)
        fused_pool[i] = assign[i] && net->layers[i].type == MAXPOOL && net->layers[i - 1].type == CONVOLUTIONAL;
    free(writers);
}

// Outputs and deltas that frozen_buffers.c lets take turns point into shared
// buffers, each slice into its own part of them (slices run unsynchronised,
// each through every layer), and the layers' own buffers are kept aside,
// untouched, for free_frozen_net to put back before Darknet frees them.
static void share_buffers(frozen_net *f, int share)
{
    network *net = f->net;
    int n = net->n;
    f->kept = xcalloc(2 * (size_t)n, sizeof(float *));
    if (!share) return;
    frozen_buffer_plan p = plan_frozen_buffers(net, f->out, f->fused_pool, f->first_writer);
    f->nshared = p.n;
    f->shared = xcalloc(p.n ? p.n : 1, sizeof(float *));
    for (int b = 0; b < p.n; ++b) f->shared[b] = xcalloc((size_t)net->batch * p.size[b], sizeof(float));
    for (int i = 0; i < n; ++i)
        for (int which = 0; which < 2; ++which) {
            int b = which ? p.delta[i] : p.output[i];
            if (b < 0) continue;
            layer *l = &net->layers[i];
            float **ptr = which ? &l->delta : &l->output;
            f->kept[2 * i + which] = *ptr;
            *ptr = f->shared[b];
            for (int k = 0; k < f->nslices; ++k) {
                layer *s = &f->slices[k].layers[i];
                *(which ? &s->delta : &s->output) = f->shared[b] + (size_t)f->slices[k].b0 * p.size[b];
            }
        }
    free_frozen_buffer_plan(&p);
}

void frozen_slicing(int batch, int threads, int *nslices, int *chunk)
{
    int per_round = threads * SLICE_IMAGES;
    int n = threads * ((batch + per_round - 1) / per_round);
    if (n > batch) n = batch;
    *nslices = n;
    *chunk = (batch + n - 1) / n;
}

void make_frozen_slices(frozen_net *f, int share)
{
    network *net = f->net;
    f->assign = xcalloc(net->n, 1);
    f->fused_pool = xcalloc(net->n, 1);
    f->first_writer = xcalloc(net->n, sizeof(int));
    plan_delta_writes(net, f->assign, f->fused_pool, f->first_writer);
    int batch = net->batch, threads = omp_get_max_threads(), n, chunk;
    frozen_slicing(batch, threads, &n, &chunk);
    f->threads = threads;
    f->nslices = n;
    f->slices = xcalloc(n, sizeof *f->slices);
    f->slice_layers = xcalloc((size_t)n * net->n, sizeof(layer));
    f->chunk = 0;
    for (int k = 0; k < n; ++k) {
        frozen_slice *s = &f->slices[k];
        s->b0 = (int)((long)batch * k / n);
        s->nb = (int)((long)batch * (k + 1) / n) - s->b0;
        if (s->nb > f->chunk) f->chunk = s->nb;
        s->layers = f->slice_layers + (size_t)k * net->n;
        for (int i = 0; i < net->n; ++i) s->layers[i] = layer_images(&net->layers[i], s->b0, s->nb);
    }
    share_buffers(f, share);
    f->conv_path = xcalloc(net->n, 1);
    size_t cols = 0, rows = 0;
    for (int i = 0; i < net->n; ++i) {
        if (net->layers[i].type != CONVOLUTIONAL) continue;
        layer l = net->layers[i];
        l.batch = f->chunk;
        f->conv_path[i] = conv_path_of(&l);
        size_t need = conv_work(&l, f->conv_path[i]);
        if (need > cols) cols = need;
        if (frozen_conv_rows(&l) > rows) rows = frozen_conv_rows(&l);
    }
    for (int i = 0; i < net->n; ++i)
        if (net->layers[i].type == CONVOLUTIONAL && f->bn[i].channels)
            f->bn[i].part = xcalloc((size_t)n * 2 * f->bn[i].channels, sizeof(double));
    f->cols = xcalloc(threads, sizeof(float *));
    f->rows = xcalloc(threads, sizeof(float *));
    for (int t = 0; t < threads; ++t) {
        f->cols[t] = xcalloc(cols ? cols : 1, sizeof(float));
        f->rows[t] = xcalloc(rows ? rows : 1, sizeof(float));
    }
}

void free_frozen_slices(frozen_net *f)
{
    for (int i = 0; i < f->net->n; ++i) {
        layer *l = &f->net->layers[i];
        if (f->kept[2 * i]) l->output = f->kept[2 * i];
        if (f->kept[2 * i + 1]) l->delta = f->kept[2 * i + 1];
    }
    for (int b = 0; b < f->nshared; ++b) free(f->shared[b]);
    free(f->shared);
    free(f->kept);
    free(f->first_writer);
    for (int t = 0; t < f->threads; ++t) {
        free(f->cols[t]);
        free(f->rows[t]);
    }
    free(f->cols);
    free(f->rows);
    for (int i = 0; i < f->net->n; ++i) free(f->bn[i].part);
    free(f->slice_layers);
    free(f->assign);
    free(f->fused_pool);
    free(f->conv_path);
    free(f->slices);
    free(f->layer_seconds);
}

// The network as slice k's layer functions see it.
static network slice_network(const frozen_net *f, int k, float *input, float *delta)
{
    const frozen_slice *s = &f->slices[k];
    network n = *f->net;
    n.layers = s->layers;
    n.batch = s->nb;
    n.input = input + (size_t)s->b0 * f->inputs;
    n.delta = delta ? delta + (size_t)s->b0 * f->inputs : NULL;
    n.truth = NULL;
    n.train = 0;
    return n;
}

void frozen_time_layers(frozen_net *f)
{
    if (!f->layer_seconds) f->layer_seconds = xcalloc((size_t)f->threads * f->net->n * 2, sizeof(double));
    memset(f->layer_seconds, 0, sizeof(double) * f->threads * f->net->n * 2);
}

// Runs layer l's forward (pass 0) or backward (pass 1), timed when asked.
static void run_layer(const frozen_net *f, layer l, network n, int pass)
{
    if (!f->layer_seconds) {
        (pass ? l.backward : l.forward)(l, n);
        return;
    }
    double t0 = omp_get_wtime();
    (pass ? l.backward : l.forward)(l, n);
    f->layer_seconds[((size_t)omp_get_thread_num() * f->net->n + n.index) * 2 + pass] += omp_get_wtime() - t0;
}

// Darknet's forward_network on one slice.
static void forward_slice(frozen_net *f, int k)
{
    network n = slice_network(f, k, f->net->input, NULL);
    for (int i = 0; i < n.n; ++i)
        if (f->bn[i].part) memset(f->bn[i].part + (size_t)k * 2 * f->bn[i].channels, 0, sizeof(double) * 2 * f->bn[i].channels);
    for (int i = 0; i < n.n; ++i) {
        layer l = n.layers[i];
        n.index = i;
        run_layer(f, l, n, 0);
        n.input = l.output;
    }
}

// Darknet's backward_network on one slice, from the output layer's delta to
// the slice's part of f->input_delta.
static void backward_slice(frozen_net *f, int k)
{
    network orig = slice_network(f, k, f->net->input, f->input_delta);
    // Deltas that the next layer does not overwrite whole are accumulated
    // into, from zero set just before their first writer runs (a shared
    // buffer holds another layer's data until then); the output layer's was
    // set by frozen_backward.
    if (!f->assign[0]) memset(orig.delta, 0, sizeof(float) * (size_t)orig.batch * f->inputs);
    for (int i = orig.n - 1; i >= 0; --i) {
        layer l = orig.layers[i];
        if (l.stopbackward) break;
        for (int j = 0; j <= i; ++j) {
            layer *d = &orig.layers[j];
            if (f->first_writer[j] != i || !d->delta || j == f->out || (j + 1 < orig.n && f->assign[j + 1])) continue;
            memset(d->delta, 0, sizeof(float) * d->outputs * d->batch);
        }
        network n = orig;
        if (i > 0) {
            n.input = orig.layers[i - 1].output;
            n.delta = orig.layers[i - 1].delta;
        }
        n.index = i;
        run_layer(f, l, n, 1);
    }
}

static void run_slices(frozen_net *f, void (*pass)(frozen_net *, int))
{
    int blas = openblas_get_num_threads();
    if (f->threads > 1) openblas_set_num_threads(1);
    #pragma omp parallel for schedule(dynamic, 1) num_threads(f->threads)
    for (int k = 0; k < f->nslices; ++k) pass(f, k);
    if (f->threads > 1) openblas_set_num_threads(blas);
}

// The batch's input is a few MB: both cores copy it.
static void parallel_copy(float *dst, const float *src, size_t n, int threads)
{
    #pragma omp parallel for schedule(static) num_threads(threads)
    for (int t = 0; t < threads; ++t) {
        size_t a = n * t / threads, b = n * (t + 1) / threads;
        memcpy(dst + a, src + a, (b - a) * sizeof(float));
    }
}

static const float *forward_cpu(frozen_net *f, const float *input)
{
    network *net = f->net;
    parallel_copy(net->input, input, (size_t)net->batch * net->inputs, f->threads);
    net->train = 0;
    net->delta = NULL;
    run_slices(f, forward_slice);
    return net->layers[f->out].output;
}

static void backward_cpu(frozen_net *f, float *grad_input)
{
    network *net = f->net;
    size_t n = (size_t)net->batch * net->inputs;
    layer *o = &net->layers[f->out];
    // Darknet deltas are negative gradients; softmax with temperature T maps
    // logits x to softmax(x / T), hence the 1/T on the way in.
    for (int i = 0; i < net->batch * f->classes; ++i) o->delta[i] = -f->logit_grad[i] / o->temperature;
    run_slices(f, backward_slice);
    #pragma omp parallel for simd schedule(static) num_threads(f->threads)
    for (size_t i = 0; i < n; ++i) grad_input[i] = -f->input_delta[i];
}

static void clear_bn_grad_cpu(frozen_net *f)
{
    for (int i = 0; i < f->net->n; ++i)
        if (f->bn[i].channels) {
            memset(f->bn[i].ga, 0, sizeof(float) * f->bn[i].channels);
            memset(f->bn[i].gb, 0, sizeof(float) * f->bn[i].channels);
        }
}

// The CPU keeps nothing besides the slices and workspaces make_frozen_net makes.
static void init_cpu(frozen_net *f, const char *cfg) { (void)f, (void)cfg; }
static void release_cpu(frozen_net *f) { (void)f; }

const frozen_ops frozen_cpu_ops = {
    .name = "CPU",
    .init = init_cpu,
    .release = release_cpu,
    .forward = forward_cpu,
    .backward = backward_cpu,
    .clear_bn_grad = clear_bn_grad_cpu,
};
