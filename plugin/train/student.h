// Training a network with Darknet's own machinery on a loss the plugin owns,
// shared by the verbs that do it (distill, continual): one step with a
// per-sample delta writer, a pool of images synthesized with DeepInversion
// and written as PNGs, backups that resume exactly, and the CSV log.
#ifndef INV_STUDENT_H
#define INV_STUDENT_H
#include <stddef.h>
#include <stdint.h>

#include "darknet.h"
#include "labels.h"
#include "pool.h"
#include "rng.h"
#include "synth.h"
#include "util.h"

// Writes, for each of the batch rows, Darknet's delta (-dLoss_b/dz) for the
// logits z of the network's output softmax (batch x outputs) and returns the
// batch's loss.
typedef double (*student_delta_fn)(void *ctx, const float *logits, int batch, int outputs, float *delta);

// One step on the batch already in net->input: Darknet's forward in training
// mode, the delta from fn at the output softmax (a [cost] after it adds
// nothing), Darknet's backward and, every `subdivisions` batches,
// update_network. Returns fn's loss.
double student_train_step(network *net, student_delta_fn fn, void *ctx);

// A training image as distill and continual see it: src shifted by a random
// (dx, dy) in [-crop, crop] (zero where it uncovers the border) and, if flip,
// mirrored with probability 1/2 (shift_flip_image); draws dx, dy, then the flip.
void random_crop_flip(rng *r, const float *src, float *dst, int c, int h, int w, int crop, int flip);


// Images synthesized with DeepInversion into a pool, each also written as
// out/pool/<index>_<label>.png (targets round robin over the teacher's classes).
typedef struct {
    const char *out;
    synth *syn;
    frozen_net *teacher;        // the synthesizer's (batch = its inversion batch)
    char **labels;              // one per teacher class, for file names
    int gray;
    uint64_t seed;
    image_pool *pool;
    int nlisted;                // pool images before the synthesized ones
    int synthesized;            // synthesized batches so far
} synth_pool;

void synth_pool_batch(synth_pool *sp);
void synth_pool_write_list(const synth_pool *sp);

// out, out/backup and out/pool, each rid of what a killed run left mid-write.
void make_student_dirs(const char *out);

// The resume point: weights and momentum carry the batch number in their
// names and the state file, written last, names them, so a run killed while
// writing a backup resumes from the previous, complete one.
typedef struct { int batches, synthesized; unsigned long long rng; } student_state;
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
