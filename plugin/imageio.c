#include "imageio.h"

#include <stdlib.h>
#include <string.h>

#include <stb_image.h>
#include <stb_image_write.h>

#include "util.h"

static void write_to_file(void *ctx, void *data, int size) { fwrite(data, 1, size, (FILE *)ctx); }

static unsigned char to_byte(float v)
{
    v = v < 0 ? 0 : v > 1 ? 1 : v;
    return (unsigned char)(v * 255.f + .5f);
}

static void write_png_bytes(const char *path, const unsigned char *hwc, int c, int h, int w)
{
    atomic_file a = atomic_open(path);
    if (!stbi_write_png_to_func(write_to_file, a.f, w, h, c, hwc, w * c)) {
        atomic_abort(&a);
        inv_die("cannot encode PNG %s", path);
    }
    atomic_commit(&a);
}

void save_png(const char *path, const float *chw, int c, int h, int w)
{
    if (c != 1 && c != 3) inv_die("cannot save a %d-channel image as PNG (%s)", c, path);
    unsigned char *px = xcalloc((size_t)c * h * w, 1);
    for (int k = 0; k < c; ++k)
        for (int i = 0; i < h * w; ++i) px[i * c + k] = to_byte(chw[k * h * w + i]);
    write_png_bytes(path, px, c, h, w);
    free(px);
}

void save_class_grid(const char *path, const float *images, const int *labels, int n,
                     int classes, int cols, int c, int h, int w, int scale)
{
    const int gap = 2;
    int W = cols * (w * scale + gap) + gap, H = classes * (h * scale + gap) + gap;
    int oc = c == 1 ? 1 : 3;
    unsigned char *px = xcalloc((size_t)W * H * oc, 1);
    memset(px, 64, (size_t)W * H * oc);   // dark grey background
    int *used = xcalloc(classes, sizeof(int));
    for (int i = 0; i < n; ++i) {
        int k = labels[i];
        if (k < 0 || k >= classes || used[k] >= cols) continue;
        int x0 = gap + used[k]++ * (w * scale + gap), y0 = gap + k * (h * scale + gap);
        const float *im = images + (size_t)i * c * h * w;
        for (int y = 0; y < h * scale; ++y)
            for (int x = 0; x < w * scale; ++x)
                for (int ch = 0; ch < oc; ++ch)
                    px[((size_t)(y0 + y) * W + x0 + x) * oc + ch] = to_byte(im[(ch % c) * h * w + (y / scale) * w + x / scale]);
    }
    write_png_bytes(path, px, oc, H, W);
    free(used);
    free(px);
}

void load_png(const char *path, float *chw, int c, int h, int w)
{
    int iw, ih, ic;
    unsigned char *px = stbi_load(path, &iw, &ih, &ic, c);
    if (!px) inv_die("cannot read image %s: %s", path, stbi_failure_reason());
    if (iw != w || ih != h) inv_die("image %s is %dx%d, expected %dx%d", path, iw, ih, w, h);
    for (int k = 0; k < c; ++k)
        for (int i = 0; i < h * w; ++i) chw[k * h * w + i] = px[i * c + k] / 255.0f;
    stbi_image_free(px);
}

void save_text(const char *path, const char *text)
{
    atomic_file a = atomic_open(path);
    fputs(text, a.f);
    atomic_commit(&a);
}
