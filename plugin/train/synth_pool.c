#include "synth_pool.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataset.h"
#include "imageio.h"
#include "netstate.h"
#include "util.h"

void synth_pool_batch(synth_pool *sp)
{
    if (sp->competitor) copy_network_params(sp->competitor, sp->student);
    int B = sp->syn->batch, classes = sp->teacher->classes;
    network *t = sp->teacher->net;
    int *targets = xcalloc(B, sizeof(int));
    for (int i = 0; i < B; ++i) targets[i] = (sp->synthesized * B + i) % classes;
    size_t size = (size_t)t->c * t->h * t->w;
    float *images = xcalloc((size_t)B * size, sizeof(float));
    uint64_t seed = sp->seed * 1000003u + (uint64_t)sp->synthesized;
    if (sp->fast) {
        synth_record r;
        fast_round(sp->fast, targets, seed, sp->synthesized, images, &r, 1);
        if (getenv("INV_FAST_LOG"))
            fprintf(stderr, "generator round %d: loss %.4f  ce %.4f  bn %.4f  p(target) %.3f\n", sp->synthesized, r.total, r.ce,
                    r.bn, r.target_p);
    } else synth_batch(sp->syn, targets, seed, sp->synthesized, images, NULL, NULL);
    for (int i = 0; i < B; ++i) {
        char path[4096];
        snprintf(path, sizeof path, "%s/pool/%07d_%s.png", sp->out, sp->pool->n - sp->nlisted, sp->labels[targets[i]]);
        save_png(path, images + i * size, sp->gray ? 1 : t->c, t->h, t->w);
        pool_add(sp->pool, images + i * size, targets[i]);
    }
    ++sp->synthesized;
    free(images);
    free(targets);
}

void synth_pool_write_list(const synth_pool *sp)
{
    const image_pool *p = sp->pool;
    size_t cap = (size_t)(p->n - sp->nlisted) * (strlen(sp->out) + 64) + 1;
    char *text = xcalloc(cap, 1), path[4096];
    size_t len = 0;
    for (int i = sp->nlisted; i < p->n; ++i)
        len += snprintf(text + len, cap - len, "%s/pool/%07d_%s.png\n", sp->out, i - sp->nlisted, sp->labels[p->y[i]]);
    snprintf(path, sizeof path, "%s/pool.list", sp->out);
    save_text(path, text);
    free(text);
}

void synth_pool_reload(synth_pool *sp, int batches)
{
    if (batches <= 0) return;
    char path[4096];
    snprintf(path, sizeof path, "%s/pool.list", sp->out);
    image_pool *p = sp->pool;
    labelled_set ls = load_labelled_list(path, sp->labels, sp->teacher->classes, p->w, p->h, p->c);
    int need = batches * sp->syn->batch;
    if (ls.n < need) inv_die("%s holds %d images, the backup needs %d", path, ls.n, need);
    for (int i = 0; i < need; ++i) pool_add(p, labelled_image(&ls, i), ls.y[i]);
    free_labelled_set(&ls);
    sp->synthesized = batches;
}
