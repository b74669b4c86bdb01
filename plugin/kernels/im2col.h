// im2col/col2im with a row stride: the columns of image b of a batch go to
// col + b*out_h*out_w with rows ld = batch*out_h*out_w apart.
#ifndef INV_IM2COL_H
#define INV_IM2COL_H
void im2col_ld(const float *im, int channels, int height, int width, int ksize, int stride, int pad, float *col, int ld);
// Adds the columns back into the image (col2im_cpu's accumulation). May zero
// the entries of col that correspond to padding.
void col2im_ld(float *col, int channels, int height, int width, int ksize, int stride, int pad, float *im, int ld);
// The same, overwriting im instead of adding to it.
void col2im_ld_set(float *col, int channels, int height, int width, int ksize, int stride, int pad, float *im, int ld);
// Whether every pixel of im receives a column (the output has the input's size, stride 1).
int col2im_covers(int height, int width, int ksize, int stride, int pad);
// Same-size planes of up to 1024 pixels move in AVX-512 masked vectors where
// the CPU has them (-1: decide at first use, 0: never; tests compare both).
extern int im2col_masked;
#endif
