#include "backup.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "imageio.h"
#include "load_network.h"
#include "netstate.h"

static void path_in(char *buf, size_t n, const char *dir, const char *name) { snprintf(buf, n, "%s/%s", dir, name); }

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

void make_student_dirs(const char *out)
{
    char path[4096];
    make_output_dir(out);
    path_in(path, sizeof path, out, "backup");
    make_output_dir(path);
    path_in(path, sizeof path, out, "pool");
    make_output_dir(path);
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
    if (sp && sp->fast) {
        student_backup_path(path, sizeof path, out, "generator.weights", b);
        save_weights_atomic(sp->fast->meta->net, path);
        student_backup_path(path, sizeof path, out, "generator_adam.bin", b);
        save_generator_adam(sp->fast->meta, path);
        if (sp->fast->momentum) {
            student_backup_path(path, sizeof path, out, "bn_momentum.bin", b);
            save_bn_momentum(sp->fast->momentum, path);
        }
    }
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
        if (sp && sp->fast) {
            student_backup_path(path, sizeof path, out, "generator.weights", previous);
            unlink(path);
            student_backup_path(path, sizeof path, out, "generator_adam.bin", previous);
            unlink(path);
            student_backup_path(path, sizeof path, out, "bn_momentum.bin", previous);
            unlink(path);
        }
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
    if (sp && sp->fast) {
        generator *g = sp->fast->meta;
        student_backup_path(path, sizeof path, out, "generator.weights", st->batches);
        load_checked_weights(g->net, g->cfg, path, LAYERS_TRAIN);
        student_backup_path(path, sizeof path, out, "generator_adam.bin", st->batches);
        load_generator_adam(g, path);
        if (sp->fast->momentum) {
            student_backup_path(path, sizeof path, out, "bn_momentum.bin", st->batches);
            load_bn_momentum(sp->fast->momentum, path);
        }
    }
    synth_pool_reload(sp, st->synthesized);
    r->s = st->rng;
    path_in(path, sizeof path, out, csv_name);
    text_log_reload(csv, path, st->batches);
}
