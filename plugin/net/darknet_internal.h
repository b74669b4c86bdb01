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
#ifdef GPU
// The GPU library's (built from Debian's source with -DGPU -DCUDNN).
void gradient_array_gpu(float *x, int n, ACTIVATION a, float *delta);
void gemm_gpu(int TA, int TB, int M, int N, int K, float ALPHA, float *A_gpu, int lda,
              float *B_gpu, int ldb, float BETA, float *C_gpu, int ldc);
void col2im_gpu(float *data_col, int channels, int height, int width, int ksize, int stride, int pad, float *data_im);
void push_convolutional_layer(layer l);
void push_connected_layer(layer l);
#ifdef CUDNN
cudnnHandle_t cudnn_handle(void);
#endif
#endif
#endif
