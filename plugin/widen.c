#include "widen.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netstate.h"
#include "util.h"

typedef struct {
    char name[32];
    int line;                   // header line (1-based)
    const char *output;         // start of the output= line within the text, or NULL
    int output_value;
    int groups;                 // softmax groups= (1 when absent)
} cfg_section;

static const char *skip_space(const char *s, const char *end)
{
    while (s < end && isspace((unsigned char)*s)) ++s;
    return s;
}

char *widen_head_cfg_text(const char *text, const char *cfg, int add, int *k_old, char *err, size_t errlen)
{
    int cap = 64, n = 0, lineno = 0;
    cfg_section *sec = xcalloc(cap, sizeof *sec);
    char *result = NULL;
    for (const char *s = text; *s;) {
        const char *nl = strchr(s, '\n'), *end = nl ? nl : s + strlen(s);
        const char *t = skip_space(s, end);
        ++lineno;
        if (t < end && *t == '[') {
            const char *close = memchr(t, ']', (size_t)(end - t));
            if (n == cap) {
                cap *= 2;
                sec = realloc(sec, cap * sizeof *sec);
                if (!sec) inv_die("out of memory");
            }
            memset(&sec[n], 0, sizeof *sec);
            size_t len = close ? (size_t)(close - t - 1) : 0;
            if (len >= sizeof sec[n].name) len = sizeof sec[n].name - 1;
            memcpy(sec[n].name, t + 1, len);
            sec[n].line = lineno;
            sec[n].groups = 1;
            ++n;
        } else if (n > 0 && t < end && *t != '#' && *t != ';') {
            const char *eq = memchr(t, '=', (size_t)(end - t));
            if (eq) {
                const char *k = t, *ke = eq;
                while (ke > k && isspace((unsigned char)ke[-1])) --ke;
                char value[64] = "";
                const char *v = skip_space(eq + 1, end);
                size_t vl = (size_t)(end - v) < sizeof value - 1 ? (size_t)(end - v) : sizeof value - 1;
                memcpy(value, v, vl);
                if ((size_t)(ke - k) == 6 && !memcmp(k, "output", 6)) {
                    sec[n - 1].output = s;
                    sec[n - 1].output_value = atoi(value);
                } else if ((size_t)(ke - k) == 6 && !memcmp(k, "groups", 6)) sec[n - 1].groups = atoi(value);
            }
        }
        s = nl ? nl + 1 : end;
    }
    int last = n - 1;
    while (last > 0 && !strcmp(sec[last].name, "cost")) --last;
    if (last < 1 || (strcmp(sec[last].name, "softmax") && strcmp(sec[last].name, "soft"))) {
        snprintf(err, errlen, "%s: no classifier head it can extend: the network ends in [%s], not [softmax]", cfg,
                 last >= 0 ? sec[last].name : "nothing");
    } else if (strcmp(sec[last - 1].name, "connected") && strcmp(sec[last - 1].name, "conn")) {
        snprintf(err, errlen, "%s: no classifier head it can extend: the layer before [softmax] (line %d) is [%s] at line %d; "
                 "continual widens a [connected] layer with output=K right before the final [softmax]",
                 cfg, sec[last].line, sec[last - 1].name, sec[last - 1].line);
    } else if (!sec[last - 1].output || sec[last - 1].output_value <= 0) {
        snprintf(err, errlen, "%s: no classifier head it can extend: the [connected] layer at line %d has no output= count", cfg, sec[last - 1].line);
    } else if (sec[last].groups != 1) {
        snprintf(err, errlen, "%s: no classifier head it can extend: the [softmax] at line %d has groups=%d", cfg, sec[last].line, sec[last].groups);
    } else {
        const char *o = sec[last - 1].output, *rest = strchr(o, '\n');
        int k = sec[last - 1].output_value;
        size_t size = strlen(text) + 256;
        result = xcalloc(size, 1);
        snprintf(result, size, "%.*s# widened by `darknet inversion continual` from output=%d (the old classes are the first %d)\noutput=%d\n%s",
                 (int)(o - text), text, k, k, k + add, rest ? rest + 1 : "");
        *k_old = k;
    }
    free(sec);
    return result;
}

char *widen_head_cfg(const char *cfg, int add, int *k_old)
{
    size_t n;
    char *text = read_whole_file(cfg, "cfg", 16, &n);
    if (strlen(text) != n) inv_die("%s: NUL byte in cfg (not a text file?)", cfg);
    char err[1024];
    char *wide = widen_head_cfg_text(text, cfg, add, k_old, err, sizeof err);
    free(text);
    if (!wide) inv_die("%s", err);
    return wide;
}

void copy_params_widened(network *dst, const network *src, int head)
{
    if (dst->n != src->n) inv_die("internal: widened network has %d layers, the old one %d", dst->n, src->n);
    for (int i = 0; i < src->n; ++i) {
        const layer *s = &src->layers[i];
        layer *d = &dst->layers[i];
        if (i < head) {
            if (s->type != d->type || s->outputs != d->outputs || s->inputs != d->inputs)
                inv_die("internal: layer %d differs between the old and the widened network", i);
            continue;
        }
        if (i > head) continue;   // [softmax], [cost]: no parameters
        if (s->type != CONNECTED || d->type != CONNECTED || s->inputs != d->inputs || d->outputs < s->outputs ||
            s->batch_normalize != d->batch_normalize)
            inv_die("internal: head layer %d cannot take the old head's parameters", i);
        int k = s->outputs;
        memcpy(d->weights, s->weights, sizeof(float) * (size_t)k * s->inputs);   // row j: output j
        memcpy(d->biases, s->biases, sizeof(float) * k);
        if (s->batch_normalize) {
            memcpy(d->scales, s->scales, sizeof(float) * k);
            memcpy(d->rolling_mean, s->rolling_mean, sizeof(float) * k);
            memcpy(d->rolling_variance, s->rolling_variance, sizeof(float) * k);
        }
    }
    copy_network_params_except(dst, src, head);
}
