// The class grid (grid.png): one row per shown class, up to `cols` images of
// that class per row. It holds only the images it shows, so a run over many
// images keeps a few of them, and it stays a bounded size whatever the input:
// at most GRID_MAX_ROWS rows and GRID_MAX_SIDE pixels each way.
#ifndef INV_GRID_H
#define INV_GRID_H
#include <stddef.h>

#define GRID_ROWS 10          // classes shown when none are asked for
#define GRID_COLS 10          // images per class
#define GRID_MAX_ROWS 100     // classes a -grid-classes list may name
#define GRID_MAX_SIDE 1536    // pixels each way: at most ~7 MiB even for RGB noise
#define GRID_GAP 2            // pixels between cells and around them

typedef struct {
    int rows, cols, c, h, w, classes;
    int *row_class;     // class shown in each row
    int *row_of;        // row of each class, -1 when not shown
    int *count;         // images held per row
    float *images;      // rows x cols x [c][h][w]
} class_grid;

// Cell and image size: images of h x w pixels are shown twice their size
// when that fits (as small Fashion-MNIST images always were), else at their
// size, else shrunk by area averaging to the largest cell that fits.
typedef struct { int cell_w, cell_h, width, height; } grid_layout;
grid_layout class_grid_layout(int rows, int cols, int h, int w);

// A -grid-classes value: class numbers and ranges, "0,5,17" or "0-9,20".
// Dies naming `flag` on a malformed list, a duplicate, or more than
// GRID_MAX_ROWS classes; *list is malloc'd. Range checks need the class
// count: class_grid_check_list.
int parse_grid_classes(const char *spec, const char *flag, int **list);
// The verbs' -grid-classes option, parsed (0 and *list NULL when absent).
int opt_grid_classes(int argc, char **argv, int **list);
void class_grid_check_list(const int *list, int n, int classes, const char *flag, const char *net);

// Rows: the classes of `list` in its order (nlist > 0), else the first
// GRID_ROWS classes, in class order, among labels[0..n).
class_grid make_class_grid(const int *list, int nlist, const int *labels, int n, int classes,
                           int cols, int c, int h, int w);
// Whether the next image of class `label` would be shown (its row has room).
int class_grid_wants(const class_grid *g, int label);
// Copies chw ([c][h][w]) into the grid when class_grid_wants.
void class_grid_add(class_grid *g, int label, const float *chw);
// Writes the grid as a PNG (gray for c = 1, else RGB), atomically.
void save_class_grid(const char *path, const class_grid *g);
void free_class_grid(class_grid *g);

// All in one for callers that hold the images: n x [c][h][w] with labels.
void save_class_grid_of(const char *path, const float *images, const int *labels, int n, int classes,
                        const int *list, int nlist, int c, int h, int w);
#endif
