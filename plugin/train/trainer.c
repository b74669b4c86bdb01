#include "trainer.h"

#include <stdio.h>
#include <stdlib.h>

#include "chart.h"
#include "grid.h"
#include "imageio.h"
#include "netstate.h"

static void path_in(char *buf, size_t n, const char *dir, const char *name) { snprintf(buf, n, "%s/%s", dir, name); }

const char *trainer_weights(trainer *t, const char *weights)
{
    t->resuming = student_read_backup(t->out, &t->resume);
    if (!t->resuming) return weights;
    student_backup_path(t->resume_weights, sizeof t->resume_weights, t->out, "student.weights", t->resume.batches);
    return t->resume_weights;
}

int trainer_start(trainer *t)
{
    t->r = make_rng(t->seed);
    text_log_add(&t->csv, t->csv_header);
    t->last_backup = -1;
    if (t->resuming) {
        student_restore_backup(t->net, t->out, t->sp, &t->csv, t->csv_name, &t->resume, &t->r);
        t->last_backup = t->resume.batches;
    }
    return t->resuming;
}

// out/chart.png from the CSV so far: at every backup and at the end.
static void save_chart(trainer *t)
{
    if (!t->chart_loss) return;
    char path[4096];
    path_in(path, sizeof path, t->out, "chart.png");
    save_csv_chart(path, t->csv.s, t->verb, t->chart_loss, "top1");
}

static void save_backup(trainer *t)
{
    student_state st = {(int)get_current_batch(t->net), t->sp->synthesized, (unsigned long long)t->r.s};
    student_save_backup(t->net, t->out, t->sp, &t->csv, t->csv_name, &st, t->last_backup);
    t->last_backup = st.batches;
    save_chart(t);
}

// Synthesis is the costly part: every up-front batch is a resume point.
static void synthesize_upfront(trainer *t)
{
    synth_pool *sp = t->sp;
    int first = sp->synthesized;
    double t0 = now_seconds();
    for (int b = first; b < t->upfront; ++b) {
        synth_pool_batch(sp);
        char eta[32], what[256];
        format_duration((now_seconds() - t0) / (b + 1 - first) * (t->upfront - b - 1), eta, sizeof eta);
        snprintf(what, sizeof what, t->synth_line, b + 1, t->upfront, sp->pool->n);
        fprintf(stderr, "%s: %s  ETA %s\n", t->verb, what, eta);
        save_backup(t);
    }
}

static void train(trainer *t)
{
    network *s = t->net;
    synth_pool *sp = t->sp;
    const trainer_ops *ops = t->ops;
    int max = s->max_batches, start = (int)get_current_batch(s);
    double t_start = now_seconds(), t_print = 0, avg = -1;
    while ((int)get_current_batch(s) < max) {
        ops->fill(t->ctx, &t->r, s);
        double loss = student_train_step(s, ops->delta, t->ctx);
        avg = avg < 0 ? loss : 0.95 * avg + 0.05 * loss;
        int b = (int)get_current_batch(s);
        char line[256];
        ops->row(t->ctx, s, b, loss, t->valid_every > 0 && (b % t->valid_every == 0 || b == max), line, sizeof line);
        text_log_add(&t->csv, line);
        int room = !t->synth_max || sp->pool->n - sp->nlisted < t->synth_max;
        if (t->synth_every > 0 && b % t->synth_every == 0 && b < max && room) synth_pool_batch(sp);
        double now = now_seconds();
        if (now - t_print >= 5 || b == max) {
            char eta[32];
            format_duration((now - t_start) / (b - start) * (max - b), eta, sizeof eta);
            ops->progress(t->ctx, s, loss, avg, line, sizeof line);
            fprintf(stderr, "%s batch %d/%d  %s  ETA %s\n", t->verb, b, max, line, eta);
            t_print = now;
        }
        if (b % t->backup_every == 0 && b < max) save_backup(t);
    }
}

static void write_results(trainer *t)
{
    network *s = t->net;
    const synth_pool *sp = t->sp;
    const image_pool *pool = sp->pool;
    char path[4096];
    synth_pool_write_list(sp);
    path_in(path, sizeof path, t->out, t->csv_name);
    save_text(path, t->csv.s);
    save_chart(t);
    int n = pool->n - sp->nlisted;
    if (t->grid_classes > 0 && (n > 0 || t->grid_empty)) {
        path_in(path, sizeof path, t->out, "grid.png");
        save_class_grid_of(path, pool_image(pool, sp->nlisted), pool->y + sp->nlisted, n, t->grid_classes, t->grid_list,
                           t->grid_n, s->c, s->h, s->w);
    }
    path_in(path, sizeof path, t->out, t->weights_name);
    save_weights_atomic(s, path);
}

void trainer_run(trainer *t)
{
    synthesize_upfront(t);
    if (t->pool_required && t->sp->pool->n == 0) inv_die("the pool is empty");
    train(t);
    write_results(t);
}

void free_trainer(trainer *t)
{
    free(t->csv.s);
    t->csv.s = NULL;
}
