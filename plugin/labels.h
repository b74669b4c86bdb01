// Class label strings as Darknet's classifier uses them: a path belongs to
// class k when labels[k] is a substring of it, so no label may contain another.
#ifndef INV_LABELS_H
#define INV_LABELS_H

typedef struct { int n; char **names; } label_set;

// One label per non-empty line; dies naming the file on an empty file,
// duplicates or labels that contain one another.
label_set read_label_set(const char *path);
// class_00, class_01, ... (zero-padded so that none contains another).
label_set default_label_set(int classes);
// Dies if a label occurs in `path` (Darknet would then match every file there).
void check_labels_not_in_path(const label_set *l, const char *path);
void free_label_set(label_set *l);
#endif
