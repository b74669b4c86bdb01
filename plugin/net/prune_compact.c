#include "prune_compact.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imageio.h"
#include "load_network.h"
#include "util.h"

typedef struct {
    int conv;                       // a [convolutional] section
    const char *after_header;       // the text after the header line
    const char *filters, *filters_end;   // its first filters= line (NULL: none), up to and excluding its newline
    int value;
} section_pos;

char *compact_cfg_text(const char *text, const char *cfg, int n, const int *filters, const char *header)
{
    int cap = 64, ns = 0;
    section_pos *sec = xcalloc(cap, sizeof *sec);
    for (const char *s = text; *s;) {
        const char *nl = strchr(s, '\n'), *end = nl ? nl : s + strlen(s);
        char line[256];
        size_t k = 0;
        for (const char *c = s; c < end && k + 1 < sizeof line; ++c)
            if (!isspace((unsigned char)*c)) line[k++] = *c;   // as Darknet's read_cfg strips it
        line[k] = 0;
        if (line[0] == '[') {
            if (ns == cap) {
                cap *= 2;
                sec = realloc(sec, cap * sizeof *sec);
                if (!sec) inv_die("out of memory");
            }
            memset(&sec[ns], 0, sizeof *sec);
            sec[ns].conv = !strcmp(line, "[convolutional]") || !strcmp(line, "[conv]");
            sec[ns].after_header = nl ? nl + 1 : end;
            ++ns;
        } else if (ns > 0 && !strncmp(line, "filters=", 8) && !sec[ns - 1].filters) {
            // Darknet reads the first of repeated keys.
            sec[ns - 1].filters = s;
            sec[ns - 1].filters_end = end;
            sec[ns - 1].value = atoi(line + 8);
        }
        s = nl ? nl + 1 : end;
    }
    if (ns != n + 1) inv_die("%s: %d sections for a network of %d layers and [net]", cfg, ns, n);
    size_t size = strlen(text) + (header ? strlen(header) : 0) + 32 * (size_t)ns + 2;
    char *out = xcalloc(size, 1);
    size_t len = 0;
    if (header) len += snprintf(out + len, size - len, "%s\n", header);
    const char *from = text;
    for (int j = 1; j < ns; ++j) {
        int f = filters[j - 1];
        if (!sec[j].conv || f <= 0) continue;
        if (sec[j].filters && sec[j].value == f) continue;
        // Text up to the place of the new line, the line, then on from there.
        const char *at = sec[j].filters ? sec[j].filters : sec[j].after_header;
        len += snprintf(out + len, size - len, "%.*s", (int)(at - from), from);
        if (at > text && at[-1] != '\n') len += snprintf(out + len, size - len, "\n");
        len += snprintf(out + len, size - len, "filters=%d%s", f, sec[j].filters ? "" : "\n");
        from = sec[j].filters ? sec[j].filters_end : sec[j].after_header;
    }
    snprintf(out + len, size - len, "%s", from);
    free(sec);
    return out;
}

// The surviving output channels of layer i (or of the network's input, i < 0).
static int *kept_list(const prune_plan *p, const network *net, int i, int *n)
{
    int c = i < 0 ? net->c : p->out_c[i], *list = xcalloc(c > 0 ? c : 1, sizeof(int));
    *n = 0;
    for (int k = 0; k < c; ++k)
        if (i < 0 || prune_kept(p, i, k)) list[(*n)++] = k;
    return list;
}

static void copy_channels(float *dst, const float *src, const int *list, int n)
{
    if (!src || !dst) return;
    for (int k = 0; k < n; ++k) dst[k] = src[list[k]];
}

void copy_params_compacted(network *dst, const network *src, const prune_plan *p)
{
    if (dst->n != src->n) inv_die("internal: compacted network has %d layers, the masked one %d", dst->n, src->n);
    for (int i = 0; i < src->n; ++i) {
        const layer *s = &src->layers[i];
        layer *d = &dst->layers[i];
        if (s->type != d->type) inv_die("internal: layer %d differs between the masked and the compacted network", i);
        if (s->type != CONVOLUTIONAL && s->type != CONNECTED) continue;
        int nin, nout;
        int *in = kept_list(p, src, i - 1, &nin), *out = kept_list(p, src, i, &nout);
        if (s->type == CONVOLUTIONAL) {
            int ks = s->size * s->size, cin = s->c / s->groups, dcin = d->c / d->groups;
            if (d->n != nout || (s->groups == 1 ? d->c != nin : d->c != s->c) || d->size != s->size)
                inv_die("internal: compacted layer %d has %d filters of %d channels, expected %d of %d", i, d->n, d->c, nout, nin);
            for (int o = 0; o < nout; ++o)
                for (int c = 0; c < dcin; ++c)
                    memcpy(d->weights + ((size_t)o * dcin + c) * ks,
                           s->weights + ((size_t)out[o] * cin + (s->groups == 1 ? in[c] : c)) * ks, sizeof(float) * ks);
        } else {
            // Input j of a [connected] layer is channel j / (h*w) of the layer below, flattened.
            int per = s->inputs / (i ? p->out_c[i - 1] : src->c);
            if (d->inputs != nin * per || d->outputs != s->outputs)
                inv_die("internal: compacted [connected] layer %d has %d inputs, expected %d", i, d->inputs, nin * per);
            for (int o = 0; o < s->outputs; ++o)
                for (int c = 0; c < nin; ++c)
                    memcpy(d->weights + (size_t)o * d->inputs + (size_t)c * per,
                           s->weights + (size_t)o * s->inputs + (size_t)in[c] * per, sizeof(float) * per);
        }
        copy_channels(d->biases, s->biases, out, nout);
        if (s->batch_normalize) {
            copy_channels(d->scales, s->scales, out, nout);
            copy_channels(d->rolling_mean, s->rolling_mean, out, nout);
            copy_channels(d->rolling_variance, s->rolling_variance, out, nout);
        }
        free(in);
        free(out);
    }
}

network *compact_network(const network *net, const prune_plan *p, const char *cfg, const char *out_cfg, int batch)
{
    size_t len;
    char *text = read_whole_file(cfg, "cfg", 16, &len);
    int *filters = xcalloc(net->n, sizeof(int));
    for (int i = 0; i < net->n; ++i)
        if (net->layers[i].type == CONVOLUTIONAL) filters[i] = prune_kept_channels(p, i);
    char header[1024];
    snprintf(header, sizeof header, "# pruned by `darknet inversion prune` from %s", cfg);
    char *small = compact_cfg_text(text, cfg, net->n, filters, header);
    save_text(out_cfg, small);
    network *d = load_checked_network(out_cfg, NULL, batch, LAYERS_TRAIN);
    copy_params_compacted(d, net, p);
    free(small);
    free(filters);
    free(text);
    return d;
}
