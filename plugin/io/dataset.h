// Darknet classifier datasets held in memory: a `.data` file (classes=,
// train=, valid=, labels=) and image lists whose labels are found, as Darknet
// does, by the label string occurring in the image path.
#ifndef INV_DATASET_H
#define INV_DATASET_H
#include <stddef.h>

// Images as float CHW in [0,1], one after another; y[i] is image i's label.
typedef struct {
    int n, w, h, c;
    int classes;
    float *x;        // n * c*h*w floats
    int *y;          // n labels in 0..classes-1
} labelled_set;

// Loads every image in `list` (one path a line) at w x h: an image of another
// size is scaled to cover w x h and centre-cropped, as Darknet's single-crop
// validation does (warned once); dies naming an image it cannot read. c=3 replicates a
// grayscale image into RGB like Darknet's load_image_color; c=1 takes the
// luminance. Dies naming the path when no label or more than one matches.
// labels == NULL: unlabelled images (calibration), every y is 0.
labelled_set load_labelled_list(const char *list, char **labels, int classes, int w, int h, int c);
// The same on n paths already read from `list` (named in messages).
labelled_set load_labelled_paths(char **paths, int n, const char *list, char **labels, int classes, int w, int h, int c);
void free_labelled_set(labelled_set *s);
// The non-empty, trimmed lines of a text file (what: "image list", ... for
// messages); *n gets their count. free_lines frees them.
char **read_lines(const char *path, const char *what, int *n);
void free_lines(char **lines, int n);
static inline float *labelled_image(const labelled_set *s, int i)
{
    return s->x + (size_t)i * s->c * s->h * s->w;
}

// A classifier `.data` file, checked: classes > 0, a readable labels file
// (labels=, or names=) holding exactly `classes` labels, none of which
// contains another. train/valid are NULL when the file has no such key.
typedef struct {
    int classes;
    char **labels;
    char *train, *valid;
    char *path;      // the .data file, for messages
} classifier_data;

classifier_data read_classifier_data(const char *path);
// out_dir/labels.txt, then out_dir/<name>.data with classes=, train=
// out_dir/train.list, valid= out_dir/test.list and labels=/names=, each
// written atomically: what the importers leave beside their lists.
void write_classifier_data(const char *out_dir, const char *name, const char *const *labels, int classes);
void free_classifier_data(classifier_data *d);
// The list under `key` ("train" or "valid"), or die naming the data file.
const char *classifier_list(const classifier_data *d, const char *key);
#endif
