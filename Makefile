# Darknet DeepInversion plugin: builds ./darknet against Debian's libdarknet.so.
DARKNET_INC ?= /usr/lib/darknet/include
DARKNET_LIB ?= /usr/lib/darknet
CC      ?= cc
OPT     ?= -O3 -march=x86-64-v2 -fno-trapping-math
# plugin/<part>/: cli (verbs), net (loading, the frozen network), loss, synth,
# train, io, kernels (SIMD and CUDA), util. Headers are included by name.
PLUGIN_DIRS := $(sort $(dir $(wildcard plugin/*/*.c plugin/*/*.h)))
CFLAGS  += $(OPT) -fopenmp -g -std=gnu11 -Wall -Wextra -Wno-unused-parameter -Werror=implicit-function-declaration -Wno-format-truncation -I$(DARKNET_INC) \
           $(PLUGIN_DIRS:%/=-I%) -I/usr/include/stb -I/usr/include/x86_64-linux-gnu/openblas-pthread
LDLIBS  += -L$(DARKNET_LIB) -ldarknet -Wl,-rpath,$(DARKNET_LIB) -lopenblas -lstb -lm -lpthread -ldl

SRC     := $(wildcard plugin/*/*.c)
HDR     := $(wildcard plugin/*/*.h)
LIBSRC  := $(filter-out plugin/cli/main.c,$(SRC))
# Objects are named by file alone (build/frozen.o): every source name is unique.
OBJ     := $(addprefix build/,$(notdir $(SRC:.c=.o)))
LIBOBJ  := $(addprefix build/,$(notdir $(LIBSRC:.c=.o)))
vpath %.c $(PLUGIN_DIRS)
vpath %.cu $(PLUGIN_DIRS)
TESTSRC := $(wildcard tests/test_*.c)
TESTBIN := $(TESTSRC:tests/%.c=build/tests/%)

all: darknet

darknet: $(OBJ)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

build/%.o: %.c $(HDR) | build
	$(CC) $(CFLAGS) -c -o $@ $<

build/tests/%: tests/%.c $(wildcard tests/*.h) $(LIBOBJ) | build
	$(CC) $(CFLAGS) -Itests -o $@ $< $(LIBOBJ) $(LDLIBS)

build:
	mkdir -p build/tests

# The main job: DeepInversion images from the shipped Fashion-MNIST teacher.
dream: darknet
	./darknet inversion dream cfg/fmnist-inversion.cfg cfg/fmnist-teacher.cfg weights/fmnist-teacher.weights \
	    -labels cfg/fmnist.labels -out out/dream

# Packages a fresh Debian 12 machine needs (run as root).
deps:
	apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$(cat deps.txt)

test: darknet $(TESTBIN)
	sh tests/run.sh $(TESTBIN)

clean:
	rm -rf build darknet

.PHONY: all test clean dream deps

# Fashion-MNIST as a Darknet classifier dataset (apt-get install dataset-fashion-mnist).
FMNIST_GZ ?= /usr/share/datasets/fashion-mnist
FMNIST_IDX := train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte

data/fmnist/raw/%: $(FMNIST_GZ)/%.gz
	mkdir -p data/fmnist/raw
	gunzip -c $< > $@.tmp && mv $@.tmp $@

# The import depends on the raw files only: rebuilding ./darknet must not
# rewrite a dataset that runs may be reading.
data/fmnist/fmnist.data: $(FMNIST_IDX:%=data/fmnist/raw/%) | darknet
	./darknet inversion import-fmnist data/fmnist/raw data/fmnist

# Classifiers trained on Fashion-MNIST with a fixed seed (one core each, shared: teacher
# ~10 min, resnet ~30 min, student ~5 min).
# On CPUs OpenBLAS 0.3.21 does not recognise (it falls back to its SSE3 kernels),
# TRAIN_ENV='OPENBLAS_CORETYPE=SkylakeX' (or Haswell) is noticeably faster.
FMNIST_DATA := data/fmnist/fmnist.data
TRAIN_ENV ?=
TRAIN_FLAGS ?= -seed 1 -valid

teacher: darknet $(FMNIST_DATA)
	$(TRAIN_ENV) ./darknet inversion train $(FMNIST_DATA) cfg/fmnist-teacher.cfg -out weights/fmnist-teacher.weights -pad 0 $(TRAIN_FLAGS)

resnet: darknet $(FMNIST_DATA)
	$(TRAIN_ENV) ./darknet inversion train $(FMNIST_DATA) cfg/fmnist-resnet.cfg -out weights/fmnist-resnet.weights -pad 1 $(TRAIN_FLAGS)

# The student trained on real data: the baseline for distillation.
student-real: darknet $(FMNIST_DATA)
	$(TRAIN_ENV) ./darknet inversion train $(FMNIST_DATA) cfg/fmnist-student.cfg -out weights/fmnist-student-real.weights -pad 0 $(TRAIN_FLAGS)

.PHONY: teacher resnet student-real

# CIFAR-10 (bring your own copy: the image tree as a folder or .tar.gz, or the
# binary version's folder or archive) imported once into data/cifar10.
CIFAR10 ?=
CIFAR10_DATA := data/cifar10/cifar10.data

$(CIFAR10_DATA): | darknet
	@test -n "$(CIFAR10)" || { echo "CIFAR-10 not imported yet: make $(MAKECMDGOALS) CIFAR10=<cifar10 folder, .tar.gz, or cifar-10-batches-bin>"; exit 2; }
	if [ -e "$(CIFAR10)/data_batch_1.bin" ] || [ -e "$(CIFAR10)/cifar-10-batches-bin/data_batch_1.bin" ] || case "$(CIFAR10)" in *binary*) true;; *) false;; esac; then \
	  ./darknet inversion import-cifar10 "$(CIFAR10)" data/cifar10; \
	else \
	  ./darknet inversion import-folder "$(CIFAR10)" data/cifar10 -name cifar10; \
	fi

# Each CIFAR-10 run draws out/cifar10-<name>-chart.png (loss, and top-1 on the test
# images every 1500 batches).
CIFAR_CHART = -valid-every 1500 -chart out/cifar10-$(@:cifar-%=%)-chart.png

# The CIFAR-10 teacher: about 75 minutes on two quiet cores.
cifar-teacher: darknet $(CIFAR10_DATA)
	mkdir -p out
	$(TRAIN_ENV) ./darknet inversion train $(CIFAR10_DATA) cfg/cifar10-teacher.cfg -out weights/cifar10-teacher.weights -pad 4 $(TRAIN_FLAGS) $(CIFAR_CHART)

# The real-data baseline of the CIFAR-10 student, and a second network of another
# architecture that judges dreamed images (bench/cifar10_table.sh).
cifar-student-real: darknet $(CIFAR10_DATA)
	mkdir -p out
	$(TRAIN_ENV) ./darknet inversion train $(CIFAR10_DATA) cfg/cifar10-student.cfg -out weights/cifar10-student-real.weights -pad 4 $(TRAIN_FLAGS) $(CIFAR_CHART)

cifar-vgg: darknet $(CIFAR10_DATA)
	mkdir -p out
	$(TRAIN_ENV) ./darknet inversion train $(CIFAR10_DATA) cfg/cifar10-vgg.cfg -out weights/cifar10-vgg.weights -pad 4 $(TRAIN_FLAGS) $(CIFAR_CHART)

.PHONY: cifar-teacher cifar-student-real cifar-vgg

# Extra targets (sanitizers, fuzzing, benchmarks), one file each.
include $(wildcard mk/*.mk)
