#include "prune_mask.h"

#include <stdlib.h>
#include <string.h>

#include "darknet_internal.h"
#include "load_network.h"
#include "util.h"

// Union-find over candidate channels; a root is fixed when any member is.
typedef struct { int *parent; char *fixed; } channel_sets;

static int find(channel_sets *s, int a)
{
    while (s->parent[a] != a) a = s->parent[a] = s->parent[s->parent[a]];
    return a;
}
static void fix(channel_sets *s, int a) { if (a >= 0) s->fixed[find(s, a)] = 1; }
static void join(channel_sets *s, int a, int b)
{
    if (a < 0 || b < 0) { fix(s, a); fix(s, b); return; }
    a = find(s, a), b = find(s, b);
    if (a == b) return;
    s->parent[b] = a;
    s->fixed[a] |= s->fixed[b];
}
static void fix_all(channel_sets *s, const int *ids, int n) { for (int k = 0; k < n; ++k) fix(s, ids[k]); }

static int candidate(const layer *l, int classifier)
{
    return l->type == CONVOLUTIONAL && !classifier && l->batch_normalize && l->groups == 1 && activate(0, l->activation) == 0;
}

prune_plan make_prune_plan(const network *net, const char *cfg)
{
    prune_plan p;
    memset(&p, 0, sizeof p);
    int n = p.n = net->n, classifier = -1;
    for (int i = 0; i < n; ++i)
        if (net->layers[i].type == CONVOLUTIONAL || net->layers[i].type == CONNECTED) classifier = i;
    p.out_c = xcalloc(n, sizeof(int));
    p.group = xcalloc(n, sizeof(int *));
    int *base = xcalloc(n, sizeof(int)), ncand = 0;
    for (int i = 0; i < n; ++i) {
        const layer *l = &net->layers[i];
        p.out_c[i] = l->out_c;
        base[i] = ncand;
        if (candidate(l, i == classifier)) ncand += l->out_c;
    }
    channel_sets s = {xcalloc(ncand + 1, sizeof(int)), xcalloc(ncand + 1, 1)};
    for (int a = 0; a < ncand; ++a) s.parent[a] = a;
    int *none = xcalloc(net->c > 0 ? net->c : 1, sizeof(int));   // the network input: never pruned
    for (int k = 0; k < net->c; ++k) none[k] = -1;
    for (int i = 0; i < n; ++i) {
        const layer *l = &net->layers[i];
        int *in = i ? p.group[i - 1] : none, in_c = i ? p.out_c[i - 1] : net->c;
        int *g = p.group[i] = xcalloc(l->out_c > 0 ? l->out_c : 1, sizeof(int));
        for (int k = 0; k < l->out_c; ++k) g[k] = -1;
        switch (l->type) {
        case CONVOLUTIONAL:
            if (l->groups != 1) fix_all(&s, in, in_c);
            if (candidate(l, i == classifier))
                for (int k = 0; k < l->out_c; ++k) g[k] = base[i] + k;
            break;
        case CONNECTED:
            break;
        case MAXPOOL: case AVGPOOL: case DROPOUT:
            if (l->out_c != in_c) { fix_all(&s, in, in_c); break; }
            memcpy(g, in, sizeof(int) * in_c);
            break;
        case SHORTCUT: {
            const layer *f = &net->layers[l->index];
            int same = f->out_w == l->out_w && f->out_h == l->out_h && f->out_c == l->out_c && in_c == l->out_c;
            if (!same || activate(0, l->activation) != 0) {
                fix_all(&s, in, in_c);
                fix_all(&s, p.group[l->index], f->out_c);
                break;
            }
            for (int k = 0; k < l->out_c; ++k) join(&s, in[k], p.group[l->index][k]);
            memcpy(g, in, sizeof(int) * in_c);
            break;
        }
        case ROUTE: {
            int k = 0;
            for (int j = 0; j < l->n; ++j) {
                int src = l->input_layers[j];
                for (int c = 0; c < p.out_c[src] && k < l->out_c; ++c) g[k++] = p.group[src][c];
            }
            break;
        }
        case SOFTMAX: case COST: case CROP:
            fix_all(&s, in, in_c);
            break;
        default:
            inv_die("%s: layer %d is a [%s]; pruning knows [convolutional], [connected], [maxpool], [avgpool], [dropout], "
                    "[shortcut], [route], [crop], [softmax] and [cost]", cfg, i, layer_type_name(l->type));
        }
    }
    // Roots that are not fixed become the groups, numbered in layer order.
    int *number = xcalloc(ncand + 1, sizeof(int));
    for (int a = 0; a < ncand; ++a) number[a] = -1;
    p.count = xcalloc(ncand + 1, sizeof(int));
    for (int a = 0; a < ncand; ++a) {
        int r = find(&s, a);
        if (s.fixed[r]) continue;
        if (number[r] < 0) number[r] = p.ngroups++;
        ++p.count[number[r]];
    }
    p.first = xcalloc(p.ngroups + 1, sizeof(int));
    for (int gi = 1; gi < p.ngroups; ++gi) p.first[gi] = p.first[gi - 1] + p.count[gi - 1];
    int members = p.ngroups ? p.first[p.ngroups - 1] + p.count[p.ngroups - 1] : 0;
    p.member_layer = xcalloc(members + 1, sizeof(int));
    p.member_channel = xcalloc(members + 1, sizeof(int));
    p.owner = xcalloc(p.ngroups + 1, sizeof(int));
    int *fill = xcalloc(p.ngroups + 1, sizeof(int));
    for (int i = 0; i < n; ++i) {
        const layer *l = &net->layers[i];
        if (!candidate(l, i == classifier)) continue;
        for (int k = 0; k < l->out_c; ++k) {
            int gi = number[find(&s, base[i] + k)];
            if (gi < 0) continue;
            int m = p.first[gi] + fill[gi]++;
            if (m == p.first[gi]) p.owner[gi] = i;
            p.member_layer[m] = i;
            p.member_channel[m] = k;
        }
    }
    // Every layer's channels now name groups (or -1) instead of candidates.
    for (int i = 0; i < n; ++i)
        for (int k = 0; k < p.out_c[i]; ++k)
            if (p.group[i][k] >= 0) p.group[i][k] = number[find(&s, p.group[i][k])];
    p.masked = xcalloc(p.ngroups + 1, 1);
    p.owns = xcalloc(n, 1);
    for (int m = 0; m < members; ++m) p.owns[p.member_layer[m]] = 1;
    free(fill); free(number); free(none); free(base); free(s.parent); free(s.fixed);
    return p;
}

void free_prune_plan(prune_plan *p)
{
    for (int i = 0; i < p->n; ++i) free(p->group[i]);
    free(p->group); free(p->out_c); free(p->first); free(p->count); free(p->member_layer);
    free(p->member_channel); free(p->owner); free(p->masked); free(p->owns);
    memset(p, 0, sizeof *p);
}

int prune_kept_channels(const prune_plan *p, int i)
{
    int n = 0;
    for (int k = 0; k < p->out_c[i]; ++k) n += prune_kept(p, i, k);
    return n;
}

double prune_flops(const prune_plan *p, const network *net)
{
    double flops = 0;
    for (int i = 0; i < net->n; ++i) {
        const layer *l = &net->layers[i];
        double in_kept = i ? (double)prune_kept_channels(p, i - 1) / p->out_c[i - 1] : 1;
        if (l->type == CONVOLUTIONAL)
            flops += 2.0 * prune_kept_channels(p, i) * (in_kept * l->c / l->groups) * l->size * l->size * l->out_h * l->out_w;
        else if (l->type == CONNECTED)
            flops += 2.0 * in_kept * l->inputs * l->outputs;
    }
    return flops;
}

int prune_layer_prunable(const prune_plan *p, int i) { return p->owns[i]; }

int prune_kept_filters(const prune_plan *p, int *total)
{
    int kept = 0, all = 0;
    for (int i = 0; i < p->n; ++i)
        if (prune_layer_prunable(p, i)) kept += prune_kept_channels(p, i), all += p->out_c[i];
    if (total) *total = all;
    return kept;
}

int prune_would_empty(const prune_plan *p, int g)
{
    for (int m = p->first[g]; m < p->first[g] + p->count[g]; ++m) {
        int i = p->member_layer[m], left = 0;
        for (int k = 0; k < p->out_c[i] && left < 2; ++k) left += prune_kept(p, i, k);
        if (left < 2) return 1;
    }
    return 0;
}

void apply_prune_mask(network *net, const prune_plan *p)
{
    for (int g = 0; g < p->ngroups; ++g) {
        if (!p->masked[g]) continue;
        for (int m = p->first[g]; m < p->first[g] + p->count[g]; ++m) {
            layer *l = &net->layers[p->member_layer[m]];
            int c = p->member_channel[m];
            l->scales[c] = l->biases[c] = 0;
            if (l->scale_updates) l->scale_updates[c] = 0;
            if (l->bias_updates) l->bias_updates[c] = 0;
        }
    }
}
