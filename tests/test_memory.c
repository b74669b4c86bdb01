// The memory check's arithmetic: /proc/meminfo and cgroup parsing, sizes with
// units, byte formatting, a network's memory as fixed + per-image bytes, and
// the largest batch that fits.
#include <math.h>

#include "memory.h"
#include "testlib.h"

int main(void)
{
    const char *meminfo = "MemTotal:       24576000 kB\nMemFree:         1000000 kB\nMemAvailable:   22000000 kB\nBuffers: 1 kB\n";
    CHECK(parse_meminfo_available(meminfo) == 22000000.0 * 1024, "MemAvailable: %g", parse_meminfo_available(meminfo));
    CHECK(parse_meminfo_available("MemTotal: 5 kB\nMemAvailableX: 3 kB\n") == -1, "a key that only starts alike is not MemAvailable");

    CHECK(parse_cgroup_room("max\n", "123456\n", NULL) == -1, "memory.max 'max' is no limit");
    CHECK(parse_cgroup_room("1000000\n", "400000\n", "anon 1\ninactive_file 100000\n") == 700000,
          "room = max - (current - inactive_file): %g", parse_cgroup_room("1000000\n", "400000\n", "anon 1\ninactive_file 100000\n"));
    CHECK(parse_cgroup_room("1000\n", "5000\n", NULL) == 0, "over the limit: no room");

    CHECK(parse_byte_size("1048576") == 1048576, "plain bytes");
    CHECK(parse_byte_size("6G") == 6.0 * (1 << 30), "6G");
    CHECK(parse_byte_size("512MiB") == 512.0 * (1 << 20), "512MiB");
    CHECK(parse_byte_size("1.5 GB") == 1.5 * (1 << 30), "1.5 GB");
    CHECK(parse_byte_size("2k") == 2048, "2k");
    CHECK(parse_byte_size("lots") == -1 && parse_byte_size("5X") == -1 && parse_byte_size("") == -1 && parse_byte_size("3G4") == -1,
          "malformed sizes are refused");

    char buf[32];
    format_bytes(100, buf, sizeof buf);
    CHECK(!strcmp(buf, "100 B"), "%s", buf);
    format_bytes(12 * 1024, buf, sizeof buf);
    CHECK(!strcmp(buf, "12 KiB"), "%s", buf);
    format_bytes(3.1 * (1 << 30), buf, sizeof buf);
    CHECK(!strcmp(buf, "3.1 GiB"), "%s", buf);
    format_bytes(412.0 * (1 << 20), buf, sizeof buf);
    CHECK(!strcmp(buf, "412 MiB"), "%s", buf);

    // Linear parts: 1000 + 100 per image at the scalable batch, 500 at a fixed batch of 4 with 10 per image.
    memory_plan p = {0};
    memory_add(&p, "a", 1000, 100, 0);
    memory_add(&p, "b", 500, 10, 4);
    p.base = 0;
    CHECK(memory_plan_bytes(&p, 1) == 1000 + 100 + 540, "plan at batch 1: %g", memory_plan_bytes(&p, 1));
    CHECK(memory_plan_bytes(&p, 64) == 1000 + 6400 + 540, "plan at batch 64: %g", memory_plan_bytes(&p, 64));
    CHECK(max_fitting_batch(&p, 1000 + 540 + 100 * 37 + 50, 64) == 37, "largest batch that fits: %d",
          max_fitting_batch(&p, 1000 + 540 + 100 * 37 + 50, 64));
    CHECK(max_fitting_batch(&p, 1e9, 64) == 64, "everything fits: the batch itself");
    CHECK(max_fitting_batch(&p, 1000, 64) == 0, "nothing fits");

    // A network from its shapes: conv 3x3 8 filters with BN on 1x8x8, max-pool 2x2, connected 128->4, softmax.
    char *cfg = write_temp("[net]\nbatch=32\nsubdivisions=2\nmax_batches=100\nwidth=8\nheight=8\nchannels=1\n"
                           "[convolutional]\nfilters=8\nsize=3\npad=1\nbatch_normalize=1\nactivation=leaky\n"
                           "[maxpool]\nsize=2\nstride=2\n[connected]\noutput=4\nactivation=linear\n[softmax]\n", ".cfg");
    net_memory f = network_memory(cfg, LAYERS_FROZEN), t = network_memory(cfg, LAYERS_TRAIN);
    CHECK(f.cfg_batch == 16 && f.max_batches == 100 && f.c == 1 && f.h == 8 && f.w == 8 && f.classes == 4, "shapes");
    double conv = 8 * 8 * 8, pool = 8 * 4 * 4;
    // Frozen per image: input and its gradient, the convolution's BN input,
    // the pool's indexes, the connected's output (the logits), the softmax's
    // output and delta, and two shared buffers: the convolution's output then
    // the pool's delta (its gradient, which the fused convolution reads; the
    // convolution's own delta is never written), and the pool's output then
    // the connected's delta.
    double fimage = 4 * (2 * 64 + conv + pool + 4 + 2 * 4 + conv + pool);
    CHECK(fabs(f.per_image - fimage) < 1e-9, "frozen per image %g, expected %g", f.per_image, fimage);
    double params = 8 * 9 + 8 * 6 + 128 * 4 + 4;
    CHECK(fabs(f.fixed - 4 * params) < 1e-9, "frozen fixed %g, expected %g", f.fixed, 4 * params);
    // Training: also the convolution's delta and x_norm, the softmax's loss, the updates and the im2col workspace.
    double timage = 4 * (64 + 4 * conv + 3 * pool + 2 * 4 + 3 * 4);
    CHECK(fabs(t.per_image - timage) < 1e-9, "training per image %g, expected %g", t.per_image, timage);
    CHECK(fabs(t.fixed - (8 * params + 4 * 9 * 64)) < 1e-9, "training fixed %g", t.fixed);
    CHECK(net_memory_bytes(&t, 10) == t.fixed + 10 * t.per_image, "a trained network is linear in its batch");
    CHECK(net_memory_bytes(&f, 64) > f.fixed + 64 * f.per_image, "a frozen network adds its workspaces");
    // Planning does not draw from rand(), which seeds Darknet's weights later.
    srand(7);
    int first = rand();
    srand(7);
    network_memory(cfg, LAYERS_TRAIN);
    CHECK(rand() == first, "planning changed rand()'s sequence");
    unlink(cfg);
    free(cfg);
    return test_summary();
}
