// `darknet inversion dream`: DeepInversion batches -> PNG images on disk, a
// list and .data file usable by Darknet's classifier, a class grid and a CSV
// of every loss term per iteration.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <omp.h>
#include <unistd.h>

#include "dream_set.h"
#include "fast.h"
#include "load_network.h"
#include "frozen.h"
#include "grid.h"
#include "icfg.h"
#include "imageio.h"
#include "inversion.h"
#include "labels.h"
#include "memory.h"
#include "rng.h"
#include "shard.h"
#include "synth.h"
#include "util.h"

static void dream_help(const char *prog)
{
    printf("usage: %s inversion dream <inversion.cfg> <teacher.cfg> <teacher.weights> -out DIR\n"
           "                         [-n N] [-seed S] [-labels FILE] [-label-ids] [-grid-classes LIST]\n"
           "                         [-shard I/N | -shards N] [-generator G.weights]\n\n"
           "Synthesizes N images from a trained classifier (DeepInversion): random pixels are optimised\n"
           "through the frozen network so that every BN layer's batch statistics match its running\n"
           "statistics, the teacher predicts the target class, and image priors hold.\n\n"
           "  -out DIR      output directory: images/*.png, train.list, labels.txt, dream.data,\n"
           "                grid.png (a row per class, see -grid-classes), losses.csv (every term, every iteration)\n"
           "  -n N          images to write (default: [inversion] images, or one batch)\n"
           "  -seed S       random seed (default 1); same seed, same build, same threads: same images\n"
           "  -labels FILE  class label strings, one per line, used in file names (default class_00, ...);\n"
           "                like Darknet, only the first `classes` lines are read. Darknet gives an image every\n"
           "                label that is a substring of its path, so no label may contain another\n"
           "  -label-ids    write label k as c<k>_<label> (c0000_tench, c0001_goldfish; spaces and '/' become\n"
           "                '_') in labels.txt, the file names and dream.data: labels that contain one another\n"
           "                (ImageNet's short names) then match one class each\n"
           "  -grid-classes LIST  classes shown in grid.png, one row each, e.g. 0,5,17 or 0-9 (at most 100;\n"
           "                default: the first 10 classes among the images); 10 images per row, shrunk to keep\n"
           "                the grid within 1536x1536 pixels\n"
           "  -shard I/N    make only shard I (0 to N-1) of the run: its share of the batches, into its own -out DIR\n"
           "                (images/, train.list, labels.txt, losses.csv, grid/ with the grid's images, shard.manifest\n"
           "                written last). A batch's images depend only on -seed and its index, so N shards joined by\n"
           "                `merge` are byte for byte the run without -shard (on the same kind of CPU or GPU, with the\n"
           "                same OMP_NUM_THREADS: merge warns otherwise). A killed shard resumes when run again\n"
           "  -shards N     shard I of N, I taken from a Slurm job array (SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN;\n"
           "                the array must have N tasks) or a Kubernetes indexed job (JOB_COMPLETION_INDEX)\n"
           "  -generator G.weights  no optimisation: each batch is the output of the generator network of\n"
           "                [generator] cfg with these weights (a distill run's generator.weights) for latent\n"
           "                vectors drawn from N(0,1) and the batch's targets; its BN layers use the batch's statistics\n"
           MEMORY_HELP "\n"
           "inversion cfg keys (section, key, default, meaning):\n", prog);
    print_inversion_cfg_keys(stdout);
}

typedef struct {
    double start;
    long done, total;       // iterations over the whole run
    int nbatches, log_every, tty;
    text_log csv;
} dream_progress;

static void on_iteration(const synth_record *r, void *ctx)
{
    dream_progress *d = ctx;
    char line[512];
    snprintf(line, sizeof line, "%d,%d,%d,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g\n", r->batch_index, r->stage,
             r->iteration, r->lr, r->total, r->ce, r->bn, r->tv_l1, r->tv_l2, r->l2, r->target_p);
    text_log_add(&d->csv, line);
    ++d->done;
    int last = r->iteration + 1 == r->iterations;
    if (r->iteration % d->log_every && !last) return;
    double el = now_seconds() - d->start;
    char eta[32];
    format_duration(d->done ? el / d->done * (d->total - d->done) : 0, eta, sizeof eta);
    fprintf(stderr, "%sdream batch %d/%d %s iter %d/%d  loss %.4f  ce %.4f  bn %.4f  tv %.4f  l2 %.4f  p(target) %.3f  ETA %s%s",
            d->tty ? "\r" : "", r->batch_index + 1, d->nbatches, r->stage ? "full" : "low ", r->iteration + 1,
            r->iterations, r->total, r->ce, r->bn, r->tv_l1 + r->tv_l2, r->l2, r->target_p, eta, d->tty ? "   " : "\n");
}

// Identifies a run: the same cfg and weights contents, seed, count and labels.
static uint64_t dream_run_id(const char *icfg, const char *cfg, const char *weights, unsigned seed, int n, const label_set *labels)
{
    uint64_t h = hash_file(icfg, HASH_START);
    h = hash_file(cfg, h);
    h = hash_file(weights, h);
    char buf[64];
    snprintf(buf, sizeof buf, "%u/%d", seed, n);
    h = hash_string(buf, h);
    for (int i = 0; i < labels->n; ++i) h = hash_string(labels->names[i], h);
    return h;
}

// Batches already finished by an earlier run with the same identity (0 for a
// fresh directory); dies if DIR holds another run's output.
static int finished_batches(const char *out, uint64_t id)
{
    char path[4096];
    uint64_t got;
    int batches, state = read_dream_progress(out, &got, &batches);
    if (state < 0) {
        snprintf(path, sizeof path, "%s/dream.data", out);
        if (file_exists(path)) inv_die("%s holds the output of another dream run; use another -out or remove it", out);
        return 0;
    }
    if (!state) inv_die("%s/dream.progress is damaged; remove %s to start over", out, out);
    if (got != id) inv_die("%s holds the output of another dream run (other cfg, weights, seed, -n or labels); use another -out or remove it", out);
    return batches;
}

// The CSV rows of batches before `batches`, from an interrupted run.
static void reload_losses(dream_progress *d, const char *out, int batches)
{
    char path[4096], line[512];
    snprintf(path, sizeof path, "%s/losses.csv", out);
    FILE *f = fopen(path, "r");
    if (!f) inv_die("cannot resume: %s is missing", path);
    if (!fgets(line, sizeof line, f)) inv_die("cannot resume: %s is empty", path);
    while (fgets(line, sizeof line, f))
        if (atoi(line) < batches) text_log_add(&d->csv, line);
    fclose(f);
}

// Target class of each image: round robin, random, or cycling through a list.
static int *make_targets(const char *spec, int n, int classes, unsigned seed)
{
    int *t = xcalloc(n, sizeof(int));
    if (!strcmp(spec, "all")) {
        for (int i = 0; i < n; ++i) t[i] = i % classes;
    } else if (!strcmp(spec, "random")) {
        rng r = make_rng(seed ^ 0x7a5bULL);
        for (int i = 0; i < n; ++i) t[i] = rng_int(&r, 0, classes - 1);
    } else {
        int list[4096], m = 0;
        for (const char *s = spec; *s && m < 4096;) {
            char *end;
            list[m] = (int)strtol(s, &end, 10);
            if (list[m] >= classes) inv_die("[inversion] targets: class %d, but the teacher has %d classes", list[m], classes);
            ++m;
            s = *end ? end + 1 : end;
        }
        for (int i = 0; i < n; ++i) t[i] = list[i % m];
    }
    return t;
}

// The label strings of the run: -labels FILE (its first `classes` lines, as
// Darknet reads them) or class_000...; with ids, c0000_<label>. Checked here,
// before the weights are read, so that a bad set costs nothing.
static label_set dream_labels(label_set l, const char *path, int ids, int classes, const char *cfg, const char *out)
{
    if (!path) l = default_label_set(classes);
    if (l.n > classes)
        inv_warn("%s has %d labels, %s has %d classes: using the first %d, as Darknet does", path, l.n, cfg, classes, classes);
    truncate_label_set(&l, classes);
    if (ids) add_label_ids(&l);
    check_label_set(&l, path ? path : "the default labels",
                    ids ? "a name holds another's id: rename it" : "-label-ids writes label k as c<k>_<label> (c0000_tench, spaces as '_'): unique, and contained in no other");
    if (l.n < classes) inv_die("%s has %d labels but %s has %d classes", path, l.n, cfg, classes);
    check_labels_not_in_path(&l, out);
    return l;
}

// A grid image of a shard, as floats: merge draws the whole run's grid.png
// from them exactly as an unsharded run draws it from memory.
static void save_grid_image(const char *out, int k, const float *im, size_t n)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/grid/%06d.f32", out, k);
    atomic_file a = atomic_open(path);
    fwrite(im, sizeof(float), n, a.f);
    atomic_commit(&a);
}

static void save_shard_manifest(const char *out, shard_spec sh, uint64_t run_id, unsigned seed, int n, int batch, int nbatches,
                                const network *net, int classes, const char *icfg, const char *cfg, const char *weights,
                                const label_set *labels, const int *grid_list, int grid_n, int gpu)
{
    shard_manifest m;
    memset(&m, 0, sizeof m);
    m.shard = sh, m.run = run_id, m.seed = seed, m.images = n, m.batch = batch, m.nbatches = nbatches;
    m.classes = classes, m.c = net->c, m.h = net->h, m.w = net->w;
    m.icfg_hash = hash_file(icfg, HASH_START), m.cfg_hash = hash_file(cfg, HASH_START), m.weights_hash = hash_file(weights, HASH_START);
    m.labels_hash = HASH_START;
    for (int i = 0; i < labels->n; ++i) m.labels_hash = hash_string(labels->names[i], m.labels_hash);
    if (strlen(icfg) >= SHARD_PATH_MAX || strlen(cfg) >= SHARD_PATH_MAX || strlen(weights) >= SHARD_PATH_MAX)
        inv_die("a path to the cfg or weights is over %d characters: a shard cannot record it", SHARD_PATH_MAX - 1);
    strcpy(m.icfg, icfg), strcpy(m.cfg, cfg), strcpy(m.weights, weights);
    // What else decides the last bits of the images.
    m.threads = omp_get_max_threads();
    snprintf(m.cpu, sizeof m.cpu, "%s", __builtin_cpu_supports("avx512f") ? "avx512f" : __builtin_cpu_supports("avx2") ? "avx2" : "generic");
    if (gpu >= 0) snprintf(m.device, sizeof m.device, "gpu");
    else snprintf(m.device, sizeof m.device, "cpu");
    m.grid_n = grid_n;
    if (grid_n) memcpy(m.grid_list, grid_list, grid_n * sizeof(int));
    write_shard_manifest(out, &m);
}

int run_dream(int argc, char **argv)
{
    if (wants_help(argc, argv)) { dream_help(argv[0]); return 0; }
    if (argc < 6) { dream_help(argv[0]); return 1; }
    const char *icfg = argv[3], *cfg = argv[4], *weights = argv[5];
    const char *with_value[] = {"-out", "-n", "-seed", "-labels", "-grid-classes", "-shard", "-shards", "-generator", NULL};
    const char *alone[] = {"-label-ids", NULL};
    opt_check(argc, argv, 6, with_value, alone);
    const char *out = opt_str(argc, argv, "-out", NULL);
    if (!out) inv_die("dream needs -out DIR");
    unsigned seed = (unsigned)opt_int(argc, argv, "-seed", 1);
    const char *labels_path = opt_str(argc, argv, "-labels", NULL);
    int *grid_list = NULL, grid_n = opt_grid_classes(argc, argv, &grid_list);
    shard_spec sh = opt_shard(argc, argv);
    const char *gen_weights = opt_str(argc, argv, "-generator", NULL);

    // Everything is validated before the output directory is touched.
    inversion_params p = read_inversion_cfg(icfg);
    if (p.compete_weight > 0) inv_die("%s: [compete] weight needs a student being distilled; dream has none (set it to 0, or use distill)", icfg);
    if (gen_weights && !p.generator_cfg[0]) inv_die("%s: -generator needs [generator] cfg, the generator's network", icfg);
    int n = opt_int(argc, argv, "-n", p.images ? p.images : p.batch);
    if (n <= 0) inv_die("-n must be positive");
    label_set labels = {0, NULL};
    if (labels_path) labels = read_label_lines(labels_path);
    memory_plan mem = {0};
    net_memory tm = memory_add_network(&mem, "teacher", cfg, LAYERS_FROZEN, 0);
    memory_add_synth(&mem, &tm, &p);
    memory_add(&mem, "batch images", (double)p.batch * tm.c * tm.h * tm.w * sizeof(float), 0, 0);
    memory_add_grid(&mem, grid_n ? grid_n : (tm.classes < GRID_ROWS ? tm.classes : GRID_ROWS), &tm);
    check_memory(&mem, icfg, p.batch);
    network *net = load_checked_network(cfg, NULL, p.batch, LAYERS_FROZEN);
    int classes = net->layers[output_layer_index(net)].outputs;
    labels = dream_labels(labels, labels_path, opt_has(argc, argv, "-label-ids"), classes, cfg, out);
    class_grid_check_list(grid_list, grid_n, classes, "-grid-classes", cfg);
    load_checked_weights(net, cfg, weights, LAYERS_FROZEN);
    net->train = 0;
    frozen_net *teacher = make_frozen_net(net, cfg);
    if (teacher->nbn == 0 && p.bn_stat_weight > 0) inv_warn("%s has no batch_normalize layers: the BN-statistic term is empty (this is DeepDream)", cfg);
    if (net->c != 1 && net->c != 3) inv_die("%s: %d input channels; images can be written for 1 or 3", cfg, net->c);
    int nbatches = (n + p.batch - 1) / p.batch;
    int *targets = make_targets(p.targets, nbatches * p.batch, teacher->classes, seed);
    // The grid keeps only the images it shows, taken as batches finish.
    class_grid grid = make_class_grid(grid_list, grid_n, targets, n, teacher->classes, GRID_COLS, net->c, net->h, net->w);
    size_t im_size = (size_t)net->c * net->h * net->w;

    // A shard makes batches [first, end) and keeps, of the whole run's grid,
    // the images that fall in its batches (shown[k]).
    int first = 0, end = nbatches;
    char *shown = NULL;
    if (sh.count) {
        shard_batches(sh, nbatches, &first, &end);
        if (first == end) inv_warn("shard %d/%d has no batches: the run has %d", sh.index, sh.count, nbatches);
        shown = xcalloc(n, 1);
        float *blank = xcalloc(im_size, sizeof(float));
        for (int k = 0; k < n; ++k)
            if (class_grid_wants(&grid, targets[k])) shown[k] = 1, class_grid_add(&grid, targets[k], blank);
        free(blank);
    }

    uint64_t run_id = dream_run_id(icfg, cfg, weights, seed, n, &labels), progress_id = run_id;
    if (gen_weights) run_id = progress_id = hash_file(gen_weights, hash_file(p.generator_cfg, run_id));
    if (sh.count) {
        char spec[64];
        snprintf(spec, sizeof spec, "shard %d/%d", sh.index, sh.count);
        progress_id = hash_string(spec, run_id);
    }
    int done = file_exists(out) ? finished_batches(out, progress_id) : 0;
    if (done > end - first) inv_die("%s/dream.progress is damaged; remove %s to start over", out, out);
    char path[4096];
    make_output_dir(out);
    snprintf(path, sizeof path, "%s/images", out);
    make_output_dir(path);
    if (sh.count) {
        snprintf(path, sizeof path, "%s/grid", out);
        make_output_dir(path);
    }

    synth *s = make_synth(teacher, NULL, &p);
    fast_synth *gen = gen_weights ? make_fast_synth(s, gen_weights) : NULL;
    if (gen) p.iterations = p.multires_iterations = 0;   // no optimisation: no progress lines
    float *batch_images = xcalloc((size_t)p.batch * im_size, sizeof(float));
    dream_progress d = {now_seconds(), 0, (long)(end - first - done) * (p.iterations + p.multires_iterations), nbatches, p.log_every, isatty(2), {NULL, 0, 0}};
    text_log_add(&d.csv, DREAM_LOSSES_HEADER);
    if (done) {
        reload_losses(&d, out, first + done);
        fprintf(stderr, "dream: resuming %s after %d finished batch%s\n", out, done, done > 1 ? "es" : "");
    }
    size_t list_cap = 1;
    for (int k = 0; k < n; ++k) list_cap += strlen(out) + strlen(labels.names[targets[k]]) + 32;
    char *list = xcalloc(list_cap, 1);
    size_t list_len = 0;
    int save_c = p.gray ? 1 : net->c;
    // Batches are independent (each has its own seed), so a resumed run
    // continues exactly where it stopped; of its finished batches it reads
    // back only the images the grid shows.
    for (int b = first; b < end; ++b) {
        int fresh = b - first >= done;
        uint64_t bseed = ((uint64_t)seed << 32) ^ (uint64_t)b;
        if (fresh && gen) fast_sample(gen, targets + b * p.batch, bseed, batch_images);
        else if (fresh) synth_batch(s, targets + b * p.batch, bseed, b, batch_images, on_iteration, &d);
        for (int i = 0; i < p.batch && b * p.batch + i < n; ++i) {
            int k = b * p.batch + i;
            float *im = batch_images + i * im_size;
            dream_image_path(path, sizeof path, out, k, labels.names[targets[k]]);
            if (fresh) save_png(path, im, save_c, net->h, net->w);
            if (sh.count) {
                if (fresh && shown[k]) save_grid_image(out, k, im, im_size);
            } else {
                if (!fresh && class_grid_wants(&grid, targets[k])) load_png(path, im, net->c, net->h, net->w);
                class_grid_add(&grid, targets[k], im);
            }
            list_len += snprintf(list + list_len, list_cap - list_len, "%s\n", path);
        }
        if (!fresh) continue;
        snprintf(path, sizeof path, "%s/losses.csv", out);
        save_text(path, d.csv.s);
        save_dream_progress(out, progress_id, b - first + 1);
    }
    if (d.tty) fprintf(stderr, "\n");

    if (sh.count) {
        // A shard's own list and labels, then the manifest last: merge takes
        // only shards that have one.
        snprintf(path, sizeof path, "%s/losses.csv", out);
        save_text(path, d.csv.s);
        snprintf(path, sizeof path, "%s/train.list", out);
        save_text(path, list);
        save_dream_labels(out, &labels);
        save_shard_manifest(out, sh, run_id, seed, n, p.batch, nbatches, net, teacher->classes, icfg, cfg, weights, &labels, grid_list, grid_n, teacher->gpu);
        int k0 = first * p.batch < n ? first * p.batch : n, k1 = end * p.batch < n ? end * p.batch : n;
        printf("dream: shard %d/%d, batches %d to %d of %d, %d images in %s (%.1f s); join the shards with `%s inversion merge`\n",
               sh.index, sh.count, first, end - 1, nbatches, k1 - k0, out, now_seconds() - d.start, argv[0]);
        if (first == end) printf("dream: shard %d/%d has no batches (the run has %d)\n", sh.index, sh.count, nbatches);
    } else {
        save_dream_set(out, &grid, list, &labels, teacher->classes);
        printf("dream: %d images in %s (%.1f s); list %s/train.list, data %s/dream.data, grid %s/grid.png\n",
               n, out, now_seconds() - d.start, out, out, out);
    }

    free(shown); free(list); free(batch_images); free(targets); free(d.csv.s); free(grid_list);
    free_class_grid(&grid);
    free_fast_synth(gen);
    free_synth(s);
    free_label_set(&labels);
    free_frozen_net(teacher);
    free_network(net);
    return 0;
}
