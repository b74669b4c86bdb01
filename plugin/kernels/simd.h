// INV_SIMD before a hot element-wise function: GCC also compiles it for
// x86-64-v3 (AVX2, FMA) and the loader picks that clone on CPUs that have it,
// while the build itself stays runnable on any x86-64-v2 machine.
#ifndef INV_SIMD_H
#define INV_SIMD_H
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define INV_SIMD __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define INV_SIMD
#endif
#endif
