#include "icfg.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

typedef enum { KEY_INT, KEY_FLOAT, KEY_STR } key_type;

typedef struct {
    const char *section, *key;
    key_type type;
    size_t offset, size;
    const char *def;
    double min, max;
    const char *doc;
} key_spec;

#define P(field) offsetof(inversion_params, field), sizeof(((inversion_params *)0)->field)
static const key_spec keys[] = {
    {"inversion", "batch", KEY_INT, P(batch), "64", 1, 65536, "images optimised together; BN statistics are taken over the batch"},
    {"inversion", "iterations", KEY_INT, P(iterations), "2000", 1, 1e7, "optimisation steps per batch at full resolution"},
    {"inversion", "images", KEY_INT, P(images), "0", 0, 1e9, "images a dream run writes (0: one batch; -n overrides)"},
    {"inversion", "targets", KEY_STR, P(targets), "all", 0, 0, "target classes: all (round robin), random, or a list such as 0,3,5"},
    {"inversion", "gray", KEY_INT, P(gray), "0", 0, 1, "1: optimise one channel and copy it to every input channel"},
    {"inversion", "keep_best", KEY_INT, P(keep_best), "1", 0, 1, "1: return the iterate with the lowest total loss, 0: the last"},
    {"inversion", "init_mean", KEY_FLOAT, P(init_mean), "0.5", 0, 1, "mean of the Gaussian the pixels start from"},
    {"inversion", "init_std", KEY_FLOAT, P(init_std), "0.2", 0, 10, "standard deviation of the starting pixels"},
    {"inversion", "log_every", KEY_INT, P(log_every), "50", 1, 1e7, "iterations between progress lines"},
    {"class", "weight", KEY_FLOAT, P(class_weight), "1", 0, 1e6, "weight of the cross-entropy to the target classes"},
    {"bn_stat", "weight", KEY_FLOAT, P(bn_stat_weight), "10", 0, 1e6, "weight a_f of R_feature (BN mean/variance matching); 0 gives DeepDream"},
    {"bn_stat", "first_multiplier", KEY_FLOAT, P(bn_stat_first_multiplier), "10", 0, 1e6, "extra factor on the first BN layer's term"},
    {"prior", "tv_l1", KEY_FLOAT, P(prior_tv_l1), "0", 0, 1e6, "weight of total variation, mean absolute differences (4 directions)"},
    {"prior", "tv_l2", KEY_FLOAT, P(prior_tv_l2), "0.0001", 0, 1e6, "weight of total variation, L2 norms of the differences (4 directions)"},
    {"prior", "l2", KEY_FLOAT, P(prior_l2), "0", 0, 1e6, "weight of the per-image L2 norm (batch mean)"},
    {"adam", "lr", KEY_FLOAT, P(adam_lr), "0.1", 0, 1e3, "peak learning rate on the pixels"},
    {"adam", "beta1", KEY_FLOAT, P(adam_beta1), "0.9", 0, 0.999999, "Adam first-moment decay"},
    {"adam", "beta2", KEY_FLOAT, P(adam_beta2), "0.999", 0, 0.9999999, "Adam second-moment decay"},
    {"adam", "eps", KEY_FLOAT, P(adam_eps), "1e-8", 1e-12, 1, "Adam epsilon"},
    {"adam", "warmup", KEY_INT, P(adam_warmup), "100", 0, 1e7, "linear warm-up iterations of the learning rate (each stage)"},
    {"adam", "policy", KEY_STR, P(adam_policy), "cosine", 0, 0, "learning-rate schedule after warm-up: cosine or constant"},
    {"augment", "jitter", KEY_INT, P(augment_jitter), "2", 0, 4096, "random roll of the image by up to this many pixels each way"},
    {"augment", "flip", KEY_INT, P(augment_flip), "1", 0, 1, "1: random horizontal flip of the batch each iteration"},
    {"multires", "iterations", KEY_INT, P(multires_iterations), "0", 0, 1e7, "iterations of a low-resolution stage before full resolution (0: none)"},
    {"multires", "factor", KEY_INT, P(multires_factor), "2", 1, 64, "the low-resolution stage optimises (w/factor) x (h/factor) pixels"},
    {"compete", "weight", KEY_FLOAT, P(compete_weight), "0", 0, 1e6, "Adaptive DeepInversion: weight of 1 - JS(teacher, student) (needs a student: distill)"},
    {"compete", "temperature", KEY_FLOAT, P(compete_temperature), "3", 0.01, 1e3, "softmax temperature of the competition term"},
    {"distill", "temperature", KEY_FLOAT, P(distill_temperature), "4", 0.01, 1e3, "distill: softmax temperature of the KD loss t^2 KL(teacher || student)"},
    {"distill", "images", KEY_INT, P(distill_images), "0", 0, 1e9, "distill: images synthesized before training starts (rounded up to batches)"},
    {"distill", "every", KEY_INT, P(distill_every), "0", 0, 1e9, "distill: student batches between newly synthesized batches (0: none)"},
    {"distill", "max_images", KEY_INT, P(distill_max_images), "0", 0, 1e9, "distill: stop synthesizing once the pool holds this many (0: no limit)"},
    {"distill", "crop", KEY_INT, P(distill_crop), "2", 0, 1024, "distill: random crop of pool images after zero padding by this many pixels"},
    {"distill", "flip", KEY_INT, P(distill_flip), "1", 0, 1, "distill: random horizontal flip of pool images"},
    {"distill", "backup_every", KEY_INT, P(distill_backup_every), "200", 1, 1e9, "distill: student batches between backups (resume point)"},
    {"distill", "valid_every", KEY_INT, P(distill_valid_every), "500", 1, 1e9, "distill: student batches between evaluations on -valid data"},
    {"continual", "syn_weight", KEY_FLOAT, P(continual_syn_weight), "1", 0, 1e6, "continual: weight of t^2 KL(p_old || p_new) on synthesized images of the old classes"},
    {"continual", "ce_weight", KEY_FLOAT, P(continual_ce_weight), "1", 0, 1e6, "continual: weight of the cross-entropy on the new data"},
    {"continual", "kd_weight", KEY_FLOAT, P(continual_kd_weight), "1", 0, 1e6, "continual: weight of t^2 KL(p_old || p_new over the old classes) on the new data"},
    {"continual", "temperature", KEY_FLOAT, P(continual_temperature), "2", 0.01, 1e3, "continual: softmax temperature t of both KL terms"},
    {"continual", "synthetic", KEY_FLOAT, P(continual_synthetic), "0.5", 0, 0.99, "continual: fraction of each batch drawn from the synthesized images (the rest: new data)"},
    {"continual", "images", KEY_INT, P(continual_images), "0", 0, 1e9, "continual: images of the old classes synthesized before training (rounded up to batches)"},
    {"continual", "crop", KEY_INT, P(continual_crop), "2", 0, 1024, "continual: random crop of every training image after zero padding by this many pixels"},
    {"continual", "flip", KEY_INT, P(continual_flip), "1", 0, 1, "continual: random horizontal flip of every training image"},
    {"continual", "backup_every", KEY_INT, P(continual_backup_every), "200", 1, 1e9, "continual: batches between backups (resume point)"},
    {"continual", "valid_every", KEY_INT, P(continual_valid_every), "500", 1, 1e9, "continual: batches between evaluations on -valid data"},
    {"generator", "cfg", KEY_STR, P(generator_cfg), "", 0, 0, "fast mode (distill, dream -generator): a generator network's Darknet cfg (input: latent + one-hot target), path from the working directory"},
    {"generator", "steps", KEY_INT, P(generator_steps), "5", 1, 1000, "distill: Adam steps of the generator's copy and the latents per synthesized batch"},
    {"generator", "lr", KEY_FLOAT, P(generator_lr), "0.005", 0, 1e3, "distill: learning rate of those steps on the generator's copy"},
    {"generator", "latent_lr", KEY_FLOAT, P(generator_latent_lr), "0.05", 0, 1e3, "distill: learning rate of those steps on the latent vectors"},
    {"generator", "meta_lr", KEY_FLOAT, P(generator_meta_lr), "0.005", 0, 1e3, "distill: learning rate of the meta step (the summed gradients) on the generator"},
    {"generator", "beta1", KEY_FLOAT, P(generator_beta1), "0.5", 0, 0.999999, "distill: Adam first-moment decay of the generator and latents"},
    {"generator", "beta2", KEY_FLOAT, P(generator_beta2), "0.999", 0, 0.9999999, "distill: Adam second-moment decay of the generator and latents"},
    {"generator", "bn_momentum", KEY_FLOAT, P(generator_bn_momentum), "0", 0, 0.999, "distill: rate a of m, the running average over rounds of the teacher's BN batch statistics: R_feature matches (1 - a) batch + a m to the running statistics (Fang et al.'s BN momentum); 0: the batch's own; CPU only"},
};
#undef P
#define NKEYS (sizeof keys / sizeof *keys)

static int set_value(const key_spec *k, const char *value, inversion_params *p, char *why, size_t n)
{
    char *dst = (char *)p + k->offset;
    char *end;
    if (k->type == KEY_STR) {
        if (strlen(value) >= k->size) { snprintf(why, n, "value longer than %zu characters", k->size - 1); return -1; }
        strcpy(dst, value);
        return 0;
    }
    errno = 0;
    double v = k->type == KEY_INT ? (double)strtol(value, &end, 10) : strtod(value, &end);
    if (*value == 0 || *end || errno) { snprintf(why, n, "'%s' is not %s", value, k->type == KEY_INT ? "an integer" : "a number"); return -1; }
    if (!(v >= k->min && v <= k->max)) { snprintf(why, n, "%s is outside [%g, %g]", value, k->min, k->max); return -1; }
    if (k->type == KEY_INT) *(int *)dst = (int)v;
    else *(float *)dst = (float)v;
    return 0;
}

inversion_params default_inversion_params(void)
{
    inversion_params p;
    memset(&p, 0, sizeof p);
    char why[128];
    for (size_t i = 0; i < NKEYS; ++i)
        if (set_value(&keys[i], keys[i].def, &p, why, sizeof why)) abort();   // schema bug
    return p;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s)) ++s;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1])) *--e = 0;
    return s;
}

static int known_section(const char *s)
{
    for (size_t i = 0; i < NKEYS; ++i) if (!strcmp(keys[i].section, s)) return 1;
    return 0;
}

static int validate(const inversion_params *p, char *why, size_t n)
{
    if (strcmp(p->adam_policy, "cosine") && strcmp(p->adam_policy, "constant")) {
        snprintf(why, n, "[adam] policy: '%s' is not cosine or constant", p->adam_policy);
        return -1;
    }
    if (strcmp(p->targets, "all") && strcmp(p->targets, "random")) {
        const char *s = p->targets;
        if (!*s) { snprintf(why, n, "[inversion] targets: empty list"); return -1; }
        while (*s) {
            char *end;
            long v = strtol(s, &end, 10);
            if (end == s || v < 0 || (*end && *end != ',')) {
                snprintf(why, n, "[inversion] targets: '%s' is not all, random or a list of class numbers", p->targets);
                return -1;
            }
            s = *end ? end + 1 : end;
        }
    }
    return 0;
}

int parse_inversion_cfg_text(const char *text, const char *name, inversion_params *out, char *err, size_t errlen)
{
    inversion_params p = default_inversion_params();
    char seen[NKEYS];
    memset(seen, 0, sizeof seen);
    char section[64] = "";
    char sections_seen[16][64];
    int nsections = 0, lineno = 0;
    char why[512];
    const char *s = text;
    while (*s) {
        const char *nl = strchr(s, '\n');
        size_t len = nl ? (size_t)(nl - s) : strlen(s);
        char line[1024];
        ++lineno;
        if (len >= sizeof line) { snprintf(err, errlen, "%s:%d: line too long", name, lineno); return -1; }
        memcpy(line, s, len);
        line[len] = 0;
        s += len + (nl ? 1 : 0);
        char *t = trim(line);
        if (*t == 0 || *t == '#' || *t == ';') continue;
        if (*t == '[') {
            char *close = strchr(t, ']');
            if (!close || trim(close + 1)[0]) { snprintf(err, errlen, "%s:%d: malformed section header '%s'", name, lineno, t); return -1; }
            *close = 0;
            char *sec = trim(t + 1);
            if (!known_section(sec)) { snprintf(err, errlen, "%s:%d: unknown section [%s]", name, lineno, sec); return -1; }
            for (int i = 0; i < nsections; ++i)
                if (!strcmp(sections_seen[i], sec)) { snprintf(err, errlen, "%s:%d: section [%s] appears twice", name, lineno, sec); return -1; }
            snprintf(section, sizeof section, "%s", sec);
            if (nsections < 16) snprintf(sections_seen[nsections++], 64, "%s", sec);
            continue;
        }
        char *eq = strchr(t, '=');
        if (!eq) { snprintf(err, errlen, "%s:%d: expected key=value, found '%s'", name, lineno, t); return -1; }
        *eq = 0;
        char *key = trim(t), *value = trim(eq + 1);
        if (!section[0]) { snprintf(err, errlen, "%s:%d: key '%s' before any [section]", name, lineno, key); return -1; }
        size_t i;
        for (i = 0; i < NKEYS; ++i) if (!strcmp(keys[i].section, section) && !strcmp(keys[i].key, key)) break;
        if (i == NKEYS) { snprintf(err, errlen, "%s:%d: [%s] unknown key '%s'", name, lineno, section, key); return -1; }
        if (seen[i]) { snprintf(err, errlen, "%s:%d: [%s] %s is set twice", name, lineno, section, key); return -1; }
        seen[i] = 1;
        if (set_value(&keys[i], value, &p, why, sizeof why)) { snprintf(err, errlen, "%s:%d: [%s] %s: %s", name, lineno, section, key, why); return -1; }
    }
    if (validate(&p, why, sizeof why)) { snprintf(err, errlen, "%s: %s", name, why); return -1; }
    *out = p;
    return 0;
}

inversion_params read_inversion_cfg(const char *path)
{
    size_t n;
    char *text = read_whole_file(path, "inversion cfg", 16, &n);
    if (strlen(text) != n) inv_die("%s: NUL byte in cfg (not a text file?)", path);
    inversion_params p;
    char err[512];
    if (parse_inversion_cfg_text(text, path, &p, err, sizeof err)) inv_die("%s", err);
    free(text);
    return p;
}

void print_inversion_cfg_keys(FILE *f)
{
    const char *last = "";
    for (size_t i = 0; i < NKEYS; ++i) {
        if (strcmp(last, keys[i].section)) fprintf(f, "[%s]\n", keys[i].section);
        last = keys[i].section;
        fprintf(f, "  %-18s %-8s %s\n", keys[i].key, keys[i].def[0] ? keys[i].def : "none", keys[i].doc);
    }
}
