// The frozen network's own forward (batched convolution, max-pool, crop) must
// compute what Darknet's forward computes, layer by layer, including Darknet's
// reading of 1x1 strided convolutions, its max-pool window offset and its
// inference-mode crop.
#include <float.h>
#include <math.h>

#include "load_network.h"
#include "frozen.h"
#include "rng.h"
#include "testlib.h"

static const char *nets[] = {
    "[net]\nwidth=9\nheight=9\nchannels=3\n"
    "[convolutional]\nbatch_normalize=1\nfilters=6\nsize=3\nstride=1\npad=1\nactivation=leaky\n"
    "[maxpool]\nsize=2\nstride=2\n"
    "[convolutional]\nbatch_normalize=1\nfilters=8\nsize=3\nstride=2\npad=1\ngroups=2\nactivation=relu\n"
    "[convolutional]\nfilters=5\nsize=1\nstride=1\nactivation=logistic\n"
    "[maxpool]\nsize=3\nstride=1\n"
    "[connected]\noutput=4\nactivation=linear\n[softmax]\n",
    "[net]\nwidth=8\nheight=8\nchannels=2\n"
    "[convolutional]\nbatch_normalize=1\nfilters=4\nsize=1\nstride=2\nactivation=tanh\n"
    "[convolutional]\nfilters=6\nsize=2\nstride=1\npad=0\nactivation=elu\n"
    "[avgpool]\n[softmax]\n",
    // Even sides: the vectorised 2x2 max-pool, on coarse values (ties) and
    // widths that are and are not multiples of 8 windows.
    "[net]\nwidth=36\nheight=6\nchannels=2\n"
    "[maxpool]\nsize=2\nstride=2\n"
    "[convolutional]\nfilters=3\nsize=3\nstride=1\npad=1\nactivation=relu\n"
    "[maxpool]\nsize=2\nstride=2\n"
    "[connected]\noutput=3\nactivation=linear\n[softmax]\n",
    // Darknet's centre crop at inference: first (values kept, noadjust) and
    // after a convolution (values mapped to 2v - 1), odd and even margins.
    "[net]\nwidth=11\nheight=9\nchannels=3\n"
    "[crop]\ncrop_height=6\ncrop_width=8\nnoadjust=1\nflip=1\n"
    "[convolutional]\nbatch_normalize=1\nfilters=4\nsize=3\nstride=1\npad=1\nactivation=leaky\n"
    "[crop]\ncrop_height=3\ncrop_width=5\nflip=1\nshift=.2\n"
    "[connected]\noutput=4\nactivation=linear\n[softmax]\n",
    // As vgg-16 and strided: values mapped to 2v - 1 by the first layer; then
    // values kept, and a crop as large as its input.
    "[net]\nwidth=10\nheight=10\nchannels=3\n"
    "[crop]\ncrop_height=7\ncrop_width=7\nflip=1\nangle=0\nsaturation=1\nexposure=1\nshift=.2\n"
    "[convolutional]\nfilters=5\nsize=3\nstride=2\npad=1\nactivation=relu\n"
    "[crop]\ncrop_height=2\ncrop_width=3\nnoadjust=1\n"
    "[crop]\ncrop_height=2\ncrop_width=3\n"
    "[connected]\noutput=3\nactivation=linear\n[softmax]\n",
    // A plane too large for the 2x2 max-pool's whole-plane scratch (ImageNet
    // networks pool 112x112): a pair of rows at a time.
    "[net]\nwidth=100\nheight=94\nchannels=2\n"
    "[maxpool]\nsize=2\nstride=2\n"
    "[connected]\noutput=3\nactivation=linear\n[softmax]\n",
};

int main(void)
{
    rng r = make_rng(17);
    for (size_t k = 0; k < sizeof nets / sizeof *nets; ++k) {
        char *cfg = write_temp(nets[k], ".cfg");
        network *net = load_checked_network(cfg, NULL, 3, LAYERS_FROZEN);
        for (int i = 0; i < net->n; ++i) {
            layer *l = &net->layers[i];
            if (!l->batch_normalize) continue;
            for (int c = 0; c < l->out_c; ++c) {
                l->rolling_mean[c] = (float)(0.3 * rng_normal(&r));
                l->rolling_variance[c] = (float)(0.2 + rng_uniform(&r));
                l->scales[c] = (float)(0.5 + rng_uniform(&r));
            }
        }
        size_t n = (size_t)net->batch * net->inputs;
        float *x = calloc(n, sizeof(float));
        for (size_t i = 0; i < n; ++i) x[i] = k == 2 || k == 5 ? (float)rng_int(&r, -2, 2) : (float)rng_uniform(&r);
        if (k == 2 || k == 5) {   // a window whose only value above -FLT_MAX is its last; one with none
            int w = net->w;
            x[0] = x[1] = x[w] = -INFINITY;
            x[2] = x[3] = x[w + 2] = -INFINITY, x[w + 3] = -FLT_MAX;
        }
        // Darknet's own forward, every layer's output kept.
        float **ref = calloc(net->n, sizeof(float *));
        int **ref_index = calloc(net->n, sizeof(int *));
        memcpy(net->input, x, n * sizeof(float));
        net->train = 0;
        forward_network(net);
        for (int i = 0; i < net->n; ++i) {
            size_t m = (size_t)net->layers[i].outputs * net->batch;
            ref[i] = malloc(m * sizeof(float));
            memcpy(ref[i], net->layers[i].output, m * sizeof(float));
            if (net->layers[i].type == MAXPOOL) {
                ref_index[i] = malloc(m * sizeof(int));
                memcpy(ref_index[i], net->layers[i].indexes, m * sizeof(int));
            }
        }
        // Every layer's output kept, to be compared (frozen_buffers.c lets
        // most of them share memory otherwise).
        setenv("INV_SHARE_BUFFERS", "0", 1);
        frozen_net *f = make_frozen_net(net, cfg);
        unsetenv("INV_SHARE_BUFFERS");
        frozen_forward(f, x);
        for (int i = 0; i < net->n; ++i) {
            size_t m = (size_t)net->layers[i].outputs * net->batch;
            // Relative to the value, or to a tenth of the layer's RMS where the
            // value is smaller: a direct convolution sums in another order
            // than Darknet's GEMM, and a value near 0 is the difference of
            // larger terms (finite values only: net 2 holds -FLT_MAX).
            double rms = 0, worst = 0;
            size_t finite = 0;
            for (size_t j = 0; j < m; ++j)
                if (fabs(ref[i][j]) < 1e30) rms += (double)ref[i][j] * ref[i][j], ++finite;
            rms = finite ? sqrt(rms / finite) : 0;
            for (size_t j = 0; j < m; ++j)
                worst = fmax(worst, fabs((double)net->layers[i].output[j] - ref[i][j]) / (1e-3 + .1 * rms + fabs(ref[i][j])));
            CHECK(worst < 1e-5, "net %zu layer %d: frozen forward differs from Darknet's by %g (relative)", k, i, worst);
            if (i == 0 && net->layers[i].type == CROP)   // the same arithmetic on the same input
                CHECK(!memcmp(net->layers[i].output, ref[i], m * sizeof(float)), "net %zu: the first crop differs from Darknet's", k);
            if (ref_index[i]) {
                // The frozen network runs in slices of the batch: its indexes
                // count from the slice's first image.
                const layer *l = &net->layers[i];
                size_t bad = 0;
                for (size_t j = 0; j < m; ++j) {
                    int b = (int)(j / l->outputs), s = 0;
                    while (b >= f->slices[s].b0 + f->slices[s].nb) ++s;
                    int want = ref_index[i][j] < 0 ? -1 : ref_index[i][j] - f->slices[s].b0 * l->inputs;
                    bad += l->indexes[j] != want;
                }
                CHECK(bad == 0, "net %zu layer %d: %zu max-pool indexes differ from Darknet's", k, i, bad);
            }
            free(ref[i]);
            free(ref_index[i]);
        }
        // With shared buffers: the same softmax output, bit for bit.
        size_t m = (size_t)f->classes * net->batch;
        float *kept = malloc(m * sizeof(float));
        memcpy(kept, net->layers[f->out].output, m * sizeof(float));
        free_frozen_net(f);
        f = make_frozen_net(net, cfg);
        CHECK(k != 0 || f->nshared > 0, "net 0: no buffer is shared");
        CHECK(!memcmp(frozen_forward(f, x), kept, m * sizeof(float)), "net %zu: shared buffers change the output", k);
        free(kept);
        free(ref);
        free(ref_index);
        free(x);
        free_frozen_net(f);
        free_network(net);
        unlink(cfg);
        free(cfg);
    }
    return test_summary();
}
