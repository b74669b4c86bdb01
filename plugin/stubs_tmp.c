int run_dream(int argc, char **argv) { return 1; }
int run_valid(int argc, char **argv) { return 1; }
int run_train(int argc, char **argv) { return 1; }
