// darknet entry point: `darknet inversion ...` is this plugin; every other
// subcommand is handed, unchanged, to the stock Debian darknet program.
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "inversion.h"

#ifndef STOCK_DARKNET
#define STOCK_DARKNET "/usr/bin/darknet"
#endif

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "inversion") == 0) {
        select_blas_kernel(argv);
        return run_inversion(argc, argv);
    }
    if (argc < 2) fprintf(stderr, "usage: %s <function>\n       %s inversion --help   (DeepInversion plugin)\n", argv[0], argv[0]);
    argv[0] = STOCK_DARKNET;
    execv(STOCK_DARKNET, argv);
    fprintf(stderr, "darknet: cannot run the stock program %s: %s\n", STOCK_DARKNET, strerror(errno));
    return 127;
}
