// `darknet inversion merge`: joins the shard directories of a sharded dream
// run (dream -shard I/N) into the set the unsharded run writes, byte for byte:
// images/, train.list, labels.txt, dream.data, grid.png, losses.csv and
// dream.progress. It needs neither the networks nor the shards' paths as
// they were when the shards ran.
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dream_set.h"
#include "grid.h"
#include "inversion.h"
#include "labels.h"
#include "shard.h"
#include "util.h"

static void merge_help(const char *prog)
{
    printf("usage: %s inversion merge <out_dir> <shard_dir>... [-copy]\n\n"
           "Joins the shards of one sharded dream run (dream ... -shard I/N, or -shards N in a job array)\n"
           "into <out_dir>: images/, train.list, labels.txt, dream.data, grid.png, losses.csv and\n"
           "dream.progress, the same bytes as the run without -shard writes to an -out of the same name\n"
           "(given one kind of CPU or GPU and one OMP_NUM_THREADS for all shards; merge warns otherwise).\n"
           "distill -pool <out_dir>/dream.data, valid and Darknet's classifier read it as any dream output.\n\n"
           "  <shard_dir>   every shard's -out directory, in any order (a shell glob will do). They must be\n"
           "                one run: the same inversion cfg, teacher cfg and weights (by checksum), seed, -n,\n"
           "                labels, -grid-classes and shard count, each shard once and none missing; a shard\n"
           "                that has not finished (no shard.manifest yet) is refused: run it again, it resumes\n"
           "  -copy         copy the images; by default they are hard links to the shards' files (copied\n"
           "                anyway where the file system refuses a link, e.g. across devices)\n", prog);
}

typedef struct {
    const char *dir;
    shard_manifest m;
} shard_dir;

static void read_shard(shard_dir *s)
{
    struct stat st;
    if (stat(s->dir, &st) || !S_ISDIR(st.st_mode)) inv_die("%s: no such directory", s->dir);
    if (read_shard_manifest(s->dir, &s->m)) return;
    char path[4096];
    snprintf(path, sizeof path, "%s/dream.data", s->dir);
    if (file_exists(path)) inv_die("%s is not a dream shard but a whole set (it has dream.data, no %s)", s->dir, SHARD_MANIFEST);
    uint64_t run;
    int done;
    if (read_dream_progress(s->dir, &run, &done) > 0)
        inv_die("%s: the shard has not finished (%d of its batches done, no %s yet); run its dream command again: it resumes",
                s->dir, done, SHARD_MANIFEST);
    inv_die("%s is not a dream shard (no %s): give the -out directories of dream ... -shard I/N", s->dir, SHARD_MANIFEST);
}

// Dies naming what differs when b is not a shard of a's run.
static void check_same_run(const shard_dir *a, const shard_dir *b)
{
    const shard_manifest *x = &a->m, *y = &b->m;
    const char *what = NULL;
    char buf[256];
    if (x->icfg_hash != y->icfg_hash) what = "the inversion cfg differs (by checksum)";
    else if (x->cfg_hash != y->cfg_hash) what = "the teacher cfg differs (by checksum)";
    else if (x->weights_hash != y->weights_hash) what = "the teacher weights differ (by checksum)";
    else if (x->seed != y->seed) snprintf(buf, sizeof buf, "-seed %u, not %u", y->seed, x->seed), what = buf;
    else if (x->images != y->images) snprintf(buf, sizeof buf, "-n %d, not %d", y->images, x->images), what = buf;
    else if (x->shard.count != y->shard.count)
        snprintf(buf, sizeof buf, "shard %d/%d, of %d shards, not %d", y->shard.index, y->shard.count, y->shard.count, x->shard.count), what = buf;
    else if (x->labels_hash != y->labels_hash) what = "the labels differ (-labels, -label-ids)";
    else if (x->grid_n != y->grid_n || memcmp(x->grid_list, y->grid_list, x->grid_n * sizeof(int))) what = "-grid-classes differs";
    else if (x->run != y->run || x->batch != y->batch || x->classes != y->classes || x->c != y->c || x->h != y->h || x->w != y->w)
        what = "the run's identity differs";
    if (what) inv_die("%s is not a shard of the same run as %s: %s", b->dir, a->dir, what);
}

// Shards made with other thread counts, CPU kernels or devices are the same
// run, but their images may differ in the last bits from one another's.
static void warn_other_settings(const shard_dir *a, const shard_dir *b)
{
    static int warned;
    const shard_manifest *x = &a->m, *y = &b->m;
    if (!warned && (x->threads != y->threads || strcmp(x->cpu, y->cpu) || strcmp(x->device, y->device)))
        warned = 1, inv_warn("%s ran on %s (%s) with %d thread%s, %s on %s (%s) with %d: the merged set is not byte for byte what one "
                 "process makes (set OMP_NUM_THREADS and use one kind of node for that)",
                 a->dir, x->device, x->cpu, x->threads, x->threads > 1 ? "s" : "", b->dir, y->device, y->cpu, y->threads);
}

// Whether two paths name the same directory.
static int same_dir(const char *a, const char *b)
{
    struct stat x, y;
    return !stat(a, &x) && !stat(b, &y) && x.st_dev == y.st_dev && x.st_ino == y.st_ino;
}

// The merged directory may be fresh, or hold this run's merged set already
// (merging again); anything else is another run's output.
static void check_out_dir(const char *out, const shard_dir *shards, int n)
{
    for (int i = 0; i < n; ++i)
        if (same_dir(out, shards[i].dir)) inv_die("%s is one of the shards; merge into another directory", out);
    char path[4096];
    uint64_t run;
    int batches, state = read_dream_progress(out, &run, &batches);
    if (state < 0) {
        snprintf(path, sizeof path, "%s/dream.data", out);
        if (file_exists(path)) inv_die("%s holds the output of another dream run; use another directory or remove it", out);
        snprintf(path, sizeof path, "%s/" SHARD_MANIFEST, out);
        if (file_exists(path)) inv_die("%s is a shard; merge into another directory", out);
        return;
    }
    if (!state || run != shards[0].m.run || batches != shards[0].m.nbatches)
        inv_die("%s holds the output of another dream run (or an unfinished one); use another directory or remove it", out);
}

// A hard link to src at dst (through a temporary, so dst is never half
// there), or a copy where links are refused. Returns 1 for a link.
static int place_image(const char *src, const char *dst, int copy)
{
    struct stat a, b;
    if (stat(src, &a)) inv_die("cannot read %s: %s", src, strerror(errno));
    if (!copy) {
        if (!stat(dst, &b) && a.st_dev == b.st_dev && a.st_ino == b.st_ino) return 1;
        char tmp[4096 + 32];
        snprintf(tmp, sizeof tmp, "%s.tmp.%ld", dst, (long)getpid());
        unlink(tmp);
        if (!link(src, tmp)) {
            if (rename(tmp, dst)) {
                int e = errno;
                unlink(tmp);
                inv_die("cannot write %s: %s", dst, strerror(e));
            }
            return 1;
        }
        if (errno != EXDEV && errno != EPERM && errno != EMLINK && errno != ENOTSUP && errno != EOPNOTSUPP)
            inv_die("cannot link %s to %s: %s", src, dst, strerror(errno));
    }
    size_t len;
    char *bytes = read_whole_file(src, "image", 1024, &len);
    atomic_file f = atomic_open(dst);
    fwrite(bytes, 1, len, f.f);
    atomic_commit(&f);
    free(bytes);
    return 0;
}

// The image number and class of a shard's list line "<dir>/images/<k>_<label>.png".
static void parse_list_line(const char *line, const char *list, int lineno, const label_set *labels, int *k, int *label, char *name, size_t cap)
{
    const char *base = strrchr(line, '/');
    base = base ? base + 1 : line;
    char *end;
    long v = strtol(base, &end, 10);
    size_t len = strlen(end);
    if (end == base || *end != '_' || len < 5 || strcmp(end + len - 4, ".png") || strlen(base) >= cap)
        inv_die("%s:%d: '%s' is not an image name dream writes (<number>_<label>.png)", list, lineno, line);
    strcpy(name, base);
    *k = (int)v;
    *label = -1;
    for (int i = 0; i < labels->n; ++i)
        if (strlen(labels->names[i]) == len - 5 && !strncmp(end + 1, labels->names[i], len - 5)) *label = i;
    if (*label < 0) inv_die("%s:%d: '%s' names no label of the run", list, lineno, line);
}

// Appends a shard's losses.csv rows (its batches) to the merged one.
static void append_losses(FILE *to, const shard_dir *s, int first, int end)
{
    char path[4096], line[1024];
    snprintf(path, sizeof path, "%s/losses.csv", s->dir);
    FILE *f = fopen(path, "r");
    if (!f) inv_die("cannot open %s: the shard is damaged, run it again", path);
    if (!fgets(line, sizeof line, f) || strcmp(line, DREAM_LOSSES_HEADER)) inv_die("%s:1: not a dream losses.csv header", path);
    for (int lineno = 2; fgets(line, sizeof line, f); ++lineno) {
        int b = atoi(line);
        if (b < first || b >= end || line[strlen(line) - 1] != '\n')
            inv_die("%s:%d: a row of batch %d, but the shard made batches %d to %d", path, lineno, b, first, end - 1);
        fputs(line, to);
    }
    fclose(f);
}

int run_merge(int argc, char **argv)
{
    if (wants_help(argc, argv)) { merge_help(argv[0]); return 0; }
    int copy = 0, nargs = 0;
    const char **args = xcalloc(argc, sizeof *args);
    for (int i = 3; i < argc; ++i) {
        if (!strcmp(argv[i], "-copy")) copy = 1;
        else if (argv[i][0] == '-') inv_die("merge: unexpected argument '%s'", argv[i]);
        else args[nargs++] = argv[i];
    }
    if (nargs < 2) { merge_help(argv[0]); return 1; }
    const char *out = args[0];
    int ngiven = nargs - 1;
    shard_dir *given = xcalloc(ngiven, sizeof *given);
    for (int i = 0; i < ngiven; ++i) {
        given[i].dir = args[i + 1];
        read_shard(&given[i]);
        if (i) check_same_run(&given[0], &given[i]), warn_other_settings(&given[0], &given[i]);
    }

    // Each shard once, none missing.
    const shard_manifest *m = &given[0].m;
    int count = m->shard.count;
    shard_dir **by_index = xcalloc(count, sizeof *by_index);
    for (int i = 0; i < ngiven; ++i) {
        int k = given[i].m.shard.index;
        if (by_index[k]) {
            if (same_dir(by_index[k]->dir, given[i].dir)) inv_die("%s is given twice", given[i].dir);
            inv_die("shard %d/%d is given twice: %s and %s", k, count, by_index[k]->dir, given[i].dir);
        }
        by_index[k] = &given[i];
    }
    int missing = 0;
    char miss[512] = "";
    size_t ml = 0;
    for (int k = 0; k < count; ++k)
        if (!by_index[k] && ++missing <= 8) ml += snprintf(miss + ml, sizeof miss - ml, "%s%d/%d", missing > 1 ? ", " : "", k, count);
    if (missing)
        inv_die("%d of the run's %d shards %s missing: shard%s %s%s (run dream ... -shard I/%d for each, or give its directory)",
                missing, count, missing > 1 ? "are" : "is", missing > 1 ? "s" : "", miss, missing > 8 ? ", ..." : "", count);

    // The run's labels, as its shards wrote them.
    char path[4096];
    snprintf(path, sizeof path, "%s/labels.txt", given[0].dir);
    label_set labels = read_label_lines(path);
    uint64_t lh = HASH_START;
    for (int i = 0; i < labels.n; ++i) lh = hash_string(labels.names[i], lh);
    if (lh != m->labels_hash || labels.n != m->classes) inv_die("%s does not hold the labels its %s records; the shard is damaged", path, SHARD_MANIFEST);
    check_labels_not_in_path(&labels, out);
    check_out_dir(out, given, ngiven);

    // Every image from its shard's list, in order: the class of each, and
    // the image itself linked (or copied) into out/images.
    int n = m->images;
    int *targets = xcalloc(n, sizeof(int));
    char **names = xcalloc(n, sizeof *names);
    make_output_dir(out);
    snprintf(path, sizeof path, "%s/images", out);
    make_output_dir(path);
    int linked = 0, copied = 0;
    for (int s = 0; s < count; ++s) {
        const shard_dir *sd = by_index[s];
        int first, end;
        shard_batches(sd->m.shard, m->nbatches, &first, &end);
        int k0 = first * m->batch < n ? first * m->batch : n, k1 = end * m->batch < n ? end * m->batch : n;
        char list[4096], line[4096], name[1024], src[4096 + 1024], dst[4096 + 1024];
        snprintf(list, sizeof list, "%s/train.list", sd->dir);
        FILE *f = fopen(list, "r");
        if (!f) inv_die("cannot open %s: the shard is damaged, run it again", list);
        int k = k0, lineno = 0;
        while (fgets(line, sizeof line, f)) {
            ++lineno;
            line[strcspn(line, "\n")] = 0;
            int got, label;
            parse_list_line(line, list, lineno, &labels, &got, &label, name, sizeof name);
            if (k >= k1 || got != k) inv_die("%s:%d: image %d, but shard %d/%d holds images %d to %d in order", list, lineno, got, s, count, k0, k1 - 1);
            targets[k] = label;
            names[k] = xstrdup(name);
            snprintf(src, sizeof src, "%s/images/%s", sd->dir, name);
            snprintf(dst, sizeof dst, "%s/images/%s", out, name);
            if (place_image(src, dst, copy)) ++linked; else ++copied;
            ++k;
        }
        fclose(f);
        if (k != k1) inv_die("%s: %d images, but shard %d/%d holds images %d to %d", list, k - k0, s, count, k0, k1 - 1);
    }

    // losses.csv: the shards' rows in batch order; then dream.progress as
    // the finished unsharded run leaves it.
    snprintf(path, sizeof path, "%s/losses.csv", out);
    atomic_file losses = atomic_open(path);
    fputs(DREAM_LOSSES_HEADER, losses.f);
    for (int s = 0; s < count; ++s) {
        int first, end;
        shard_batches(by_index[s]->m.shard, m->nbatches, &first, &end);
        append_losses(losses.f, by_index[s], first, end);
    }
    atomic_commit(&losses);
    save_dream_progress(out, m->run, m->nbatches);

    // The grid from the images the shards kept for it, as floats.
    class_grid grid = make_class_grid(m->grid_n ? m->grid_list : NULL, m->grid_n, targets, n, m->classes, GRID_COLS, m->c, m->h, m->w);
    size_t im = (size_t)m->c * m->h * m->w;
    for (int k = 0; k < n; ++k) {
        if (!class_grid_wants(&grid, targets[k])) continue;
        int s = 0;
        for (int first, end; s < count; ++s) {
            shard_batches(by_index[s]->m.shard, m->nbatches, &first, &end);
            if (k < end * m->batch) break;
        }
        size_t len;
        snprintf(path, sizeof path, "%s/grid/%06d.f32", by_index[s]->dir, k);
        float *v = (float *)read_whole_file(path, "grid image", 1024, &len);
        if (len != im * sizeof(float)) inv_die("%s: %zu bytes, expected %zu; the shard is damaged, run it again", path, len, im * sizeof(float));
        class_grid_add(&grid, targets[k], v);
        free(v);
    }

    size_t list_cap = 1;
    for (int k = 0; k < n; ++k) list_cap += strlen(out) + strlen(names[k]) + 16;
    char *list = xcalloc(list_cap, 1);
    size_t list_len = 0;
    for (int k = 0; k < n; ++k) {
        char p[4096 + 1024];
        dream_image_path(p, sizeof p, out, k, labels.names[targets[k]]);
        list_len += snprintf(list + list_len, list_cap - list_len, "%s\n", p);
    }
    save_dream_set(out, &grid, list, &labels, m->classes);
    printf("merge: %d shards, %d images in %s (%d hard-linked, %d copied); list %s/train.list, data %s/dream.data, grid %s/grid.png\n",
           count, n, out, linked, copied, out, out, out);

    for (int k = 0; k < n; ++k) free(names[k]);
    free(names); free(list); free(targets); free(by_index); free(given); free(args);
    free_class_grid(&grid);
    free_label_set(&labels);
    return 0;
}
