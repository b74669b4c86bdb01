// `darknet inversion valid <data> <cfg> <weights> [-list file]`: single-crop
// top-1 (top-5 with 20 classes or more) and per-class accuracy (stock
// `classifier valid` takes 10 crops at (w+32)x(h+32), meaningless for 28x28
// images). Images of another size are scaled and centre-cropped.
#include <stdio.h>

#include "load_network.h"
#include "dataset.h"
#include "evaluate.h"
#include "flops.h"
#include "int8.h"
#include "inversion.h"
#include "util.h"

int run_valid(int argc, char **argv)
{
    if (wants_help(argc, argv) || argc < 6) {
        fprintf(stderr, "usage: %s inversion valid <data> <cfg> <weights> [-list file] [-batch N] [-per-class] [-int8 RANGES]\n"
                "  Top-1 (and top-5 with 20 classes or more) and per-class accuracy on the data file's valid= list\n"
                "  (or -list), one crop per image: an image of another size than the network's is scaled to cover\n"
                "  it and centre-cropped, as stock Darknet's single-crop validation does. Images are read a chunk\n"
                "  at a time, so any list fits in memory.\n"
                "  -batch N     images per forward pass (default 100, or the list's size if smaller)\n"
                "  -per-class   per-class lines also for more than 100 classes\n"
                "  -int8 RANGES the network as an int8 engine runs it, simulated: every convolution's weights\n"
                "               per output channel and its input at the calibrated threshold in 127 levels\n"
                "               (RANGES: calibrate's ranges.txt, or a file with an input_calibration = line;\n"
                "               with calibrate -act-bits B, the inputs in 2^(B-1)-1 levels each side)\n", argv[0]);
        return wants_help(argc, argv) ? 0 : 1;
    }
    const char *with_value[] = {"-list", "-batch", "-int8", NULL};
    const char *flags[] = {"-per-class", NULL};
    opt_check(argc, argv, 6, with_value, flags);
    const char *datafile = argv[3], *cfg = argv[4], *weights = argv[5];
    classifier_data d = read_classifier_data(datafile);
    const char *list = opt_str(argc, argv, "-list", NULL);
    if (!list) list = classifier_list(&d, "valid");
    // Darknet allocates every layer's output for the whole batch: no larger
    // than the list (8 images of a 448-px network need no batch of 100).
    int images;
    char **lines = read_lines(list, "image list", &images);
    free_lines(lines, images);
    int batch = opt_int(argc, argv, "-batch", images < 100 ? (images > 0 ? images : 1) : 100);
    if (batch <= 0) inv_die("-batch must be positive");
    network *net = load_checked_network(cfg, weights, batch, LAYERS_TRAIN);
    print_network_cost(stderr, net, cfg);
    const char *int8 = opt_str(argc, argv, "-int8", NULL);
    char name[4300];
    snprintf(name, sizeof name, "%s", weights);
    if (int8) {
        int8_ranges r = read_int8_ranges(int8, net);
        if (r.act_bits == 8) snprintf(name, sizeof name, "%s as int8 with %s", weights, int8);
        else snprintf(name, sizeof name, "%s as int8 (inputs in %d bits) with %s", weights, r.act_bits, int8);
        int8_quantize_network(net, &r);
        free_int8_ranges(&r);
    }
    report_classifier_classes(net, list, &d, name, opt_has(argc, argv, "-per-class"));
    if (int8) int8_restore_forward(net);
    free_network(net);
    free_classifier_data(&d);
    return 0;
}
