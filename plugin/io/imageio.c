#include "imageio.h"

#include <stdlib.h>
#include <string.h>

#include <stb_image.h>
#include <stb_image_write.h>

#include "util.h"

static void write_to_file(void *ctx, void *data, int size) { fwrite(data, 1, size, (FILE *)ctx); }

unsigned char pixel_to_byte(float v)
{
    v = v < 0 ? 0 : v > 1 ? 1 : v;
    return (unsigned char)(v * 255.f + .5f);
}

void save_png_bytes(const char *path, const unsigned char *hwc, int c, int h, int w)
{
    // stb computes (w*c+1)*h and the compressed size in int: stay far below.
    if (c < 1 || c > 4 || w < 1 || h < 1 || ((size_t)w * c + 1) * (size_t)h > PNG_MAX_BYTES)
        inv_die("cannot write %s: a %dx%d image with %d channels is beyond what the PNG writer handles (%u bytes)",
                path, w, h, c, PNG_MAX_BYTES);
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
        for (int i = 0; i < h * w; ++i) px[i * c + k] = pixel_to_byte(chw[k * h * w + i]);
    save_png_bytes(path, px, c, h, w);
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
