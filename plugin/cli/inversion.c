#include "inversion.h"

#include "device.h"

#include <stdio.h>
#include <string.h>

static const struct {
    const char *name;
    int (*run)(int, char **);
    const char *summary;
} verbs[] = {
    {"dream", run_dream, "synthesize images from a classifier with DeepInversion"},
    {"merge", run_merge, "join the shards of a sharded dream run (dream -shard I/N) into one data set"},
    {"distill", run_distill, "distil a student from a teacher without data (DeepInversion / Adaptive DeepInversion)"},
    {"continual", run_continual, "add classes to a classifier without its old data (head widening + DeepInversion)"},
    {"prune", run_prune, "make a classifier smaller without its data (Taylor pruning + KD on DeepInversion images)"},
    {"calibrate", run_calibrate, "int8 calibration without data: synthesized images, per-layer ranges, input_calibration"},
    {"valid", run_valid, "top-1 and per-class accuracy of a classifier on a labelled list"},
    {"train", run_train, "train a classifier on a Darknet classifier dataset (in memory, BLAS-backed)"},
    {"import-fmnist", run_import_fmnist, "turn Fashion-MNIST idx files into a Darknet classifier dataset"},
    {"import-cifar10", run_import_cifar10, "turn CIFAR-10's binary version (.bin files or its .tar.gz) into a Darknet classifier dataset"},
    {"import-folder", run_import_folder, "turn a folder (or .tar.gz) of images, one subfolder per class, into a Darknet classifier dataset"},
};

static void usage(const char *prog)
{
    printf("usage: %s inversion <verb> [arguments]   (%s inversion <verb> --help for details)\n\n"
           "DeepInversion (Yin et al., CVPR 2020) for Darknet classifiers: data-free image synthesis\n"
           "from a trained .cfg + .weights, and the tools around it.\n\nverbs:\n", prog, prog);
    for (size_t i = 0; i < sizeof verbs / sizeof *verbs; ++i) printf("  %-14s %s\n", verbs[i].name, verbs[i].summary);
    printf("\nevery verb also takes -gpu N (the teacher on CUDA device N; darknet-gpu's default is 0)\n"
           "and -nogpu (everything on the CPU, the default of a build without GPU support).\n");
}

int run_inversion(int argc, char **argv)
{
    if (argc < 3 || !strcmp(argv[2], "--help") || !strcmp(argv[2], "-h") || !strcmp(argv[2], "help")) {
        usage(argv[0]);
        return argc < 3 ? 1 : 0;
    }
    for (size_t i = 0; i < sizeof verbs / sizeof *verbs; ++i)
        if (!strcmp(argv[2], verbs[i].name)) {
            if (!wants_help(argc, argv)) device_select(&argc, argv, 3);
            return verbs[i].run(argc, argv);
        }
    fprintf(stderr, "darknet inversion: unknown verb '%s'\n\n", argv[2]);
    usage(argv[0]);
    return 1;
}

// Shared by the verbs: true when --help/-h is among the arguments.
int wants_help(int argc, char **argv)
{
    for (int i = 3; i < argc; ++i)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) return 1;
    return 0;
}
