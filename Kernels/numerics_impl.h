/* numerics_impl.h — THE operation sequences of the fp32 approximations sam2r's kernels use (exp,
 * exp2, erf, GELU), written once over a small vector vocabulary so that the scalar reference and the
 * AVX2, AVX-512 and NEON variants execute the same IEEE operations in the same order and therefore
 * produce the same bits (docs/numerics.md). Private to Kernels/.
 *
 * The including file defines, for its ISA (scalar: NM_V = float):
 *   NM_V                    the vector (or scalar) type
 *   NM_TGT                  function attribute (target("avx2,fma"), ...; empty for scalar / NEON)
 *   NM_SET1(c)              broadcast a float constant
 *   NM_ADD, NM_SUB, NM_MUL, NM_DIV(a, b)   correctly rounded IEEE operations (DIV: never rcp)
 *   NM_FMA(a, b, c)         fused a * b + c, one rounding (vfmadd / FMLA / fmaf)
 *   NM_FNMA(a, b, c)        fused c - a * b, one rounding (vfnmadd / FMLS / fmaf(-a, b, c))
 *   NM_MIN(a, b), NM_MAX(a, b)     exact min / max, used only to clamp against nonzero constants (NaN
 *                           inputs are outside the contract: ISAs differ there)
 *   NM_ROUND(a)             round to nearest integer, ties to even (vroundps / FRINTN / rintf)
 *   NM_POW2I(n)             2^n for an integral float n in [-127, 127] built in the exponent field,
 *                           bits ((int)n + 127) << 23 (n = -127 gives +0, never a subnormal)
 * and then includes this file, which defines static always-inline nm_exp, nm_exp2, nm_erf, nm_gelu.
 * Every FMA below is an FMA on every ISA and every multiply/add is a separate rounding on every ISA;
 * kernels are built with -ffp-contract=off, so the compiler fuses nothing on its own. */
#ifndef SAM2R_NUMERICS_IMPL_H
#define SAM2R_NUMERICS_IMPL_H

#define NM_AI __attribute__((always_inline)) inline

/* exp(x), Cephes expf: x clamped to [-87, 88]; n = round(x * log2 e); r = x - n * C1 - n * C2 (Cody-Waite
 * split of ln 2, two FMAs); exp(r) = (r + 1) + r^2 * P5(r), P5 by Horner with FMA; times 2^n.
 * Relative error <= ~2 ulp on the clamped range (below -87 it returns ~1.6e-38, not 0). */
static NM_AI NM_TGT NM_V nm_exp(NM_V x) {
    x = NM_MIN(NM_MAX(x, NM_SET1(-87.0f)), NM_SET1(88.0f));
    const NM_V n = NM_ROUND(NM_MUL(x, NM_SET1(1.44269504088896341f)));
    NM_V r = NM_FNMA(n, NM_SET1(0.693359375f), x);
    r = NM_FNMA(n, NM_SET1(-2.12194440e-4f), r);
    NM_V p = NM_SET1(1.9875691500e-4f);
    p = NM_FMA(p, r, NM_SET1(1.3981999507e-3f));
    p = NM_FMA(p, r, NM_SET1(8.3334519073e-3f));
    p = NM_FMA(p, r, NM_SET1(4.1665795894e-2f));
    p = NM_FMA(p, r, NM_SET1(1.6666665459e-1f));
    p = NM_FMA(p, r, NM_SET1(5.0000001201e-1f));
    p = NM_FMA(p, NM_MUL(r, r), NM_ADD(r, NM_SET1(1.0f)));
    return NM_MUL(p, NM_POW2I(n));
}

/* 2^x for x <= 0 (the online softmax's base-2 logits): x clamped to >= -127; n = round(x);
 * f = x - n in [-0.5, 0.5]; 2^f by Cephes' exp2f polynomial (degree 6, Horner with FMA, ~2 ulp);
 * times 2^n (n = -127 gives 0: an underflow the softmax cannot see next to the row max's 1). */
static NM_AI NM_TGT NM_V nm_exp2(NM_V x) {
    x = NM_MAX(x, NM_SET1(-127.0f));
    const NM_V n = NM_ROUND(x);
    const NM_V f = NM_SUB(x, n);
    NM_V p = NM_SET1(1.535336188319500e-4f);
    p = NM_FMA(p, f, NM_SET1(1.339887440266574e-3f));
    p = NM_FMA(p, f, NM_SET1(9.618437357674640e-3f));
    p = NM_FMA(p, f, NM_SET1(5.550332471162809e-2f));
    p = NM_FMA(p, f, NM_SET1(2.402264791363012e-1f));
    p = NM_FMA(p, f, NM_SET1(6.931472028550421e-1f));
    p = NM_FMA(p, f, NM_SET1(1.0f));
    return NM_MUL(p, NM_POW2I(n));
}

/* erf(x), the Eigen / TensorFlow rational approximation: x clamped to [-3.85, 3.85];
 * erf = x * P(x^2) / Q(x^2) (P degree 6, Q degree 4 in x^2, Horner with FMA, IEEE division).
 * Max abs error 3.1e-7 against double erf (measured on a 1e-5 grid over [-6, 6]). */
static NM_AI NM_TGT NM_V nm_erf(NM_V x) {
    x = NM_MIN(NM_MAX(x, NM_SET1(-3.85f)), NM_SET1(3.85f));
    const NM_V x2 = NM_MUL(x, x);
    NM_V p = NM_FMA(x2, NM_SET1(-2.72614225801306e-10f), NM_SET1(2.77068142495902e-08f));
    p = NM_FMA(p, x2, NM_SET1(-2.10102402082508e-06f));
    p = NM_FMA(p, x2, NM_SET1(-5.69250639462346e-05f));
    p = NM_FMA(p, x2, NM_SET1(-7.34990630326855e-04f));
    p = NM_FMA(p, x2, NM_SET1(-2.95459980854025e-03f));
    p = NM_FMA(p, x2, NM_SET1(-1.60960333262415e-02f));
    p = NM_MUL(p, x);
    NM_V q = NM_FMA(x2, NM_SET1(-1.45660718464996e-05f), NM_SET1(-2.13374055278905e-04f));
    q = NM_FMA(q, x2, NM_SET1(-1.68282697438203e-03f));
    q = NM_FMA(q, x2, NM_SET1(-7.37332916720468e-03f));
    q = NM_FMA(q, x2, NM_SET1(-1.42647390514189e-02f));
    return NM_DIV(p, q);
}

/* GELU, torch's exact form: (0.5 * x) * (1 + erf(x * 0.70710678)), three separately rounded operations
 * around nm_erf. Abs error <= 0.5 |x| * 3.1e-7 + rounding. */
static NM_AI NM_TGT NM_V nm_gelu(NM_V x) {
    const NM_V e = nm_erf(NM_MUL(x, NM_SET1(0.70710678118654752f)));
    return NM_MUL(NM_MUL(NM_SET1(0.5f), x), NM_ADD(NM_SET1(1.0f), e));
}

#endif
