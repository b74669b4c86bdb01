// libFuzzer target: the checks that stand between a user's files and
// Darknet's own parser and weights loader (plugin/net/load_network.c). Each input is
//   1. checked as a Darknet cfg's text (check_cfg_text), with and without a
//      batch override, for both layer sets: it must be accepted or refused
//      with a message; an accepted cfg's copy must keep every byte when no
//      batch is forced;
//   2. written to a file and checked as a weights file for a small fixed
//      network (check_weights_file_size): accepted exactly when its size is
//      what Darknet's load_weights reads.
// Darknet's parse_network_cfg itself is never given fuzzed text: it exits or
// crashes on garbage by design, which is why these checks exist.
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "load_network.h"

#define REQUIRE(cond) do { if (!(cond)) __builtin_trap(); } while (0)

static network *net;
static int weights_fd = -1;
static char weights_path[64];

static const char tiny_cfg[] =
    "[net]\nwidth=4\nheight=4\nchannels=1\nbatch=1\n"
    "[convolutional]\nbatch_normalize=1\nfilters=2\nsize=3\nstride=1\npad=1\nactivation=leaky\n"
    "[connected]\noutput=3\nactivation=linear\n"
    "[softmax]\n";

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char path[] = "/tmp/fuzz-netcheck-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0 || write(fd, tiny_cfg, sizeof tiny_cfg - 1) != (ssize_t)(sizeof tiny_cfg - 1)) abort();
    close(fd);
    net = load_checked_network(path, NULL, 1, LAYERS_FROZEN);
    unlink(path);
    weights_fd = memfd_create("weights", 0);
    if (weights_fd < 0) abort();
    snprintf(weights_path, sizeof weights_path, "/proc/self/fd/%d", weights_fd);
    return 0;
}

static void check_text(const uint8_t *data, size_t size, int batch, layer_set allowed)
{
    char err[1024], *copy = (char *)1;
    int rc = check_cfg_text((const char *)data, size, "fuzz.cfg", batch, allowed, &copy, err, sizeof err);
    REQUIRE(rc == 0 || rc == -1);
    if (rc) {
        REQUIRE(copy == NULL && memchr(err, 0, sizeof err));
        REQUIRE(!strncmp(err, "fuzz.cfg", 8) || !strcmp(err, "out of memory"));
    } else {
        REQUIRE(copy != NULL);
        if (batch <= 0) REQUIRE(strlen(copy) == size && !memcmp(copy, data, size));
        free(copy);
    }
    char small[4];
    REQUIRE(check_cfg_text((const char *)data, size, "fuzz.cfg", batch, allowed, NULL, small, sizeof small) == rc);
    REQUIRE(memchr(small, 0, sizeof small) || rc == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_text(data, size, 0, LAYERS_TRAIN);
    check_text(data, size, 7, LAYERS_FROZEN);

    if (ftruncate(weights_fd, 0) != 0 || pwrite(weights_fd, data, size, 0) != (ssize_t)size) abort();
    char err[2048];
    int rc = check_weights_file_size(net, "tiny.cfg", weights_path, err, sizeof err);
    REQUIRE(rc == 0 || rc == -1);
    if (rc) {
        REQUIRE(memchr(err, 0, sizeof err) && strstr(err, weights_path));
    } else {
        // Accepted: the size is the header Darknet reads (4-byte or 8-byte
        // "seen" by version) plus every layer's floats, and not transposed.
        int h[3];
        REQUIRE(size >= sizeof h);
        memcpy(h, data, sizeof h);
        REQUIRE(h[0] <= 1000 && h[1] <= 1000);
        size_t full = expected_weights_bytes(net);
        int version = (int)(10u * (unsigned)h[0] + (unsigned)h[1]);
        int long_seen = version >= 2 && h[0] < 1000 && h[1] < 1000;
        REQUIRE(size == (long_seen ? full : full - sizeof(size_t) + sizeof(int)));
    }
    return 0;
}
