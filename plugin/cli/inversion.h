// `darknet inversion <verb>`: dispatch and the verbs' entry points.
#ifndef INV_INVERSION_H
#define INV_INVERSION_H
int run_inversion(int argc, char **argv);
// Re-executes with a faster OpenBLAS kernel when detection fell back (blas_kernel.c).
void select_blas_kernel(char **argv);

// Each verb gets the full argv (argv[2] is the verb) and returns the exit code.
int run_dream(int argc, char **argv);
int run_merge(int argc, char **argv);
int run_distill(int argc, char **argv);
int run_continual(int argc, char **argv);
int run_prune(int argc, char **argv);
int run_valid(int argc, char **argv);
int run_calibrate(int argc, char **argv);
int run_train(int argc, char **argv);
int run_import_fmnist(int argc, char **argv);
int run_import_cifar10(int argc, char **argv);
int run_import_folder(int argc, char **argv);
// True when --help or -h is among the verb's arguments.
int wants_help(int argc, char **argv);
#endif
