#include "shard.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define MAX_SHARDS 1000000

// A whole non-negative decimal number, or -1.
static long parse_count(const char *s)
{
    if (!s || *s < '0' || *s > '9') return -1;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    return *end || errno || v > MAX_SHARDS ? -1 : v;
}

static long env_count(const char *name)
{
    const char *s = getenv(name);
    if (!s) return -2;
    long v = parse_count(s);
    if (v < 0) inv_die("%s=%s: expected a whole number", name, s);
    return v;
}

shard_spec opt_shard(int argc, char **argv)
{
    shard_spec s = {0, 0};
    const char *spec = opt_str(argc, argv, "-shard", NULL), *count = opt_str(argc, argv, "-shards", NULL);
    if (spec && count) inv_die("give -shard I/N or -shards N, not both");
    if (spec) {
        const char *slash = strchr(spec, '/');
        char idx[32];
        if (!slash || slash - spec >= (long)sizeof idx) inv_die("-shard %s: expected I/N, e.g. 0/4 (shard 0 of 4)", spec);
        memcpy(idx, spec, slash - spec);
        idx[slash - spec] = 0;
        long i = parse_count(idx), n = parse_count(slash + 1);
        if (i < 0 || n < 1) inv_die("-shard %s: expected I/N, e.g. 0/4 (shard 0 of 4)", spec);
        if (i >= n) inv_die("-shard %s: shards are numbered 0 to %ld", spec, n - 1);
        s.index = (int)i, s.count = (int)n;
        return s;
    }
    if (!count) return s;
    long n = parse_count(count);
    if (n < 1) inv_die("-shards %s: expected the number of shards (1 to %d)", count, MAX_SHARDS);
    long id = env_count("SLURM_ARRAY_TASK_ID"), i;
    if (id >= 0) {
        long min = env_count("SLURM_ARRAY_TASK_MIN"), tasks = env_count("SLURM_ARRAY_TASK_COUNT");
        if (tasks >= 0 && tasks != n)
            inv_die("-shards %ld, but the job array has %ld tasks (SLURM_ARRAY_TASK_COUNT); submit it with --array=0-%ld", n, tasks, n - 1);
        i = id - (min >= 0 ? min : 0);
        if (i < 0 || i >= n)
            inv_die("SLURM_ARRAY_TASK_ID=%ld (SLURM_ARRAY_TASK_MIN=%ld) is not shard 0 to %ld of -shards %ld; submit the array as --array=0-%ld",
                    id, min >= 0 ? min : 0, n - 1, n, n - 1);
    } else if ((i = env_count("JOB_COMPLETION_INDEX")) >= 0) {
        if (i >= n) inv_die("JOB_COMPLETION_INDEX=%ld is not shard 0 to %ld of -shards %ld; set the job's completions to %ld", i, n - 1, n, n);
    } else {
        inv_die("-shards %ld needs the shard's index: give -shard I/%ld, or run in a Slurm job array (SLURM_ARRAY_TASK_ID) "
                "or a Kubernetes indexed job (JOB_COMPLETION_INDEX)", n, n);
    }
    s.index = (int)i, s.count = (int)n;
    return s;
}

void shard_batches(shard_spec s, int nbatches, int *first, int *end)
{
    *first = (int)((long long)nbatches * s.index / s.count);
    *end = (int)((long long)nbatches * (s.index + 1) / s.count);
}

void write_shard_manifest(const char *dir, const shard_manifest *m)
{
    char path[4096], grid[GRID_MAX_ROWS * 12 + 16] = "";
    size_t len = 0;
    for (int i = 0; i < m->grid_n; ++i) len += snprintf(grid + len, sizeof grid - len, "%s%d", i ? "," : "", m->grid_list[i]);
    int first, end;
    shard_batches(m->shard, m->nbatches, &first, &end);
    snprintf(path, sizeof path, "%s/" SHARD_MANIFEST, dir);
    atomic_file a = atomic_open(path);
    fprintf(a.f, "# a shard of a darknet inversion dream run (its batches FIRST to END-1); merge joins the shards\n"
                 "shard=%d/%d\nbatches=%d-%d\nrun=%016llx\nseed=%u\nimages=%d\nbatch=%d\nnbatches=%d\n"
                 "classes=%d\nimage=%dx%dx%d\ngrid_classes=%s\nlabels=%016llx\n"
                 "inversion_cfg=%016llx %s\ncfg=%016llx %s\nweights=%016llx %s\nthreads=%d\ncpu=%s\ndevice=%s\n",
            m->shard.index, m->shard.count, first, end, (unsigned long long)m->run, m->seed, m->images, m->batch, m->nbatches,
            m->classes, m->c, m->h, m->w, grid, (unsigned long long)m->labels_hash,
            (unsigned long long)m->icfg_hash, m->icfg, (unsigned long long)m->cfg_hash, m->cfg,
            (unsigned long long)m->weights_hash, m->weights, m->threads, m->cpu, m->device);
    atomic_commit(&a);
}

// "HEX PATH" into a hash and a path.
static int parse_hash_path(const char *v, uint64_t *h, char *path)
{
    char *end;
    errno = 0;
    unsigned long long x = strtoull(v, &end, 16);
    if (end == v || *end != ' ' || errno || strlen(end + 1) >= SHARD_PATH_MAX) return 0;
    *h = x;
    strcpy(path, end + 1);
    return 1;
}

static int parse_int_field(const char *v, int *out)
{
    long x = parse_count(v);
    if (x < 0 || x > 0x7fffffff) return 0;
    *out = (int)x;
    return 1;
}

int read_shard_manifest(const char *dir, shard_manifest *m)
{
    char path[4096], line[4096 + 64];
    snprintf(path, sizeof path, "%s/" SHARD_MANIFEST, dir);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    memset(m, 0, sizeof *m);
    const char *keys[] = {"shard", "batches", "run", "seed", "images", "batch", "nbatches", "classes", "image",
                          "grid_classes", "labels", "inversion_cfg", "cfg", "weights", "threads", "cpu", "device"};
    enum { NKEYS = sizeof keys / sizeof *keys };
    int seen[NKEYS] = {0}, lineno = 0, range_first = 0, range_end = 0;
    while (fgets(line, sizeof line, f)) {
        ++lineno;
        size_t len = strlen(line);
        if (!len || line[len - 1] != '\n') inv_die("%s:%d: line too long or unterminated; the shard is damaged, run it again", path, lineno);
        line[--len] = 0;
        if (line[0] == '#') continue;
        char *v = strchr(line, '=');
        if (!v) inv_die("%s:%d: expected key=value", path, lineno);
        *v++ = 0;
        int k = 0;
        while (k < NKEYS && strcmp(keys[k], line)) ++k;
        if (k == NKEYS) inv_die("%s:%d: unknown key '%s'", path, lineno, line);
        if (seen[k]++) inv_die("%s:%d: '%s' given twice", path, lineno, line);
        int ok = 1;
        unsigned long long x;
        int a = 0, b = 0;
        char extra;
        char *end;
        switch (k) {
        case 0: ok = sscanf(v, "%d/%d%c", &a, &b, &extra) == 2 && a >= 0 && b > 0 && a < b;
                m->shard.index = a, m->shard.count = b; break;
        case 1: ok = sscanf(v, "%d-%d%c", &a, &b, &extra) == 2; break;   // checked against shard_batches below
        case 2: case 10:
            errno = 0;
            x = strtoull(v, &end, 16);
            ok = end != v && !*end && !errno;
            if (k == 2) m->run = x; else m->labels_hash = x;
            break;
        case 3:
            errno = 0;
            x = strtoull(v, &end, 10);
            ok = end != v && !*end && !errno && x <= 0xffffffffULL;
            m->seed = (unsigned)x;
            break;
        case 4: ok = parse_int_field(v, &m->images) && m->images > 0; break;
        case 5: ok = parse_int_field(v, &m->batch) && m->batch > 0; break;
        case 6: ok = parse_int_field(v, &m->nbatches); break;
        case 7: ok = parse_int_field(v, &m->classes) && m->classes > 0; break;
        case 8: ok = sscanf(v, "%dx%dx%d%c", &m->c, &m->h, &m->w, &extra) == 3 && (m->c == 1 || m->c == 3) && m->h > 0 && m->w > 0; break;
        case 9:
            if (*v) {
                int *list;
                m->grid_n = parse_grid_classes(v, path, &list);
                memcpy(m->grid_list, list, m->grid_n * sizeof(int));
                free(list);
            }
            break;
        case 11: ok = parse_hash_path(v, &m->icfg_hash, m->icfg); break;
        case 12: ok = parse_hash_path(v, &m->cfg_hash, m->cfg); break;
        case 13: ok = parse_hash_path(v, &m->weights_hash, m->weights); break;
        case 14: ok = parse_int_field(v, &m->threads) && m->threads > 0; break;
        case 15: ok = *v && strlen(v) < sizeof m->cpu; if (ok) strcpy(m->cpu, v); break;
        case 16: ok = *v && strlen(v) < sizeof m->device; if (ok) strcpy(m->device, v); break;
        }
        if (!ok) inv_die("%s:%d: malformed %s=%s", path, lineno, keys[k], v);
        if (k == 1) range_first = a, range_end = b;
    }
    fclose(f);
    for (int k = 0; k < NKEYS; ++k)
        if (!seen[k]) inv_die("%s: no %s= line; the shard is damaged, run it again", path, keys[k]);
    if (m->nbatches != (m->images + m->batch - 1) / m->batch)
        inv_die("%s: nbatches=%d does not fit images=%d in batches of %d", path, m->nbatches, m->images, m->batch);
    int first, end;
    shard_batches(m->shard, m->nbatches, &first, &end);
    if (range_first != first || range_end != end)
        inv_die("%s: batches=%d-%d, but shard %d/%d of %d batches makes %d-%d", path, range_first, range_end,
                m->shard.index, m->shard.count, m->nbatches, first, end);
    return 1;
}
