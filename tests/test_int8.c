// Int8 simulation and calibration (plugin/net/int8.c): one convolution, with
// and without BN, quantized by the plugin against a hand-computed reference
// (per-filter weight scales, input at the threshold, direct convolution);
// the same with the input in 4 bits; the thresholds on histograms whose answer
// is known, in 127 and in 7 levels; ranges written and read back, from the
// table and from the input_calibration line alone, and with act_bits.
#include <math.h>

#include "int8.h"
#include "load_network.h"
#include "rng.h"
#include "testlib.h"

static const char *conv_cfg =
    "[net]\nbatch=2\nwidth=7\nheight=5\nchannels=2\n"
    "[convolutional]\nfilters=3\nsize=3\nstride=1\npad=1\nactivation=linear\nbatch_normalize=%d\n"
    "[convolutional]\nfilters=2\nsize=1\nstride=1\npad=0\nactivation=leaky\n";

static double q(double x, double s, int qmax)
{
    double v = x / s;
    v = v > qmax ? qmax : v < -qmax ? -qmax : v;
    return round(v) * s;
}

// Layer 0 of net by hand: quantized weights and input, float accumulation.
static void reference_conv(const layer *l, const float *w_orig, const float *in, double t, int qmax, double *out,
                           int quantize_input)
{
    int per = l->c * l->size * l->size;
    double *w = calloc((size_t)l->n * per, sizeof(double));
    for (int f = 0; f < l->n; ++f) {
        double m = 0;
        for (int i = 0; i < per; ++i) m = fabs(w_orig[f * per + i]) > m ? fabs(w_orig[f * per + i]) : m;
        for (int i = 0; i < per; ++i) w[f * per + i] = m > 0 ? q(w_orig[f * per + i], m / 127, 127) : 0;
    }
    for (int b = 0; b < l->batch; ++b)
        for (int f = 0; f < l->n; ++f)
            for (int y = 0; y < l->out_h; ++y)
                for (int x = 0; x < l->out_w; ++x) {
                    double acc = 0;
                    for (int c = 0; c < l->c; ++c)
                        for (int ky = 0; ky < l->size; ++ky)
                            for (int kx = 0; kx < l->size; ++kx) {
                                int iy = y + ky - l->pad, ix = x + kx - l->pad;
                                if (iy < 0 || ix < 0 || iy >= l->h || ix >= l->w) continue;
                                double v = in[((b * l->c + c) * l->h + iy) * l->w + ix];
                                acc += w[((f * l->c + c) * l->size + ky) * l->size + kx] * (quantize_input ? q(v, t / qmax, qmax) : v);
                            }
                    if (l->batch_normalize)
                        acc = l->scales[f] * (acc - l->rolling_mean[f]) / (sqrt(l->rolling_variance[f]) + .000001) +
                              l->biases[f];
                    else acc += l->biases[f];
                    out[((b * l->n + f) * l->out_h + y) * l->out_w + x] = acc;
                }
    free(w);
}

static void check_one_layer(int bn, int act_bits)
{
    int qmax = (1 << (act_bits - 1)) - 1;
    char text[1024];
    snprintf(text, sizeof text, conv_cfg, bn);
    char *path = write_temp(text, ".cfg");
    network *net = load_checked_network(path, NULL, 2, LAYERS_TRAIN);
    net->train = 0;
    layer *l = &net->layers[0];
    rng r = make_rng(7 + bn);
    for (int i = 0; i < l->nweights; ++i) l->weights[i] = (float)rng_normal(&r) * 0.3f;
    for (int f = 0; f < l->n; ++f) {
        l->biases[f] = (float)rng_normal(&r) * 0.1f;
        if (bn) {
            l->scales[f] = 1 + 0.2f * (float)rng_normal(&r);
            l->rolling_mean[f] = 0.1f * (float)rng_normal(&r);
            l->rolling_variance[f] = 0.5f + (float)rng_uniform(&r);
        }
    }
    float *w_orig = calloc(l->nweights, sizeof(float));
    memcpy(w_orig, l->weights, l->nweights * sizeof(float));
    int n_in = net->inputs * net->batch;
    for (int i = 0; i < n_in; ++i) net->input[i] = (float)(rng_uniform(&r) * 2.4 - 1.2);   // some beyond T
    int8_ranges rg = {2, (int[]){0, 1}, (float[]){1.2f, 0}, (float[]){0}, (float[]){0}, (float[]){0.9f, 3.f}, act_bits};
    float *input = calloc(n_in, sizeof(float));
    memcpy(input, net->input, n_in * sizeof(float));
    int8_quantize_network(net, &rg);
    forward_network(net);
    double *ref = calloc((size_t)l->outputs * l->batch, sizeof(double));
    reference_conv(l, w_orig, input, 0.9, qmax, ref, 1);
    double worst = 0;
    for (int i = 0; i < l->outputs * l->batch; ++i) {
        double e = fabs(l->output[i] - ref[i]) / (1e-3 + fabs(ref[i]));
        worst = e > worst ? e : worst;
    }
    CHECK(worst < 1e-4, "int8 convolution%s, input in %d bits, equals the hand-computed one (worst relative error %g)",
          bn ? " with BN" : "", act_bits, worst);
    CHECK(!memcmp(input, net->input, n_in * sizeof(float)), "the network input itself is left unquantized");
    // Restored forward: the weights stay quantized, the input is read as it is.
    int8_restore_forward(net);
    forward_network(net);
    reference_conv(l, w_orig, input, 0.9, qmax, ref, 0);
    worst = 0;
    for (int i = 0; i < l->outputs * l->batch; ++i) {
        double e = fabs(l->output[i] - ref[i]) / (1e-3 + fabs(ref[i]));
        worst = e > worst ? e : worst;
    }
    CHECK(worst < 1e-4, "restored forward%s: quantized weights, float input (worst relative error %g)", bn ? " with BN" : "", worst);
    free(input);
    free(ref);
    free(w_orig);
    free_network(net);
    unlink(path);
    free(path);
}

static void check_thresholds(void)
{
    double h[INT8_BINS];
    for (int j = 0; j < INT8_BINS; ++j) h[j] = 100;
    CHECK(fabs(kl_threshold(h, INT8_BINS, 4.f, 127) - 4.f) < 1e-6, "KL: a uniform histogram is kept whole (%g)",
          kl_threshold(h, INT8_BINS, 4.f, 127));
    CHECK(mse_threshold(h, INT8_BINS, 4.f, 127) > 3.8f, "MSE: a uniform histogram is nearly kept whole (%g)",
          mse_threshold(h, INT8_BINS, 4.f, 127));
    // Most values near 0, one far outlier: both clip well below the maximum.
    for (int j = 0; j < INT8_BINS; ++j) h[j] = j < 100 ? 1e6 * exp(-j / 20.0) : 0;
    h[INT8_BINS - 1] = 1;
    float kl = kl_threshold(h, INT8_BINS, 10.f, 127), mse = mse_threshold(h, INT8_BINS, 10.f, 127);
    CHECK(kl < 2.f && kl >= 10.f * 128 / INT8_BINS, "KL clips a lone outlier (%g of 10)", kl);
    CHECK(mse < 2.f && mse >= 10.f * 128 / INT8_BINS, "MSE clips a lone outlier (%g of 10)", mse);
    // A half-normal |x| (sigma 1 over [0, 5]): with 7 levels instead of 127
    // the least squared error clips harder, near the known optimum for a
    // Gaussian in 4 bits (about 2.5 sigma; 8 bits: about 4 sigma).
    for (int j = 0; j < INT8_BINS; ++j) {
        double x = (j + 0.5) * 5.0 / INT8_BINS;
        h[j] = 1e6 * exp(-x * x / 2);
    }
    float mse8 = mse_threshold(h, INT8_BINS, 5.f, 127), mse4 = mse_threshold(h, INT8_BINS, 5.f, 7);
    float kl8 = kl_threshold(h, INT8_BINS, 5.f, 127), kl4 = kl_threshold(h, INT8_BINS, 5.f, 7);
    CHECK(mse4 > 2.2f && mse4 < 2.9f && mse8 > 3.5f, "MSE of a Gaussian: %g sigma in 4 bits, %g in 8", mse4, mse8);
    CHECK(kl4 < kl8, "KL of a Gaussian clips harder in 4 bits (%g) than in 8 (%g)", kl4, kl8);
    // Mostly zeros (a black background after a leaky ReLU): in 7 levels KL
    // still keeps at least a sixteenth of the range instead of clipping
    // nearly everything.
    for (int j = 0; j < INT8_BINS; ++j) h[j] = j == 0 ? 1e7 : 10;
    float sparse = kl_threshold(h, INT8_BINS, 8.f, 7);
    CHECK(sparse >= 8.f / 16, "KL of mostly zeros in 4 bits: threshold %g of 8", sparse);
    for (int j = 0; j < INT8_BINS; ++j) h[j] = 0;
    CHECK(kl_threshold(h, INT8_BINS, 0.f, 127) == 0.f && mse_threshold(h, INT8_BINS, 0.f, 127) == 0.f,
          "an empty histogram: the maximum");
}

static void check_files(void)
{
    char text[1024];
    snprintf(text, sizeof text, conv_cfg, 1);
    char *cfg = write_temp(text, ".cfg");
    network *net = load_checked_network(cfg, NULL, 1, LAYERS_TRAIN);
    int8_ranges r = {2, (int[]){0, 1}, (float[]){2.5f, 7.f}, (float[]){1.5f, 6.f}, (float[]){2.f, 5.5f}, (float[]){2.f, 5.5f}, 8};
    char *path = write_temp("", ".txt");
    write_int8_ranges(path, &r, "test");
    int8_ranges back = read_int8_ranges(path, net);
    CHECK(back.n == 2 && back.layer[0] == 0 && back.layer[1] == 1, "ranges read back: layers");
    CHECK(back.n == 2 && back.threshold[0] == 2.f && back.threshold[1] == 5.5f && back.maxabs[1] == 7.f && back.kl[1] == 6.f,
          "ranges read back: thresholds %g %g", back.threshold[0], back.threshold[1]);
    CHECK(back.act_bits == 8, "ranges read back: int8 inputs (%d bits)", back.act_bits);
    free_int8_ranges(&back);
    // Inputs in 4 bits: said in the file, read back; no int8 line.
    r.act_bits = 4;
    write_int8_ranges(path, &r, "test");
    back = read_int8_ranges(path, net);
    CHECK(back.act_bits == 4 && back.threshold[1] == 5.5f, "4-bit ranges read back: %d bits, threshold %g", back.act_bits,
          back.threshold[1]);
    free_int8_ranges(&back);
    FILE *f = fopen(path, "r");
    char buf[512];
    int has_line = 0, has_bits = 0;
    while (f && fgets(buf, sizeof buf, f)) {
        has_line |= !strncmp(buf, "input_calibration", 17);
        has_bits |= !strcmp(buf, "act_bits = 4\n");
    }
    if (f) fclose(f);
    CHECK(has_bits && !has_line, "4-bit ranges: an act_bits line, no input_calibration line");
    r.act_bits = 8;
    char line[256];
    format_input_calibration(line, sizeof line, &r);
    CHECK(!strcmp(line, "input_calibration = 63.5, 23.0909"), "the input_calibration line: %s", line);
    strcat(line, "\n");
    char *only = write_temp(line, ".txt");
    back = read_int8_ranges(only, net);
    CHECK(back.n == 2 && fabsf(back.threshold[0] - 2.f) < 1e-5f && fabsf(back.threshold[1] - 5.5f) < 1e-4f,
          "input_calibration alone read back: %g %g", back.threshold[0], back.threshold[1]);
    free_int8_ranges(&back);
    unlink(only); free(only);
    unlink(path); free(path);
    free_network(net);
    unlink(cfg); free(cfg);
}

int main(void)
{
    check_one_layer(0, 8);
    check_one_layer(1, 8);
    check_one_layer(1, 4);
    check_thresholds();
    check_files();
    return test_summary();
}
