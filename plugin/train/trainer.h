// The training loop of every verb that trains a network with Darknet's own
// machinery on a loss the plugin owns (distill, continual): images
// synthesized up front, then steps with progress and ETA, a CSV row a step,
// evaluation and backups at their cadences, synthesis during training, an
// exact resume from out/backup, and the final files, each written atomically.
// A verb supplies how a batch is filled, its delta and its CSV row (ops).
//
//   trainer t = {...};                       the settings below
//   load the network from trainer_weights(&t, weights), set t.net
//   trainer_start(&t);                       the resume point restored, if any
//   trainer_run(&t);                         up-front synthesis, the loop, the files
//   free_trainer(&t);
#ifndef INV_TRAINER_H
#define INV_TRAINER_H
#include <stddef.h>
#include <stdint.h>

#include "backup.h"
#include "darknet.h"
#include "rng.h"
#include "student.h"
#include "synth_pool.h"
#include "util.h"

typedef struct {
    // Fills net->input with one batch, drawing from r, and computes what
    // delta needs of it (the teacher's logits).
    void (*fill)(void *ctx, rng *r, network *net);
    student_delta_fn delta;
    // The CSV row of batch b, ending in '\n'. validate: the trainer's
    // valid_every has come (or b is the last batch): evaluate too.
    void (*row)(void *ctx, network *net, int b, double loss, int validate, char *line, size_t n);
    // The progress line between "<verb> batch b/max  " and "  ETA ...":
    // the loss, its running average avg, the learning rate, ...
    void (*progress)(void *ctx, network *net, double loss, double avg, char *line, size_t n);
} trainer_ops;

typedef struct {
    // Settings.
    const char *verb;           // starts the progress lines
    const char *out;            // output folder (make_student_dirs)
    const char *csv_name;       // out/<csv_name>: the header, then a row a batch
    const char *csv_header;
    const char *chart_loss;     // out/chart.png: this CSV column against the batch, with top1 (NULL: no chart)
    const char *weights_name;   // out/<weights_name>: the trained network
    const trainer_ops *ops;
    void *ctx;                  // the verb's, passed to ops
    network *net;               // the network trained (max_batches: the end)
    uint64_t seed;              // of the trainer's random state
    synth_pool *sp;             // the pool's synthesized images (sp->syn NULL: none)
    int upfront;                // batches synthesized before training
    const char *synth_line;     // printf format of their progress: batch, batches, pool images
    int synth_every;            // during training: a batch every synth_every batches (0: none)
    int synth_max;              // ... while fewer synthesized images (0: no limit)
    int pool_required;          // dies when the pool is empty after synthesis
    int backup_every;           // batches between backups
    int valid_every;            // batches between evaluations (0: none)
    int grid_classes;           // out/grid.png of the synthesized images: their classes (0: no grid)
    const int *grid_list;       // the classes shown (opt_grid_classes; NULL: the first 10 present)
    int grid_n;
    int grid_empty;             // write grid.png even when nothing was synthesized
    // State.
    rng r;                      // the ops' random state (saved in backups)
    text_log csv;
    int resuming;
    student_state resume;       // the resume point when resuming
    int last_backup;            // batch of the backup on disk (-1: none)
    char resume_weights[4096];
} trainer;

// Reads out/backup/state: the backup's weights when there is one (resuming),
// else `weights`. Call before loading the network.
const char *trainer_weights(trainer *t, const char *weights);
// With t->net loaded and the output folders made: the random state, the CSV
// header and, when resuming, the rest of the resume point (momentum, the
// synthesized pool, the random state, the CSV rows so far). Returns resuming.
int trainer_start(trainer *t);
// Synthesizes the up-front batches (each a resume point), trains to
// max_batches, then writes pool.list, the CSV, grid.png and the weights.
void trainer_run(trainer *t);
void free_trainer(trainer *t);

#endif
