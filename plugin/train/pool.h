// The pool of images a student is distilled on: images in memory, each with
// a class, quantised exactly as its PNG on disk is, so that a run resumed from
// the PNGs continues with the very same pixels.
#ifndef INV_POOL_H
#define INV_POOL_H
#include <stddef.h>

typedef struct {
    int n, cap, c, h, w;
    float *x;       // n x [c][h][w]
    int *y;         // class of each image
} image_pool;

image_pool make_pool(int c, int h, int w);
// Appends an image, rounded to 8-bit levels like save_png.
void pool_add(image_pool *p, const float *image, int y);
static inline float *pool_image(const image_pool *p, int i) { return p->x + (size_t)i * p->c * p->h * p->w; }
void free_pool(image_pool *p);
#endif
