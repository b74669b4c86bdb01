// `darknet inversion continual`: class-incremental learning without the old
// data. The old network's head (widen.h: the [convolutional] or [connected]
// layer that gives the [softmax] its logits) is widened to the old plus the
// new classes, every old parameter is kept, and Darknet's own
// forward/backward/update_network train it on
//   w_syn t^2 KL(p_old || p_new) on DeepInversion images of the old classes
//   + w_ce CE on the new data + w_kd t^2 KL(p_old || p_new over the old classes) on the new data,
// each batch mixing synthesized and new images. Backups resume exactly.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "load_network.h"
#include "continual_loss.h"
#include "conv1x1_fix.h"
#include "dataset.h"
#include "evaluate.h"
#include "load_frozen.h"
#include "icfg.h"
#include "imageio.h"
#include "inversion.h"
#include "grid.h"
#include "labels.h"
#include "memory.h"
#include "pool.h"
#include "synth.h"
#include "trainer.h"
#include "util.h"
#include "widen.h"

static void continual_help(const char *prog)
{
    printf("usage: %s inversion continual <inversion.cfg> <old.cfg> <old.weights> <new.data>\n"
           "                             -out DIR [-old-labels FILE] [-pool DATA] [-valid DATA] [-seed S] [-grid-classes LIST]\n\n"
           "Adds the classes of new.data to a trained classifier without its old training data. The old\n"
           "network's head, the last layer with parameters before the final [softmax] -- a [convolutional]\n"
           "with filters=K_old (any size, groups=1; e.g. a 1x1 convolution before or after a global [avgpool])\n"
           "or a [connected] with output=K_old, with only [avgpool] or [dropout] between it and the [softmax] --\n"
           "is widened to K_old + K_new filters/outputs, keeping every old parameter (before training the old\n"
           "classes' logits are the old network's), and trained with the old cfg's [net] settings\n"
           "(policy, momentum, decay, max_batches) on\n"
           "  w_syn t^2 KL(p_old || p_new)   on [continual] images of the old classes, synthesized from the old\n"
           "                                 network with DeepInversion before training (p_old: 0 on the new classes)\n"
           "  + w_ce CE                     on new.data's train= list (labels K_old .. K_old+K_new-1)\n"
           "  + w_kd t^2 KL(p_old || p_new restricted to the old classes)   on the same new images\n"
           "with [continual] synthetic of every batch drawn from the synthesized images.\n\n"
           "  -out DIR         continual.cfg, continual.weights, labels.txt (old then new), continual.data,\n"
           "                   pool/*.png and pool.list, continual.csv, grid.png, backup/ (resume point)\n"
           "  -old-labels FILE the old classes' labels (default: -pool's, else class_00, ...); none may equal or\n"
           "                   contain a new label, nor be contained in one\n"
           "  -pool DATA       images of the old classes to use as well as (or, with [continual] images=0,\n"
           "                   instead of) those synthesized here: DATA's train= list, labelled with the old\n"
           "                   labels, e.g. a set dreamed from the old network in shards on many machines\n"
           "                   (dream -shard, then merge)\n"
           "  -valid DATA      top-1 (all, old, new classes) on DATA's valid= list, whose images are labelled\n"
           "                   with the old and new labels, every [continual] valid_every batches and at the end\n"
           "  -seed S          random seed (default 1)\n"
           "  -grid-classes LIST  old classes shown in grid.png, one row each, e.g. 0,5,17 or 0-9 (at most 100;\n"
           "                   default: the first 10 old classes among the synthesized images)\n"
           MEMORY_HELP "\n"
           "Rerun the same command after an interruption: it continues from DIR/backup.\n"
           "The [continual] keys are listed by: %s inversion dream --help\n", prog, prog);
}

typedef struct {
    inversion_params p;
    frozen_net *old;                // the old network at the training batch: p_old of every row
    image_pool pool;                // synthesized images of the old classes
    labelled_set newset;            // new data, labels K_old..K-1
    int k_old, nsyn;
    int *y;                         // labels of the batch rows
    continual_weights w;
    continual_parts parts;
    const labelled_set *valid;      // -valid's images (n 0: none)
    const char *valid_list;
} continual_run;

// nsyn rows from the pool, the rest from the new data, each randomly cropped
// and flipped; p_old of every row from the old network.
static void fill_batch(void *ctx, rng *r, network *s)
{
    continual_run *c = ctx;
    int B = s->batch, ch = s->c, h = s->h, w = s->w, crop = c->p.continual_crop;
    size_t size = (size_t)ch * h * w;
    for (int i = 0; i < B; ++i) {
        const float *src;
        if (i < c->nsyn) {
            int k = rng_int(r, 0, c->pool.n - 1);
            src = pool_image(&c->pool, k);
            c->y[i] = c->pool.y[k];
        } else {
            int k = rng_int(r, 0, c->newset.n - 1);
            src = labelled_image(&c->newset, k);
            c->y[i] = c->k_old + c->newset.y[k];
        }
        random_crop_flip(r, src, s->input + i * size, ch, h, w, crop, c->p.continual_flip);
    }
    frozen_forward(c->old, s->input);
}

static double continual_delta(void *ctx, const float *logits, int batch, int outputs, float *delta)
{
    continual_run *c = ctx;
    return continual_loss(&c->w, frozen_logits(c->old), logits, c->y, batch, c->nsyn, c->k_old, outputs, delta, &c->parts);
}

// Top-1 over all classes, the old ones and the new ones.
static void score(network *net, const labelled_set *v, int k_old, double top1[3], classifier_score *keep)
{
    classifier_score sc = evaluate_classifier(net, v);
    int n[2] = {0, 0}, ok[2] = {0, 0};
    for (int k = 0; k < sc.classes; ++k) n[k >= k_old] += sc.class_total[k], ok[k >= k_old] += sc.class_correct[k];
    top1[0] = 100.0 * sc.correct / (sc.n ? sc.n : 1);
    top1[1] = n[0] ? 100.0 * ok[0] / n[0] : -1;
    top1[2] = n[1] ? 100.0 * ok[1] / n[1] : -1;
    if (keep) *keep = sc;
    else free_classifier_score(&sc);
}

static void csv_row(void *ctx, network *s, int b, double loss, int validate, char *line, size_t n)
{
    continual_run *c = ctx;
    if (validate) {
        double top1[3];
        score(s, c->valid, c->k_old, top1, NULL);
        fprintf(stderr, "continual: batch %d  top-1 %.2f%% (old classes %.2f%%, new %.2f%%) on %s\n", b, top1[0], top1[1], top1[2],
                c->valid_list);
        snprintf(line, n, "%d,%.6g,%.6g,%.6g,%.6g,%.6g,%.2f,%.2f,%.2f\n", b, loss, c->parts.syn, c->parts.ce, c->parts.kd,
                 get_current_rate(s), top1[0], top1[1], top1[2]);
    } else
        snprintf(line, n, "%d,%.6g,%.6g,%.6g,%.6g,%.6g,,,\n", b, loss, c->parts.syn, c->parts.ce, c->parts.kd, get_current_rate(s));
}

static void progress(void *ctx, network *s, double loss, double avg, char *line, size_t n)
{
    continual_run *c = ctx;
    snprintf(line, n, "loss %.4f (syn %.4f ce %.4f kd %.4f)  avg %.4f  lr %.4g", loss, c->parts.syn, c->parts.ce, c->parts.kd,
             avg, get_current_rate(s));
}

static const trainer_ops continual_ops = {fill_batch, continual_delta, csv_row, progress};

// The new labels must be told apart from the old ones by Darknet's substring rule.
static void check_label_collisions(const label_set *old, const char *old_src, const classifier_data *nd)
{
    for (int i = 0; i < old->n; ++i)
        for (int j = 0; j < nd->classes; ++j) {
            const char *a = old->names[i], *b = nd->labels[j];
            if (!strcmp(a, b))
                inv_die("new label '%s' (%s) is also an old label (%s): the new classes need names of their own", b, nd->path, old_src);
            if (strstr(a, b) || strstr(b, a))
                inv_die("new label '%s' (%s) and old label '%s' (%s): one contains the other, and Darknet matches labels as "
                        "substrings of image paths", b, nd->path, a, old_src);
        }
}

static char *write_temp_cfg(const char *text)
{
    const char *dir = getenv("TMPDIR");
    char *path = xcalloc(4096, 1);
    snprintf(path, 4096, "%s/inv-continual-XXXXXX", dir && *dir ? dir : "/tmp");
    int fd = mkstemp(path);
    if (fd < 0) inv_die("cannot create a temporary file in %s", dir && *dir ? dir : "/tmp");
    size_t n = strlen(text);
    if (write(fd, text, n) != (ssize_t)n) { close(fd); unlink(path); inv_die("cannot write the temporary file %s", path); }
    close(fd);
    return path;
}

int run_continual(int argc, char **argv)
{
    if (wants_help(argc, argv)) { continual_help(argv[0]); return 0; }
    if (argc < 7) { continual_help(argv[0]); return 1; }
    const char *icfg = argv[3], *ocfg = argv[4], *oweights = argv[5], *newdata = argv[6];
    const char *with_value[] = {"-out", "-old-labels", "-pool", "-valid", "-seed", "-grid-classes", NULL};
    opt_check(argc, argv, 7, with_value, NULL);
    const char *out = opt_str(argc, argv, "-out", NULL);
    if (!out) inv_die("continual needs -out DIR");
    const char *old_labels = opt_str(argc, argv, "-old-labels", NULL), *valid_data = opt_str(argc, argv, "-valid", NULL);
    const char *pool_data = opt_str(argc, argv, "-pool", NULL);
    uint64_t seed = (uint64_t)opt_int(argc, argv, "-seed", 1);
    int *grid_list = NULL, grid_n = opt_grid_classes(argc, argv, &grid_list);

    // Everything is checked before any work or any file.
    continual_run c;
    memset(&c, 0, sizeof c);
    c.p = read_inversion_cfg(icfg);
    inversion_params *p = &c.p;
    int old_images = p->continual_images > 0 || pool_data;   // images of the old classes: synthesized, or -pool's
    if (p->continual_syn_weight > 0 && (!old_images || p->continual_synthetic <= 0))
        inv_die("%s: [continual] syn_weight=%g needs synthesized images: set [continual] images (or give -pool DATA) and "
                "synthetic (or syn_weight=0)", icfg, p->continual_syn_weight);
    if (p->continual_synthetic > 0 && !old_images)
        inv_die("%s: [continual] synthetic=%g but no images are synthesized: set [continual] images (or give -pool DATA)",
                icfg, p->continual_synthetic);
    if (p->continual_syn_weight <= 0 && p->continual_synthetic > 0)
        inv_warn("[continual] syn_weight=0: the synthesized images in each batch carry no loss");
    classifier_data nd = read_classifier_data(newdata);
    classifier_list(&nd, "train");
    widen_head wh;
    char *wide = widen_head_cfg(ocfg, nd.classes, &wh);
    c.k_old = wh.k_old;
    int k = c.k_old + nd.classes;
    classifier_data pd = {0};
    if (pool_data) {
        pd = read_classifier_data(pool_data);
        classifier_list(&pd, "train");
        if (pd.classes != c.k_old) inv_die("%s has %d classes, the old network %s %d", pool_data, pd.classes, ocfg, c.k_old);
    }
    label_set olds = old_labels ? read_label_set(old_labels) : pool_data ? copy_label_set(pd.labels, pd.classes)
                                                                         : default_label_set(c.k_old);
    if (olds.n != c.k_old) inv_die("%s holds %d labels, the old network %s has %d classes", old_labels, olds.n, ocfg, c.k_old);
    for (int i = 0; pool_data && i < c.k_old; ++i)
        if (strcmp(olds.names[i], pd.labels[i]))
            inv_die("%s: label %d is '%s', but %s's is '%s': -pool's images must carry the old labels", old_labels, i,
                    olds.names[i], pool_data, pd.labels[i]);
    check_label_collisions(&olds, old_labels ? old_labels : "the default old labels", &nd);
    label_set all = {k, xcalloc(k, sizeof(char *))};
    for (int i = 0; i < k; ++i) all.names[i] = xstrdup(i < c.k_old ? olds.names[i] : nd.labels[i - c.k_old]);
    check_labels_not_in_path(&all, out);
    class_grid_check_list(grid_list, grid_n, c.k_old, "-grid-classes", ocfg);
    classifier_data vd = {0};
    if (valid_data) {
        vd = read_classifier_data(valid_data);
        if (vd.classes != k) inv_die("%s has %d classes; after continual learning the network has %d (%d old + %d new)", valid_data, vd.classes, k, c.k_old, nd.classes);
        c.valid_list = classifier_list(&vd, "valid");
    }

    memory_plan mem = plan_continual_memory(p, ocfg, c.k_old, newdata, valid_data);
    check_memory(&mem, icfg, p->batch);
    network *onet = load_checked_network(ocfg, oweights, 0, LAYERS_FROZEN);
    char err[1024];
    if (check_widen_head(onet, &wh, ocfg, err, sizeof err)) inv_die("%s", err);
    trainer t = {.verb = "continual", .out = out, .csv_name = "continual.csv",
                 .csv_header = "batch,loss,syn,ce,kd,lr,top1,top1_old,top1_new\n", .chart_loss = "loss", .weights_name = "continual.weights",
                 .ops = &continual_ops, .ctx = &c, .seed = seed, .synth_line = "synthesized batch %d/%d of the old classes (%d images)",
                 .backup_every = p->continual_backup_every, .grid_classes = c.k_old, .grid_list = grid_list, .grid_n = grid_n};
    const char *weights = trainer_weights(&t, NULL);
    char *tmpcfg = write_temp_cfg(wide);
    srand((unsigned)seed);   // Darknet initialises the new rows with rand()
    network *s = t.net = load_checked_network(tmpcfg, weights, 0, LAYERS_TRAIN);
    unlink(tmpcfg);
    free(tmpcfg);
    if (output_layer_index(s) != wh.softmax || s->layers[wh.softmax].inputs != k)
        inv_die("internal: the widened network's [softmax] does not read %d logits", k);
    if (!t.resuming) copy_params_widened(s, onet, wh.head);
    free_network(onet);
    c.old = load_frozen(ocfg, oweights, s->batch);
    network *ok = c.old->net;
    if (ok->w != s->w || ok->h != s->h || ok->c != s->c) inv_die("internal: widened network's input differs");
    c.newset = load_labelled_list(classifier_list(&nd, "train"), nd.labels, nd.classes, s->w, s->h, s->c);
    labelled_set valid = {0};
    if (valid_data) valid = load_labelled_list(c.valid_list, all.names, k, s->w, s->h, s->c);
    c.valid = &valid;
    t.valid_every = valid.n ? p->continual_valid_every : 0;
    c.nsyn = old_images ? (int)(p->continual_synthetic * s->batch + 0.5) : 0;
    if (p->continual_synthetic > 0 && c.nsyn == 0) c.nsyn = 1;
    if (c.nsyn >= s->batch) inv_die("%s: [continual] synthetic=%g leaves no new images in a batch of %d", icfg, p->continual_synthetic, s->batch);
    c.w = (continual_weights){p->continual_syn_weight, p->continual_ce_weight, p->continual_kd_weight, p->continual_temperature};
    c.y = xcalloc(s->batch, sizeof(int));
    synth *syn = NULL;
    frozen_net *tsyn = NULL;
    if (p->continual_images > 0) {
        tsyn = load_frozen(ocfg, oweights, p->batch);
        syn = make_synth(tsyn, NULL, p);
        t.upfront = (p->continual_images + p->batch - 1) / p->batch;
    }
    fix_conv1x1_backward(s);

    make_student_dirs(out);
    char path[4096];
    snprintf(path, sizeof path, "%s/continual.cfg", out);
    save_text(path, wide);
    size_t cap = 64;
    for (int i = 0; i < k; ++i) cap += strlen(all.names[i]) + 1;
    char *text = xcalloc(cap, 1);
    for (int i = 0; i < k; ++i) strcat(strcat(text, all.names[i]), "\n");
    snprintf(path, sizeof path, "%s/labels.txt", out);
    save_text(path, text);
    free(text);
    char data[12288];
    int dn = snprintf(data, sizeof data, "classes=%d\n", k);
    if (valid_data) dn += snprintf(data + dn, sizeof data - dn, "valid=%s\n", c.valid_list);
    snprintf(data + dn, sizeof data - dn, "labels=%s/labels.txt\nnames=%s/labels.txt\n", out, out);
    snprintf(path, sizeof path, "%s/continual.data", out);
    save_text(path, data);

    c.pool = make_pool(s->c, s->h, s->w);
    int nlisted = 0;   // -pool's images come first; pool.list lists the synthesized ones after them
    if (pool_data) {
        labelled_set ls = load_labelled_list(classifier_list(&pd, "train"), pd.labels, pd.classes, s->w, s->h, s->c);
        for (int i = 0; i < ls.n; ++i) pool_add(&c.pool, labelled_image(&ls, i), ls.y[i]);
        nlisted = ls.n;
        free_labelled_set(&ls);
        fprintf(stderr, "continual: %d images of the old classes from %s\n", nlisted, pool_data);
    }
    synth_pool sp = {out, syn, tsyn, olds.names, p->gray, seed, &c.pool, nlisted, 0, NULL, NULL, NULL};
    t.sp = &sp;
    if (trainer_start(&t))
        fprintf(stderr, "continual: resuming from %s/backup at batch %d (%d synthesized images)\n", out, t.resume.batches, c.pool.n);
    fprintf(stderr, "continual: %s widened from %d to %d classes (the [%s] head at line %d); %d synthesized + %d new images a batch; "
            "%d new training images\n", ocfg, c.k_old, k, wh.conv ? "convolutional" : "connected", wh.head_line, c.nsyn,
            s->batch - c.nsyn, c.newset.n);
    trainer_run(&t);

    printf("continual: %s/continual.weights after %d batches: %d old + %d new classes, %d synthesized images of the old ones\n", out,
           (int)get_current_batch(s), c.k_old, nd.classes, c.pool.n);
    if (valid.n) {
        double top1[3];
        classifier_score sc;
        score(s, &valid, c.k_old, top1, &sc);
        printf("old classes top-1 %.2f%%, new classes top-1 %.2f%%, all ", top1[1], top1[2]);
        print_classifier_score(stdout, &sc, all.names);
        free_classifier_score(&sc);
    }

    free_trainer(&t);
    free_labelled_set(&valid);
    free_labelled_set(&c.newset);
    free_classifier_data(&nd);
    if (valid_data) free_classifier_data(&vd);
    if (pool_data) free_classifier_data(&pd);
    free(c.y);
    free(wide);
    free_pool(&c.pool);
    free_label_set(&olds);
    free(grid_list);
    free_label_set(&all);
    free_synth(syn);
    free_loaded_frozen(tsyn);
    free_loaded_frozen(c.old);
    free_network(s);
    return 0;
}
