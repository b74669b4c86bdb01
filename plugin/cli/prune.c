// `darknet inversion prune`: data-free structured pruning. The network is
// its own teacher: images are synthesized from it with DeepInversion (or
// read from a list), the first-order Taylor importance of every prunable BN
// channel is measured on them (taylor.h), the least important channels are
// masked a few percent of the cost at a time with KD fine-tuning on the images
// between rounds (Darknet's own training, as distill), until the FLOP or
// filter target; then a final fine-tune, and the masked network is written as
// the smaller cfg + weights it computes (prune_compact.h). Every round is a
// resume point. With [compete] (Adaptive DeepInversion) each round also adds
// images synthesized against the masked network, where it and the unpruned
// one disagree.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conv1x1_fix.h"
#include "dataset.h"
#include "evaluate.h"
#include "flops.h"
#include "frozen.h"
#include "icfg.h"
#include "imageio.h"
#include "inversion.h"
#include "kd.h"
#include "labels.h"
#include "load_frozen.h"
#include "load_network.h"
#include "netstate.h"
#include "pool.h"
#include "prune_compact.h"
#include "prune_mask.h"
#include "rng.h"
#include "softmax.h"
#include "backup.h"
#include "student.h"
#include "synth_pool.h"
#include "synth.h"
#include "taylor.h"
#include "util.h"

static void prune_help(const char *prog)
{
    printf("usage: %s inversion prune <inversion.cfg> <cfg> <weights> -out DIR (-flops F | -filters F)\n"
           "                         [-pool DATA] [-valid DATA] [-labels FILE] [-seed S] [-step S] [-lr R]\n"
           "                         [-round-batches N] [-final-batches N] [-importance-batches N] [-adapt N]\n\n"
           "Prunes a trained classifier without its data: output channels of its BN convolutions are removed\n"
           "by first-order Taylor importance (Molchanov et al., CVPR 2019) measured on images synthesized from\n"
           "the network itself (DeepInversion), a few percent of the cost per round, each round followed by\n"
           "knowledge distillation from the unpruned network on those images; then a final distillation.\n"
           "The result is a smaller cfg (filters= reduced) and weights that stock Darknet runs.\n\n"
           "  -out DIR       pruned.cfg + pruned.weights (the result), prune.csv (per round: FLOPs, filters kept\n"
           "                 per layer, KD loss, top-1 with -valid), filters.png (per prunable layer, left to\n"
           "                 right: grey the original filters, blue the kept ones), backup/ (resume point),\n"
           "                 pool/*.png + pool.list (synthesized images)\n"
           "  -flops F       stop when the network costs at most F times its FLOPs (0 < F < 1, e.g. 0.5)\n"
           "  -filters F     stop when at most F times the prunable filters remain (0 < F < 1)\n"
           "  -pool DATA     add the images of DATA's train= list to the synthesized ones (labels from DATA)\n"
           "  -valid DATA    top-1 on DATA's valid= list after every round (prune.csv)\n"
           "  -labels FILE   class labels for synthesized file names (default: -pool's, else class_00, ...)\n"
           "  -seed S        random seed (default 1)\n"
           "  -step S        each round removes S of the original FLOPs (or filters) (default 0.05)\n"
           "  -lr R          constant learning rate of the fine-tuning; momentum and decay are the cfg's (default 0.01)\n"
           "  -round-batches N       fine-tuning batches after each round (default 100; 0: none)\n"
           "  -final-batches N       fine-tuning batches once the target is reached (default 500; 0: none)\n"
           "  -importance-batches N  batches the importance is summed over each round (default 10)\n"
           "  -adapt N       with [compete] weight > 0: batches synthesized each round, after the masking, against\n"
           "                 the masked network (default 1)\n\n"
           "Images: [distill] images synthesized with the inversion cfg's settings (as distill does), and/or\n"
           "-pool. Fine-tuning: t^2 KL(unpruned || pruned) at [distill] temperature, batches of the cfg's batch\n"
           "size with [distill] crop and flip. The importance of round 1 is taken on the cross-entropy to the\n"
           "images' classes (the KL to the unpruned network has no gradient there), later rounds on the KL,\n"
           "averaged with the earlier rounds'.\n"
           "Adaptive DeepInversion: with [compete] weight > 0 in the inversion cfg, every round adds -adapt batches\n"
           "of images to the pool, synthesized with the competition term against the masked network of that round\n"
           "(images it and the unpruned network disagree on), as distill does against its student.\n\n"
           "Pruned: output channels of [convolutional] layers with batch_normalize=1, groups=1 and an activation\n"
           "with f(0) = 0 (linear, leaky, relu, relie, ramp, tanh, elu, ...), other than the classifier (the last\n"
           "[convolutional] or [connected] layer). Channels added in a [shortcut] are pruned together; channels\n"
           "that reach a [softmax], [cost], [crop] or a grouped convolution are kept.\n"
           "Rerun the same command after an interruption: it continues from DIR/backup.\n", prog);
}

typedef struct {
    network *net;
    frozen_net *teacher;       // the unpruned network, for KD
    prune_plan plan;
    image_pool pool;
    int *targets;              // classes of the batch in net->input
    float temperature;
    int crop, flip;
    rng r;
} prune_run;

// Cross-entropy to the images' classes: Darknet's delta is onehot - p.
static double ce_delta(void *ctx, const float *logits, int batch, int outputs, float *delta)
{
    prune_run *d = ctx;
    double *p = xcalloc(outputs, sizeof(double)), loss = 0;
    for (int b = 0; b < batch; ++b) {
        softmax_temperature(logits + b * outputs, outputs, 1, p);
        int t = d->targets[b];
        loss -= log(p[t] > 1e-30 ? p[t] : 1e-30);
        for (int k = 0; k < outputs; ++k) delta[b * outputs + k] = (float)((k == t) - p[k]);
    }
    free(p);
    return loss / batch;
}

static double kd_delta(void *ctx, const float *logits, int batch, int outputs, float *delta)
{
    prune_run *d = ctx;
    return kd_loss(frozen_logits(d->teacher), logits, batch, outputs, d->temperature, delta);
}

// A batch of pool images into net->input (and the teacher's logits of them).
static void draw_batch(prune_run *d, int kd)
{
    network *s = d->net;
    size_t size = (size_t)s->c * s->h * s->w;
    for (int i = 0; i < s->batch; ++i) {
        int k = rng_int(&d->r, 0, d->pool.n - 1);
        random_crop_flip(&d->r, pool_image(&d->pool, k), s->input + i * size, s->c, s->h, s->w, d->crop, d->flip);
        d->targets[i] = d->pool.y[k];
    }
    if (kd) frozen_forward(d->teacher, s->input);
}

static double fine_tune(prune_run *d, int batches, const char *what)
{
    double sum = 0, t0 = now_seconds(), t_print = t0;
    for (int b = 0; b < batches; ++b) {
        draw_batch(d, 1);
        sum += student_train_step(d->net, kd_delta, d);
        apply_prune_mask(d->net, &d->plan);   // the update moved the masked scales and biases
        double now = now_seconds();
        if (now - t_print >= 10 || b + 1 == batches) {
            char eta[32];
            format_duration((now - t0) / (b + 1) * (batches - b - 1), eta, sizeof eta);
            fprintf(stderr, "prune: %s batch %d/%d  kd %.4f  ETA %s\n", what, b + 1, batches, sum / (b + 1), eta);
            t_print = now;
        }
    }
    return batches ? sum / batches : NAN;
}

// The fraction of the cost kept, in the target's measure.
static double kept_fraction(const prune_run *d, int by_flops, double flops0)
{
    if (by_flops) return prune_flops(&d->plan, d->net) / flops0;
    int total, kept = prune_kept_filters(&d->plan, &total);
    return (double)kept / total;
}

// The smallest fraction reachable: every layer keeps one channel.
static double smallest_fraction(prune_run *d, int by_flops, double flops0)
{
    char *saved = xcalloc(d->plan.ngroups + 1, 1);
    memcpy(saved, d->plan.masked, d->plan.ngroups);
    for (int g = 0; g < d->plan.ngroups; ++g)
        if (!d->plan.masked[g] && !prune_would_empty(&d->plan, g)) d->plan.masked[g] = 1;
    double f = kept_fraction(d, by_flops, flops0);
    memcpy(d->plan.masked, saved, d->plan.ngroups);
    free(saved);
    return f;
}

static int *by_importance;   // qsort context
static const double *importance_of;
static int less_important(const void *a, const void *b)
{
    double x = importance_of[*(const int *)a], y = importance_of[*(const int *)b];
    return x < y ? -1 : x > y ? 1 : *(const int *)a - *(const int *)b;
}

// Masks the least important groups until the kept fraction is at most goal;
// returns how many were masked.
static int mask_least_important(prune_run *d, const double *imp, double goal, int by_flops, double flops0)
{
    int n = 0, masked = 0;
    by_importance = xcalloc(d->plan.ngroups + 1, sizeof(int));
    for (int g = 0; g < d->plan.ngroups; ++g)
        if (!d->plan.masked[g]) by_importance[n++] = g;
    importance_of = imp;
    qsort(by_importance, n, sizeof(int), less_important);
    for (int k = 0; k < n && kept_fraction(d, by_flops, flops0) > goal; ++k) {
        int g = by_importance[k];
        if (prune_would_empty(&d->plan, g)) continue;
        d->plan.masked[g] = 1;
        ++masked;
    }
    free(by_importance);
    return masked;
}

// Per prunable layer: a grey bar of its original filters, a blue one of the kept.
static void save_filter_chart(const char *path, const prune_run *d)
{
    int nl = 0, most = 1;
    for (int i = 0; i < d->plan.n; ++i)
        if (prune_layer_prunable(&d->plan, i)) ++nl, most = d->plan.out_c[i] > most ? d->plan.out_c[i] : most;
    int bw = 24, gap = 8, h = 200, w = nl * (bw + gap) + gap;
    float *im = xcalloc((size_t)3 * h * w, sizeof(float));
    for (size_t k = 0; k < (size_t)3 * h * w; ++k) im[k] = 1;
    int x0 = gap;
    for (int i = 0; i < d->plan.n; ++i) {
        if (!prune_layer_prunable(&d->plan, i)) continue;
        int all = (h - 10) * d->plan.out_c[i] / most, kept = (h - 10) * prune_kept_channels(&d->plan, i) / most;
        for (int y = 0; y < all; ++y)
            for (int x = x0; x < x0 + bw; ++x) {
                int row = h - 1 - y, in = y < kept;
                float rgb[3] = {in ? 0.2f : 0.8f, in ? 0.4f : 0.8f, in ? 0.8f : 0.8f};
                for (int c = 0; c < 3; ++c) im[((size_t)c * h + row) * w + x] = rgb[c];
            }
        x0 += bw + gap;
    }
    save_png(path, im, 3, h, w);
    free(im);
}

static void csv_row(text_log *csv, prune_run *d, int round, double flops0, double loss, double top1)
{
    char line[8192];
    int total, kept = prune_kept_filters(&d->plan, &total);
    double f = prune_flops(&d->plan, d->net);
    int len = snprintf(line, sizeof line, "%d,%.4f,%.4f,%d,", round, f / 1e6, f / flops0, kept);
    len += snprintf(line + len, sizeof line - len, isnan(loss) ? "," : "%.6g,", loss);
    len += snprintf(line + len, sizeof line - len, top1 >= 0 ? "%.2f" : "", top1);
    for (int i = 0; i < d->plan.n && len < (int)sizeof line - 16; ++i)
        if (prune_layer_prunable(&d->plan, i)) len += snprintf(line + len, sizeof line - len, ",%d", prune_kept_channels(&d->plan, i));
    snprintf(line + len, sizeof line - len, "\n");
    text_log_add(csv, line);
}

// backup/masks-<round>.txt: the masks, the averaged importance, whether the
// final fine-tune is done. Written before backup/state, which names the round.
static void save_masks(const char *out, int round, const prune_plan *p, const double *ema, int finished)
{
    char path[4096];
    size_t cap = (size_t)p->ngroups * 32 + 64, len = 0;
    char *text = xcalloc(cap, 1);
    len += snprintf(text + len, cap - len, "groups=%d\nfinished=%d\n", p->ngroups, finished);
    for (int g = 0; g < p->ngroups; ++g) len += snprintf(text + len, cap - len, "%d %.17g\n", p->masked[g], ema[g]);
    student_backup_path(path, sizeof path, out, "masks.txt", round);
    save_text(path, text);
    free(text);
}

static int load_masks(const char *out, int round, prune_plan *p, double *ema)
{
    char path[4096];
    student_backup_path(path, sizeof path, out, "masks.txt", round);
    FILE *f = fopen(path, "r");
    if (!f) {
        if (round == 0) return 0;   // only images were synthesized
        inv_die("%s is missing; remove %s/backup to start over", path, out);
    }
    int groups = -1, finished = 0, ok = fscanf(f, "groups=%d\nfinished=%d\n", &groups, &finished) == 2 && groups == p->ngroups;
    for (int g = 0; ok && g < p->ngroups; ++g) {
        int m;
        ok = fscanf(f, "%d %lf", &m, &ema[g]) == 2;
        p->masked[g] = (char)(m != 0);
    }
    fclose(f);
    if (!ok) inv_die("%s is damaged or belongs to another network; remove %s/backup to start over", path, out);
    return finished;
}

static double fraction_option(int argc, char **argv, const char *flag)
{
    const char *s = opt_str(argc, argv, flag, NULL);
    if (!s) return -1;
    char *end;
    double f = strtod(s, &end);
    if (end == s || *end || !(f > 0 && f < 1))
        inv_die("%s %s: the fraction kept must be a number strictly between 0 and 1 (e.g. 0.5 keeps half)", flag, s);
    return f;
}

int run_prune(int argc, char **argv)
{
    if (wants_help(argc, argv)) { prune_help(argv[0]); return 0; }
    if (argc < 6) { prune_help(argv[0]); return 1; }
    const char *icfg = argv[3], *cfg = argv[4], *weights = argv[5];
    const char *with_value[] = {"-out", "-flops", "-filters", "-pool", "-valid", "-labels", "-seed", "-step", "-lr",
                                "-round-batches", "-final-batches", "-importance-batches", "-adapt", NULL};
    opt_check(argc, argv, 6, with_value, NULL);
    const char *out = opt_str(argc, argv, "-out", NULL);
    if (!out) inv_die("prune needs -out DIR");
    double flops_target = fraction_option(argc, argv, "-flops"), filters_target = fraction_option(argc, argv, "-filters");
    if ((flops_target > 0) == (filters_target > 0)) inv_die("prune needs one target: -flops F or -filters F (fraction kept)");
    int by_flops = flops_target > 0;
    double target = by_flops ? flops_target : filters_target;
    double step = opt_float(argc, argv, "-step", 0.05f);
    if (!(step > 0 && step < 1)) inv_die("-step %g: the cost removed per round must be between 0 and 1", step);
    float lr = opt_float(argc, argv, "-lr", 0.01f);
    if (!(lr > 0)) inv_die("-lr %g: the learning rate must be positive", lr);
    int round_batches = opt_int(argc, argv, "-round-batches", 100), final_batches = opt_int(argc, argv, "-final-batches", 500);
    int imp_batches = opt_int(argc, argv, "-importance-batches", 10);
    if (round_batches < 0 || final_batches < 0) inv_die("-round-batches and -final-batches must be >= 0");
    if (imp_batches < 1) inv_die("-importance-batches must be >= 1");
    const char *pool_data = opt_str(argc, argv, "-pool", NULL), *valid_data = opt_str(argc, argv, "-valid", NULL);
    const char *labels_path = opt_str(argc, argv, "-labels", NULL);
    uint64_t seed = (uint64_t)opt_int(argc, argv, "-seed", 1);

    // Everything is checked before any work or any file.
    inversion_params p = read_inversion_cfg(icfg);
    int adaptive = p.compete_weight > 0;
    int adapt = opt_int(argc, argv, "-adapt", adaptive ? 1 : 0);
    if (!adaptive && opt_str(argc, argv, "-adapt", NULL))
        inv_die("-adapt: %s has no [compete] weight > 0; images against the masked network need the competition term", icfg);
    if (adaptive && adapt < 1)
        inv_die("-adapt %d: with [compete] weight > 0 (%s) each round synthesizes at least one batch", adapt, icfg);
    if (p.distill_images <= 0 && !pool_data) inv_die("%s: no images to prune on: set [distill] images, or give -pool DATA", icfg);
    prune_run d;
    memset(&d, 0, sizeof d);
    d.temperature = p.distill_temperature;
    d.crop = p.distill_crop;
    d.flip = p.distill_flip;
    srand((unsigned)seed);
    student_state st = {0, 0, 0};
    int resuming = student_read_backup(out, &st);
    char path[4096];
    student_backup_path(path, sizeof path, out, "student.weights", st.batches);
    d.net = load_checked_network(cfg, resuming ? path : weights, 0, LAYERS_TRAIN);
    network *s = d.net;
    int outl = output_layer_index(s);
    if (s->layers[outl].type != SOFTMAX || outl == 0) inv_die("%s: the network must end in [softmax]", cfg);
    d.plan = make_prune_plan(s, cfg);
    if (d.plan.ngroups == 0)
        inv_die("%s: no channel can be pruned: prune removes output channels of [convolutional] layers with batch_normalize=1, "
                "groups=1 and an activation with f(0) = 0, other than the classifier (see --help)", cfg);
    network *tn = load_checked_network(cfg, weights, s->batch, LAYERS_FROZEN);
    d.teacher = make_frozen_net(tn, cfg);
    int classes = d.teacher->classes;
    double flops0 = network_flops(tn);
    double least = smallest_fraction(&d, by_flops, flops0);
    if (least > target)
        inv_die("%s %g: %s can keep no less than %.3f of its %s (one channel in each prunable layer; the rest cannot be pruned)",
                by_flops ? "-flops" : "-filters", target, cfg, least, by_flops ? "FLOPs" : "prunable filters");
    classifier_data pd = {0}, vd = {0};
    if (pool_data) {
        pd = read_classifier_data(pool_data);
        if (pd.classes != classes) inv_die("%s has %d classes, %s %d", pool_data, pd.classes, cfg, classes);
    }
    if (valid_data) {
        vd = read_classifier_data(valid_data);
        if (vd.classes != classes) inv_die("%s has %d classes, %s %d", valid_data, vd.classes, cfg, classes);
        classifier_list(&vd, "valid");
    }
    label_set labels;
    if (labels_path) labels = read_label_set(labels_path);
    else if (pool_data) {
        labels.n = pd.classes;
        labels.names = xcalloc(pd.classes, sizeof(char *));
        for (int k = 0; k < pd.classes; ++k) labels.names[k] = xstrdup(pd.labels[k]);
    } else labels = default_label_set(classes);
    if (labels.n != classes) inv_die("%d labels for %d classes", labels.n, classes);
    check_labels_not_in_path(&labels, out);
    fix_conv1x1_backward(s);
    // Fine-tuning at a constant rate from the first batch (no burn-in).
    s->policy = CONSTANT;
    s->learning_rate = lr;
    s->burn_in = 0;

    make_student_dirs(out);
    d.pool = make_pool(s->c, s->h, s->w);
    synth_pool sp;
    memset(&sp, 0, sizeof sp);
    if (pool_data) {
        labelled_set ls = load_labelled_list(classifier_list(&pd, "train"), pd.labels, classes, s->w, s->h, s->c);
        for (int i = 0; i < ls.n; ++i) pool_add(&d.pool, labelled_image(&ls, i), ls.y[i]);
        sp.nlisted = ls.n;
        free_labelled_set(&ls);
    }
    network *ts = NULL;
    frozen_net *competitor = NULL;   // the masked network at the synthesis batch, for [compete]
    if (p.distill_images > 0 || adaptive) {
        ts = load_checked_network(cfg, weights, p.batch, LAYERS_FROZEN);
        sp.teacher = make_frozen_net(ts, cfg);
        if (adaptive) {
            competitor = load_frozen(cfg, weights, p.batch);
            sp.competitor = competitor->net;   // takes the masked network's parameters before each batch
            sp.student = s;
        }
        sp.syn = make_synth(sp.teacher, competitor, &p);
    }
    sp.out = out;
    sp.labels = labels.names;
    sp.gray = p.gray;
    sp.seed = seed;
    sp.pool = &d.pool;
    text_log csv = {NULL, 0, 0};
    char header[4096];
    int hl = snprintf(header, sizeof header, "round,mflops,flops_kept,filters_kept,kd_loss,top1");
    for (int i = 0; i < d.plan.n && hl < (int)sizeof header - 16; ++i)
        if (prune_layer_prunable(&d.plan, i)) hl += snprintf(header + hl, sizeof header - hl, ",layer%d", i);
    snprintf(header + hl, sizeof header - hl, "\n");
    text_log_add(&csv, header);
    double *ema = xcalloc(d.plan.ngroups + 1, sizeof(double)), *imp = xcalloc(d.plan.ngroups + 1, sizeof(double));
    int round = 0, finished = 0;
    rng dummy = make_rng(0);
    if (resuming) {
        student_restore_backup(s, out, &sp, &csv, "prune.csv", &st, &dummy);
        round = st.batches;
        finished = load_masks(out, round, &d.plan, ema);
        apply_prune_mask(s, &d.plan);
        fprintf(stderr, "prune: resuming from %s/backup after round %d (pool %d images)\n", out, round, d.pool.n);
    }
    labelled_set valid = {0};
    if (valid_data) valid = load_labelled_list(classifier_list(&vd, "valid"), vd.labels, classes, s->w, s->h, s->c);
    d.targets = xcalloc(s->batch, sizeof(int));

    int upfront = sp.syn ? (p.distill_images + p.batch - 1) / p.batch : 0;
    double t0 = now_seconds();
    for (int b = sp.synthesized; b < upfront; ++b) {
        synth_pool_batch(&sp);
        char eta[32];
        format_duration((now_seconds() - t0) / (b + 1 - st.synthesized) * (upfront - b - 1), eta, sizeof eta);
        fprintf(stderr, "prune: synthesized batch %d/%d (pool %d images)  ETA %s\n", b + 1, upfront, d.pool.n, eta);
        student_state now = {0, sp.synthesized, 0};
        student_save_backup(s, out, &sp, &csv, "prune.csv", &now, -1);
    }
    if (d.pool.n == 0) inv_die("the pool is empty");

    double top1 = -1;
    if (round == 0 && csv.len == strlen(header)) {
        if (valid.n) {
            classifier_score sc = evaluate_classifier(s, &valid);
            top1 = 100.0 * sc.correct / sc.n;
            free_classifier_score(&sc);
            fprintf(stderr, "prune: unpruned top-1 %.2f%%\n", top1);
        }
        csv_row(&csv, &d, 0, flops0, NAN, top1);
    }
    while (!finished) {
        ++round;
        srand((unsigned)(seed * 7919 + round));   // Darknet's dropout draws from rand()
        d.r = make_rng(seed * 1000003u + (uint64_t)round);
        double loss;
        double kept = kept_fraction(&d, by_flops, flops0);
        if (kept > target + 1e-12) {
            // The first round's network is the unpruned one: the KL has no gradient there.
            memset(imp, 0, sizeof(double) * d.plan.ngroups);
            double sum = 0;
            for (int b = 0; b < imp_batches; ++b) {
                draw_batch(&d, round > 1);
                taylor_batch(s, &d.plan, round > 1 ? kd_delta : ce_delta, &d, imp, NULL);
            }
            for (int g = 0; g < d.plan.ngroups; ++g) sum += imp[g];
            for (int g = 0; g < d.plan.ngroups; ++g) {
                double x = sum > 0 ? imp[g] / sum : 0;
                ema[g] = round > 1 ? 0.5 * ema[g] + 0.5 * x : x;
            }
            double goal = kept - step > target ? kept - step : target;
            int masked = mask_least_important(&d, ema, goal, by_flops, flops0);
            if (masked == 0) inv_die("round %d: no channel left to mask (at %.3f of the %s)", round, kept, by_flops ? "FLOPs" : "filters");
            apply_prune_mask(s, &d.plan);
            int tot, kf = prune_kept_filters(&d.plan, &tot);
            fprintf(stderr, "prune: round %d masked %d channels: %.2f MFLOP (%.1f%%), %d/%d filters\n", round, masked,
                    prune_flops(&d.plan, s) / 1e6, 100 * prune_flops(&d.plan, s) / flops0, kf, tot);
            for (int b = 0; b < adapt; ++b) {
                synth_pool_batch(&sp);
                fprintf(stderr, "prune: round %d synthesized batch %d/%d against the masked network (pool %d images)\n", round,
                        b + 1, adapt, d.pool.n);
            }
            zero_network_updates(s);   // each round's fine-tune starts without momentum
            loss = fine_tune(&d, round_batches, "fine-tune");
        } else {
            zero_network_updates(s);
            loss = fine_tune(&d, final_batches, "final fine-tune");
            finished = 1;
        }
        top1 = -1;
        if (valid.n) {
            classifier_score sc = evaluate_classifier(s, &valid);
            top1 = 100.0 * sc.correct / sc.n;
            free_classifier_score(&sc);
            fprintf(stderr, "prune: round %d top-1 %.2f%%\n", round, top1);
        }
        csv_row(&csv, &d, round, flops0, loss, top1);
        save_masks(out, round, &d.plan, ema, finished);
        student_state now = {round, sp.synthesized, 0};
        student_save_backup(s, out, sp.syn ? &sp : NULL, &csv, "prune.csv", &now, round - 1);
        student_backup_path(path, sizeof path, out, "masks.txt", round - 1);
        unlink(path);
    }

    // The result: the compacted network, checked against the masked one.
    char cfg_out[4096];
    snprintf(cfg_out, sizeof cfg_out, "%s/pruned.cfg", out);
    network *small = compact_network(s, &d.plan, cfg, cfg_out, 0);
    snprintf(path, sizeof path, "%s/pruned.weights", out);
    save_weights_atomic(small, path);
    snprintf(path, sizeof path, "%s/filters.png", out);
    save_filter_chart(path, &d);
    snprintf(path, sizeof path, "%s/prune.csv", out);
    save_text(path, csv.s);
    if (sp.syn) synth_pool_write_list(&sp);
    int total_filters, kept_filters = prune_kept_filters(&d.plan, &total_filters);
    printf("prune: %s/pruned.cfg + pruned.weights: %.2f -> %.2f MFLOP/image (%.1f%%), %d -> %d filters in prunable layers\n",
           out, flops0 / 1e6, network_flops(small) / 1e6, 100 * network_flops(small) / flops0, total_filters, kept_filters);
    if (valid.n) {
        classifier_score sc = evaluate_classifier(small, &valid);
        printf("pruned ");
        print_classifier_score(stdout, &sc, vd.labels);
        free_classifier_score(&sc);
    }

    free_network(small);
    free_labelled_set(&valid);
    free_classifier_data(&pd);
    free_classifier_data(&vd);
    free(csv.s); free(ema); free(imp); free(d.targets);
    free_pool(&d.pool);
    free_label_set(&labels);
    if (sp.syn) { free_synth(sp.syn); free_frozen_net(sp.teacher); free_network(ts); }
    free_loaded_frozen(competitor);
    free_prune_plan(&d.plan);
    free_frozen_net(d.teacher);
    free_network(tn);
    free_network(s);
    return 0;
}
