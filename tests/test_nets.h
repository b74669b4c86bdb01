// Small networks that together use every layer type and activation the frozen
// backward supports, and trained-looking BN statistics for them (shared by
// test_gradients.c and the GPU check).
#ifndef INV_TEST_NETS_H
#define INV_TEST_NETS_H
#include "darknet.h"
#include "random_bn.h"

// conv (BN, no BN, 1x1, 3x3, stride 2), maxpool, avgpool, softmax + cost.
static const char *net_conv =
    "[net]\nwidth=8\nheight=8\nchannels=3\n"
    "[convolutional]\nbatch_normalize=1\nfilters=4\nsize=3\nstride=1\npad=1\nactivation=leaky\n"
    "[convolutional]\nfilters=6\nsize=1\nstride=1\npad=1\nactivation=logistic\n"
    "[maxpool]\nsize=2\nstride=2\n"
    "[convolutional]\nbatch_normalize=1\nfilters=5\nsize=3\nstride=2\npad=1\nactivation=tanh\n"
    "[avgpool]\n[softmax]\n[cost]\ntype=sse\n";

// 1x1 conv whose input delta also receives a shortcut and a route, dropout,
// connected layers with and without BN. Smooth activations only, so that the
// random-direction checks can be tight here.
static const char *net_resnet =
    "[net]\nwidth=8\nheight=8\nchannels=3\n"
    "[convolutional]\nbatch_normalize=1\nfilters=4\nsize=3\nstride=1\npad=1\nactivation=logistic\n"
    "[convolutional]\nbatch_normalize=1\nfilters=4\nsize=1\nstride=1\npad=1\nactivation=linear\n"
    "[shortcut]\nfrom=-2\nactivation=tanh\n"
    "[route]\nlayers=-1,-3\n"
    "[convolutional]\nbatch_normalize=1\nfilters=6\nsize=3\nstride=1\npad=1\nactivation=elu\n"
    "[dropout]\nprobability=.5\n"
    "[connected]\noutput=12\nbatch_normalize=1\nactivation=selu\n"
    "[dropout]\nprobability=.3\n"
    "[connected]\noutput=4\nactivation=linear\n"
    "[softmax]\n";

// Grouped and unpadded convolutions, more activations, softmax temperature.
// The kinked activations and max-pooling again, at other shapes.
static const char *net_misc =
    "[net]\nwidth=7\nheight=7\nchannels=4\n"
    "[convolutional]\nbatch_normalize=1\nfilters=6\nsize=3\ngroups=2\npad=1\nactivation=ramp\n"
    "[convolutional]\nbatch_normalize=1\nfilters=6\nsize=3\nstride=2\npad=0\nactivation=loggy\n"
    "[convolutional]\nfilters=6\nsize=1\nstride=1\nactivation=relie\n"
    "[convolutional]\nbatch_normalize=1\nfilters=6\nsize=3\npad=1\nactivation=relu\n"
    "[convolutional]\nbatch_normalize=1\nfilters=5\nsize=2\nstride=1\npad=0\nactivation=plse\n"
    "[maxpool]\nsize=3\nstride=1\n"
    "[connected]\noutput=6\nbatch_normalize=1\nactivation=lhtan\n"
    "[connected]\noutput=3\nactivation=hardtan\n"
    "[softmax]\ntemperature=2\n";

// A max-pool on the input (its backward writes the input gradient whole) and
// one above a thin convolution (direct on AVX-512), whose backward reads the
// pool's delta itself: the shipped teacher's pattern.
static const char *net_pool =
    "[net]\nwidth=8\nheight=8\nchannels=3\n"
    "[maxpool]\nsize=2\nstride=2\n"
    "[convolutional]\nbatch_normalize=1\nfilters=5\nsize=3\nstride=1\npad=1\nactivation=leaky\n"
    "[maxpool]\nsize=2\nstride=2\n"
    "[connected]\noutput=3\nactivation=linear\n[softmax]\n";

// Darknet's [crop] as vgg-16 and strided use it: first, so that its backward
// writes the input gradient (values mapped to 2v - 1, an off-centre window of
// an odd-sized input, training-only keys that inference ignores); one after a
// BN convolution, whose delta outside the window must be zeroed before each
// backward; one as large as its input, whose backward overwrites the
// convolution's delta whole.
static const char *net_crop =
    "[net]\nwidth=11\nheight=10\nchannels=3\n"
    "[crop]\ncrop_height=8\ncrop_width=7\nflip=1\nangle=7\nsaturation=1.5\nexposure=1.5\nshift=.2\n"
    "[convolutional]\nbatch_normalize=1\nfilters=4\nsize=3\nstride=1\npad=1\nactivation=logistic\n"
    "[crop]\ncrop_height=5\ncrop_width=6\nnoadjust=1\n"
    "[convolutional]\nbatch_normalize=1\nfilters=3\nsize=3\nstride=2\npad=1\nactivation=tanh\n"
    "[crop]\ncrop_height=3\ncrop_width=3\n"
    "[connected]\noutput=3\nactivation=linear\n[softmax]\n";

// A crop after a convolution whose delta a route also writes, so the crop
// must add to it; a dropout sharing the crop's delta.
static const char *net_crop_mid =
    "[net]\nwidth=8\nheight=8\nchannels=2\n"
    "[convolutional]\nbatch_normalize=1\nfilters=4\nsize=3\nstride=1\npad=1\nactivation=tanh\n"
    "[crop]\ncrop_height=5\ncrop_width=6\n"
    "[dropout]\nprobability=.5\n"
    "[route]\nlayers=-1,-3\n"
    "[connected]\noutput=6\nbatch_normalize=1\nactivation=logistic\n"
    "[connected]\noutput=3\nactivation=linear\n[softmax]\n";

// A student for the resnet teacher (same input, 4 classes) for the competition term.
static const char *net_student =
    "[net]\nwidth=8\nheight=8\nchannels=3\n"
    "[convolutional]\nbatch_normalize=1\nfilters=5\nsize=3\nstride=2\npad=1\nactivation=tanh\n"
    "[connected]\noutput=4\nactivation=linear\n"
    "[softmax]\ntemperature=1.5\n";

#endif
