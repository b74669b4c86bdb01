#include "int8.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "imageio.h"
#include "util.h"

// Each convolution's forward goes through forward_convolutional_int8, which
// finds its hook by the layer's output buffer (Darknet passes layers by
// value) and observes or quantizes the input before Darknet's own forward.
typedef enum { HOOK_MAX, HOOK_HISTOGRAM, HOOK_QUANTIZE } hook_mode;

typedef struct {
    const float *output;                            // identifies the layer
    void (*forward)(struct layer, struct network);  // Darknet's
    float scale;                                    // T / qmax (HOOK_QUANTIZE)
    int qmax;                                       // 127 for int8 (HOOK_QUANTIZE)
    float *scratch;                                 // the quantized input
    float maxabs;
    double *hist;                                   // INT8_BINS (HOOK_HISTOGRAM)
} int8_hook;

static int8_hook *hooks;
static int nhooks;
static hook_mode mode;
static size_t observed_values;   // per image: the padded images of a last batch are not data

static int8_hook *find_hook(const float *output)
{
    for (int i = 0; i < nhooks; ++i)
        if (hooks[i].output == output) return &hooks[i];
    inv_die("internal: int8 forward on a layer without a hook");
}

static void forward_convolutional_int8(layer l, network net)
{
    int8_hook *h = find_hook(l.output);
    size_t n = (size_t)l.inputs * l.batch, seen = observed_values * l.inputs;
    if (seen > n) seen = n;
    if (mode == HOOK_QUANTIZE) {
        for (size_t i = 0; i < n; ++i) h->scratch[i] = fake_quantize(net.input[i], h->scale, h->qmax);
        net.input = h->scratch;
    } else if (mode == HOOK_MAX) {
        for (size_t i = 0; i < seen; ++i) {
            float a = fabsf(net.input[i]);
            if (a > h->maxabs) h->maxabs = a;
        }
    } else if (h->maxabs > 0) {
        double per_bin = INT8_BINS / (double)h->maxabs;
        for (size_t i = 0; i < seen; ++i) {
            int b = (int)(fabsf(net.input[i]) * per_bin);
            h->hist[b < INT8_BINS ? b : INT8_BINS - 1] += 1;
        }
    }
    h->forward(l, net);
}

// The indexes of net's convolutional layers into layers (may be NULL); their count.
static int convolutions_of(const network *net, int *layers)
{
    int n = 0;
    for (int i = 0; i < net->n; ++i)
        if (net->layers[i].type == CONVOLUTIONAL) {
            if (layers) layers[n] = i;
            ++n;
        }
    return n;
}

// Hooks on every convolution of net (indexes into *layers when given).
static void install_hooks(network *net, hook_mode m, int **layers)
{
    if (nhooks) inv_die("internal: int8 hooks already installed on another network");
    int n = convolutions_of(net, NULL);
    hooks = xcalloc(n ? n : 1, sizeof *hooks);
    if (layers) *layers = xcalloc(n ? n : 1, sizeof(int));
    for (int i = 0; i < net->n; ++i) {
        layer *l = &net->layers[i];
        if (l->type != CONVOLUTIONAL) continue;
        int8_hook *h = &hooks[nhooks];
        h->output = l->output;
        h->forward = l->forward;
        if (layers) (*layers)[nhooks] = i;
        l->forward = forward_convolutional_int8;
        ++nhooks;
    }
    mode = m;
}

void int8_restore_forward(network *net)
{
    for (int i = 0; i < net->n; ++i) {
        layer *l = &net->layers[i];
        if (l->forward != forward_convolutional_int8) continue;
        l->forward = find_hook(l->output)->forward;
    }
    for (int i = 0; i < nhooks; ++i) {
        free(hooks[i].scratch);
        free(hooks[i].hist);
    }
    free(hooks);
    hooks = NULL;
    nhooks = 0;
}

// The KL rule's smallest candidate threshold, in bins: int8's first (128 of
// 2048, a sixteenth of the maximum) for every level count. Starting at the
// level count instead lets fewer levels win by clipping nearly everything: at
// i = levels each level is one bin, so Q matches P but for the clipped mass,
// and on inputs that are mostly 0 that costs little (measured: 4-bit inputs on
// the Fashion-MNIST teacher fell to chance).
#define KL_FIRST_BIN 128

float kl_threshold(const double *hist, int bins, float maxabs, int qmax)
{
    int levels = qmax + 1;
    double total = 0;
    for (int j = 0; j < bins; ++j) total += hist[j];
    if (total <= 0 || maxabs <= 0 || bins < KL_FIRST_BIN || bins < levels) return maxabs;
    double *p = xcalloc(bins, sizeof(double)), *q = xcalloc(bins, sizeof(double));
    double best = INFINITY;
    int best_i = bins;
    for (int i = KL_FIRST_BIN > levels ? KL_FIRST_BIN : levels; i <= bins; ++i) {
        // P: the first i bins, the clipped values piled into the last one.
        double outliers = 0, psum = 0;
        for (int j = i; j < bins; ++j) outliers += hist[j];
        for (int j = 0; j < i; ++j) p[j] = hist[j];
        p[i - 1] += outliers;
        for (int j = 0; j < i; ++j) psum += p[j];
        // Q: the same i bins (unclipped) merged into the levels, each level's
        // count spread evenly over its non-empty bins.
        double qsum = 0;
        for (int k = 0; k < levels; ++k) {
            int start = (int)((long)k * i / levels), end = (int)((long)(k + 1) * i / levels);
            double mass = 0;
            int filled = 0;
            for (int j = start; j < end; ++j) { mass += hist[j]; filled += hist[j] != 0; }
            for (int j = start; j < end; ++j) q[j] = hist[j] != 0 ? mass / filled : 0;
            qsum += mass;
        }
        // KL(P || Q); a value P has where Q has none costs as if Q were tiny.
        double kl = 0;
        for (int j = 0; j < i; ++j) {
            if (p[j] == 0) continue;
            double pj = p[j] / psum, qj = qsum > 0 ? q[j] / qsum : 0;
            kl += pj * log(pj / (qj > 0 ? qj : 1e-12));
        }
        if (kl < best) { best = kl; best_i = i; }
    }
    free(p);
    free(q);
    return (float)((double)maxabs * best_i / bins);
}

float mse_threshold(const double *hist, int bins, float maxabs, int qmax)
{
    double total = 0;
    for (int j = 0; j < bins; ++j) total += hist[j];
    if (total <= 0 || maxabs <= 0 || bins <= qmax) return maxabs;
    double width = (double)maxabs / bins, best = INFINITY;
    int best_i = bins;
    for (int i = qmax + 1; i <= bins; ++i) {
        double scale = width * i / qmax, err = 0;
        for (int j = 0; j < bins; ++j) {
            if (hist[j] == 0) continue;
            double x = (j + 0.5) * width, q = round(x / scale);
            q = (q > qmax ? qmax : q) * scale;
            err += hist[j] * (x - q) * (x - q);
        }
        if (err < best) { best = err; best_i = i; }
    }
    return (float)((double)maxabs * best_i / bins);
}

struct int8_calibrator {
    network *net;
    int *layers;
};

int8_calibrator *make_int8_calibrator(network *net)
{
    int8_calibrator *c = xcalloc(1, sizeof *c);
    c->net = net;
    install_hooks(net, HOOK_MAX, &c->layers);
    for (int i = 0; i < nhooks; ++i) hooks[i].hist = xcalloc(INT8_BINS, sizeof(double));
    return c;
}

void int8_calibrator_pass(int8_calibrator *c, const float *images, int n, int pass)
{
    network *net = c->net;
    mode = pass == 0 ? HOOK_MAX : HOOK_HISTOGRAM;
    int train = net->train;
    float *truth = net->truth, *delta = net->delta;
    net->train = 0;
    net->truth = NULL;
    net->delta = NULL;
    size_t size = (size_t)net->inputs;
    for (int i = 0; i < n; i += net->batch) {
        int m = n - i < net->batch ? n - i : net->batch;
        memcpy(net->input, images + (size_t)i * size, (size_t)m * size * sizeof(float));
        if (m < net->batch) memset(net->input + (size_t)m * size, 0, (size_t)(net->batch - m) * size * sizeof(float));
        observed_values = (size_t)m;
        forward_network(net);
    }
    net->train = train;
    net->truth = truth;
    net->delta = delta;
}

static int8_ranges make_int8_ranges(int n)
{
    int m = n ? n : 1;
    int8_ranges r = {n, xcalloc(m, sizeof(int)), xcalloc(m, sizeof(float)), xcalloc(m, sizeof(float)),
                     xcalloc(m, sizeof(float)), xcalloc(m, sizeof(float)), 8};
    return r;
}

int8_threshold_rule parse_int8_threshold_rule(const char *s, const char *flag)
{
    if (!strcmp(s, "kl")) return INT8_THRESHOLD_KL;
    if (!strcmp(s, "mse")) return INT8_THRESHOLD_MSE;
    if (!strcmp(s, "max")) return INT8_THRESHOLD_MAX;
    inv_die("%s %s: expected kl, mse or max", flag, s);
}

int8_ranges int8_calibrator_ranges(const int8_calibrator *c, int8_threshold_rule rule, int act_bits)
{
    if (act_bits < 2 || act_bits > 8) inv_die("internal: %d activation bits", act_bits);
    int8_ranges r = make_int8_ranges(nhooks);
    r.act_bits = act_bits;
    int qmax = act_qmax(act_bits);
    for (int i = 0; i < nhooks; ++i) {
        r.layer[i] = c->layers[i];
        r.maxabs[i] = hooks[i].maxabs;
        r.kl[i] = kl_threshold(hooks[i].hist, INT8_BINS, hooks[i].maxabs, qmax);
        r.mse[i] = mse_threshold(hooks[i].hist, INT8_BINS, hooks[i].maxabs, qmax);
        r.threshold[i] = rule == INT8_THRESHOLD_KL ? r.kl[i] : rule == INT8_THRESHOLD_MSE ? r.mse[i] : r.maxabs[i];
        // An input that was 0 throughout still needs a usable scale.
        if (r.threshold[i] <= 0) r.threshold[i] = 1;
    }
    return r;
}

void free_int8_calibrator(int8_calibrator *c)
{
    if (!c) return;
    int8_restore_forward(c->net);
    free(c->layers);
    free(c);
}

void format_input_calibration(char *buf, size_t n, const int8_ranges *r)
{
    size_t len = snprintf(buf, n, "input_calibration = ");
    for (int i = 0; i < r->n && len < n; ++i)
        len += snprintf(buf + len, n - len, "%s%.6g", i ? ", " : "", 127.0 / r->threshold[i]);
}

void write_int8_ranges(const char *path, const int8_ranges *r, const char *what)
{
    size_t cap = 512 + strlen(what) + (size_t)r->n * 128;
    char *text = xcalloc(cap, 1);
    int qmax = act_qmax(r->act_bits);
    size_t len = snprintf(text, cap,
                          "# int8 input ranges of every convolution: %s\n"
                          "# layer type maxabs kl mse threshold multiplier(%d/threshold)\n", what, qmax);
    for (int i = 0; i < r->n; ++i)
        len += snprintf(text + len, cap - len, "%d convolutional %.9g %.9g %.9g %.9g %.9g\n", r->layer[i], r->maxabs[i],
                        r->kl[i], r->mse[i], r->threshold[i], (double)qmax / r->threshold[i]);
    if (r->act_bits == 8) format_input_calibration(text + len, cap - len, r);
    else snprintf(text + len, cap - len, "act_bits = %d", r->act_bits);
    strncat(text, "\n", cap - strlen(text) - 1);
    save_text(path, text);
    free(text);
}


static float positive_value(const char *s, const char *path, int line, const char *what)
{
    char *end;
    errno = 0;
    float v = strtof(s, &end);
    if (end == s || errno || !isfinite(v) || v <= 0)
        inv_die("%s:%d: %s '%.40s' is not a positive number", path, line, what, s);
    return v;
}

int8_ranges read_int8_ranges(const char *path, const network *net)
{
    int want = convolutions_of(net, NULL);
    int8_ranges r = make_int8_ranges(want);
    convolutions_of(net, r.layer);
    float *from_line = xcalloc(want ? want : 1, sizeof(float));
    int table = 0, in_line = -1, lineno = 0;
    FILE *f = fopen(path, "r");
    if (!f) inv_die("cannot open int8 ranges %s: %s", path, strerror(errno));
    char buf[65536];
    while (fgets(buf, sizeof buf, f)) {
        ++lineno;
        char *s = buf;
        while (*s == ' ' || *s == '\t') ++s;
        if (*s == '#' || *s == '\n' || *s == '\r' || !*s) continue;
        if (!strncmp(s, "input_calibration", 17)) {
            char *eq = strchr(s, '=');
            if (!eq) inv_die("%s:%d: input_calibration without '='", path, lineno);
            in_line = 0;
            for (char *tok = strtok(eq + 1, ", \t\r\n"); tok; tok = strtok(NULL, ", \t\r\n")) {
                if (in_line >= want)
                    inv_die("%s:%d: input_calibration has more values than the network's %d convolutional layers", path, lineno, want);
                from_line[in_line++] = 127.0f / positive_value(tok, path, lineno, "multiplier");
            }
            if (in_line != want)
                inv_die("%s:%d: input_calibration has %d values, the network has %d convolutional layers", path, lineno, in_line, want);
            continue;
        }
        if (!strncmp(s, "act_bits", 8)) {
            char *eq = strchr(s, '='), *end;
            long b = eq ? strtol(eq + 1, &end, 10) : 0;
            if (!eq || end == eq + 1 || b < 2 || b > 8)
                inv_die("%s:%d: act_bits: expected '= B' with B from 2 to 8", path, lineno);
            r.act_bits = (int)b;
            continue;
        }
        if (*s == '[') continue;   // a cfg: its sections are not ranges
        int index;
        char type[64], v[5][64];
        int got = sscanf(s, "%d %63s %63s %63s %63s %63s %63s", &index, type, v[0], v[1], v[2], v[3], v[4]);
        if (got != 4 && got < 6) {
            if (strchr(s, '=')) continue;   // another cfg key
            inv_die("%s:%d: expected '<layer> convolutional <maxabs> <kl> <mse> <threshold> [<multiplier>]' "
                    "or '<layer> convolutional <maxabs> <threshold>'", path, lineno);
        }
        const char *maxabs = v[0], *threshold = got == 4 ? v[1] : v[3];
        if (strcmp(type, "convolutional"))
            inv_die("%s:%d: layer %d is '%s'; only convolutional layers have int8 ranges", path, lineno, index, type);
        if (table >= want || r.layer[table] != index)
            inv_die("%s:%d: layer %d is not the network's next convolutional layer (expected %d)", path, lineno, index,
                    table < want ? r.layer[table] : -1);
        r.maxabs[table] = strtof(maxabs, NULL);
        if (got >= 6) {
            r.kl[table] = strtof(v[1], NULL);
            r.mse[table] = strtof(v[2], NULL);
        }
        r.threshold[table] = positive_value(threshold, path, lineno, "threshold");
        ++table;
    }
    fclose(f);
    if (table && table != want) inv_die("%s: ranges for %d convolutional layers, the network has %d", path, table, want);
    if (!table) {
        if (in_line < 0) inv_die("%s holds no int8 ranges (neither a layer table nor an input_calibration line)", path);
        memcpy(r.threshold, from_line, sizeof(float) * want);
    }
    free(from_line);
    return r;
}

void free_int8_ranges(int8_ranges *r)
{
    free(r->layer);
    free(r->maxabs);
    free(r->kl);
    free(r->mse);
    free(r->threshold);
    r->layer = NULL;
    r->maxabs = r->kl = r->mse = r->threshold = NULL;
    r->n = 0;
}

void int8_quantize_weights(float *w, int n)
{
    float m = 0;
    for (int i = 0; i < n; ++i) m = fabsf(w[i]) > m ? fabsf(w[i]) : m;
    if (m == 0) return;
    float s = m / 127.f;
    for (int i = 0; i < n; ++i) w[i] = int8_fake_quantize(w[i], s);
}

void int8_quantize_network(network *net, const int8_ranges *r)
{
    int *layers;
    install_hooks(net, HOOK_QUANTIZE, &layers);
    if (nhooks != r->n) inv_die("internal: %d int8 ranges for %d convolutional layers", r->n, nhooks);
    for (int i = 0; i < nhooks; ++i) {
        if (layers[i] != r->layer[i]) inv_die("internal: int8 range %d is for layer %d, not %d", i, r->layer[i], layers[i]);
        layer *l = &net->layers[layers[i]];
        int per = l->nweights / l->n;
        for (int k = 0; k < l->n; ++k) int8_quantize_weights(l->weights + (size_t)k * per, per);
        hooks[i].qmax = act_qmax(r->act_bits);
        hooks[i].scale = r->threshold[i] / hooks[i].qmax;
        hooks[i].scratch = xcalloc((size_t)l->inputs * l->batch, sizeof(float));
    }
    free(layers);
}
