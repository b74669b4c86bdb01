// `darknet inversion distill`: trains a student on the teacher's softened
// outputs over a pool of images: synthesized up front (DeepInversion), read
// from a list (DeepDream, noise, or real images for comparison), and, with
// Adaptive DeepInversion, synthesized during training against the current
// student. Darknet's own forward/backward/update_network train the student
// (the student cfg's lr policy, momentum, decay, max_batches); the plugin
// owns the KD loss. Backups hold everything needed to resume exactly.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "load_network.h"
#include "conv1x1_fix.h"
#include "dataset.h"
#include "evaluate.h"
#include "frozen.h"
#include "icfg.h"
#include "imageio.h"
#include "inversion.h"
#include "kd.h"
#include "grid.h"
#include "labels.h"
#include "memory.h"
#include "netstate.h"
#include "pool.h"
#include "rng.h"
#include "student.h"
#include "synth.h"
#include "util.h"

static void distill_help(const char *prog)
{
    printf("usage: %s inversion distill <inversion.cfg> <teacher.cfg> <teacher.weights> <student.cfg> [student.weights]\n"
           "                           -out DIR [-pool DATA] [-valid DATA] [-labels FILE] [-seed S] [-grid-classes LIST]\n\n"
           "Trains the student on the teacher's softened outputs (t^2 KL at [distill] temperature) over a pool of\n"
           "images: [distill] images synthesized up front with DeepInversion, the train= list of -pool DATA\n"
           "(a dream.data, or any Darknet classifier .data), and with [compete] weight > 0 a new batch every\n"
           "[distill] every student batches, synthesized against the current student (Adaptive DeepInversion).\n\n"
           "  -out DIR      student.weights (final), backup/ (resume point), pool/*.png and pool.list (synthesized\n"
           "                images), distill.csv (loss, pool size, accuracy), grid.png (pool samples per class)\n"
           "  -pool DATA    add the images of DATA's train= list to the pool (labels from DATA); to spread the\n"
           "                up-front synthesis over many machines, dream the images in shards (dream -shard I/N),\n"
           "                join them with merge and give the merged dream.data here, with [distill] images=0\n"
           "  -valid DATA   print the student's top-1 on DATA's valid= list every [distill] valid_every batches\n"
           "  -labels FILE  class labels for synthesized file names (default: -pool's, else class_00, ...)\n"
           "  -seed S       random seed (default 1)\n"
           "  -grid-classes LIST  classes shown in grid.png, one row each, e.g. 0,5,17 or 0-9 (at most 100;\n"
           "                default: the first 10 classes among the synthesized images)\n"
           MEMORY_HELP "\n"
           "Rerun the same command after an interruption: it continues from DIR/backup.\n"
           "The [distill] and [compete] keys are listed by: %s inversion dream --help\n", prog, prog);
}

typedef struct {
    const char *out;
    inversion_params p;
    network *student, *ssyn;        // trained student; its frozen copy at the synthesis batch
    frozen_net *tkd, *tsyn, *sfrozen;
    synth *syn;
    image_pool pool;
    synth_pool sp;                  // the synthesized part of the pool
    label_set labels;
    rng r;
    uint64_t seed;
    text_log csv;
} distill_run;

static void path_in(char *buf, size_t n, const char *dir, const char *name) { snprintf(buf, n, "%s/%s", dir, name); }

// One batch of DeepInversion (ADI when the student is attached) into the pool and onto disk.
static void synthesize_batch(distill_run *d)
{
    if (d->ssyn) copy_network_params(d->ssyn, d->student);
    synth_pool_batch(&d->sp);
}

static void save_backup(distill_run *d, int previous)
{
    student_state st = {(int)get_current_batch(d->student), d->sp.synthesized, (unsigned long long)d->r.s};
    student_save_backup(d->student, d->out, &d->sp, &d->csv, "distill.csv", &st, previous);
}

// The KD delta at the student's softmax against the teacher's logits of the same batch.
static double kd_delta(void *ctx, const float *logits, int batch, int outputs, float *delta)
{
    distill_run *d = ctx;
    return kd_loss(frozen_logits(d->tkd), logits, batch, outputs, d->p.kd_temperature, delta);
}

// One student step on a batch drawn from the pool: Darknet's forward in
// training mode, the KD delta at the student's softmax, Darknet's backward
// and (every `subdivisions` batches) update_network.
static double train_step(distill_run *d)
{
    network *s = d->student;
    int B = s->batch, c = s->c, h = s->h, w = s->w, crop = d->p.distill_crop;
    size_t size = (size_t)c * h * w;
    for (int i = 0; i < B; ++i) {
        int k = rng_int(&d->r, 0, d->pool.n - 1);
        random_crop_flip(&d->r, pool_image(&d->pool, k), s->input + i * size, c, h, w, crop, d->p.distill_flip);
    }
    frozen_forward(d->tkd, s->input);
    return student_train_step(s, kd_delta, d);
}

int run_distill(int argc, char **argv)
{
    if (wants_help(argc, argv)) { distill_help(argv[0]); return 0; }
    if (argc < 7) { distill_help(argv[0]); return 1; }
    const char *icfg = argv[3], *tcfg = argv[4], *tweights = argv[5], *scfg = argv[6], *sweights = NULL;
    int first = 7;
    if (argc > 7 && argv[7][0] != '-') sweights = argv[first++];
    const char *with_value[] = {"-out", "-pool", "-valid", "-labels", "-seed", "-grid-classes", NULL};
    opt_check(argc, argv, first, with_value, NULL);
    distill_run d;
    memset(&d, 0, sizeof d);
    d.out = opt_str(argc, argv, "-out", NULL);
    if (!d.out) inv_die("distill needs -out DIR");
    const char *pool_data = opt_str(argc, argv, "-pool", NULL), *valid_data = opt_str(argc, argv, "-valid", NULL);
    const char *labels_path = opt_str(argc, argv, "-labels", NULL);
    d.seed = (uint64_t)opt_int(argc, argv, "-seed", 1);
    int *grid_list = NULL, grid_n = opt_grid_classes(argc, argv, &grid_list);

    // Everything is checked before any work or any file.
    d.p = read_inversion_cfg(icfg);
    inversion_params *p = &d.p;
    int synthesizing = p->distill_images > 0 || p->distill_every > 0;
    if (!synthesizing && !pool_data) inv_die("%s: nothing to distill on: set [distill] images or every, or give -pool DATA", icfg);
    if (p->distill_every > 0 && p->compete <= 0)
        inv_warn("[distill] every=%d without [compete] weight: new batches are plain DeepInversion", p->distill_every);
    memory_plan mem = plan_distill_memory(p, tcfg, scfg, synthesizing, pool_data, valid_data);
    check_memory(&mem, icfg, p->batch);
    srand((unsigned)d.seed);   // Darknet initialises weights with rand()
    student_state rs = {0, 0, 0};
    int resuming = student_read_backup(d.out, &rs);
    int resume_batches = rs.batches, resume_synth = rs.synthesized;
    char path[4096];
    student_backup_path(path, sizeof path, d.out, "student.weights", resume_batches);
    d.student = load_checked_network(scfg, resuming ? path : sweights, 0, LAYERS_TRAIN);
    network *s = d.student;
    int out = output_layer_index(s);
    if (s->layers[out].type != SOFTMAX || out == 0) inv_die("%s: the student must end in [softmax]", scfg);
    network *tk = load_checked_network(tcfg, tweights, s->batch, LAYERS_FROZEN);
    d.tkd = make_frozen_net(tk, tcfg);
    if (tk->w != s->w || tk->h != s->h || tk->c != s->c)
        inv_die("input sizes differ: teacher %s takes %dx%dx%d, student %s takes %dx%dx%d", tcfg, tk->w, tk->h, tk->c, scfg, s->w, s->h, s->c);
    if (s->layers[out].outputs != d.tkd->classes)
        inv_die("output sizes differ: teacher %s has %d classes, student %s has %d outputs", tcfg, d.tkd->classes, scfg, s->layers[out].outputs);
    int classes = d.tkd->classes;
    classifier_data pd = {0}, vd = {0};
    if (pool_data) {
        pd = read_classifier_data(pool_data);
        if (pd.classes != classes) inv_die("%s has %d classes, the teacher %d", pool_data, pd.classes, classes);
    }
    if (valid_data) {
        vd = read_classifier_data(valid_data);
        if (vd.classes != classes) inv_die("%s has %d classes, the teacher %d", valid_data, vd.classes, classes);
        classifier_list(&vd, "valid");
    }
    if (labels_path) d.labels = read_label_set(labels_path);
    else if (pool_data) {
        d.labels.n = pd.classes;
        d.labels.names = xcalloc(pd.classes, sizeof(char *));
        for (int k = 0; k < pd.classes; ++k) d.labels.names[k] = xstrdup(pd.labels[k]);
    } else d.labels = default_label_set(classes);
    if (d.labels.n != classes) inv_die("%d labels for %d classes", d.labels.n, classes);
    check_labels_not_in_path(&d.labels, d.out);
    class_grid_check_list(grid_list, grid_n, classes, "-grid-classes", tcfg);
    if (synthesizing) {
        network *ts = load_checked_network(tcfg, tweights, p->batch, LAYERS_FROZEN);
        d.tsyn = make_frozen_net(ts, tcfg);
        if (p->compete > 0) {
            d.ssyn = load_checked_network(scfg, NULL, p->batch, LAYERS_FROZEN);
            d.sfrozen = make_frozen_net(d.ssyn, scfg);
        }
        d.syn = make_synth(d.tsyn, d.sfrozen, p);
    }
    fix_conv1x1_backward(s);

    make_student_dirs(d.out);

    d.pool = make_pool(s->c, s->h, s->w);
    if (pool_data) {
        labelled_set ls = load_labelled_list(classifier_list(&pd, "train"), pd.labels, classes, s->w, s->h, s->c);
        for (int i = 0; i < ls.n; ++i) pool_add(&d.pool, labelled_image(&ls, i), ls.y[i]);
        d.sp.nlisted = ls.n;
        free_labelled_set(&ls);
    }
    d.sp.out = d.out;
    d.sp.syn = d.syn;
    d.sp.teacher = d.tsyn;
    d.sp.labels = d.labels.names;
    d.sp.gray = p->gray;
    d.sp.seed = d.seed;
    d.sp.pool = &d.pool;
    d.r = make_rng(d.seed);
    text_log_add(&d.csv, "batch,kd_loss,lr,pool,top1\n");
    if (resuming) {
        student_restore_backup(s, d.out, &d.sp, &d.csv, "distill.csv", &rs, &d.r);
        fprintf(stderr, "distill: resuming from %s/backup at batch %d (pool %d images)\n", d.out, resume_batches, d.pool.n);
    }
    labelled_set valid = {0};
    if (valid_data) valid = load_labelled_list(classifier_list(&vd, "valid"), vd.labels, classes, s->w, s->h, s->c);

    // Up-front synthesis.
    int upfront = (p->distill_images + p->batch - 1) / p->batch;
    int last_backup = resuming ? resume_batches : -1;
    double t0 = now_seconds();
    for (int b = d.sp.synthesized; b < upfront; ++b) {
        synthesize_batch(&d);
        char eta[32];
        format_duration((now_seconds() - t0) / (b + 1 - resume_synth) * (upfront - b - 1), eta, sizeof eta);
        fprintf(stderr, "distill: synthesized batch %d/%d (pool %d images)  ETA %s\n", b + 1, upfront, d.pool.n, eta);
        save_backup(&d, last_backup);   // synthesis is the costly part: every batch is a resume point
        last_backup = (int)get_current_batch(s);
    }
    if (d.pool.n == 0) inv_die("the pool is empty");

    int max = s->max_batches, start = (int)get_current_batch(s);
    double t_start = now_seconds(), t_print = 0, avg = -1, top1 = -1;
    while ((int)get_current_batch(s) < max) {
        double loss = train_step(&d);
        avg = avg < 0 ? loss : 0.95 * avg + 0.05 * loss;
        int b = (int)get_current_batch(s);
        top1 = -1;
        if (valid.n && (b % p->distill_valid_every == 0 || b == max)) {
            classifier_score sc = evaluate_classifier(s, &valid);
            top1 = 100.0 * sc.correct / sc.n;
            free_classifier_score(&sc);
            fprintf(stderr, "distill: batch %d  student top-1 %.2f%% on %s\n", b, top1, classifier_list(&vd, "valid"));
        }
        char line[256];
        snprintf(line, sizeof line, top1 >= 0 ? "%d,%.6g,%.6g,%d,%.2f\n" : "%d,%.6g,%.6g,%d,\n", b, loss, get_current_rate(s), d.pool.n, top1);
        text_log_add(&d.csv, line);
        int room = !p->distill_max_images || d.pool.n - d.sp.nlisted < p->distill_max_images;
        if (p->distill_every > 0 && b % p->distill_every == 0 && b < max && room) synthesize_batch(&d);
        double now = now_seconds();
        if (now - t_print >= 5 || b == max) {
            char eta[32];
            format_duration((now - t_start) / (b - start) * (max - b), eta, sizeof eta);
            fprintf(stderr, "distill batch %d/%d  kd %.4f  avg %.4f  lr %.4g  pool %d  ETA %s\n", b, max, loss, avg,
                    get_current_rate(s), d.pool.n, eta);
            t_print = now;
        }
        if (b % p->distill_backup_every == 0 && b < max) {
            save_backup(&d, last_backup);
            last_backup = b;
        }
    }
    synth_pool_write_list(&d.sp);
    path_in(path, sizeof path, d.out, "distill.csv");
    save_text(path, d.csv.s);
    path_in(path, sizeof path, d.out, "grid.png");
    save_class_grid_of(path, d.pool.x + (size_t)d.sp.nlisted * s->c * s->h * s->w, d.pool.y + d.sp.nlisted, d.pool.n - d.sp.nlisted,
                       classes, grid_list, grid_n, s->c, s->h, s->w);
    path_in(path, sizeof path, d.out, "student.weights");
    save_weights_atomic(s, path);
    printf("distill: %s after %d batches, pool %d images (%d synthesized)%s\n", path, (int)get_current_batch(s), d.pool.n,
           d.pool.n - d.sp.nlisted, valid.n ? "" : "");
    if (valid.n) {
        classifier_score sc = evaluate_classifier(s, &valid);
        printf("student ");
        print_classifier_score(stdout, &sc, vd.labels);
        free_classifier_score(&sc);
    }

    free_labelled_set(&valid);
    free_classifier_data(&pd);
    free_classifier_data(&vd);
    free(d.csv.s);
    free_pool(&d.pool);
    free_label_set(&d.labels);
    free_synth(d.syn);
    if (d.sfrozen) { free_frozen_net(d.sfrozen); free_network(d.ssyn); }
    if (d.tsyn) { network *ts = d.tsyn->net; free_frozen_net(d.tsyn); free_network(ts); }
    free_frozen_net(d.tkd);
    free(grid_list);
    free_network(tk);
    free_network(s);
    return 0;
}
