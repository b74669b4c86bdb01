# Darknet DeepInversion plugin: builds ./darknet against Debian's libdarknet.so.
DARKNET_INC ?= /usr/lib/darknet/include
DARKNET_LIB ?= /usr/lib/darknet
CC      ?= cc
OPT     ?= -O2 -march=x86-64-v2
CFLAGS  += $(OPT) -g -std=gnu11 -Wall -Wextra -Wno-unused-parameter -I$(DARKNET_INC) -Iplugin \
           -I/usr/include/stb -I/usr/include/x86_64-linux-gnu/openblas-pthread
LDLIBS  += -L$(DARKNET_LIB) -ldarknet -Wl,-rpath,$(DARKNET_LIB) -lopenblas -lstb -lm -lpthread

SRC     := $(wildcard plugin/*.c)
LIBSRC  := $(filter-out plugin/main.c,$(SRC))
OBJ     := $(SRC:plugin/%.c=build/%.o)
LIBOBJ  := $(LIBSRC:plugin/%.c=build/%.o)
TESTSRC := $(wildcard tests/test_*.c)
TESTBIN := $(TESTSRC:tests/%.c=build/tests/%)

all: darknet

darknet: $(OBJ)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

build/%.o: plugin/%.c $(wildcard plugin/*.h) | build
	$(CC) $(CFLAGS) -c -o $@ $<

build/tests/%: tests/%.c tests/testlib.h $(LIBOBJ) | build
	$(CC) $(CFLAGS) -Itests -o $@ $< $(LIBOBJ) $(LDLIBS)

build:
	mkdir -p build/tests

test: darknet $(TESTBIN)
	sh tests/run.sh $(TESTBIN)

clean:
	rm -rf build darknet

.PHONY: all test clean

# Fashion-MNIST as a Darknet classifier dataset (apt-get install dataset-fashion-mnist).
FMNIST_GZ ?= /usr/share/datasets/fashion-mnist
FMNIST_IDX := train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte

data/fmnist/raw/%: $(FMNIST_GZ)/%.gz
	mkdir -p data/fmnist/raw
	gunzip -c $< > $@.tmp && mv $@.tmp $@

data/fmnist/fmnist.data: darknet $(FMNIST_IDX:%=data/fmnist/raw/%)
	./darknet inversion import-fmnist data/fmnist/raw data/fmnist
