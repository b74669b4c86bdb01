#include "load_network.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "device.h"
#include "util.h"

// Section names Darknet's parser knows, whether the frozen backward supports
// them, and why a network the plugin trains or evaluates cannot have them
// (NULL: it can): the weights of these types are neither checked against the
// file nor counted when written, and Darknet's [batchnorm] crashes in training.
#define UNCOUNTED "its weights are not among those the plugin checks and writes (convolutional, connected)"
static const struct { const char *name; int frozen; const char *not_trained; } sections[] = {
    {"net", 1, NULL}, {"network", 1, NULL}, {"convolutional", 1, NULL}, {"conv", 1, NULL},
    {"connected", 1, NULL}, {"conn", 1, NULL}, {"maxpool", 1, NULL}, {"max", 1, NULL}, {"avgpool", 1, NULL},
    {"avg", 1, NULL}, {"shortcut", 1, NULL}, {"route", 1, NULL}, {"dropout", 1, NULL}, {"softmax", 1, NULL},
    {"soft", 1, NULL}, {"cost", 1, NULL}, {"crop", 1, NULL},
    {"deconvolutional", 0, UNCOUNTED}, {"deconv", 0, UNCOUNTED}, {"local", 0, UNCOUNTED}, {"detection", 0, NULL},
    {"region", 0, NULL}, {"yolo", 0, NULL}, {"iseg", 0, NULL}, {"activation", 0, NULL}, {"logistic", 0, NULL},
    {"l2norm", 0, NULL}, {"crnn", 0, UNCOUNTED}, {"gru", 0, UNCOUNTED}, {"lstm", 0, UNCOUNTED},
    {"rnn", 0, UNCOUNTED}, {"reorg", 0, NULL}, {"lrn", 0, NULL}, {"normalization", 0, NULL},
    {"batchnorm", 0, "Darknet's own [batchnorm] layer crashes in training (use batch_normalize=1 on the layer before)"},
    {"upsample", 0, NULL},
};

const char *layer_type_name(LAYER_TYPE t)
{
    switch (t) {
    case CONVOLUTIONAL: return "convolutional";
    case CONNECTED: return "connected";
    case MAXPOOL: return "maxpool";
    case AVGPOOL: return "avgpool";
    case SHORTCUT: return "shortcut";
    case ROUTE: return "route";
    case DROPOUT: return "dropout";
    case SOFTMAX: return "softmax";
    case COST: return "cost";
    case CROP: return "crop";
    case BATCHNORM: return "batchnorm";
    default: return "unsupported";
    }
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s)) ++s;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1])) *--e = 0;
    return s;
}

// Growable output for the cfg copy.
typedef struct { char *s; size_t len, cap; } text_buf;

static int buf_add(text_buf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = (b->len + n + 1) * 2;
        char *bigger = realloc(b->s, cap);
        if (!bigger) return -1;
        b->s = bigger;
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = 0;
    return 0;
}

// Keys Darknet divides by or sizes buffers with (read with atoi, unchecked):
// zero, negative or absurd values crash its parser (SIGFPE, abort) or ask for
// impossible allocations, so they must be positive integers here.
static const struct { const char *sections, *keys; } positive_keys[] = {
    {" net network ", " width height channels batch subdivisions "},
    {" convolutional conv deconvolutional deconv local ", " filters size stride groups "},
    {" connected conn ", " output "},
    {" maxpool max ", " size stride "},
    {" crop ", " crop_height crop_width "},
};

static int is_positive_key(const char *section, const char *key)
{
    char s[80], k[80];
    if (strlen(section) > 64 || strlen(key) > 64) return 0;
    snprintf(s, sizeof s, " %s ", section);
    snprintf(k, sizeof k, " %s ", key);
    for (size_t i = 0; i < sizeof positive_keys / sizeof *positive_keys; ++i)
        if (strstr(positive_keys[i].sections, s) && strstr(positive_keys[i].keys, k)) return 1;
    return 0;
}

#define CFG_FAIL(...) do { snprintf(err, errlen, __VA_ARGS__); goto fail; } while (0)

int check_cfg_text(const char *text, size_t len, const char *cfg, int batch, layer_set allowed,
                   char **copy, char *err, size_t errlen)
{
    text_buf out = {NULL, 0, 0};
    char *line = NULL;
    if (memchr(text, 0, len)) CFG_FAIL("%s: NUL byte in cfg (not a text file?)", cfg);
    int lineno = 0, in_net = 0, first = 1, layer = -1;
    char section[64] = "";
    for (size_t pos = 0; pos < len;) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - (text + pos)) + 1 : len - pos;   // with its newline
        ++lineno;
        free(line);
        line = malloc(n + 1);
        if (!line) CFG_FAIL("out of memory");
        memcpy(line, text + pos, n);
        line[n] = 0;
        const char *raw = text + pos;
        pos += n;
        char *s = trim(line);
        if (*s == '[') {
            char *close = strchr(s, ']');
            if (!close) CFG_FAIL("%s:%d: malformed section header '%s'", cfg, lineno, s);
            *close = 0;
            const char *name = s + 1;
            size_t i, ns = sizeof sections / sizeof *sections;
            for (i = 0; i < ns; ++i) if (strcmp(sections[i].name, name) == 0) break;
            if (i == ns) CFG_FAIL("%s:%d: unknown section [%s]", cfg, lineno, name);
            int is_net = !strcmp(name, "net") || !strcmp(name, "network");
            if (first && !is_net) CFG_FAIL("%s:%d: the first section must be [net], not [%s]", cfg, lineno, name);
            if (!first && is_net) CFG_FAIL("%s:%d: a second [%s] section", cfg, lineno, name);
            if (!is_net) ++layer;
            if (allowed == LAYERS_FROZEN && !sections[i].frozen)
                CFG_FAIL("%s:%d: layer %d [%s] is not supported: inversion cannot differentiate it", cfg, lineno, layer, name);
            if (allowed == LAYERS_TRAIN && sections[i].not_trained)
                CFG_FAIL("%s:%d: layer %d [%s] is not supported: %s", cfg, lineno, layer, name, sections[i].not_trained);
            first = 0;
            in_net = is_net;
            snprintf(section, sizeof section, "%s", name);
            if (copy && buf_add(&out, raw, n)) CFG_FAIL("out of memory");
            if (copy && in_net && batch > 0) {
                char set[64];
                int k = snprintf(set, sizeof set, "batch=%d\nsubdivisions=1\n", batch);
                if (buf_add(&out, set, (size_t)k)) CFG_FAIL("out of memory");
            }
            continue;
        }
        if (section[0] && *s != '#' && *s != ';' && strchr(s, '=')) {
            char kv[160];
            snprintf(kv, sizeof kv, "%s", s);
            char *eq = strchr(kv, '=');
            if (eq) {
                *eq = 0;
                char *key = trim(kv), *value = trim(eq + 1), *end;
                // Darknet reads the tree file while parsing (and exits when it
                // is missing); the plugin's losses assume one flat softmax.
                if ((!strcmp(section, "softmax") || !strcmp(section, "soft")) && !strcmp(key, "tree"))
                    CFG_FAIL("%s:%d: layer %d [%s] tree=%s: hierarchical softmax (a softmax tree) is not supported", cfg,
                             lineno, layer, section, value);
                if (is_positive_key(section, key)) {
                    errno = 0;
                    long v = strtol(value, &end, 10);   // Darknet's atoi reads the leading digits
                    if (end == value || errno || v <= 0 || v > (1L << 24))
                        CFG_FAIL("%s:%d: [%s] %s=%s: must be a positive integer", cfg, lineno, section, key, value);
                }
            }
        }
        if (in_net && batch > 0 && (!strncmp(s, "batch", 5) || !strncmp(s, "subdivisions", 12))) {
            char *eq = strchr(s, '=');
            if (eq) {
                *eq = 0;
                char *key = trim(s);
                if (!strcmp(key, "batch") || !strcmp(key, "subdivisions")) continue;
            }
        }
        if (copy && buf_add(&out, raw, n)) CFG_FAIL("out of memory");
    }
    free(line);
    line = NULL;
    if (first) CFG_FAIL("%s: no [net] section: not a Darknet cfg", cfg);
    if (layer < 0) CFG_FAIL("%s: the cfg has no layers", cfg);
    if (copy) *copy = out.s;
    return 0;
fail:
    free(line);
    free(out.s);
    if (copy) *copy = NULL;
    return -1;
}

// Checks the cfg (check_cfg_text); writes the copy Darknet will parse to a
// temporary file and returns its path.
static char *checked_cfg_copy(const char *cfg, int batch, layer_set allowed)
{
    size_t len;
    char *text = read_whole_file(cfg, "cfg", 64, &len);
    char *copy, err[4096 + 256];
    if (check_cfg_text(text, len, cfg, batch, allowed, &copy, err, sizeof err)) inv_die("%s", err);
    free(text);
    char tmpl[] = "/tmp/darknet-inversion-cfg-XXXXXX";
    int fd = mkstemp(tmpl);
    if (fd < 0) inv_die("cannot create a temporary file: %s", strerror(errno));
    FILE *out = fdopen(fd, "w");
    if (!out) { unlink(tmpl); inv_die("cannot create a temporary file: %s", strerror(errno)); }
    fputs(copy, out);
    free(copy);
    int bad = ferror(out);
    if (fclose(out) != 0 || bad) { unlink(tmpl); inv_die("cannot write a temporary file: %s", strerror(errno)); }
    return xstrdup(tmpl);
}

static size_t layer_weight_floats(const layer *l)
{
    if (l->type == CONVOLUTIONAL)
        return (size_t)l->n * (l->batch_normalize ? 4 : 1) + (size_t)l->c / l->groups * l->n * l->size * l->size;
    if (l->type == CONNECTED)
        return (size_t)l->outputs * (l->batch_normalize ? 4 : 1) + (size_t)l->outputs * l->inputs;
    if (l->type == BATCHNORM) return (size_t)l->c * 3;
    return 0;
}

size_t expected_weights_bytes(const network *net)
{
    size_t bytes = 3 * sizeof(int) + sizeof(size_t);
    for (int i = 0; i < net->n; ++i) bytes += layer_weight_floats(&net->layers[i]) * sizeof(float);
    return bytes;
}

#define WEIGHTS_FAIL(...) do { snprintf(err, errlen, __VA_ARGS__); return -1; } while (0)

int check_weights_file_size(const network *net, const char *cfg, const char *weights, char *err, size_t errlen)
{
    FILE *f = fopen(weights, "rb");
    if (!f) WEIGHTS_FAIL("cannot open weights %s: %s", weights, strerror(errno));
    int header[3] = {0, 0, 0};
    size_t got = fread(header, sizeof(int), 3, f);
    fclose(f);
    struct stat st;
    if (stat(weights, &st) != 0) WEIGHTS_FAIL("cannot stat weights %s: %s", weights, strerror(errno));
    if (got != 3) WEIGHTS_FAIL("weights %s: truncated header (%lld bytes)", weights, (long long)st.st_size);
    int major = header[0], minor = header[1];
    // Darknet's load_weights test, with its int arithmetic wrapping as it does there.
    int version = (int)(10u * (unsigned)major + (unsigned)minor);
    size_t header_bytes = 3 * sizeof(int) + ((version >= 2 && major < 1000 && minor < 1000) ? sizeof(size_t) : sizeof(int));
    if (major > 1000 || minor > 1000)
        WEIGHTS_FAIL("weights %s: header version %d.%d: not a Darknet weights file (or a transposed one, which is not supported)", weights, major, minor);
    size_t expected = header_bytes;
    for (int i = 0; i < net->n; ++i) expected += layer_weight_floats(&net->layers[i]) * sizeof(float);
    if ((size_t)st.st_size == expected) return 0;
    // Find the first layer whose weights the file cannot hold exactly.
    size_t offset = header_bytes;
    for (int i = 0; i < net->n; ++i) {
        size_t need = layer_weight_floats(&net->layers[i]) * sizeof(float);
        if (!need) continue;
        if (offset + need > (size_t)st.st_size)
            WEIGHTS_FAIL("weights %s do not match cfg %s: expected %zu bytes, found %lld; the file ends inside layer %d (%s, %zu bytes from offset %zu)",
                         weights, cfg, expected, (long long)st.st_size, i, layer_type_name(net->layers[i].type), need, offset);
        offset += need;
    }
    WEIGHTS_FAIL("weights %s do not match cfg %s: expected %zu bytes, found %lld (%lld bytes left after the last layer)",
                 weights, cfg, expected, (long long)st.st_size, (long long)st.st_size - (long long)expected);
}

static void check_weights_file(const network *net, const char *cfg, const char *weights)
{
    char err[8192];
    if (check_weights_file_size(net, cfg, weights, err, sizeof err)) inv_die("%s", err);
}

static void check_layer_types(const network *net, const char *cfg, layer_set allowed)
{
    for (int i = 0; i < net->n; ++i) {
        const layer *l = &net->layers[i];
        if (l->type == CONVOLUTIONAL && (l->binary || l->xnor))
            inv_die("%s: layer %d: binary/xnor convolutions are not supported", cfg, i);
        if (allowed == LAYERS_FROZEN && !strcmp(layer_type_name(l->type), "unsupported"))
            inv_die("%s: layer %d is not supported: inversion cannot differentiate it", cfg, i);
        // Darknet convolves a 1x1 layer by reading its input as the columns,
        // whatever the padding: with padding the output is larger than the
        // input, and every pass reads past its end.
        if (l->type == CONVOLUTIONAL && l->size == 1 && l->pad > 0)
            inv_die("%s: layer %d: a 1x1 convolution with padding=%d: Darknet reads past its input (use padding=0)", cfg, i,
                    l->pad);
        // Darknet's crop would read outside its input (or divide by zero).
        if (l->type == CROP && (l->out_h > l->h || l->out_w > l->w))
            inv_die("%s: layer %d [crop]: crop_height=%d crop_width=%d is larger than its %dx%d input", cfg, i, l->out_h,
                    l->out_w, l->w, l->h);
    }
}

network *load_checked_network(const char *cfg, const char *weights, int batch, layer_set allowed)
{
    char *tmp = checked_cfg_copy(cfg, batch, allowed);
    int saved = silence_stderr();
#ifdef GPU
    // Where a network runs is chosen here, once (inv_gpu from -gpu/-nogpu):
    // Darknet's parser and load_weights allocate and fill device buffers when
    // the global gpu_index is a device; only frozen networks go there.
    gpu_index = allowed == LAYERS_FROZEN ? inv_gpu : -1;
#endif
    network *net = parse_network_cfg(tmp);
    restore_stderr(saved);
    unlink(tmp);
    free(tmp);
    if (!net || net->n <= 0) inv_die("%s: Darknet could not parse the cfg", cfg);
    check_layer_types(net, cfg, allowed);
#ifdef GPU
    gpu_index = -1;
#endif
    if (weights) load_checked_weights(net, cfg, weights, allowed);
    net->train = 0;
    return net;
}

void load_checked_weights(network *net, const char *cfg, const char *weights, layer_set allowed)
{
    check_weights_file(net, cfg, weights);
#ifdef GPU
    // The same device choice as load_checked_network's: load_weights pushes
    // to the device when gpu_index is one.
    gpu_index = allowed == LAYERS_FROZEN ? inv_gpu : -1;
#endif
    int saved = silence_stderr();
    load_weights(net, (char *)weights);
    restore_stderr(saved);
#ifdef GPU
    gpu_index = -1;
#endif
}

int output_layer_index(const network *net)
{
    int i = net->n - 1;
    while (i > 0 && net->layers[i].type == COST) --i;
    return i;
}
