#define _GNU_SOURCE
#include "memory.h"

#include <ctype.h>
#include <dlfcn.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dataset.h"
#include "device.h"
#include "frozen.h"
#include "frozen_layers.h"
#include "grid.h"
#include "util.h"

// Darknet's parser fills every weight with rand_normal() or rand_uniform(),
// which takes seconds on the large zoo networks (7 s for resnet152). The
// estimate needs only the shapes: while it parses, these return 0 at once
// instead of calling the library's own (which the library calls through its
// PLT, as it does gemm).
static int shapes_only;

float rand_normal(void)
{
    static float (*real)(void);
    if (shapes_only) return 0;
    if (!real) real = (float (*)(void))dlsym(RTLD_NEXT, "rand_normal");
    return real();
}

float rand_uniform(float min, float max)
{
    static float (*real)(float, float);
    if (shapes_only) return 0;
    if (!real) real = (float (*)(float, float))dlsym(RTLD_NEXT, "rand_uniform");
    return real(min, max);
}

// The cfg's [net] batch / subdivisions, as Darknet's parse_net_options reads
// them, and max_batches.
static int cfg_batch(const char *cfg, int *max_batches)
{
    size_t len;
    char *text = read_whole_file(cfg, "cfg", 64, &len);
    int batch = 1, subdivisions = 1, in_net = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        char key[64];
        int k = 0;
        for (char *c = line; *c && k < 63; ++c)
            if (!isspace((unsigned char)*c)) key[k++] = *c;
        key[k] = 0;
        if (key[0] == '[') {
            in_net = !strcmp(key, "[net]") || !strcmp(key, "[network]");
            continue;
        }
        if (!in_net) continue;
        if (!strncmp(key, "batch=", 6)) batch = atoi(key + 6);
        if (!strncmp(key, "subdivisions=", 13)) subdivisions = atoi(key + 13);
        if (!strncmp(key, "max_batches=", 12)) *max_batches = atoi(key + 12);
    }
    free(text);
    if (subdivisions < 1) subdivisions = 1;
    batch /= subdivisions;
    return batch > 0 ? batch : 1;
}

// Floats of the per-channel vectors: biases and, with BN, scales, mean,
// variance and their rolling copies.
static double channel_floats(const layer *l, int n)
{
    return (double)n * (l->batch_normalize ? 6 : 1);
}

static net_memory measure_network(const char *cfg, layer_set use)
{
    net_memory m;
    memset(&m, 0, sizeof m);
    m.frozen = use == LAYERS_FROZEN;
    m.cfg_batch = cfg_batch(cfg, &m.max_batches);
    // Shapes only, and on the host: this runs in a forked child, where the
    // CUDA runtime the parent has initialised (device_select) cannot be used.
    int gpu = inv_gpu;
    inv_gpu = -1;
    shapes_only = 1;
    network *net = load_checked_network(cfg, NULL, 1, use);
    shapes_only = 0;
    inv_gpu = gpu;
    m.c = net->c, m.h = net->h, m.w = net->w;
    m.classes = net->layers[output_layer_index(net)].outputs;
    const double F = sizeof(float);
    // The network's input (and, frozen, its gradient f->input_delta).
    m.per_image = (m.frozen ? 2 : 1) * F * net->inputs;
    double cols = 0, rows = 0, workspace = 0;
    // Frozen: the outputs and deltas that take turns in shared buffers
    // (frozen_buffers.c) count once per buffer; a convolution under a fused
    // max-pool never writes its delta (frozen_run.c's fused_pool).
    char *assign = xcalloc(net->n, 1), *fused = xcalloc(net->n, 1);
    int *first_writer = xcalloc(net->n, sizeof(int));
    frozen_buffer_plan plan = {0};
    if (m.frozen) {
        plan_delta_writes(net, assign, fused, first_writer);
        plan = plan_frozen_buffers(net, output_layer_index(net), fused, first_writer);
        for (int b = 0; b < plan.n; ++b) m.per_image += F * plan.size[b];
    }
    for (int i = 0; i < net->n; ++i) {
        layer *l = &net->layers[i];
        double out = l->outputs;
        // What the layer touches per image: its output and delta (a dropout
        // shares both with the layer before; training fills its mask).
        if (l->type == DROPOUT) m.per_image += m.frozen ? 0 : F * l->inputs;
        else if (!m.frozen) m.per_image += 2 * F * out;
        else {
            int unused_delta = i + 1 < net->n && fused[i + 1];
            m.per_image += F * out * ((plan.output[i] < 0) + (plan.delta[i] < 0 && !unused_delta));
        }
        if ((l->type == CONVOLUTIONAL || l->type == CONNECTED) && l->batch_normalize)
            m.per_image += F * out * (m.frozen ? 1 : 2);   // x; x_norm only in training
        if (l->type == MAXPOOL) m.per_image += sizeof(int) * out;
        if (l->type == SOFTMAX && !m.frozen) m.per_image += F * out;   // loss
        double params = 0;
        if (l->type == CONVOLUTIONAL) params = (double)l->nweights + channel_floats(l, l->n);
        if (l->type == CONNECTED) params = (double)l->inputs * l->outputs + channel_floats(l, l->outputs);
        // Training also touches the updates (and Adam's moments).
        m.fixed += F * params * (m.frozen ? 1 : net->adam ? 4 : 2);
        if (l->type != CONVOLUTIONAL) continue;
        if (!m.frozen) {
            if (l->workspace_size > workspace) workspace = l->workspace_size;
            continue;
        }
        // The frozen convolution's per-thread workspaces (frozen_run.c), per image of a slice.
        layer one = *l;
        one.batch = 1;
        double c1 = conv_work(&one, conv_path_of(&one));
        if (c1 > cols) cols = c1;
        if (frozen_conv_rows(&one) > rows) rows = frozen_conv_rows(&one);
    }
    if (m.frozen) free_frozen_buffer_plan(&plan);
    free(assign);
    free(fused);
    free(first_writer);
    m.fixed += workspace;
    m.chunk_image = F * (cols + rows);
    m.layer_bytes = (double)net->n * sizeof(layer);
    free_network(net);
    return m;
}

// The parse runs in a child process, so that the run's own heap is as it
// would be without the estimate (freeing a network raises glibc's dynamic
// mmap threshold and leaves touched pages in the heap). A bad cfg: the child
// has printed the error.
net_memory network_memory(const char *cfg, layer_set use)
{
    int fd[2];
    fflush(stdout);
    fflush(stderr);
    pid_t pid = pipe(fd) ? -1 : fork();
    if (pid < 0) return measure_network(cfg, use);
    if (pid == 0) {
        close(fd[0]);
        net_memory m = measure_network(cfg, use);
        _exit(write(fd[1], &m, sizeof m) == (ssize_t)sizeof m ? 0 : 1);
    }
    close(fd[1]);
    net_memory m;
    size_t got = 0;
    ssize_t r;
    while (got < sizeof m && (r = read(fd[0], (char *)&m + got, sizeof m - got)) > 0) got += r;
    close(fd[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    if (got != sizeof m || !WIFEXITED(status) || WEXITSTATUS(status)) exit(1);
    return m;
}

double net_memory_bytes(const net_memory *m, int batch)
{
    double bytes = m->fixed + m->per_image * batch;
    if (m->frozen) {
        int threads = omp_get_max_threads(), nslices, chunk;
        frozen_slicing(batch, threads, &nslices, &chunk);
        // A thread without a slice never touches its workspaces.
        bytes += (nslices < threads ? nslices : threads) * m->chunk_image * chunk + nslices * m->layer_bytes;
    }
    return bytes;
}

static double self_status(const char *key);

static memory_part *add_part(memory_plan *p, const char *what, int batch)
{
    // The process as it is before the first part is planned (planning parses
    // networks, and the heap keeps some of what they freed).
    if (!p->n) p->base = self_status("VmRSS");
    if (p->n == MEMORY_PARTS) inv_die("internal: more than %d memory parts", MEMORY_PARTS);
    memory_part *q = &p->part[p->n++];
    memset(q, 0, sizeof *q);
    q->what = what;
    q->batch = batch;
    return q;
}

void memory_add(memory_plan *p, const char *what, double fixed, double per_image, int batch)
{
    memory_part *q = add_part(p, what, batch);
    q->m.fixed = fixed;
    q->m.per_image = per_image;
}

net_memory memory_add_network(memory_plan *p, const char *what, const char *cfg, layer_set use, int batch)
{
    memory_part *q = add_part(p, what, batch);
    net_memory m = network_memory(cfg, use);
    q->m = m;
    if (batch < 0) q->batch = m.cfg_batch;
    return m;
}

void memory_add_synth(memory_plan *p, const net_memory *t, const inversion_params *ip)
{
    double n = (double)t->c * t->h * t->w, np = (double)(ip->gray ? 1 : t->c) * t->h * t->w;
    // params, best, grad_params and Adam's two moments; input, grad_input (and
    // grad_student with a competing student); the logits' gradients.
    double per_image = sizeof(float) * (5 * np + (ip->compete_weight > 0 ? 3 : 2) * n + 2.0 * t->classes);
    memory_add(p, "synthesis", 0, per_image, 0);
}

void memory_add_pool(memory_plan *p, int images, const net_memory *t)
{
    // pool.c doubles its capacity from 256; each synthesized batch passes
    // through a buffer of its own.
    double cap = images > 0 ? 256 : 0, image = sizeof(float) * t->c * t->h * t->w;
    while (cap < images) cap *= 2;
    memory_add(p, "pool", cap * (image + sizeof(int)), image, 0);
}

void memory_add_list(memory_plan *p, const char *what, const char *data, const char *key, const net_memory *t)
{
    classifier_data d = read_classifier_data(data);
    const char *list = classifier_list(&d, key);
    FILE *f = fopen(list, "r");
    if (!f) inv_die("cannot open the %s list %s (from %s)", key, list, data);
    long lines = 0;
    int c, last = '\n';
    while ((c = getc(f)) != EOF) {
        if (c == '\n' && last != '\n') ++lines;
        last = c;
    }
    if (last != '\n') ++lines;
    fclose(f);
    free_classifier_data(&d);
    memory_add(p, what, (double)lines * (sizeof(float) * t->c * t->h * t->w + sizeof(int)), 0, 0);
}

void memory_add_grid(memory_plan *p, int rows, const net_memory *t)
{
    // The grid (grid.c) holds rows x GRID_COLS images; stb's PNG encoder
    // holds a filtered copy of the bounded picture and the compressed stream.
    grid_layout g = class_grid_layout(rows, GRID_COLS, t->h, t->w);
    int oc = t->c == 1 ? 1 : 3;
    memory_add(p, "grid", (double)g.width * g.height * oc * 2 + (double)rows * GRID_COLS * t->c * t->h * t->w * sizeof(float), 0, 0);
}

memory_plan plan_distill_memory(const inversion_params *p, const char *tcfg, const char *scfg, int synthesizing,
                                const char *pool_data, const char *valid_data)
{
    memory_plan mem = {0};
    net_memory sm = memory_add_network(&mem, "student", scfg, LAYERS_TRAIN, -1);
    net_memory tm = memory_add_network(&mem, "teacher", tcfg, LAYERS_FROZEN, sm.cfg_batch);
    if (synthesizing) {
        memory_add_network(&mem, "synthesis teacher", tcfg, LAYERS_FROZEN, 0);
        if (p->compete_weight > 0) memory_add_network(&mem, "competing student", scfg, LAYERS_FROZEN, 0);
        memory_add_synth(&mem, &tm, p);
    }
    // Up front, then a batch every [distill] every student batches, up to max_images.
    int pool = (p->distill_images + p->batch - 1) / p->batch * p->batch;
    if (p->distill_every > 0) {
        int rounds = sm.max_batches / p->distill_every * p->batch;
        pool += p->distill_max_images && p->distill_max_images < rounds ? p->distill_max_images : rounds;
    }
    memory_add_pool(&mem, pool, &tm);
    if (pool_data) memory_add_list(&mem, "-pool images", pool_data, "train", &tm);
    if (valid_data) memory_add_list(&mem, "-valid images", valid_data, "valid", &tm);
    memory_add_grid(&mem, tm.classes < GRID_ROWS ? tm.classes : GRID_ROWS, &tm);
    return mem;
}

memory_plan plan_continual_memory(const inversion_params *p, const char *ocfg, int k_old, const char *new_data, const char *valid_data)
{
    memory_plan mem = {0};
    // The widened network is the old one with a few more rows in its head.
    net_memory om = memory_add_network(&mem, "network", ocfg, LAYERS_TRAIN, -1);
    memory_add_network(&mem, "old network", ocfg, LAYERS_FROZEN, om.cfg_batch);
    int pool = 0;
    if (p->continual_images > 0) {
        memory_add_network(&mem, "synthesis", ocfg, LAYERS_FROZEN, 0);
        memory_add_synth(&mem, &om, p);
        pool = (p->continual_images + p->batch - 1) / p->batch * p->batch;
    }
    memory_add_pool(&mem, pool, &om);
    memory_add_list(&mem, "new images", new_data, "train", &om);
    if (valid_data) memory_add_list(&mem, "-valid images", valid_data, "valid", &om);
    memory_add_grid(&mem, k_old < GRID_ROWS ? k_old : GRID_ROWS, &om);
    return mem;
}

double memory_plan_bytes(const memory_plan *p, int batch)
{
    double bytes = p->base;
    for (int i = 0; i < p->n; ++i) bytes += net_memory_bytes(&p->part[i].m, p->part[i].batch ? p->part[i].batch : batch);
    return bytes;
}

int max_fitting_batch(const memory_plan *p, double available, int batch)
{
    if (memory_plan_bytes(p, 1) > available) return 0;
    int lo = 1, hi = batch;   // fits at lo
    while (lo < hi) {
        int mid = lo + (hi - lo + 1) / 2;
        if (memory_plan_bytes(p, mid) <= available) lo = mid;
        else hi = mid - 1;
    }
    return lo;
}

void format_bytes(double bytes, char *buf, size_t n)
{
    static const char *unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    while (bytes >= 1024 * 0.95 && u < 4) bytes /= 1024, ++u;
    if (u == 0) snprintf(buf, n, "%.0f B", bytes);
    else snprintf(buf, n, bytes < 10 ? "%.1f %s" : "%.0f %s", bytes, unit[u]);
}

double parse_byte_size(const char *s)
{
    char *end;
    while (isspace((unsigned char)*s)) ++s;
    if (!isdigit((unsigned char)*s) && *s != '.') return -1;
    double v = strtod(s, &end);
    while (isspace((unsigned char)*end)) ++end;
    const char *units = "KMGT";
    const char *u = *end ? strchr(units, toupper((unsigned char)*end)) : NULL;
    if (*end && u) {
        v *= pow(1024, (double)(u - units) + 1);
        ++end;
        if (*end == 'i' || *end == 'I') ++end;
    }
    if (*end == 'B' || *end == 'b') ++end;
    while (isspace((unsigned char)*end)) ++end;
    return *end || !isfinite(v) ? -1 : v;
}

// The value of "key <number>" lines (meminfo's "MemAvailable:  123 kB",
// memory.stat's "inactive_file 123"); -1 if absent.
static double find_value(const char *text, const char *key)
{
    size_t k = strlen(key);
    for (const char *line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
        if (!strncmp(line, key, k) && (line[k] == ' ' || line[k] == ':' || line[k] == '\t')) {
            const char *v = line + k + (line[k] == ':');
            char *end;
            double x = strtod(v, &end);
            return end == v ? -1 : x;
        }
    return -1;
}

double parse_meminfo_available(const char *text)
{
    double kb = find_value(text, "MemAvailable");
    return kb < 0 ? -1 : kb * 1024;
}

double parse_cgroup_room(const char *max, const char *current, const char *stat)
{
    while (isspace((unsigned char)*max)) ++max;
    if (!isdigit((unsigned char)*max)) return -1;   // "max": no limit
    double limit = strtod(max, NULL), used = strtod(current, NULL);
    double reclaimable = stat ? find_value(stat, "inactive_file") : -1;
    if (reclaimable > 0) used -= reclaimable;
    return limit > used ? limit - used : 0;
}

static char *read_small(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) return NULL;
    size_t cap = 1 << 16;
    char *s = xcalloc(cap + 1, 1);
    size_t n = fread(s, 1, cap, f);
    s[n] = 0;
    fclose(f);
    return s;
}

// The process's resident memory, or (key "VmSize", "VmData") other sizes of /proc/self/status.
static double self_status(const char *key)
{
    char *s = read_small("/proc/self/status");
    double kb = s ? find_value(s, key) : -1;
    free(s);
    return kb < 0 ? 0 : kb * 1024;
}

// The tightest room under the memory.max of the process's cgroup and its ancestors.
static double cgroup_room(void)
{
    char *self = read_small("/proc/self/cgroup");
    if (!self) return -1;
    char *path = strstr(self, "0::");
    double room = -1;
    if (path) {
        path += 3;
        path[strcspn(path, "\n")] = 0;
        for (;;) {
            char f[4096];
            snprintf(f, sizeof f, "/sys/fs/cgroup%s/memory.max", path);
            char *max = read_small(f);
            snprintf(f, sizeof f, "/sys/fs/cgroup%s/memory.current", path);
            char *cur = read_small(f);
            snprintf(f, sizeof f, "/sys/fs/cgroup%s/memory.stat", path);
            char *stat = read_small(f);
            if (max && cur) {
                double r = parse_cgroup_room(max, cur, stat);
                if (r >= 0 && (room < 0 || r < room)) room = r;
            }
            free(max); free(cur); free(stat);
            char *slash = strrchr(path, '/');
            if (!slash || slash == path) break;
            *slash = 0;
        }
    }
    free(self);
    return room;
}

double memory_available(const char **source)
{
    const char *env = getenv("INV_MEMORY_AVAILABLE");
    if (env && *env) {
        double v = parse_byte_size(env);
        if (v < 0) inv_die("INV_MEMORY_AVAILABLE=%s: not a size (bytes, or a number with K, M, G or T)", env);
        *source = "INV_MEMORY_AVAILABLE";
        return v;
    }
    double rss = self_status("VmRSS");
    char *meminfo = read_small("/proc/meminfo");
    double avail = meminfo ? parse_meminfo_available(meminfo) : -1;
    free(meminfo);
    *source = "MemAvailable";
    if (avail < 0) avail = INFINITY, *source = "no limit known";
    avail += rss;
    double cg = cgroup_room();
    if (cg >= 0 && cg + rss < avail) avail = cg + rss, *source = "cgroup memory.max";
    // Address-space limits count allocations, not touched pages: a bound only.
    struct rlimit rl;
    if (!getrlimit(RLIMIT_AS, &rl) && rl.rlim_cur != RLIM_INFINITY) {
        double room = (double)rl.rlim_cur - self_status("VmSize") + rss;
        if (room < avail) avail = room, *source = "RLIMIT_AS";
    }
    if (!getrlimit(RLIMIT_DATA, &rl) && rl.rlim_cur != RLIM_INFINITY) {
        double room = (double)rl.rlim_cur - self_status("VmData") + rss;
        if (room < avail) avail = room, *source = "RLIMIT_DATA";
    }
    return avail > 0 ? avail : 0;
}

void check_memory(const memory_plan *plan, const char *icfg, int batch)
{
    memory_plan p = *plan;
    const char *source;
    double avail = memory_available(&source), need = memory_plan_bytes(&p, batch);
    char a[32], b[32], parts[1024] = "";
    size_t len = 0;
    for (int i = 0; i < p.n; ++i) {
        memory_part *q = &p.part[i];
        format_bytes(net_memory_bytes(&q->m, q->batch ? q->batch : batch), a, sizeof a);
        len += snprintf(parts + len, sizeof parts - len, "%s%s %s", i ? ", " : "", q->what, a);
        if (len >= sizeof parts) break;
    }
    format_bytes(need, a, sizeof a);
    format_bytes(avail, b, sizeof b);
    if (need <= avail) {
        fprintf(stderr, "memory: about %s at batch %d (%s; %s available)\n", a, batch, parts, b);
        return;
    }
    int fits = max_fitting_batch(&p, avail, batch);
    if (fits > 0)
        inv_die("%s: at batch %d this run needs about %s but %s is available (%s; %s); [inversion] batch=%d at most would fit",
                icfg, batch, a, b, parts, source, fits);
    inv_die("%s: at batch %d this run needs about %s but %s is available (%s; %s); no [inversion] batch fits",
            icfg, batch, a, b, parts, source);
}
