# `make GPU=1 CUDNN=1`: a CUDA/cuDNN build next to the CPU one.
#   build-gpu/src/darknet/   Debian's darknet source package (the same pjreddie
#                            commit as the installed libdarknet.so), fetched
#                            with apt-get source through a source list of our
#                            own (build-gpu/apt/: the system's apt setup is
#                            neither read nor changed), patched with gpu/patches/
#   build-gpu/libdarknet.so  that source built with GPU=1 CUDNN=1
#   ./darknet-gpu            the plugin built with -DGPU -DCUDNN against it
# The default build (./darknet, build/) is untouched.
#
# CUDA_HOME     the toolkit (nvcc, cudart, cuBLAS, cuRAND; cuDNN 9 headers and
#               libraries in CUDNN_HOME, by default the same tree)
# CUDA_ARCH     real architectures to compile for, and CUDA_PTX the virtual one
#               embedded as PTX for newer GPUs; CUDA_ARCH=native compiles for
#               the GPU of the machine that builds (nvcc -arch=native).
ifeq ($(GPU),1)
ifneq ($(CUDNN),1)
$(error the GPU build needs cuDNN: make GPU=1 CUDNN=1)
endif

CUDA_HOME  ?= /usr/local/cuda
CUDNN_HOME ?= $(CUDA_HOME)
NVCC       ?= $(CUDA_HOME)/bin/nvcc
CUDA_ARCH  ?= sm_80 sm_86 sm_89 sm_90
CUDA_PTX   ?= compute_90
GPU_JOBS   ?= $(shell nproc)

ifeq ($(strip $(CUDA_ARCH)),native)
NVARCH := -arch=native
else
NVARCH := $(foreach a,$(CUDA_ARCH),-gencode arch=compute_$(a:sm_%=%),code=$(a)) \
          $(foreach a,$(CUDA_PTX),-gencode arch=$(a),code=$(a))
endif

GPU_DIR   := build-gpu
GPU_APT   := $(GPU_DIR)/apt
GPU_SRC   := $(GPU_DIR)/src/darknet
GPU_LIB   := $(GPU_DIR)/libdarknet.so
GPU_PATCHES := $(sort $(wildcard gpu/patches/*.patch))
# Debian 12's archive, as /etc/apt/sources.list.d/debian.sources names it.
GPU_DEBSRC ?= deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm main
APT_OPTS   = -o Dir::Etc::SourceList=$(CURDIR)/$(GPU_APT)/sources.list -o Dir::Etc::SourceParts=/dev/null \
             -o Dir::State::Lists=$(CURDIR)/$(GPU_APT)/lists -o Dir::Cache=$(CURDIR)/$(GPU_APT)/cache \
             -o APT::Sandbox::User=root -q

# The installed package's version: the GPU library is built from that same source.
DARKNET_VERSION ?= $(shell dpkg-query -W -f='$${source:Version}' darknet 2>/dev/null)

$(GPU_DIR)/src/.fetched:
	@command -v dpkg-source >/dev/null || { echo "the GPU build needs dpkg-source (apt-get install dpkg-dev)" >&2; exit 1; }
	rm -rf $(GPU_APT) $(GPU_DIR)/src
	mkdir -p $(GPU_APT)/lists/partial $(GPU_APT)/cache/archives/partial $(GPU_DIR)/src
	echo '$(GPU_DEBSRC)' > $(GPU_APT)/sources.list
	apt-get $(APT_OPTS) update
	cd $(GPU_DIR)/src && apt-get $(APT_OPTS) source --download-only darknet$(if $(DARKNET_VERSION),=$(DARKNET_VERSION))
	# apt-get checked the files against the signed archive index; dpkg-source
	# has no keyring for the .dsc's own signature and says so.
	cd $(GPU_DIR)/src && dpkg-source -x darknet_*.dsc darknet
	touch $@

$(GPU_DIR)/src/.patched: $(GPU_DIR)/src/.fetched $(GPU_PATCHES)
	rm -rf $(GPU_SRC).tmp && cp -a $(GPU_SRC) $(GPU_SRC).tmp
	set -e; for p in $(GPU_PATCHES); do echo "patch $$p"; patch -d $(GPU_SRC).tmp -p1 --forward --no-backup-if-mismatch < $$p; done
	rm -rf $(GPU_SRC).patched && mv $(GPU_SRC).tmp $(GPU_SRC).patched
	touch $@

# Darknet's own Makefile, with the toolchain, architectures and libraries set
# here (it hard-codes /usr/local/cuda and architectures CUDA 13 dropped; the
# driver library is not linked: no driver API is used). In parallel: make's
# own -j when given, else GPU_JOBS.
$(GPU_LIB): $(GPU_DIR)/src/.patched
	@test -x $(NVCC) || { echo "GPU build: no nvcc at $(NVCC) (set CUDA_HOME)" >&2; exit 1; }
	$(MAKE) -C $(GPU_SRC).patched $(if $(filter -j%,$(MAKEFLAGS)),,-j$(GPU_JOBS)) obj libdarknet.so GPU=1 CUDNN=1 OPENCV=0 \
	    NVCC=$(NVCC) ARCH='$(NVARCH)' \
	    COMMON='-Iinclude/ -Isrc/ -DGPU -DCUDNN -I$(CUDA_HOME)/include -I$(CUDNN_HOME)/include' \
	    LDFLAGS='-lm -pthread -L$(CUDA_HOME)/lib64 -L$(CUDNN_HOME)/lib64 -lcudart -lcublas -lcurand -lcudnn -lstdc++'
	cp $(GPU_SRC).patched/libdarknet.so $@.tmp && mv $@.tmp $@
	rm -rf $(GPU_DIR)/include && mkdir -p $(GPU_DIR)/include && cp $(GPU_SRC).patched/include/darknet.h $(GPU_DIR)/include/

gpu-lib: $(GPU_LIB)

# The plugin against the GPU library and header (the structs differ with -DGPU).
GPU_CFLAGS  = $(filter-out -I$(DARKNET_INC),$(CFLAGS)) -I$(GPU_DIR)/include -I$(CUDA_HOME)/include -I$(CUDNN_HOME)/include -DGPU -DCUDNN
GPU_LDLIBS  = -L$(GPU_DIR) -ldarknet -Wl,-rpath,'$$ORIGIN/$(GPU_DIR)' -Wl,-rpath,'$$ORIGIN' -Wl,-rpath,$(CUDA_HOME)/lib64 \
              -L$(CUDA_HOME)/lib64 -L$(CUDNN_HOME)/lib64 -lcudart -lcublas -lcudnn -lstdc++ \
              -lopenblas -lstb -lm -lpthread -ldl
GPU_NVFLAGS = -O2 -std=c++17 $(NVARCH) $(PLUGIN_DIRS:%/=-I%) -Xcompiler -fPIC,-Wall
GPU_CU      := $(wildcard plugin/*/*.cu)
GPU_OBJ     := $(OBJ:build/%=$(GPU_DIR)/obj/%) $(addprefix $(GPU_DIR)/obj/,$(notdir $(GPU_CU:.cu=.cu.o)))
GPU_LIBOBJ  := $(filter-out $(GPU_DIR)/obj/main.o,$(GPU_OBJ))

$(GPU_DIR)/obj/%.o: %.c $(HDR) $(GPU_LIB)
	@mkdir -p $(GPU_DIR)/obj
	$(CC) $(GPU_CFLAGS) -c -o $@ $<

$(GPU_DIR)/obj/%.cu.o: %.cu $(HDR)
	@mkdir -p $(GPU_DIR)/obj
	$(NVCC) $(GPU_NVFLAGS) -c -o $@ $<

darknet-gpu: $(GPU_OBJ)
	$(CC) $(GPU_CFLAGS) -o $@ $^ $(GPU_LDLIBS)

# CPU against GPU on the same inputs, used by tests/gpu/run.sh.
$(GPU_DIR)/gpu_check: tests/gpu/gpu_check.c tests/test_nets.h tests/random_bn.h tests/testlib.h $(GPU_LIBOBJ)
	$(CC) $(GPU_CFLAGS) -Itests -o $@ $< $(GPU_LIBOBJ) $(GPU_LDLIBS)

gpu: darknet-gpu $(GPU_DIR)/gpu_check

# With GPU=1 CUDNN=1, `make` builds the GPU binary too.
all: gpu

clean-gpu:
	rm -rf $(GPU_DIR)/obj $(GPU_DIR)/gpu_check darknet-gpu

.PHONY: gpu gpu-lib clean-gpu
endif

# Where a GPU is: build (for it alone) and compare GPU against CPU, then time it.
gpu-test:
	sh tests/gpu/run.sh

distclean-gpu:
	rm -rf build-gpu darknet-gpu

.PHONY: gpu-test distclean-gpu
