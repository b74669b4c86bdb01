// Memory before work: what a run will hold at its peak, worked out from each
// network's layer shapes (parsed at batch 1, which is cheap) and the verb's
// own buffers, against what the machine can give the process. A run that
// cannot fit is refused with the figures before anything is allocated or
// written, instead of being killed by the OOM killer halfway.
//
// The figures count the memory a run touches (its resident set): Darknet
// allocates buffers that a frozen network never writes (x_norm, the weight
// updates, the outputs and deltas it moves into shared buffers), and
// untouched pages cost nothing.
#ifndef INV_MEMORY_H
#define INV_MEMORY_H
#include <stddef.h>

#include "load_network.h"
#include "icfg.h"

// One network's memory as a function of its batch.
typedef struct {
    double fixed;        // bytes independent of the batch: parameters, workspaces
    double per_image;    // bytes per image of the batch: activations, deltas
    double chunk_image;  // frozen: per-thread workspace bytes per image of a slice
    double layer_bytes;  // frozen: bytes of one slice's copy of the layers
    int frozen;
    int cfg_batch;       // the cfg's own batch (batch / subdivisions)
    int max_batches;     // its [net] max_batches
    int c, h, w, classes;
} net_memory;

// Parses cfg at batch 1 (without its weights) and returns its memory when
// frozen (LAYERS_FROZEN) or trained by Darknet (LAYERS_TRAIN). Dies on a bad
// cfg as load_checked_network does. Leaves rand() and Darknet's random state as
// they were.
net_memory network_memory(const char *cfg, layer_set use);
double net_memory_bytes(const net_memory *m, int batch);

// A run's memory: named parts, each at a fixed batch or at the [inversion]
// batch (batch 0), which the check may advise lowering.
#define MEMORY_PARTS 16
typedef struct {
    const char *what;
    net_memory m;
    int batch;
} memory_part;

typedef struct {
    memory_part part[MEMORY_PARTS];
    int n;
    double base;        // the process's resident memory when the first part was added
} memory_plan;

void memory_add(memory_plan *p, const char *what, double fixed, double per_image, int batch);
// A network (frozen or trained) at `batch` (0: the [inversion] batch, -1: the
// cfg's own); returns its shapes.
net_memory memory_add_network(memory_plan *p, const char *what, const char *cfg, layer_set use, int batch);
// make_synth's buffers for a teacher of t's shape (with the competition term's student gradient).
void memory_add_synth(memory_plan *p, const net_memory *t, const inversion_params *ip);
// A pool of `images` synthesized images (pool.c) and the batch they arrive in.
void memory_add_pool(memory_plan *p, int images, const net_memory *t);
// The images of list `key` of a classifier .data file, loaded as floats of t's input size.
void memory_add_list(memory_plan *p, const char *what, const char *data, const char *key, const net_memory *t);
// The class grid (grid.c) of `rows` classes and its PNG encoding.
void memory_add_grid(memory_plan *p, int rows, const net_memory *t);
// The whole plan at an [inversion] batch of `batch`.
double memory_plan_bytes(const memory_plan *p, int batch);

// The plans of distill (its student, teacher, synthesis, pool, -pool and
// -valid images, grid) and continual (the widened and old networks,
// synthesis, pool, new and -valid images, grid).
memory_plan plan_distill_memory(const inversion_params *p, const char *tcfg, const char *scfg, int synthesizing,
                                const char *pool_data, const char *valid_data);
memory_plan plan_continual_memory(const inversion_params *p, const char *ocfg, int k_old, const char *new_data, const char *valid_data);

// Prints "memory: about X at batch B (part X, ...; Y available)" on stderr, or
// dies naming icfg with the figures and the largest [inversion] batch that
// would fit, when the run cannot fit.
void check_memory(const memory_plan *p, const char *icfg, int batch);

// The environment variable that overrides the available memory, for --help.
#define MEMORY_HELP \
    "  INV_MEMORY_AVAILABLE=SIZE (environment) memory the run may use, e.g. 6G or 512M, instead of\n" \
    "                MemAvailable bounded by the cgroup's memory.max and RLIMIT_AS/RLIMIT_DATA; runs\n" \
    "                that would need more are refused before any work\n"

// Memory the process may use in all (its resident memory now included), and
// where the figure comes from (e.g. "MemAvailable", "cgroup memory.max").
double memory_available(const char **source);

// Pieces, exposed for the tests.
// MemAvailable from /proc/meminfo's text, in bytes; -1 if absent.
double parse_meminfo_available(const char *text);
// Room left under a cgroup v2 limit: memory.max's text ("max": none, -1),
// memory.current's, and memory.stat's (its reclaimable "inactive_file" counts as free).
double parse_cgroup_room(const char *max, const char *current, const char *stat);
// "6G", "512MiB", "1.5 GB", "1048576": bytes (binary units); -1 if malformed.
double parse_byte_size(const char *s);
// "3.1 GiB", "412 MiB", "12 KiB", "100 B".
void format_bytes(double bytes, char *buf, size_t n);
// The largest batch <= batch at which the plan fits in `available` (0: none).
int max_fitting_batch(const memory_plan *p, double available, int batch);
#endif
