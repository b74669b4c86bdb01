// OpenBLAS 0.3.21 (Debian 12) does not recognise recent Intel CPUs and falls
// back to its generic SSE3 "Prescott" sgemm, about 2x slower here than the
// AVX-512/AVX2 kernels those CPUs run. The kernel is chosen when the library
// loads, so the only way to pick a better one is OPENBLAS_CORETYPE in the
// environment before start-up: when the user has not set it and detection
// fell back, re-execute once with the best kernel the CPU supports.
#include <cblas.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "inversion.h"

void select_blas_kernel(char **argv)
{
    if (getenv("OPENBLAS_CORETYPE")) return;
    const char *core = openblas_get_corename();
    if (!core || strcasecmp(core, "prescott")) return;
    const char *better = __builtin_cpu_supports("avx512f") ? "SkylakeX" : __builtin_cpu_supports("avx2") ? "Haswell" : NULL;
    if (!better) return;
    setenv("OPENBLAS_CORETYPE", better, 1);
    execv("/proc/self/exe", argv);   // on failure, carry on with the generic kernel
}
