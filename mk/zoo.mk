# Helper programs the shell tests run (not tests themselves: run.sh picks up
# only build/tests/test_*). random_weights: stand-in weights for any cfg.
# Linked with the plugin's objects: the library's gemm calls reach OpenBLAS.
build/helpers/random_weights: tests/random_weights.c tests/bn_calibrate.h $(LIBOBJ)
	mkdir -p build/helpers
	$(CC) $(CFLAGS) -Itests -o $@ $< $(LIBOBJ) $(LDLIBS)

test: build/helpers/random_weights

# Test headers beyond testlib.h that the test rule does not list.
build/tests/test_gradients build/tests/test_zoo_gradients: tests/fdcheck.h tests/test_nets.h tests/bn_calibrate.h
