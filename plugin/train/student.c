#include "student.h"

#include <stdio.h>
#include <math.h>
#include <string.h>

#include "augment.h"
#include "load_network.h"
#include "util.h"

double student_train_step(network *net, student_delta_fn fn, void *ctx)
{
    int B = net->batch, out = output_layer_index(net);
    *net->seen += B;
    net->train = 1;
    forward_network(net);
    layer *o = &net->layers[out];
    double loss = fn(ctx, net->layers[out - 1].output, B, o->outputs, o->delta);
    // A diverged student stops here, before its weights are updated or saved.
    if (!isfinite(loss))
        inv_die("batch %d: the student's loss is %g (diverged); lower the student cfg's learning_rate, or resume from the last backup",
                (int)(*net->seen / B), loss);
    for (int i = out + 1; i < net->n; ++i)   // a [cost] after the softmax must add nothing
        if (net->layers[i].delta) memset(net->layers[i].delta, 0, sizeof(float) * net->layers[i].outputs * B);
    backward_network(net);
    if ((*net->seen / B) % net->subdivisions == 0) update_network(net);
    return loss;
}

void random_crop_flip(rng *r, const float *src, float *dst, int c, int h, int w, int crop, int flip)
{
    int dx = crop ? rng_int(r, -crop, crop) : 0, dy = crop ? rng_int(r, -crop, crop) : 0;
    int fl = flip ? rng_int(r, 0, 1) : 0;
    shift_flip_image(src, dst, c, h, w, dx, dy, fl);
}
