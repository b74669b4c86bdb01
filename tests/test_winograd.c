// The Winograd convolution (plugin/kernels/winograd.c) against a
// double-precision definition of the convolution and of its adjoint
// (conv_reference.h), at shapes with odd planes (tiles overhanging the edge),
// single rows and pixels, channel and filter counts that differ, and several
// images; its workspace garbage-filled; and the rule for which layers take it.
#include "conv_reference.h"
#include "winograd.h"

// Winograd's transforms add up to 4x4 inputs, products and outputs before and
// after the products, so its rounding may be a few times a plain sum's.
static const conv_kernel kernel = {"winograd", forward_winograd_conv, backward_winograd_conv, winograd_work, 4};

static double worst;   // largest error seen, in units of the bound of a plain sum of products

static void check_shape(rng *r, int batch, int c, int h, int w, int n)
{
    double e = check_conv_kernel(&kernel, r, batch, c, h, w, n, 3);
    if (e > worst) worst = e;
}

int main(void)
{
    layer deep = conv_layer(8, 64, 56, 56, 64, 3, 1, 1, 1);   // resnet18's first stage
    CHECK(winograd_applies(&deep, 1), "a 64-channel 56x56 3x3 layer should run by Winograd");
    CHECK(!winograd_applies(&deep, 0), "the Winograd path cannot be turned off");
    layer other[] = {
        conv_layer(1, 3, 28, 28, 16, 3, 1, 1, 1),     // 3 channels in: few multiplications to save
        conv_layer(1, 64, 7, 7, 64, 3, 1, 1, 1),      // a 7x7 plane: tiles overhang, transforms dominate
        conv_layer(1, 64, 56, 56, 64, 3, 1, 1, 2),    // grouped
        conv_layer(1, 64, 56, 56, 64, 3, 2, 1, 1),    // strided
        conv_layer(1, 64, 56, 56, 64, 1, 1, 0, 1),    // 1x1
        conv_layer(1, 64, 56, 56, 64, 3, 1, 0, 1),    // unpadded: smaller output
        conv_layer(1, 64, 56, 56, 64, 5, 1, 2, 1),    // 5x5
    };
    for (size_t i = 0; i < sizeof other / sizeof *other; ++i)
        CHECK(!winograd_applies(&other[i], 1), "layer shape %zu should take the GEMM path", i);
    winograd_force(1);
    CHECK(winograd_applies(&other[0], 1) && winograd_applies(&other[1], 1), "forced: every 3x3 same-size layer");
    CHECK(!winograd_applies(&other[2], 1) && !winograd_applies(&other[3], 1), "forced: still not grouped or strided");
    winograd_force(0);

    rng r = make_rng(11);
    check_shape(&r, 2, 3, 6, 6, 4);      // even plane, whole tiles
    check_shape(&r, 3, 2, 5, 7, 3);      // odd plane: the last tiles overhang
    check_shape(&r, 1, 3, 1, 1, 2);      // a single pixel: only the centre tap
    check_shape(&r, 2, 4, 1, 9, 5);      // a single row
    check_shape(&r, 1, 5, 2, 3, 1);      // one filter
    check_shape(&r, 2, 17, 9, 8, 16);    // more channels than filters
    check_shape(&r, 1, 32, 12, 10, 48);  // the deep layers' kind of shape
    printf("largest error: %.2f times the bound of a plain sum of products\n", worst);
    return test_summary();
}
