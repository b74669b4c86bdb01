// Darknet's activate_array/gradient_array, replaced through the PLT: the
// library calls a per-element function with a switch for every value. Here
// the common activations get a plain loop the compiler vectorises; the rest
// go to the library's per-element activate()/gradient().
#include <math.h>

#include "darknet_internal.h"
#include "simd.h"

INV_SIMD void activate_array(float *x, const int n, const ACTIVATION a)
{
    int i;
    switch (a) {
    case LINEAR: return;
    case LEAKY: for (i = 0; i < n; ++i) x[i] = x[i] > 0 ? x[i] : (float)(.1 * x[i]); return;
    case RELU: for (i = 0; i < n; ++i) x[i] = x[i] * (x[i] > 0); return;
    default: for (i = 0; i < n; ++i) x[i] = activate(x[i], a); return;
    }
}

// x is the activation's output (Darknet's convention), delta is scaled in place.
INV_SIMD void gradient_array(const float *x, const int n, const ACTIVATION a, float *delta)
{
    int i;
    switch (a) {
    case LINEAR: return;
    case LEAKY: for (i = 0; i < n; ++i) delta[i] *= x[i] > 0 ? 1.f : .1f; return;
    case RELU: for (i = 0; i < n; ++i) delta[i] *= x[i] > 0 ? 1.f : 0.f; return;
    default: for (i = 0; i < n; ++i) delta[i] *= gradient(x[i], a); return;
    }
}
