#include "device.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "darknet.h"
#include "util.h"

int inv_gpu = -1;
static char name[300] = "CPU";

void device_select(int *argc, char **argv, int first)
{
    int want = -2, out = first;   // -2: not said
    for (int i = first; i < *argc; ++i) {
        if (!strcmp(argv[i], "-nogpu")) { want = -1; continue; }
        if (!strcmp(argv[i], "-gpu")) {
            char *end;
            if (i + 1 >= *argc) inv_die("-gpu needs a device number");
            long v = strtol(argv[i + 1], &end, 10);
            if (*end || end == argv[i + 1] || v < 0 || v > 255) inv_die("-gpu %s: not a device number", argv[i + 1]);
            want = (int)v;
            ++i;
            continue;
        }
        argv[out++] = argv[i];
    }
    argv[out] = NULL;
    *argc = out;
#ifdef GPU
    int count = 0;
    cudaError_t e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess) count = 0;
    if (want >= 0 && want >= count)
        inv_die("-gpu %d: %s (%d CUDA device%s found); -nogpu runs on the CPU", want,
                e != cudaSuccess ? cudaGetErrorString(e) : "no such device", count, count == 1 ? "" : "s");
    if (want == -2) {
        want = count > 0 ? 0 : -1;
        if (count == 0) inv_warn("no CUDA device (%s): running on the CPU", e != cudaSuccess ? cudaGetErrorString(e) : "none found");
    }
    inv_gpu = want;
    gpu_index = -1;   // every network is loaded on the CPU unless load_network.c says otherwise
    if (inv_gpu >= 0) {
        struct cudaDeviceProp p;
        if (cudaGetDeviceProperties(&p, inv_gpu) == cudaSuccess)
            snprintf(name, sizeof name, "GPU %d (%s)", inv_gpu, p.name);
        else
            snprintf(name, sizeof name, "GPU %d", inv_gpu);
    }
#else
    if (want >= 0) inv_die("-gpu %d: this darknet was built without GPU support (make GPU=1 CUDNN=1 builds darknet-gpu)", want);
    inv_gpu = -1;
#endif
}

const char *device_name(void) { return name; }
