#include "widen.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netstate.h"
#include "util.h"

typedef struct {
    char name[32];              // as Darknet reads it: whitespace removed, aliases resolved
    int line;                   // header line (1-based)
    const char *count;          // start of the first filters= ([convolutional]) or output= ([connected]) line, or NULL
    int count_value;
    int groups;                 // groups= (1 when absent)
    int tree;                   // has tree= (a hierarchical [softmax])
} cfg_section;

// The line without its whitespace, as Darknet's read_cfg strips it.
static void strip_line(const char *s, const char *end, char *out, size_t n)
{
    size_t k = 0;
    for (; s < end && k + 1 < n; ++s)
        if (!isspace((unsigned char)*s)) out[k++] = *s;
    out[k] = 0;
}

// Darknet's aliases for the section names this file looks at.
static void canonical_name(char *name)
{
    static const char *alias[][2] = {{"conv", "convolutional"}, {"conn", "connected"}, {"avg", "avgpool"},
                                     {"soft", "softmax"}, {"network", "net"}};
    for (size_t i = 0; i < sizeof alias / sizeof *alias; ++i)
        if (!strcmp(name, alias[i][0])) strcpy(name, alias[i][1]);
}

static const char *count_key(const char *name)
{
    return !strcmp(name, "convolutional") ? "filters" : !strcmp(name, "connected") ? "output" : NULL;
}

// Parameter-free layers that keep the channel count: allowed between the head and the [softmax].
static int passes_channels(const char *name) { return !strcmp(name, "avgpool") || !strcmp(name, "dropout"); }

static int parse_sections(const char *text, cfg_section **out)
{
    int cap = 64, n = 0, lineno = 0;
    cfg_section *sec = xcalloc(cap, sizeof *sec);
    for (const char *s = text; *s;) {
        const char *nl = strchr(s, '\n'), *end = nl ? nl : s + strlen(s);
        char line[256];
        strip_line(s, end, line, sizeof line);
        ++lineno;
        if (line[0] == '[') {
            if (n == cap) {
                cap *= 2;
                sec = realloc(sec, cap * sizeof *sec);
                if (!sec) inv_die("out of memory");
            }
            memset(&sec[n], 0, sizeof *sec);
            char *close = strchr(line, ']');
            if (close) *close = 0;
            snprintf(sec[n].name, sizeof sec[n].name, "%s", line + 1);
            canonical_name(sec[n].name);
            sec[n].line = lineno;
            sec[n].groups = 1;
            ++n;
        } else if (n > 0 && line[0] && line[0] != '#' && line[0] != ';') {
            char *eq = strchr(line, '=');
            if (eq) {
                *eq = 0;
                cfg_section *c = &sec[n - 1];
                const char *key = count_key(c->name);
                // Darknet reads the first of repeated keys.
                if (key && !strcmp(line, key) && !c->count) c->count = s, c->count_value = atoi(eq + 1);
                else if (!strcmp(line, "groups")) c->groups = atoi(eq + 1);
                else if (!strcmp(line, "tree")) c->tree = 1;
            }
        }
        s = nl ? nl + 1 : end;
    }
    *out = sec;
    return n;
}

#define REFUSE(...) do { int k_ = snprintf(err, errlen, "%s:%d: no classifier head it can extend: ", cfg, at); \
                         snprintf(err + k_, errlen > (size_t)k_ ? errlen - k_ : 0, __VA_ARGS__); goto done; } while (0)

char *widen_head_cfg_text(const char *text, const char *cfg, int add, widen_head *h, char *err, size_t errlen)
{
    cfg_section *sec;
    int n = parse_sections(text, &sec), at = 1;
    char *result = NULL;
    if (n < 2 || strcmp(sec[0].name, "net")) REFUSE("not a Darknet classifier cfg (no [net] section followed by layers)");
    int last = n - 1;
    while (last > 1 && !strcmp(sec[last].name, "cost")) --last;
    at = sec[last].line;
    if (strcmp(sec[last].name, "softmax")) REFUSE("the network ends in [%s], not [softmax]", sec[last].name);
    if (sec[last].groups != 1) REFUSE("the [softmax] has groups=%d; continual widens one softmax over all classes", sec[last].groups);
    if (sec[last].tree) REFUSE("the [softmax] has tree= (a hierarchical softmax); continual widens a flat one");
    int i = last - 1;
    while (i > 0 && passes_channels(sec[i].name)) --i;
    at = sec[i].line;
    if (i == 0) REFUSE("no layer with parameters before the [softmax] at line %d", sec[last].line);
    const char *key = count_key(sec[i].name);
    if (!key)
        REFUSE("the [softmax] at line %d reads [%s]; continual widens a [convolutional] (filters=K) or [connected] "
               "(output=K) head with only [avgpool] or [dropout] between it and the final [softmax]", sec[last].line, sec[i].name);
    if (!sec[i].count || sec[i].count_value <= 0) REFUSE("the [%s] head has no %s= count", sec[i].name, key);
    if (key[0] == 'f' && sec[i].groups != 1)
        REFUSE("the [convolutional] head has groups=%d; continual widens only an ungrouped one (groups=1)", sec[i].groups);
    {
        const char *o = sec[i].count, *rest = strchr(o, '\n');
        int k = sec[i].count_value;
        size_t size = strlen(text) + 256;
        result = xcalloc(size, 1);
        snprintf(result, size, "%.*s# widened by `darknet inversion continual` from %s=%d (the old classes are the first %d)\n%s=%d\n%s",
                 (int)(o - text), text, key, k, k, key, k + add, rest ? rest + 1 : "");
        *h = (widen_head){k, i - 1, last - 1, sec[i].line, sec[last].line, key[0] == 'f'};
    }
done:
    free(sec);
    return result;
}
#undef REFUSE

char *widen_head_cfg(const char *cfg, int add, widen_head *h)
{
    size_t n;
    char *text = read_whole_file(cfg, "cfg", 16, &n);
    if (strlen(text) != n) inv_die("%s: NUL byte in cfg (not a text file?)", cfg);
    char err[1024];
    char *wide = widen_head_cfg_text(text, cfg, add, h, err, sizeof err);
    free(text);
    if (!wide) inv_die("%s", err);
    return wide;
}

int check_widen_head(const network *old, const widen_head *h, const char *cfg, char *err, size_t errlen)
{
    if (h->softmax >= old->n || old->layers[h->softmax].type != SOFTMAX || h->head < 0 ||
        old->layers[h->head].type != (h->conv ? CONVOLUTIONAL : CONNECTED))
        inv_die("internal: %s: the parsed network's layers differ from its cfg text", cfg);
    const layer *hl = &old->layers[h->head], *sm = &old->layers[h->softmax], *in = &old->layers[h->softmax - 1];
    if ((h->conv ? hl->n : hl->outputs) != h->k_old) inv_die("internal: %s: the head layer %d has another count", cfg, h->head);
    if (sm->inputs == h->k_old) return 0;
    snprintf(err, errlen, "%s:%d: no classifier head it can extend: the [%s] head has %s=%d but the [softmax] at line %d "
             "reads %d values (%d channels of %dx%d): one logit per class needs a 1x1 output, e.g. an [avgpool] after the head",
             cfg, h->head_line, h->conv ? "convolutional" : "connected", h->conv ? "filters" : "output", h->k_old, h->softmax_line,
             sm->inputs, in->out_c, in->out_h, in->out_w);
    return -1;
}

void copy_params_widened(network *dst, const network *src, int head)
{
    if (dst->n != src->n) inv_die("internal: widened network has %d layers, the old one %d", dst->n, src->n);
    for (int i = 0; i < head; ++i) {
        const layer *s = &src->layers[i], *d = &dst->layers[i];
        if (s->type != d->type || s->outputs != d->outputs || s->inputs != d->inputs)
            inv_die("internal: layer %d differs between the old and the widened network", i);
    }
    // Layers after the head ([avgpool], [dropout], [softmax], [cost]) have no parameters.
    const layer *s = &src->layers[head];
    layer *d = &dst->layers[head];
    int k;
    size_t nw;
    if (s->type == CONVOLUTIONAL && d->type == CONVOLUTIONAL && s->c == d->c && s->size == d->size && s->groups == d->groups &&
        s->stride == d->stride && d->n >= s->n) {
        k = s->n;
        nw = (size_t)s->nweights;   // [n][c/groups][size][size]: the first k filters
    } else if (s->type == CONNECTED && d->type == CONNECTED && s->inputs == d->inputs && d->outputs >= s->outputs) {
        k = s->outputs;
        nw = (size_t)k * s->inputs;   // row j: output j
    } else
        inv_die("internal: head layer %d cannot take the old head's parameters", head);
    if (s->batch_normalize != d->batch_normalize) inv_die("internal: head layer %d: batch_normalize differs", head);
    memcpy(d->weights, s->weights, sizeof(float) * nw);
    memcpy(d->biases, s->biases, sizeof(float) * k);
    if (s->batch_normalize) {
        memcpy(d->scales, s->scales, sizeof(float) * k);
        memcpy(d->rolling_mean, s->rolling_mean, sizeof(float) * k);
        memcpy(d->rolling_variance, s->rolling_variance, sizeof(float) * k);
    }
    copy_network_params_except(dst, src, head);
}
