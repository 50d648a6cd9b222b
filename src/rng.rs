//! Random numbers on `rand_core` alone: the crate's reproducible generator and samplers.

use core::convert::Infallible;
use rand_core::{Rng, SeedableRng, TryRng};

/// xoshiro256++ (Blackman & Vigna): small, fast, and reproducible across platforms.
/// Seeded through SplitMix64, so any `u64` seed (0 included) gives a good state.
///
/// ```
/// use svgp::rng::{standard_normal, Xoshiro256};
/// let mut a = Xoshiro256::from_u64(7);
/// let mut b = Xoshiro256::from_u64(7);
/// assert_eq!(standard_normal(&mut a), standard_normal(&mut b));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Xoshiro256 {
    s: [u64; 4],
}

impl Xoshiro256 {
    /// A generator seeded from one integer.
    pub fn from_u64(seed: u64) -> Self {
        let mut sm = seed;
        let mut s = [0u64; 4];
        for v in s.iter_mut() {
            *v = splitmix64(&mut sm);
        }
        Self { s }
    }
}

#[inline]
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl TryRng for Xoshiro256 {
    type Error = Infallible;
    #[inline]
    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        Ok((self.try_next_u64()? >> 32) as u32)
    }
    #[inline]
    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        let s = &mut self.s;
        let out = s[0].wrapping_add(s[3]).rotate_left(23).wrapping_add(s[0]);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        Ok(out)
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        for chunk in dst.chunks_mut(8) {
            let v = self.try_next_u64()?.to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
        Ok(())
    }
}

impl SeedableRng for Xoshiro256 {
    type Seed = [u8; 32];
    fn from_seed(seed: [u8; 32]) -> Self {
        let mut s = [0u64; 4];
        for (v, c) in s.iter_mut().zip(seed.chunks_exact(8)) {
            let mut b = [0u8; 8];
            b.copy_from_slice(c);
            *v = u64::from_le_bytes(b);
        }
        if s == [0; 4] {
            return Self::from_u64(0);
        }
        Self { s }
    }
}

/// Uniform on [0, 1) with 53 random bits.
#[inline]
pub fn uniform01<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// An unbiased integer in `0..k` (`k ≥ 1`) by Lemire's multiply-and-reject.
pub(crate) fn below<R: Rng + ?Sized>(rng: &mut R, k: u64) -> u64 {
    let mut m = u128::from(rng.next_u64()) * u128::from(k);
    if (m as u64) < k {
        let t = k.wrapping_neg() % k;
        while (m as u64) < t {
            m = u128::from(rng.next_u64()) * u128::from(k);
        }
    }
    (m >> 64) as u64
}

/// Uniform on [lo, hi).
#[inline]
pub fn uniform<R: Rng + ?Sized>(rng: &mut R, lo: f64, hi: f64) -> f64 {
    lo + (hi - lo) * uniform01(rng)
}

/// A standard normal draw (Box–Muller; one draw per call, so streams stay simple to reproduce).
#[inline]
pub fn standard_normal<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    // u1 in (0, 1] keeps the logarithm finite.
    let u1 = 1.0 - uniform01(rng);
    let u2 = uniform01(rng);
    libm::sqrt(-2.0 * libm::log(u1)) * libm::cos(core::f64::consts::TAU * u2)
}

/// A Gamma(shape, 1) draw (Marsaglia & Tsang 2000, "A simple method for generating gamma
/// variables"); shapes below 1 use the boost Gamma(a) = Gamma(a + 1)·U^{1/a}.
///
/// Returns NaN for a shape that is not positive and finite (a sampler has no error channel;
/// the public callers in this crate validate their shapes first).
///
/// ```
/// use svgp::rng::{gamma, Xoshiro256};
/// let mut rng = Xoshiro256::from_u64(1);
/// let g = gamma(&mut rng, 2.5);
/// assert!(g > 0.0);
/// ```
pub fn gamma<R: Rng + ?Sized>(rng: &mut R, shape: f64) -> f64 {
    if !(shape > 0.0 && shape.is_finite()) {
        return f64::NAN;
    }
    if shape < 1.0 {
        // u in (0, 1] so the power is finite and the boost never returns 0 by accident at u = 0.
        let u = 1.0 - uniform01(rng);
        return gamma(rng, shape + 1.0) * libm::pow(u, 1.0 / shape);
    }
    let d = shape - 1.0 / 3.0;
    let c = 1.0 / libm::sqrt(9.0 * d);
    loop {
        let z = standard_normal(rng);
        let t = 1.0 + c * z;
        if t <= 0.0 {
            continue;
        }
        let v = t * t * t;
        let u = 1.0 - uniform01(rng);
        // Squeeze first (cheap), then the exact log test.
        if u < 1.0 - 0.0331 * z * z * z * z || libm::log(u) < 0.5 * z * z + d * (1.0 - v + libm::log(v)) {
            return d * v;
        }
    }
}

/// A chi-squared draw with `k > 0` degrees of freedom: 2·Gamma(k/2) (NaN when k ≤ 0, as [`gamma`]).
#[inline]
pub fn chi_squared<R: Rng + ?Sized>(rng: &mut R, k: f64) -> f64 {
    2.0 * gamma(rng, 0.5 * k)
}

/// A chi draw with `k > 0` degrees of freedom: the length of a standard normal k-vector.
///
/// Used for the radii of orthogonal random features (χ_D is the law of ‖ω‖ for ω ~ N(0, I_D)).
#[inline]
pub fn chi<R: Rng + ?Sized>(rng: &mut R, k: f64) -> f64 {
    libm::sqrt(chi_squared(rng, k))
}

/// A Student-t draw with `nu > 0` degrees of freedom: Z / √(χ²_ν / ν) (NaN when ν ≤ 0).
///
/// The multivariate t (the Matérn spectral law) shares one χ² across coordinates instead; see
/// [`crate::features::Spectrum::Matern`].
#[inline]
pub fn student_t<R: Rng + ?Sized>(rng: &mut R, nu: f64) -> f64 {
    let z = standard_normal(rng);
    z / libm::sqrt(chi_squared(rng, nu) / nu)
}

/// A standard Cauchy draw: tan(π(U − ½)) with U in the open interval (0, 1).
#[inline]
pub fn cauchy<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    // Redraw the single value U = 0 (probability 2⁻⁵³) so the result is finite.
    loop {
        let u = uniform01(rng);
        if u > 0.0 {
            return libm::tan(core::f64::consts::PI * (u - 0.5));
        }
    }
}

/// A Haar-random (uniformly distributed) `d × d` orthogonal matrix, row-major, into `out[..d*d]`.
///
/// Mezzadri (2007), "How to generate random matrices from the classical compact groups": the Q
/// factor of a Gaussian matrix is Haar-distributed once each column is multiplied by the sign
/// of R's diagonal entry. Gram–Schmidt produces R with a positive diagonal, so its Q already
/// carries that correction; we orthogonalise the Gaussian columns twice (modified Gram–Schmidt,
/// then a second pass) so Q is orthogonal to rounding even for larger d. A column that
/// collapses numerically (probability zero) is redrawn.
///
/// ```
/// use svgp::rng::{haar_orthogonal, Xoshiro256};
/// let mut q = [0.0; 9];
/// haar_orthogonal(&mut Xoshiro256::from_u64(3), 3, &mut q)?;
/// let dot01: f64 = (0..3).map(|i| q[i * 3] * q[i * 3 + 1]).sum();
/// assert!(dot01.abs() < 1e-14);
/// # Ok::<(), svgp::Error>(())
/// ```
pub fn haar_orthogonal<R: Rng + ?Sized>(rng: &mut R, d: usize, out: &mut [f64]) -> crate::Result<()> {
    crate::error::check_buf("orthogonal matrix output", d.saturating_mul(d), out.len())?;
    orthonormal_columns(rng, d, d, out, d, 0);
    Ok(())
}

/// The first `ncols ≤ d` columns of a Haar-random d × d orthogonal matrix, written to
/// `out[i * stride + col0 + j]` (a column block inside a wider row-major matrix).
///
/// Gram–Schmidt builds column j from a fresh Gaussian vector orthogonalised against the
/// previous ones, so the first columns of a Haar matrix need only as many draws. The caller
/// guarantees `out` covers rows 0..d of columns col0..col0+ncols.
pub(crate) fn orthonormal_columns<R: Rng + ?Sized>(
    rng: &mut R,
    d: usize,
    ncols: usize,
    out: &mut [f64],
    stride: usize,
    col0: usize,
) {
    let at = |i: usize, j: usize| i * stride + col0 + j;
    let mut j = 0;
    while j < ncols.min(d) {
        for i in 0..d {
            out[at(i, j)] = standard_normal(rng);
        }
        let mut norm0 = 0.0;
        for i in 0..d {
            norm0 += out[at(i, j)] * out[at(i, j)];
        }
        for _pass in 0..2 {
            for k in 0..j {
                let mut p = 0.0;
                for i in 0..d {
                    p += out[at(i, k)] * out[at(i, j)];
                }
                for i in 0..d {
                    out[at(i, j)] -= p * out[at(i, k)];
                }
            }
        }
        let mut norm = 0.0;
        for i in 0..d {
            norm += out[at(i, j)] * out[at(i, j)];
        }
        if norm <= 1e-20 * norm0 || !norm.is_finite() {
            continue; // degenerate draw (probability zero): redraw this column
        }
        let inv = 1.0 / libm::sqrt(norm);
        for i in 0..d {
            out[at(i, j)] *= inv;
        }
        j += 1;
    }
}
