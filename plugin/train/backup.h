// The resume point of a training run: weights and momentum carry the batch
// number in their names and the state file, written last, names them, so a
// run killed while writing a backup resumes from the previous, complete one.
#ifndef INV_BACKUP_H
#define INV_BACKUP_H
#include <stddef.h>

#include "darknet.h"
#include "rng.h"
#include "synth_pool.h"
#include "util.h"

typedef struct { int batches, synthesized; unsigned long long rng; } student_state;

// out, out/backup and out/pool, each rid of what a killed run left mid-write.
void make_student_dirs(const char *out);
// out/backup/<what's stem>-<batches><what's extension>, e.g. student-0000200.weights.
void student_backup_path(char *buf, size_t n, const char *out, const char *what, int batches);
// Writes backup/<weights>, backup/<momentum>, the pool list (sp may be NULL),
// the CSV as out/<csv_name>, then backup/state; removes the files of the
// backup at batch `previous` (< 0: none).
void student_save_backup(network *net, const char *out, const synth_pool *sp, const text_log *csv, const char *csv_name,
                         const student_state *st, int previous);
// Reads out/backup/state; 0 when there is none. Dies if it is damaged.
int student_read_backup(const char *out, student_state *st);
// The rest of the resume point st (the weights are loaded with the network):
// momentum, the synthesized pool, the random state and the CSV rows so far.
void student_restore_backup(network *net, const char *out, synth_pool *sp, text_log *csv, const char *csv_name,
                            const student_state *st, rng *r);
#endif
