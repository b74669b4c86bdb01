// Output files: PNG images (stb), lists, .data files. Each is
// written to a temporary name and renamed, so a file is complete or absent.
#ifndef INV_IMAGEIO_H
#define INV_IMAGEIO_H

// chw: [c][h][w] floats in [0,1]; c is 1 (gray PNG) or 3 (RGB PNG).
void save_png(const char *path, const float *chw, int c, int h, int w);

// Rows of h x w pixels of c bytes (1 to 4 channels) as a PNG. Dies, writing
// nothing, when the image exceeds PNG_MAX_BYTES of filtered data.
#define PNG_MAX_BYTES (1u << 28)
void save_png_bytes(const char *path, const unsigned char *hwc, int c, int h, int w);
// A pixel value in [0,1] (clipped) as a byte.
unsigned char pixel_to_byte(float v);

// Reads a PNG written by save_png back into chw ([c][h][w], c = 1 or 3, gray
// replicated); dies naming the file if it is missing or of another size.
void load_png(const char *path, float *chw, int c, int h, int w);

// Writes `text` to path atomically.
void save_text(const char *path, const char *text);
#endif
