// The inversion cfg: Darknet's cfg syntax ([section], key=value, # comments),
// parsed strictly against a schema. Unknown sections or keys, malformed or
// out-of-range values and duplicates are errors naming file, line, section, key.
#ifndef INV_ICFG_H
#define INV_ICFG_H
#include <stdio.h>

// One field per key, named section_key ([class] weight: class_weight), but
// for [inversion]'s own keys, which are named as the key alone.
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
    float class_weight;     // cross-entropy to the targets
    // [bn_stat]
    float bn_stat_weight;   // R_feature weight
    float bn_stat_first_multiplier;
    // [prior]
    float prior_tv_l1, prior_tv_l2, prior_l2;
    // [adam]
    float adam_lr, adam_beta1, adam_beta2, adam_eps;
    int adam_warmup;
    char adam_policy[16];   // "cosine" or "constant"
    // [augment]
    int augment_jitter, augment_flip;
    // [multires]
    int multires_iterations, multires_factor;
    // [compete]
    float compete_weight, compete_temperature;
    // [distill]
    float distill_temperature;
    int distill_images, distill_every, distill_max_images;
    int distill_crop, distill_flip, distill_backup_every, distill_valid_every;
    // [continual]
    float continual_syn_weight, continual_ce_weight, continual_kd_weight, continual_temperature, continual_synthetic;
    int continual_images, continual_crop, continual_flip, continual_backup_every, continual_valid_every;
    // [generator]
    char generator_cfg[512];    // the generator's Darknet cfg ("": none, pixel-by-pixel DeepInversion)
    int generator_steps;        // inner Adam steps of a round
    float generator_lr, generator_latent_lr, generator_meta_lr, generator_beta1, generator_beta2;
    float generator_bn_momentum;    // rate of the running average R_feature matches (bn_stat.h's bn_momentum)
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
