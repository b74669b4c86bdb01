// Functions libdarknet.so exports but darknet.h does not declare (checked
// with nm -D against Debian's build). Declared here so the compiler checks calls.
#ifndef INV_DARKNET_INTERNAL_H
#define INV_DARKNET_INTERNAL_H
#include "darknet.h"

void gemm(int TA, int TB, int M, int N, int K, float ALPHA, float *A, int lda,
          float *B, int ldb, float BETA, float *C, int ldc);
void im2col_cpu(float *data_im, int channels, int height, int width, int ksize, int stride, int pad, float *data_col);
void col2im_cpu(float *data_col, int channels, int height, int width, int ksize, int stride, int pad, float *data_im);
void gradient_array(const float *x, const int n, const ACTIVATION a, float *delta);
void activate_array(float *x, const int n, const ACTIVATION a);
float activate(float x, ACTIVATION a);
float gradient(float x, ACTIVATION a);
void shortcut_cpu(int batch, int w1, int h1, int c1, float *add, int w2, int h2, int c2, float s1, float s2, float *out);
#endif
