// Which of the frozen network's outputs and deltas can share memory. One
// synthesis step runs every layer's forward (times 0..n-1) and then every
// backward from the top (layer i's at time 2n-1-i). A buffer is needed only
// between its first write and its last read:
//   - layer i's output from its forward to the last forward that reads it
//     (layer i+1, a shortcut or a route above), unless its own backward reads
//     it (the activation's derivative taken from the output): then it stays;
//   - its delta from the backward of its first writer (the layer above, a
//     shortcut or route reading it) to its own backward, or to the backward
//     of the convolution below when it is a max-pool fused into it.
// Buffers whose lives do not overlap take turns in one allocation, so a chain
// of layers needs a few buffers of the largest size instead of one per layer.
// The pre-BN input l.x stays: the backward reads it (R_feature, the leaky
// derivative) and it cannot be recovered bit for bit from the output.
#include <stdlib.h>
#include <string.h>

#include "frozen.h"
#include "frozen_layers.h"
#include "util.h"

// Whether layer l's backward reads its own output (frozen_conv.c: a BN
// convolution with leaky recomputes the derivative from l.x; a linear
// derivative is 1 whatever the output).
static int backward_reads_output(const layer *l)
{
    switch (l->type) {
    case CONVOLUTIONAL: return l->activation != LINEAR && !(l->batch_normalize && l->activation == LEAKY);
    case SHORTCUT: return l->activation != LINEAR;
    case MAXPOOL:
    case AVGPOOL:
    case ROUTE: return 0;
    default: return 1;
    }
}

typedef struct {
    int start, end;     // times of the first write and the last read
    size_t size;        // floats per image
    int *slot;          // where the chosen buffer goes
} life;

static int by_start(const void *a, const void *b)
{
    const life *x = a, *y = b;
    return x->start != y->start ? (x->start > y->start) - (x->start < y->start) : (x->end > y->end) - (x->end < y->end);
}

int frozen_share_allowed(void) { return env_switch_on("INV_SHARE_BUFFERS"); }

frozen_buffer_plan plan_frozen_buffers(const network *net, int out, const char *fused_pool, const int *first_writer)
{
    int n = net->n;
    frozen_buffer_plan p = {0, NULL, xcalloc(n, sizeof(int)), xcalloc(n, sizeof(int))};
    for (int i = 0; i < n; ++i) p.output[i] = p.delta[i] = -1;
    // Dropout shares its input's buffers; stopbackward leaves deltas unwritten.
    for (int i = 0; i < n; ++i)
        if (net->layers[i].type == DROPOUT || net->layers[i].stopbackward) return p;
    if (!frozen_share_allowed()) return p;
    life *lives = xcalloc(2 * (size_t)n, sizeof *lives);
    int count = 0, *last_read = xcalloc(n, sizeof(int));
    for (int i = 0; i < n; ++i) last_read[i] = i + 1;
    for (int j = 0; j < n; ++j) {
        const layer *l = &net->layers[j];
        if (l->type == SHORTCUT && j > last_read[l->index]) last_read[l->index] = j;
        if (l->type == ROUTE)
            for (int k = 0; k < l->n; ++k)
                if (j > last_read[l->input_layers[k]]) last_read[l->input_layers[k]] = j;
    }
    // The logits (frozen_logits) and the softmax output are read after the
    // passes, and the output's delta is set before the backward.
    for (int i = 0; i < n && i < out - 1; ++i) {
        const layer *l = &net->layers[i];
        if (!l->output || backward_reads_output(l)) continue;
        lives[count++] = (life){i, last_read[i], (size_t)l->outputs, &p.output[i]};
    }
    for (int i = 0; i < n && i < out; ++i) {
        const layer *l = &net->layers[i];
        // A convolution under a fused max-pool never touches its delta.
        if (!l->delta || (i + 1 < n && fused_pool[i + 1])) continue;
        int end = fused_pool[i] ? i - 1 : i;
        lives[count++] = (life){2 * n - 1 - first_writer[i], 2 * n - 1 - end, (size_t)l->outputs, &p.delta[i]};
    }
    free(last_read);
    qsort(lives, count, sizeof *lives, by_start);
    // Greedy: the smallest free buffer that is large enough, else the largest
    // free one (grown), else a new one.
    int *busy_until = xcalloc(count ? count : 1, sizeof(int));
    p.size = xcalloc(count ? count : 1, sizeof(size_t));
    for (int k = 0; k < count; ++k) {
        life *v = &lives[k];
        int fit = -1, largest = -1;
        for (int b = 0; b < p.n; ++b) {
            if (busy_until[b] >= v->start) continue;
            if (p.size[b] >= v->size && (fit < 0 || p.size[b] < p.size[fit])) fit = b;
            if (largest < 0 || p.size[b] > p.size[largest]) largest = b;
        }
        int b = fit >= 0 ? fit : largest >= 0 ? largest : p.n++;
        if (p.size[b] < v->size) p.size[b] = v->size;
        busy_until[b] = v->end;
        *v->slot = b;
    }
    free(busy_until);
    free(lives);
    return p;
}

void free_frozen_buffer_plan(frozen_buffer_plan *p)
{
    free(p->size);
    free(p->output);
    free(p->delta);
    memset(p, 0, sizeof *p);
}
