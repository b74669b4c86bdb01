// `darknet inversion train <data> <cfg> [weights] -out OUT.weights`: trains a
// classifier with Darknet's own train_network (the cfg's learning-rate
// policy, momentum, decay, max_batches), the whole dataset held in memory.
// Stock `classifier train` reloads images from disk every batch and samples
// with replacement; here each epoch is a fresh permutation, augmented by a
// random shift (crop after zero padding) and horizontal flip.
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "load_network.h"
#include "conv1x1_fix.h"
#include "dataset.h"
#include "evaluate.h"
#include "flops.h"
#include "inversion.h"
#include "augment.h"
#include "chart.h"
#include "imageio.h"
#include "netstate.h"
#include "util.h"

// Shuffling and augmentation draw from their own generator so that they do
// not depend on how often Darknet itself calls rand() (dropout does).
static uint64_t shuffle_rng_state;

static uint32_t shuffle_rng_next(void)
{
    uint64_t z = (shuffle_rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return (uint32_t)((z ^ (z >> 31)) >> 32);
}

static int shuffle_rng_below(int n) { return (int)(((uint64_t)shuffle_rng_next() * (uint64_t)n) >> 32); }

static void shuffle(int *order, int n)
{
    for (int i = n - 1; i > 0; --i) {
        int j = shuffle_rng_below(i + 1);
        int t = order[i]; order[i] = order[j]; order[j] = t;
    }
}

// The rows of a chart's CSV from an earlier run, up to the batch the weights
// resume from (later rows were trained again).
static void keep_csv_rows(text_log *csv, const char *path, int upto)
{
    FILE *f = fopen(path, "r");
    if (!f) return;
    char line[256];
    int header = 1;
    while (fgets(line, sizeof line, f)) {
        if (header) { header = 0; continue; }
        if (atoi(line) >= 1 && atoi(line) <= upto && strchr(line, '\n')) text_log_add(csv, line);
    }
    fclose(f);
}

static void save_train_chart(const char *chart, const char *chart_csv, const text_log *csv)
{
    if (!chart) return;
    save_text(chart_csv, csv->s);
    save_csv_chart(chart, csv->s, "train", "loss", "top1");
}

static void usage(const char *prog)
{
    fprintf(stderr,
            "usage: %s inversion train <data> <cfg> [weights] -out OUT.weights [options]\n"
            "  Trains with Darknet's train_network up to the cfg's max_batches (lr policy, momentum,\n"
            "  decay from [net]); weights continue from their stored batch count unless -clear.\n"
            "  -seed S        weight init, shuffling and augmentation seed (default 1)\n"
            "  -pad P         random shift of up to P px, zero-filled (default 2; 0: none)\n"
            "  -noflip        no random horizontal flip\n"
            "  -noaugment     neither shift nor flip\n"
            "  -backup N      save OUT.weights.backup every N batches (default 1000; 0: never)\n"
            "  -clear         restart the batch count of the given weights at 0\n"
            "  -valid         print top-1 and per-class accuracy on the data's valid= list at the end\n"
            "  -valid-every N also evaluate top-1 on the valid= list every N batches (needs -valid)\n"
            "  -chart FILE.png  loss and top-1 against the batch, rewritten at every backup and at the end;\n"
            "                 its rows also go to FILE.csv, which a resumed run (weights from the backup)\n"
            "                 continues\n",
            prog);
}

int run_train(int argc, char **argv)
{
    if (wants_help(argc, argv) || argc < 5) {
        usage(argv[0]);
        return wants_help(argc, argv) ? 0 : 1;
    }
    const char *datafile = argv[3], *cfg = argv[4], *weights = NULL;
    int first = 5;
    if (argc > 5 && argv[5][0] != '-') weights = argv[first++];
    const char *with_value[] = {"-out", "-seed", "-pad", "-backup", "-valid-every", "-chart", NULL};
    const char *alone[] = {"-noflip", "-noaugment", "-clear", "-valid", NULL};
    opt_check(argc, argv, first, with_value, alone);
    const char *out = opt_str(argc, argv, "-out", NULL);
    if (!out) inv_die("train needs -out OUT.weights");
    int seed = opt_int(argc, argv, "-seed", 1);
    int pad = opt_int(argc, argv, "-pad", 2);
    int flip = !opt_has(argc, argv, "-noflip");
    int backup = opt_int(argc, argv, "-backup", 1000);
    if (opt_has(argc, argv, "-noaugment")) pad = 0, flip = 0;
    if (pad < 0 || backup < 0) inv_die("-pad and -backup must not be negative");
    int valid_every = opt_int(argc, argv, "-valid-every", 0);
    if (valid_every < 0 || (valid_every > 0 && !opt_has(argc, argv, "-valid"))) inv_die("-valid-every N needs -valid and N >= 0");
    const char *chart = opt_str(argc, argv, "-chart", NULL);
    char chart_csv[4200] = "";
    if (chart) {
        size_t n = strlen(chart);
        if (n < 5 || strcmp(chart + n - 4, ".png")) inv_die("-chart %s: the chart's name must end in .png", chart);
        snprintf(chart_csv, sizeof chart_csv, "%.*s.csv", (int)(n - 4), chart);
    }

    classifier_data d = read_classifier_data(datafile);
    const char *train_list = classifier_list(&d, "train");
    const char *valid_list = opt_has(argc, argv, "-valid") ? classifier_list(&d, "valid") : NULL;

    // Darknet initialises weights with rand(): seed before parsing.
    srand(seed);
    shuffle_rng_state = (uint64_t)seed * 0x2545f4914f6cdd1dULL + 1;
    network *net = load_checked_network(cfg, weights, 0, LAYERS_TRAIN);
    if (opt_has(argc, argv, "-clear")) *net->seen = 0;
    int fixed = fix_conv1x1_backward(net);
    print_network_cost(stderr, net, cfg);
    const layer *outl = &net->layers[output_layer_index(net)];
    if (outl->outputs != d.classes) inv_die("%s: the network has %d outputs, %s has %d classes", cfg, outl->outputs, datafile, d.classes);
    int rows = net->batch * net->subdivisions;
    fprintf(stderr, "batch %d (subdivisions %d), lr %g, momentum %g, decay %g, max_batches %d, seed %d, shift %d px, flip %s%s\n",
            rows, net->subdivisions, net->learning_rate, net->momentum, net->decay, net->max_batches, seed, pad,
            flip ? "yes" : "no", fixed ? ", 1x1 conv backward made accumulating" : "");

    double t0 = now_seconds();
    labelled_set s = load_labelled_list(train_list, d.labels, d.classes, net->w, net->h, net->c);
    fprintf(stderr, "%s: %d images loaded in %.1f s\n", train_list, s.n, now_seconds() - t0);
    if (s.n < rows) inv_die("%s holds %d images, fewer than one batch of %d", train_list, s.n, rows);

    int size = s.c * s.h * s.w;
    float *xbuf = xcalloc((size_t)rows * size, sizeof(float));
    float *ybuf = xcalloc((size_t)rows * d.classes, sizeof(float));
    float **xrows = xcalloc(rows, sizeof(float *)), **yrows = xcalloc(rows, sizeof(float *));
    for (int i = 0; i < rows; ++i) {
        xrows[i] = xbuf + (size_t)i * size;
        yrows[i] = ybuf + (size_t)i * d.classes;
    }
    data batch = {0};
    batch.X = (matrix){rows, size, xrows};
    batch.y = (matrix){rows, d.classes, yrows};
    batch.shallow = 1;

    int *order = xcalloc(s.n, sizeof(int));
    for (int i = 0; i < s.n; ++i) order[i] = i;
    shuffle(order, s.n);
    int cursor = 0, epoch = 0;
    char backup_path[4200];
    snprintf(backup_path, sizeof backup_path, "%s.backup", out);

    int start = (int)get_current_batch(net);
    text_log csv = {0};
    text_log_add(&csv, "batch,loss,lr,top1\n");
    if (chart && start > 0) keep_csv_rows(&csv, chart_csv, start);
    labelled_set vs = {0};
    if (valid_every > 0) vs = load_labelled_list(valid_list, d.labels, d.classes, net->w, net->h, net->c);
    double t_start = now_seconds(), t_print = 0;
    float avg = -1;
    while ((int)get_current_batch(net) < net->max_batches) {
        memset(ybuf, 0, (size_t)rows * d.classes * sizeof(float));
        for (int i = 0; i < rows; ++i) {
            if (cursor == s.n) { shuffle(order, s.n); cursor = 0; ++epoch; }
            int idx = order[cursor++];
            int dx = pad ? shuffle_rng_below(2 * pad + 1) - pad : 0, dy = pad ? shuffle_rng_below(2 * pad + 1) - pad : 0;
            int fl = flip ? shuffle_rng_below(2) : 0;
            shift_flip_image(labelled_image(&s, idx), xrows[i], s.c, s.h, s.w, dx, dy, fl);
            yrows[i][s.y[idx]] = 1;
        }
        float loss = train_network(net, batch);
        avg = avg < 0 ? loss : 0.95f * avg + 0.05f * loss;
        int b = (int)get_current_batch(net);
        char row[128];
        if (valid_every > 0 && (b % valid_every == 0 || b == net->max_batches)) {
            classifier_score r = evaluate_classifier(net, &vs);
            snprintf(row, sizeof row, "%d,%.6g,%.6g,%.2f\n", b, loss, get_current_rate(net), 100.0 * r.correct / r.n);
            fprintf(stderr, "batch %d: top-1 %.2f%% on %s\n", b, 100.0 * r.correct / r.n, valid_list);
            free_classifier_score(&r);
        } else
            snprintf(row, sizeof row, "%d,%.6g,%.6g,\n", b, loss, get_current_rate(net));
        text_log_add(&csv, row);
        double now = now_seconds();
        if (now - t_print >= 10 || b == net->max_batches || b == start + 1) {
            double rate = (b - start) * (double)rows / (now - t_start);
            char eta[64];
            format_duration((net->max_batches - b) * (double)rows / rate, eta, sizeof eta);
            fprintf(stderr, "batch %d/%d  epoch %.2f  loss %.4f  avg %.4f  lr %.5g  %.0f images/s  ETA %s\n",
                    b, net->max_batches, epoch + (double)cursor / s.n, loss, avg, get_current_rate(net), rate, eta);
            t_print = now;
        }
        if (backup && b % backup == 0 && b < net->max_batches) {
            save_weights_atomic(net, backup_path);
            save_train_chart(chart, chart_csv, &csv);
        }
    }
    save_weights_atomic(net, out);
    save_train_chart(chart, chart_csv, &csv);
    free(csv.s);
    free_labelled_set(&vs);
    char took[64];
    format_duration(now_seconds() - t_start, took, sizeof took);
    fprintf(stderr, "%s written after %d batches (%s)\n", out, (int)get_current_batch(net), took);
    if (file_exists(backup_path)) unlink(backup_path);

    if (valid_list) {
        free_labelled_set(&s);
        report_classifier(net, valid_list, &d, out);
    }
    free(order);
    free(xbuf); free(ybuf); free(xrows); free(yrows);
    free_labelled_set(&s);
    free_network(net);
    free_classifier_data(&d);
    return 0;
}
