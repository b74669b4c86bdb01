#include "pool.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

image_pool make_pool(int c, int h, int w)
{
    image_pool p = {0, 0, c, h, w, NULL, NULL};
    return p;
}

void pool_add(image_pool *p, const float *image, int y)
{
    size_t size = (size_t)p->c * p->h * p->w;
    if (p->n == p->cap) {
        p->cap = p->cap ? 2 * p->cap : 256;
        p->x = realloc(p->x, (size_t)p->cap * size * sizeof(float));
        p->y = realloc(p->y, (size_t)p->cap * sizeof(int));
        if (!p->x || !p->y) inv_die("out of memory growing the image pool to %d images", p->cap);
    }
    float *dst = p->x + (size_t)p->n * size;
    for (size_t i = 0; i < size; ++i) {
        float v = image[i] < 0 ? 0 : image[i] > 1 ? 1 : image[i];
        dst[i] = (float)(int)(v * 255.f + .5f) / 255.f;
    }
    p->y[p->n++] = y;
}

void free_pool(image_pool *p)
{
    free(p->x);
    free(p->y);
    p->x = NULL;
    p->y = NULL;
    p->n = p->cap = 0;
}
