// `darknet inversion calibrate <inversion.cfg> <cfg> <weights> -out DIR`:
// int8 calibration without data. Calibration images are synthesized from the
// network itself (ZeroQ's "distilled data": BN statistics matched per image,
// no class term; or DeepInversion's batches), or taken from a list, or noise;
// every convolution's input range is measured on them (net/int8.c). Writes
// the image list int8 tools read, the ranges, and the `input_calibration`
// line of Darknet's int8 forks; `valid -int8 DIR/ranges.txt` measures the
// simulated int8 network.
#include <errno.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dataset.h"
#include "frozen.h"
#include "icfg.h"
#include "imageio.h"
#include "int8.h"
#include "inversion.h"
#include "load_network.h"
#include "rng.h"
#include "synth.h"
#include "util.h"

static void calibrate_help(const char *prog)
{
    printf("usage: %s inversion calibrate <inversion.cfg> <cfg> <weights> -out DIR [-n N] [-method M]\n"
           "                             [-images LIST | -noise gaussian|uniform] [-threshold kl|mse|max]\n"
           "                             [-act-bits B] [-seed S]\n\n"
           "Int8 calibration without the training data: calibration images are synthesized from the\n"
           "network, then every convolution's input range is measured on them: its largest |x|, the\n"
           "threshold that loses the least information in 127 levels (KL / entropy calibration, as\n"
           "TensorRT's), and the one with the least squared quantization error.\n\n"
           "  -out DIR      calibration.txt (the image list DeepStream-Yolo's INT8_CALIB_IMG_PATH and ncnn's\n"
           "                ncnn2table read), images/*.png (images made here), ranges.txt (per convolution:\n"
           "                layer, max |x|, threshold, 127/threshold; read by valid -int8), input_calibration.txt\n"
           "                (the `input_calibration = m1, m2, ...` line for the [net] section of Darknet's int8\n"
           "                forks: one multiplier per convolutional layer)\n"
           "  -n N          calibration images (default 500)\n"
           "  -method M     zeroq (default): ZeroQ's distilled data, the BN-statistic term on each image alone\n"
           "                (one image per batch), no class term; deepinversion: the inversion cfg as dream\n"
           "                runs it (its batch, class term, targets round robin)\n"
           "  -images LIST  calibrate on N images of an existing list instead (real images, or a dream run's\n"
           "                train.list), chosen at random with -seed; nothing is synthesized\n"
           "  -noise K      calibrate on noise instead: gaussian (each pixel N(0.5, 0.2^2) clipped to [0, 1])\n"
           "                or uniform (U[0, 1])\n"
           "  -threshold R  the threshold ranges.txt and input_calibration use: mse (default), kl or max\n"
           "  -act-bits B   thresholds for inputs quantized to B bits (2..8, default 8) with the weights still\n"
           "                int8: a harder setting, where the calibration matters more. ranges.txt then says\n"
           "                act_bits = B (valid -int8 simulates it) and has no input_calibration line\n"
           "  -seed S       random seed (default 1)\n"
           "The inversion cfg's [bn_stat], [prior], [adam], [augment] and iterations apply to the synthesis;\n"
           "with zeroq, [class] weight and batch are overridden (0 and 1). Not resumable: an interrupted run\n"
           "leaves complete files only, and starts over.\n", prog);
}

typedef struct {
    int n, c, h, w;
    float *x;         // n images, CHW in [0, 1]
    char **paths;     // what calibration.txt lists
} calibration_images;

// N images synthesized by the teacher; written as PNGs and read back, so that
// the ranges are those of the files an int8 tool will read.
static void synthesize_images(calibration_images *ci, const char *icfg, const char *cfg, const char *weights,
                              int zeroq, uint64_t seed, const char *out)
{
    inversion_params p = read_inversion_cfg(icfg);
    if (p.compete_weight > 0) inv_die("%s: [compete] weight needs a student; calibrate has none (set it to 0)", icfg);
    if (zeroq) {
        p.batch = 1;
        p.class_weight = 0;
        if (p.bn_stat_weight <= 0) inv_die("%s: [bn_stat] weight is 0: ZeroQ's distilled data is made by that term alone", icfg);
    }
    // One image has nothing to share between threads; waiting threads only
    // slow it (10x on a loaded machine).
    int threads = omp_get_max_threads();
    if (p.batch == 1) omp_set_num_threads(1);
    network *net = load_checked_network(cfg, weights, p.batch, LAYERS_FROZEN);
    net->train = 0;
    frozen_net *teacher = make_frozen_net(net, cfg);
    if (teacher->nbn == 0 && p.bn_stat_weight > 0)
        inv_warn("%s has no batch_normalize layers: the BN-statistic term is empty", cfg);
    if (net->c != 1 && net->c != 3) inv_die("%s: %d input channels; images can be written for 1 or 3", cfg, net->c);
    synth *s = make_synth(teacher, NULL, &p);
    size_t size = (size_t)net->c * net->h * net->w;
    float *batch = xcalloc((size_t)p.batch * size, sizeof(float));
    int *targets = xcalloc(p.batch, sizeof(int));
    int nbatches = (ci->n + p.batch - 1) / p.batch, save_c = p.gray ? 1 : net->c;
    double start = now_seconds();
    int tty = isatty(2);
    for (int b = 0; b < nbatches; ++b) {
        for (int i = 0; i < p.batch; ++i) targets[i] = (b * p.batch + i) % teacher->classes;
        synth_batch(s, targets, (seed << 32) ^ (uint64_t)b, b, batch, NULL, NULL);
        for (int i = 0; i < p.batch && b * p.batch + i < ci->n; ++i) {
            int k = b * p.batch + i;
            char path[4096];
            snprintf(path, sizeof path, "%s/images/%06d.png", out, k);
            save_png(path, batch + i * size, save_c, net->h, net->w);
            ci->paths[k] = xstrdup(path);
        }
        // On a terminal one line rewritten; in a log a line per tenth of the run.
        double t = now_seconds() - start, eta = t / (b + 1) * (nbatches - b - 1);
        int shown = (b + 1) * p.batch < ci->n ? (b + 1) * p.batch : ci->n, tenth = nbatches >= 10 ? nbatches / 10 : 1;
        if (tty || (b + 1) % tenth == 0 || b + 1 == nbatches)
            fprintf(stderr, "%scalibrate: synthesized %d/%d images  %.0f s  ETA %.0f s%s", tty ? "\r" : "", shown, ci->n,
                    t, eta, tty ? "   " : "\n");
    }
    if (tty) fprintf(stderr, "\n");
    free(batch);
    free(targets);
    free_synth(s);
    free_frozen_net(teacher);
    free_network(net);
    omp_set_num_threads(threads);
}

static void noise_images(calibration_images *ci, int gaussian, uint64_t seed, const char *out)
{
    rng r = make_rng(seed);
    size_t size = (size_t)ci->c * ci->h * ci->w;
    float *im = xcalloc(size, sizeof(float));
    for (int k = 0; k < ci->n; ++k) {
        for (size_t i = 0; i < size; ++i) {
            float v = gaussian ? (float)(0.5 + 0.2 * rng_normal(&r)) : (float)rng_uniform(&r);
            im[i] = v < 0 ? 0 : v > 1 ? 1 : v;
        }
        char path[4096];
        snprintf(path, sizeof path, "%s/images/%06d.png", out, k);
        save_png(path, im, ci->c, ci->h, ci->w);
        ci->paths[k] = xstrdup(path);
    }
    free(im);
}

// N paths of list at random (all of them, in order, when it holds no more).
static void pick_images(calibration_images *ci, const char *list, uint64_t seed)
{
    int m;
    char **lines = read_lines(list, "image list", &m);
    if (m == 0) inv_die("image list %s is empty", list);
    if (m < ci->n) {
        inv_warn("%s holds %d images: calibrating on all of them (-n %d asked for more)", list, m, ci->n);
        ci->n = m;
    }
    int *order = xcalloc(m, sizeof(int));
    for (int i = 0; i < m; ++i) order[i] = i;
    if (m > ci->n) {
        rng r = make_rng(seed);
        for (int i = 0; i < ci->n; ++i) {
            int j = rng_int(&r, i, m - 1), t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
    }
    for (int i = 0; i < ci->n; ++i) ci->paths[i] = xstrdup(lines[order[i]]);
    free(order);
    free_lines(lines, m);
}

int run_calibrate(int argc, char **argv)
{
    if (wants_help(argc, argv)) { calibrate_help(argv[0]); return 0; }
    if (argc < 6) { calibrate_help(argv[0]); return 1; }
    const char *icfg = argv[3], *cfg = argv[4], *weights = argv[5];
    const char *with_value[] = {"-out", "-n", "-method", "-images", "-noise", "-threshold", "-act-bits", "-seed", NULL};
    const char *alone[] = {NULL};
    opt_check(argc, argv, 6, with_value, alone);
    const char *out = opt_str(argc, argv, "-out", NULL);
    if (!out) inv_die("calibrate needs -out DIR");
    int n = opt_int(argc, argv, "-n", 500);
    if (n <= 0) inv_die("-n must be positive");
    uint64_t seed = (uint64_t)opt_int(argc, argv, "-seed", 1);
    const char *method = opt_str(argc, argv, "-method", "zeroq");
    const char *images = opt_str(argc, argv, "-images", NULL), *noise = opt_str(argc, argv, "-noise", NULL);
    if (strcmp(method, "zeroq") && strcmp(method, "deepinversion"))
        inv_die("-method %s: expected zeroq or deepinversion", method);
    if (images && noise) inv_die("-images and -noise are two different sources: give one");
    if (noise && strcmp(noise, "gaussian") && strcmp(noise, "uniform"))
        inv_die("-noise %s: expected gaussian or uniform", noise);
    int8_threshold_rule rule = parse_int8_threshold_rule(opt_str(argc, argv, "-threshold", "mse"), "-threshold");
    int act_bits = opt_int(argc, argv, "-act-bits", 8);
    if (act_bits < 2 || act_bits > 8) inv_die("-act-bits %d: expected 2 to 8", act_bits);
    if (!images && !noise) read_inversion_cfg(icfg);   // its errors before anything is written

    // The network the ranges are measured on (inference mode, like valid).
    int batch = n < 100 ? n : 100;
    network *net = load_checked_network(cfg, weights, batch, LAYERS_TRAIN);
    if (net->c != 1 && net->c != 3) inv_die("%s: %d input channels; calibration images are 1 or 3", cfg, net->c);
    calibration_images ci = {n, net->c, net->h, net->w, NULL, xcalloc(n, sizeof(char *))};
    char path[4096], what[8192];
    make_output_dir(out);
    if (!images) {
        snprintf(path, sizeof path, "%s/images", out);
        make_output_dir(path);
    }
    double start = now_seconds();
    if (images) pick_images(&ci, images, seed);
    else if (noise) noise_images(&ci, !strcmp(noise, "gaussian"), seed, out);
    else synthesize_images(&ci, icfg, cfg, weights, !strcmp(method, "zeroq"), seed, out);
    double made = now_seconds() - start;
    labelled_set set = load_labelled_paths(ci.paths, ci.n, images ? images : out, NULL, 0, net->w, net->h, net->c);

    int8_calibrator *cal = make_int8_calibrator(net);
    int8_calibrator_pass(cal, set.x, set.n, 0);
    int8_calibrator_pass(cal, set.x, set.n, 1);
    int8_ranges r = int8_calibrator_ranges(cal, rule, act_bits);
    free_int8_calibrator(cal);

    // The list first, the ranges last: ranges.txt says the run finished.
    size_t cap = 1;
    for (int i = 0; i < ci.n; ++i) cap += strlen(ci.paths[i]) + 1;
    char *list = xcalloc(cap, 1);
    for (int i = 0, len = 0; i < ci.n; ++i) len += snprintf(list + len, cap - len, "%s\n", ci.paths[i]);
    snprintf(path, sizeof path, "%s/calibration.txt", out);
    save_text(path, list);
    // The int8 forks' line is for int8 inputs only.
    snprintf(path, sizeof path, "%s/input_calibration.txt", out);
    if (act_bits == 8) {
        char line[16384];
        format_input_calibration(line, sizeof line - 1, &r);
        strcat(line, "\n");
        save_text(path, line);
    } else if (unlink(path) && errno != ENOENT) {
        inv_die("cannot remove %s (an int8 line that ranges.txt no longer matches): %s", path, strerror(errno));
    }
    snprintf(what, sizeof what, "%s + %s, %d images (%s)", cfg, weights, ci.n,
             images ? images : noise ? (!strcmp(noise, "gaussian") ? "gaussian noise" : "uniform noise") : method);
    snprintf(path, sizeof path, "%s/ranges.txt", out);
    write_int8_ranges(path, &r, what);
    printf("calibrate: %d convolutional layers from %d images (%.1f s making them); %s/ranges.txt, %s/calibration.txt",
           r.n, ci.n, made, out, out);
    if (act_bits == 8) printf(", %s/input_calibration.txt\n", out);
    else printf(" (inputs in %d bits: no input_calibration line)\n", act_bits);

    free(list);
    free_int8_ranges(&r);
    free_labelled_set(&set);
    for (int i = 0; i < ci.n; ++i) free(ci.paths[i]);
    free(ci.paths);
    free_network(net);
    return 0;
}
