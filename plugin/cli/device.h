// Where the frozen networks (the teacher, and the student the competition term
// plays against) run: `-gpu N` or `-nogpu`, as with Darknet's own programs.
// In a build without -DGPU everything runs on the CPU and `-gpu` is refused;
// darknet-gpu uses GPU 0 unless told otherwise. Networks that are trained
// (train, distill's student) and evaluated (valid) stay on the CPU.
#ifndef INV_DEVICE_H
#define INV_DEVICE_H

// The GPU frozen networks are loaded on, or -1 for the CPU.
extern int inv_gpu;

// Reads and removes -gpu N / -nogpu from argv (from index `first` on), sets
// inv_gpu; dies on a GPU that is not there or a build without GPU support.
void device_select(int *argc, char **argv, int first);

// "CPU" or "GPU n (name)", for progress lines.
const char *device_name(void);
#endif
