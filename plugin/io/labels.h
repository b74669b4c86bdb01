// Class label strings as Darknet's classifier uses them: a path belongs to
// class k when labels[k] is a substring of it, so no label may contain another.
#ifndef INV_LABELS_H
#define INV_LABELS_H

typedef struct { int n; char **names; } label_set;

// One label per non-empty line, unchecked; dies naming the file if it is
// missing or empty.
label_set read_label_lines(const char *path);
// Dies naming `source` and both labels when one equals or contains another,
// or when one holds a '/' or a space; `hint` (or NULL) says the way out.
void check_label_set(const label_set *l, const char *source, const char *hint);
// read_label_lines, then check_label_set.
label_set read_label_set(const char *path);
// A copy of n labels (a .data file's, say).
label_set copy_label_set(char **names, int n);
// class_00, class_01, ... (zero-padded so that none contains another).
label_set default_label_set(int classes);
// Keeps the first n labels (Darknet reads only the first `classes` lines).
void truncate_label_set(label_set *l, int n);
// Each label k becomes "c<k>_<label>", k zero-padded to at least 4 digits
// (c0000_tench), spaces and '/' replaced by '_': no label then contains
// another unless a name itself holds such an id (check_label_set says so).
void add_label_ids(label_set *l);
// Dies if a label occurs in `path` (Darknet would then match every file there).
void check_labels_not_in_path(const label_set *l, const char *path);
void free_label_set(label_set *l);
#endif
