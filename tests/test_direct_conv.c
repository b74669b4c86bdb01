// The direct convolution (plugin/kernels/direct_conv.c) against a double-precision
// definition of the convolution and of its adjoint (conv_reference.h), at shapes that exercise
// the padding, planes narrower than the kernel, filter and channel counts that
// are not multiples of the kernel's block of 4, and several images; and the
// rule for which layers take the direct path. The portable kernels are
// checked on every CPU, the AVX-512 ones where the CPU has it.
#include "conv_reference.h"
#include "direct_conv.h"

static conv_kernel kernel = {"AVX-512", forward_direct_conv, backward_direct_conv, direct_conv_work, 1};

static void check_shape(rng *r, int batch, int c, int h, int w, int n, int size)
{
    layer l = conv_layer(batch, c, h, w, n, size, 1, size / 2, 1);
    CHECK(direct_conv_applies(&l, 1), "%s: c=%d %dx%d size %d: direct path not taken", kernel.name, c, h, w, size);
    if (direct_conv_applies(&l, 1)) check_conv_kernel(&kernel, r, batch, c, h, w, n, size);
}

static void check_shapes(void)
{
    rng r = make_rng(5);
    check_shape(&r, 2, 3, 28, 28, 16, 3);   // the shipped teacher's first layer
    check_shape(&r, 3, 1, 5, 11, 5, 5);     // 5x5 on a plane barely larger; 5 filters
    check_shape(&r, 2, 2, 7, 3, 6, 3);      // narrow plane
    check_shape(&r, 1, 3, 1, 1, 4, 3);      // a single pixel: only the centre tap
    check_shape(&r, 2, 1, 3, 2, 7, 5);      // kernel larger than the plane
    check_shape(&r, 1, 3, 12, 30, 2, 3);    // more positions than one run, fewer filters than a block
}

int main(void)
{
    layer first = conv_layer(8, 3, 28, 28, 16, 3, 1, 1, 1);
    CHECK(!direct_conv_applies(&first, 0), "the direct path cannot be turned off");
    layer other[] = {
        conv_layer(1, 4, 9, 9, 8, 3, 1, 1, 1),    // 36 values per output: GEMM
        conv_layer(1, 2, 9, 9, 8, 3, 1, 1, 2),    // grouped
        conv_layer(1, 3, 9, 9, 8, 3, 2, 1, 1),    // strided
        conv_layer(1, 3, 9, 9, 8, 1, 1, 0, 1),    // 1x1 (Darknet's own reading)
        conv_layer(1, 3, 9, 9, 8, 3, 1, 0, 1),    // unpadded: smaller output
        conv_layer(1, 3, 9, 9, 8, 2, 1, 1, 1),    // even size
    };
    for (size_t i = 0; i < sizeof other / sizeof *other; ++i)
        CHECK(!direct_conv_applies(&other[i], 1), "layer shape %zu should take the GEMM path", i);
    if (__builtin_cpu_supports("avx512f")) {
        check_shapes();
    } else {
        CHECK(!direct_conv_applies(&first, 1), "direct path chosen without AVX-512");
        SKIP("direct convolution forward and backward with the AVX-512 kernels: this CPU has no AVX-512");
    }
    direct_conv_force_portable(1);
    kernel.name = "portable";
    CHECK(direct_conv_applies(&first, 1), "the portable direct path cannot be forced");
    CHECK(!direct_conv_applies(&first, 0), "the forced portable direct path cannot be turned off");
    for (size_t i = 0; i < sizeof other / sizeof *other; ++i)
        CHECK(!direct_conv_applies(&other[i], 1), "portable: layer shape %zu should take the GEMM path", i);
    check_shapes();
    direct_conv_force_portable(0);
    return test_summary();
}
