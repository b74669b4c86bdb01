#include "check.h"

#include <ctype.h>
#include <fcntl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

// Section names Darknet's parser knows, and whether the frozen backward supports them.
static const struct { const char *name; int frozen; } sections[] = {
    {"net", 1}, {"network", 1}, {"convolutional", 1}, {"conv", 1}, {"connected", 1}, {"conn", 1},
    {"maxpool", 1}, {"max", 1}, {"avgpool", 1}, {"avg", 1}, {"shortcut", 1}, {"route", 1},
    {"dropout", 1}, {"softmax", 1}, {"soft", 1}, {"cost", 1},
    {"deconvolutional", 0}, {"deconv", 0}, {"local", 0}, {"crop", 0}, {"detection", 0},
    {"region", 0}, {"yolo", 0}, {"iseg", 0}, {"activation", 0}, {"logistic", 0}, {"l2norm", 0},
    {"crnn", 0}, {"gru", 0}, {"lstm", 0}, {"rnn", 0}, {"reorg", 0}, {"lrn", 0},
    {"normalization", 0}, {"batchnorm", 0}, {"upsample", 0},
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

// Checks every section header; writes a copy of the cfg with [net] batch and
// subdivisions replaced (batch > 0) to a temporary file and returns its path.
static char *checked_cfg_copy(const char *cfg, int batch, layer_set allowed)
{
    FILE *in = fopen(cfg, "r");
    if (!in) inv_die("cannot open cfg %s: %s", cfg, strerror(errno));
    char tmpl[] = "/tmp/darknet-inversion-cfg-XXXXXX";
    int fd = mkstemp(tmpl);
    if (fd < 0) inv_die("cannot create a temporary file: %s", strerror(errno));
    FILE *out = fdopen(fd, "w");
    char line[4096];
    int lineno = 0, in_net = 0, first = 1, layer = -1;
    while (fgets(line, sizeof line, in)) {
        ++lineno;
        char copy[4096];
        snprintf(copy, sizeof copy, "%s", line);
        char *s = trim(copy);
        if (*s == '[') {
            char *close = strchr(s, ']');
            if (!close) { unlink(tmpl); inv_die("%s:%d: malformed section header '%s'", cfg, lineno, s); }
            *close = 0;
            const char *name = s + 1;
            size_t i, n = sizeof sections / sizeof *sections;
            for (i = 0; i < n; ++i) if (strcmp(sections[i].name, name) == 0) break;
            if (i == n) { unlink(tmpl); inv_die("%s:%d: unknown section [%s]", cfg, lineno, name); }
            int is_net = !strcmp(name, "net") || !strcmp(name, "network");
            if (first && !is_net) { unlink(tmpl); inv_die("%s:%d: the first section must be [net], not [%s]", cfg, lineno, name); }
            if (!first && is_net) { unlink(tmpl); inv_die("%s:%d: a second [%s] section", cfg, lineno, name); }
            if (!is_net) ++layer;
            if (allowed == LAYERS_FROZEN && !sections[i].frozen) {
                unlink(tmpl);
                inv_die("%s:%d: layer %d [%s] is not supported: inversion cannot differentiate it", cfg, lineno, layer, name);
            }
            first = 0;
            in_net = is_net;
            fputs(line, out);
            if (in_net && batch > 0) fprintf(out, "batch=%d\nsubdivisions=1\n", batch);
            continue;
        }
        if (in_net && batch > 0 && (!strncmp(s, "batch", 5) || !strncmp(s, "subdivisions", 12))) {
            char *eq = strchr(s, '=');
            if (eq) {
                *eq = 0;
                char *key = trim(s);
                if (!strcmp(key, "batch") || !strcmp(key, "subdivisions")) continue;
            }
        }
        fputs(line, out);
    }
    fclose(in);
    if (first) { unlink(tmpl); inv_die("%s: no [net] section: not a Darknet cfg", cfg); }
    if (layer < 0) { unlink(tmpl); inv_die("%s: the cfg has no layers", cfg); }
    if (fclose(out) != 0) { unlink(tmpl); inv_die("cannot write a temporary file: %s", strerror(errno)); }
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

static void check_weights_file(const network *net, const char *cfg, const char *weights)
{
    FILE *f = fopen(weights, "rb");
    if (!f) inv_die("cannot open weights %s: %s", weights, strerror(errno));
    int header[3] = {0, 0, 0};
    size_t got = fread(header, sizeof(int), 3, f);
    fclose(f);
    struct stat st;
    if (stat(weights, &st) != 0) inv_die("cannot stat weights %s: %s", weights, strerror(errno));
    if (got != 3) inv_die("weights %s: truncated header (%lld bytes)", weights, (long long)st.st_size);
    int major = header[0], minor = header[1];
    size_t header_bytes = 3 * sizeof(int) + (((major * 10 + minor) >= 2 && major < 1000 && minor < 1000) ? sizeof(size_t) : sizeof(int));
    if (major > 1000 || minor > 1000)
        inv_die("weights %s: transposed (major %d, minor %d) files are not supported", weights, major, minor);
    size_t expected = header_bytes;
    for (int i = 0; i < net->n; ++i) expected += layer_weight_floats(&net->layers[i]) * sizeof(float);
    if ((size_t)st.st_size == expected) return;
    // Find the first layer whose weights the file cannot hold exactly.
    size_t offset = header_bytes;
    for (int i = 0; i < net->n; ++i) {
        size_t need = layer_weight_floats(&net->layers[i]) * sizeof(float);
        if (!need) continue;
        if (offset + need > (size_t)st.st_size)
            inv_die("weights %s do not match cfg %s: expected %zu bytes, found %lld; the file ends inside layer %d (%s, %zu bytes from offset %zu)",
                    weights, cfg, expected, (long long)st.st_size, i, layer_type_name(net->layers[i].type), need, offset);
        offset += need;
    }
    inv_die("weights %s do not match cfg %s: expected %zu bytes, found %lld (%lld bytes left after the last layer)",
            weights, cfg, expected, (long long)st.st_size, (long long)st.st_size - (long long)expected);
}

static void check_layer_types(const network *net, const char *cfg, layer_set allowed)
{
    for (int i = 0; i < net->n; ++i) {
        const layer *l = &net->layers[i];
        if (l->type == CONVOLUTIONAL && (l->binary || l->xnor))
            inv_die("%s: layer %d: binary/xnor convolutions are not supported", cfg, i);
        if (allowed == LAYERS_FROZEN && !strcmp(layer_type_name(l->type), "unsupported"))
            inv_die("%s: layer %d is not supported: inversion cannot differentiate it", cfg, i);
    }
}

// Darknet prints its layer table and "Loading weights" on stderr; keep the
// plugin's own output readable by silencing them.
static int silence_stderr(void)
{
    fflush(stderr);
    int saved = dup(2);
    int devnull = open("/dev/null", O_WRONLY);
    if (devnull >= 0) { dup2(devnull, 2); close(devnull); }
    return saved;
}

static void restore_stderr(int saved)
{
    fflush(stderr);
    if (saved >= 0) { dup2(saved, 2); close(saved); }
}

network *load_checked_network(const char *cfg, const char *weights, int batch, layer_set allowed)
{
    char *tmp = checked_cfg_copy(cfg, batch, allowed);
    int saved = silence_stderr();
    network *net = parse_network_cfg(tmp);
    restore_stderr(saved);
    unlink(tmp);
    free(tmp);
    if (!net || net->n <= 0) inv_die("%s: Darknet could not parse the cfg", cfg);
    check_layer_types(net, cfg, allowed);
    if (weights) {
        check_weights_file(net, cfg, weights);
        saved = silence_stderr();
        load_weights(net, (char *)weights);
        restore_stderr(saved);
    }
    net->train = 0;
    return net;
}

int output_layer_index(const network *net)
{
    int i = net->n - 1;
    while (i > 0 && net->layers[i].type == COST) --i;
    return i;
}
