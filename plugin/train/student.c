#include "student.h"

#include <stdio.h>
#include <stdlib.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "augment.h"
#include "load_network.h"
#include "dataset.h"
#include "imageio.h"
#include "netstate.h"
#include "util.h"

double student_train_step(network *net, student_delta_fn fn, void *ctx)
{
    int B = net->batch, out = output_layer_index(net);
    *net->seen += B;
    net->train = 1;
    forward_network(net);
    layer *o = &net->layers[out];
    double loss = fn(ctx, net->layers[out - 1].output, B, o->outputs, o->delta);
    // A diverged student stops here, before its weights are updated or saved.
    if (!isfinite(loss))
        inv_die("batch %d: the student's loss is %g (diverged); lower the student cfg's learning_rate, or resume from the last backup",
                (int)(*net->seen / B), loss);
    for (int i = out + 1; i < net->n; ++i)   // a [cost] after the softmax must add nothing
        if (net->layers[i].delta) memset(net->layers[i].delta, 0, sizeof(float) * net->layers[i].outputs * B);
    backward_network(net);
    if ((*net->seen / B) % net->subdivisions == 0) update_network(net);
    return loss;
}

void random_crop_flip(rng *r, const float *src, float *dst, int c, int h, int w, int crop, int flip)
{
    int dx = crop ? rng_int(r, -crop, crop) : 0, dy = crop ? rng_int(r, -crop, crop) : 0;
    int fl = flip ? rng_int(r, 0, 1) : 0;
    shift_flip_image(src, dst, c, h, w, dx, dy, fl);
}

// Rereads `path` keeping the header and the rows whose first field is <= batches.
static void text_log_reload(text_log *t, const char *path, int batches)
{
    char line[512];
    FILE *f = fopen(path, "r");
    if (!f) return;
    t->len = 0;
    int first = 1;
    while (fgets(line, sizeof line, f)) {
        if (!first && atoi(line) > batches) break;
        text_log_add(t, line);
        first = 0;
    }
    fclose(f);
}

static void path_in(char *buf, size_t n, const char *dir, const char *name) { snprintf(buf, n, "%s/%s", dir, name); }

void make_student_dirs(const char *out)
{
    char path[4096];
    make_output_dir(out);
    path_in(path, sizeof path, out, "backup");
    make_output_dir(path);
    path_in(path, sizeof path, out, "pool");
    make_output_dir(path);
}

void synth_pool_batch(synth_pool *sp)
{
    int B = sp->syn->batch, classes = sp->teacher->classes;
    network *t = sp->teacher->net;
    int *targets = xcalloc(B, sizeof(int));
    for (int i = 0; i < B; ++i) targets[i] = (sp->synthesized * B + i) % classes;
    size_t size = (size_t)t->c * t->h * t->w;
    float *images = xcalloc((size_t)B * size, sizeof(float));
    synth_batch(sp->syn, targets, sp->seed * 1000003u + (uint64_t)sp->synthesized, sp->synthesized, images, NULL, NULL);
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
    path_in(path, sizeof path, sp->out, "pool.list");
    save_text(path, text);
    free(text);
}

// Reloads the first `batches` synthesized batches from out/pool.list.
static void synth_pool_reload(synth_pool *sp, int batches)
{
    if (batches <= 0) return;
    char path[4096];
    path_in(path, sizeof path, sp->out, "pool.list");
    image_pool *p = sp->pool;
    labelled_set ls = load_labelled_list(path, sp->labels, sp->teacher->classes, p->w, p->h, p->c);
    int need = batches * sp->syn->batch;
    if (ls.n < need) inv_die("%s holds %d images, the backup needs %d", path, ls.n, need);
    for (int i = 0; i < need; ++i) pool_add(p, labelled_image(&ls, i), ls.y[i]);
    free_labelled_set(&ls);
    sp->synthesized = batches;
}

void student_backup_path(char *buf, size_t n, const char *out, const char *what, int batches)
{
    const char *dot = strchr(what, '.');
    snprintf(buf, n, "%s/backup/%.*s-%07d%s", out, (int)(dot - what), what, batches, dot);
}

void student_save_backup(network *net, const char *out, const synth_pool *sp, const text_log *csv, const char *csv_name,
                         const student_state *st, int previous)
{
    char path[4096], state[256];
    int b = st->batches;
    student_backup_path(path, sizeof path, out, "student.weights", b);
    save_weights_atomic(net, path);
    student_backup_path(path, sizeof path, out, "momentum.bin", b);
    save_momentum(net, path);
    if (sp) synth_pool_write_list(sp);
    path_in(path, sizeof path, out, csv_name);
    save_text(path, csv->s);
    snprintf(state, sizeof state, "batches=%d\nsynthesized=%d\nrng=%llu\n", b, st->synthesized, st->rng);
    path_in(path, sizeof path, out, "backup/state");
    save_text(path, state);
    if (previous >= 0 && previous != b) {
        student_backup_path(path, sizeof path, out, "student.weights", previous);
        unlink(path);
        student_backup_path(path, sizeof path, out, "momentum.bin", previous);
        unlink(path);
    }
}

int student_read_backup(const char *out, student_state *st)
{
    char path[4096];
    path_in(path, sizeof path, out, "backup/state");
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    int ok = fscanf(f, "batches=%d\nsynthesized=%d\nrng=%llu\n", &st->batches, &st->synthesized, &st->rng) == 3;
    fclose(f);
    if (!ok) inv_die("%s is damaged; remove %s/backup to start over", path, out);
    return 1;
}

void student_restore_backup(network *net, const char *out, synth_pool *sp, text_log *csv, const char *csv_name,
                            const student_state *st, rng *r)
{
    char path[4096];
    student_backup_path(path, sizeof path, out, "momentum.bin", st->batches);
    load_momentum(net, path);
    synth_pool_reload(sp, st->synthesized);
    r->s = st->rng;
    path_in(path, sizeof path, out, csv_name);
    text_log_reload(csv, path, st->batches);
}
