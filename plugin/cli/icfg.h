// The inversion cfg: Darknet's cfg syntax ([section], key=value, # comments),
// parsed strictly against a schema. Unknown sections or keys, malformed or
// out-of-range values and duplicates are errors naming file, line, section, key.
#ifndef INV_ICFG_H
#define INV_ICFG_H
#include <stdio.h>

typedef struct {
    // [inversion]
    int batch;              // images optimised together (BN statistics are per batch)
    int iterations;         // full-resolution iterations per batch
    int images;             // images a dream run writes (-n overrides)
    char targets[256];      // "all" (round robin), "random", or a list "0,3,5"
    int gray;               // optimise one channel and copy it to all input channels
    int keep_best;          // keep the iterate with the lowest loss, not the last
    float init_mean, init_std;
    int log_every;
    // [class]
    float ce;               // cross-entropy to the targets
    // [bn_stat]
    float bn;               // R_feature weight
    float first_bn_multiplier;
    // [prior]
    float tv_l1, tv_l2, l2;
    // [adam]
    float lr, beta1, beta2, eps;
    int warmup;
    char policy[16];        // "cosine" or "constant"
    // [augment]
    int jitter, flip;
    // [multires]
    int lowres_iterations, lowres_factor;
    // [compete]
    float compete, compete_temperature;
    // [distill]
    float kd_temperature;
    int distill_images, distill_every, distill_max_images;
    int distill_crop, distill_flip, distill_backup_every, distill_valid_every;
    // [continual]
    float cl_syn, cl_ce, cl_kd, cl_temperature, cl_synthetic;
    int cl_images, cl_crop, cl_flip, cl_backup_every, cl_valid_every;
    // [generator]
    char gen_cfg[512];      // the generator's Darknet cfg ("": none, pixel-by-pixel DeepInversion)
    int gen_steps;          // inner Adam steps of a round
    float gen_lr, gen_latent_lr, gen_meta_lr, gen_beta1, gen_beta2;
} inversion_params;

// Defaults for every key (what an empty cfg gives).
inversion_params default_inversion_params(void);
// Parse `path`; dies with a precise message on any error.
inversion_params read_inversion_cfg(const char *path);
// Parse from a string (tests, fuzzing): returns 0 on success, else writes the
// error message to err and returns -1. `name` is used in messages.
int parse_inversion_cfg_text(const char *text, const char *name, inversion_params *out, char *err, size_t errlen);
// Every section and key with its default and meaning (for --help and the README).
void print_inversion_cfg_keys(FILE *f);
#endif
