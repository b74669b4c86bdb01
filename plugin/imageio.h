// Output files: PNG images (stb), contact sheets, lists, .data files. Each is
// written to a temporary name and renamed, so a file is complete or absent.
#ifndef INV_IMAGEIO_H
#define INV_IMAGEIO_H

// chw: [c][h][w] floats in [0,1]; c is 1 (gray PNG) or 3 (RGB PNG).
void save_png(const char *path, const float *chw, int c, int h, int w);

// A grid with one row per class: row k shows up to `cols` of the images whose
// label is k, each scaled up `scale` times, separated by 2 px. images: n x [c][h][w].
void save_class_grid(const char *path, const float *images, const int *labels, int n,
                     int classes, int cols, int c, int h, int w, int scale);

// Reads a PNG written by save_png back into chw ([c][h][w], c = 1 or 3, gray
// replicated); dies naming the file if it is missing or of another size.
void load_png(const char *path, float *chw, int c, int h, int w);

// Writes `text` to path atomically.
void save_text(const char *path, const char *text);
#endif
