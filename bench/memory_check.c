// The memory estimate against the real peak: plans a dream's networks and
// synthesis (memory.c), then loads, freezes and runs one DeepInversion
// iteration at that batch and prints the process's peak resident set.
//   memory_check <teacher.cfg> <teacher.weights> <batch>   (built and run by bench/memory_table.sh)
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "load_network.h"
#include "frozen.h"
#include "icfg.h"
#include "memory.h"
#include "synth.h"
#include "util.h"

static double status_kb(const char *key)
{
    char line[256];
    double v = -1;
    FILE *f = fopen("/proc/self/status", "r");
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, key, strlen(key))) v = atof(line + strlen(key) + 1);
    if (f) fclose(f);
    return v;
}

int main(int argc, char **argv)
{
    if (argc != 4) { fprintf(stderr, "usage: %s <cfg> <weights> <batch>\n", argv[0]); return 2; }
    inversion_params p = default_inversion_params();
    p.batch = atoi(argv[3]);
    p.iterations = 1;
    p.bn_stat_weight = 0.01f;
    memory_plan mem = {0};
    double t0 = now_seconds();
    net_memory tm = memory_add_network(&mem, "teacher", argv[1], LAYERS_FROZEN, 0);
    memory_add_synth(&mem, &tm, &p);
    double t1 = now_seconds();
    check_memory(&mem, "memory_check", p.batch);
    network *net = load_checked_network(argv[1], argv[2], p.batch, LAYERS_FROZEN);
    frozen_net *f = make_frozen_net(net, argv[1]);
    synth *s = make_synth(f, NULL, &p);
    int *targets = xcalloc(p.batch, sizeof(int));
    float *images = xcalloc((size_t)p.batch * f->inputs, sizeof(float));
    synth_batch(s, targets, 1, 0, images, NULL, NULL);
    printf("estimate %.0f MiB (in %.2f s); peak resident %.0f MiB\n", memory_plan_bytes(&mem, p.batch) / (1 << 20), t1 - t0,
           status_kb("VmHWM") / 1024);
    return 0;
}
