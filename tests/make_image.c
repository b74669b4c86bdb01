// Small images with pseudo-random pixels for the shell tests, PNG or JPEG by
// the file's extension (either case):
//   make_image <w> <h> <channels> <seed> <file>...
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <string.h>

#include <stb_image_write.h>

int main(int argc, char **argv)
{
    if (argc < 6) { fprintf(stderr, "usage: %s <w> <h> <channels> <seed> <file>...\n", argv[0]); return 2; }
    int w = atoi(argv[1]), h = atoi(argv[2]), c = atoi(argv[3]);
    unsigned s = (unsigned)atoi(argv[4]) * 2654435761u + 1;
    unsigned char *pix = malloc((size_t)w * h * c);
    for (int f = 5; f < argc; ++f) {
        for (int i = 0; i < w * h * c; ++i) pix[i] = (s = s * 1103515245u + 12345u) >> 23;
        const char *dot = strrchr(argv[f], '.');
        int ok = dot && !strcasecmp(dot, ".png") ? stbi_write_png(argv[f], w, h, c, pix, w * c)
                                                 : stbi_write_jpg(argv[f], w, h, c, pix, 90);
        if (!ok) { fprintf(stderr, "cannot write %s\n", argv[f]); return 1; }
    }
    free(pix);
    return 0;
}
