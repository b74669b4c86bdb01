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

#include "load_network.h"
#include "conv1x1_fix.h"
#include "dataset.h"
#include "evaluate.h"
#include "fast.h"
#include "load_frozen.h"
#include "icfg.h"
#include "inversion.h"
#include "kd.h"
#include "grid.h"
#include "labels.h"
#include "memory.h"
#include "netstate.h"
#include "pool.h"
#include "synth.h"
#include "trainer.h"
#include "util.h"

static void distill_help(const char *prog)
{
    printf("usage: %s inversion distill <inversion.cfg> <teacher.cfg> <teacher.weights> <student.cfg> [student.weights]\n"
           "                           -out DIR [-pool DATA] [-valid DATA] [-labels FILE] [-seed S] [-grid-classes LIST]\n\n"
           "Trains the student on the teacher's softened outputs (t^2 KL at [distill] temperature) over a pool of\n"
           "images: [distill] images synthesized up front with DeepInversion, the train= list of -pool DATA\n"
           "(a dream.data, or any Darknet classifier .data), and with [compete] weight > 0 a new batch every\n"
           "[distill] every student batches, synthesized against the current student (Adaptive DeepInversion).\n"
           "With [generator] cfg (fast mode), every synthesized batch is a round of a generator network that learns to\n"
           "dream: a copy takes [generator] steps Adam steps on the DeepInversion loss, its images join the pool, and\n"
           "the gradients it met are applied to the generator (first-order MAML); DIR gets generator.weights for\n"
           "`dream -generator`.\n\n"
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
    inversion_params p;
    frozen_net *tkd;                // the teacher at the student's batch: the KD targets
    image_pool pool;
    const labelled_set *valid;      // -valid's images (n 0: none)
    const char *valid_list;
} distill_run;

// A batch drawn from the pool, randomly cropped and flipped, and the teacher's logits of it.
static void fill_batch(void *ctx, rng *r, network *s)
{
    distill_run *d = ctx;
    int B = s->batch, c = s->c, h = s->h, w = s->w, crop = d->p.distill_crop;
    size_t size = (size_t)c * h * w;
    for (int i = 0; i < B; ++i) {
        int k = rng_int(r, 0, d->pool.n - 1);
        random_crop_flip(r, pool_image(&d->pool, k), s->input + i * size, c, h, w, crop, d->p.distill_flip);
    }
    frozen_forward(d->tkd, s->input);
}

// The KD delta at the student's softmax against the teacher's logits of the same batch.
static double kd_delta(void *ctx, const float *logits, int batch, int outputs, float *delta)
{
    distill_run *d = ctx;
    return kd_loss(frozen_logits(d->tkd), logits, batch, outputs, d->p.distill_temperature, delta);
}

static void csv_row(void *ctx, network *s, int b, double loss, int validate, char *line, size_t n)
{
    distill_run *d = ctx;
    double top1 = -1;
    if (validate) {
        classifier_score sc = evaluate_classifier(s, d->valid);
        top1 = 100.0 * sc.correct / sc.n;
        free_classifier_score(&sc);
        fprintf(stderr, "distill: batch %d  student top-1 %.2f%% on %s\n", b, top1, d->valid_list);
    }
    snprintf(line, n, top1 >= 0 ? "%d,%.6g,%.6g,%d,%.2f\n" : "%d,%.6g,%.6g,%d,\n", b, loss, get_current_rate(s), d->pool.n, top1);
}

static void progress(void *ctx, network *s, double loss, double avg, char *line, size_t n)
{
    distill_run *d = ctx;
    snprintf(line, n, "kd %.4f  avg %.4f  lr %.4g  pool %d", loss, avg, get_current_rate(s), d->pool.n);
}

static const trainer_ops distill_ops = {fill_batch, kd_delta, csv_row, progress};

int run_distill(int argc, char **argv)
{
    if (wants_help(argc, argv)) { distill_help(argv[0]); return 0; }
    if (argc < 7) { distill_help(argv[0]); return 1; }
    const char *icfg = argv[3], *tcfg = argv[4], *tweights = argv[5], *scfg = argv[6], *sweights = NULL;
    int first = 7;
    if (argc > 7 && argv[7][0] != '-') sweights = argv[first++];
    const char *with_value[] = {"-out", "-pool", "-valid", "-labels", "-seed", "-grid-classes", NULL};
    opt_check(argc, argv, first, with_value, NULL);
    const char *out = opt_str(argc, argv, "-out", NULL);
    if (!out) inv_die("distill needs -out DIR");
    const char *pool_data = opt_str(argc, argv, "-pool", NULL), *valid_data = opt_str(argc, argv, "-valid", NULL);
    const char *labels_path = opt_str(argc, argv, "-labels", NULL);
    uint64_t seed = (uint64_t)opt_int(argc, argv, "-seed", 1);
    int *grid_list = NULL, grid_n = opt_grid_classes(argc, argv, &grid_list);

    // Everything is checked before any work or any file.
    distill_run d;
    memset(&d, 0, sizeof d);
    d.p = read_inversion_cfg(icfg);
    inversion_params *p = &d.p;
    int synthesizing = p->distill_images > 0 || p->distill_every > 0;
    if (!synthesizing && !pool_data) inv_die("%s: nothing to distill on: set [distill] images or every, or give -pool DATA", icfg);
    if (p->distill_every > 0 && p->compete_weight <= 0 && !p->generator_cfg[0])
        inv_warn("[distill] every=%d without [compete] weight: new batches are plain DeepInversion", p->distill_every);
    memory_plan mem = plan_distill_memory(p, tcfg, scfg, synthesizing, pool_data, valid_data);
    check_memory(&mem, icfg, p->batch);
    srand((unsigned)seed);   // Darknet initialises weights with rand()
    trainer t = {.verb = "distill", .out = out, .csv_name = "distill.csv", .csv_header = "batch,kd_loss,lr,pool,top1\n", .chart_loss = "kd_loss",
                 .weights_name = "student.weights", .ops = &distill_ops, .ctx = &d, .seed = seed,
                 .upfront = (p->distill_images + p->batch - 1) / p->batch, .synth_line = "synthesized batch %d/%d (pool %d images)",
                 .synth_every = p->distill_every, .synth_max = p->distill_max_images, .pool_required = 1,
                 .backup_every = p->distill_backup_every, .grid_list = grid_list, .grid_n = grid_n, .grid_empty = 1};
    network *s = t.net = load_checked_network(scfg, trainer_weights(&t, sweights), 0, LAYERS_TRAIN);
    int out_layer = output_layer_index(s);
    if (s->layers[out_layer].type != SOFTMAX || out_layer == 0) inv_die("%s: the student must end in [softmax]", scfg);
    d.tkd = load_frozen(tcfg, tweights, s->batch);
    network *tk = d.tkd->net;
    if (tk->w != s->w || tk->h != s->h || tk->c != s->c)
        inv_die("input sizes differ: teacher %s takes %dx%dx%d, student %s takes %dx%dx%d", tcfg, tk->w, tk->h, tk->c, scfg, s->w, s->h, s->c);
    if (s->layers[out_layer].outputs != d.tkd->classes)
        inv_die("output sizes differ: teacher %s has %d classes, student %s has %d outputs", tcfg, d.tkd->classes, scfg,
                s->layers[out_layer].outputs);
    int classes = t.grid_classes = d.tkd->classes;
    classifier_data pd = {0}, vd = {0};
    if (pool_data) {
        pd = read_classifier_data(pool_data);
        if (pd.classes != classes) inv_die("%s has %d classes, the teacher %d", pool_data, pd.classes, classes);
    }
    if (valid_data) {
        vd = read_classifier_data(valid_data);
        if (vd.classes != classes) inv_die("%s has %d classes, the teacher %d", valid_data, vd.classes, classes);
        d.valid_list = classifier_list(&vd, "valid");
    }
    label_set labels;
    if (labels_path) labels = read_label_set(labels_path);
    else if (pool_data) labels = copy_label_set(pd.labels, pd.classes);
    else labels = default_label_set(classes);
    if (labels.n != classes) inv_die("%d labels for %d classes", labels.n, classes);
    check_labels_not_in_path(&labels, out);
    class_grid_check_list(grid_list, grid_n, classes, "-grid-classes", tcfg);
    frozen_net *tsyn = NULL, *ssyn = NULL;   // the teacher and the competing student at the synthesis batch
    synth *syn = NULL;
    fast_synth *fast = NULL;
    if (p->generator_cfg[0] && !synthesizing) inv_die("%s: [generator] cfg needs [distill] images or every (it synthesizes the pool)", icfg);
    if (synthesizing) {
        tsyn = load_frozen(tcfg, tweights, p->batch);
        if (p->compete_weight > 0) ssyn = load_frozen(scfg, NULL, p->batch);
        syn = make_synth(tsyn, ssyn, p);
        if (p->generator_cfg[0]) fast = make_fast_synth(syn, NULL);   // resuming: its backup is loaded by trainer_start
    }
    fix_conv1x1_backward(s);

    make_student_dirs(out);
    d.pool = make_pool(s->c, s->h, s->w);
    int nlisted = 0;
    if (pool_data) {
        labelled_set ls = load_labelled_list(classifier_list(&pd, "train"), pd.labels, classes, s->w, s->h, s->c);
        for (int i = 0; i < ls.n; ++i) pool_add(&d.pool, labelled_image(&ls, i), ls.y[i]);
        nlisted = ls.n;
        free_labelled_set(&ls);
    }
    synth_pool sp = {out, syn, tsyn, labels.names, p->gray, seed, &d.pool, nlisted, 0, ssyn ? ssyn->net : NULL, s, fast};
    t.sp = &sp;
    if (trainer_start(&t))
        fprintf(stderr, "distill: resuming from %s/backup at batch %d (pool %d images)\n", out, t.resume.batches, d.pool.n);
    labelled_set valid = {0};
    if (valid_data) valid = load_labelled_list(d.valid_list, vd.labels, classes, s->w, s->h, s->c);
    d.valid = &valid;
    t.valid_every = valid.n ? p->distill_valid_every : 0;
    trainer_run(&t);
    if (fast) {
        char path[4096];
        snprintf(path, sizeof path, "%s/generator.weights", out);
        save_weights_atomic(fast->meta->net, path);
    }

    printf("distill: %s/student.weights after %d batches, pool %d images (%d synthesized)\n", out, (int)get_current_batch(s),
           d.pool.n, d.pool.n - nlisted);
    if (valid.n) {
        classifier_score sc = evaluate_classifier(s, &valid);
        printf("student ");
        print_classifier_score(stdout, &sc, vd.labels);
        free_classifier_score(&sc);
    }

    free_trainer(&t);
    free_labelled_set(&valid);
    free_classifier_data(&pd);
    free_classifier_data(&vd);
    free_pool(&d.pool);
    free_label_set(&labels);
    free_fast_synth(fast);
    free_synth(syn);
    free_loaded_frozen(ssyn);
    free_loaded_frozen(tsyn);
    free_loaded_frozen(d.tkd);
    free(grid_list);
    free_network(s);
    return 0;
}
