// A small seeded generator (splitmix64), so that runs are reproducible
// whatever else calls rand().
#ifndef INV_RNG_H
#define INV_RNG_H
#include <stdint.h>

typedef struct { uint64_t s; } rng;

rng make_rng(uint64_t seed);
uint64_t rng_next(rng *r);
double rng_uniform(rng *r);          // [0, 1)
int rng_int(rng *r, int lo, int hi); // [lo, hi]
double rng_normal(rng *r);           // N(0, 1)
#endif
