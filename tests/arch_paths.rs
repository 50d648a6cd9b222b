//! Every kernel that runs through `svgp::arch`'s dispatch, on every level this CPU has,
//! compared with the portable level (`arch::with_level`).
//!
//! Tolerances (u = the float's unit roundoff, ε = 2u):
//! - f64 sin/cos: 2 ulp of `libm` (each path is within 1); f64 tanh: 4 ulp (each within 2).
//!   These polynomials fuse multiply-adds on levels with FMA, so they do differ in the last
//!   bit (asserted too: that is how the test knows the other level really ran).
//! - The matrix kernels (products, the Cholesky's panel) fuse their multiply-adds on AVX-512
//!   (`Isa::madd`) and use wider tiles there, so their results differ in the last bits on that
//!   level (asserted too), and give the portable bits on AVX2 (asserted: that path keeps its
//!   numbers). Everything else is written without `mul_add` and gives the same bits on every
//!   level. The bounds below are the kernels' own error bounds: e^x 4 ulp (each within 2;
//!   f32: twice its documented bound); f32 sin/cos/tanh 2 ulp of the exact value; gemm
//!   |ΔC| ≤ 2k·u·(|A|·|B|) entry-wise; Cholesky and triangular solves 8n·u·max|L| (resp.
//!   max|x|) on well-conditioned matrices; the RBF block 64u·σ², its gradients 1e-12
//!   relative. The deep feature map (tanh and cos inside, so fused on FMA levels) 1e-14
//!   absolute, ψ ≤ √(2/J) = 0.18 (measured: 1.5e-16).
//!
//! On a CPU with only the portable level there is nothing to compare; the tests say so and pass.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use svgp::arch::{self, Level};
use svgp::features::{DeepRff, FeatureMap};
use svgp::kernel::{BlockGrad, Kernel, Rbf};
use svgp::linalg::{cholesky_in_place, gemm, solve_triangular, Jitter, MatMut, MatRef, Side, Trans};
use svgp::nn::{Activation, Mlp};
use svgp::rng::{standard_normal, uniform, Xoshiro256};
use svgp::{fastmath, Scalar};

/// The levels above the portable one that this CPU runs.
fn wider_levels() -> Vec<Level> {
    let levels: Vec<Level> =
        Level::ALL.into_iter().filter(|&l| l > Level::Portable && l <= arch::best()).collect();
    if levels.is_empty() {
        eprintln!("arch_paths: this CPU has only the portable level; nothing to compare");
    }
    levels
}

/// `f` on the portable level and on `level`, checking that each really ran there.
fn both<R>(level: Level, mut f: impl FnMut() -> R) -> (R, R) {
    let p = arch::with_level(Level::Portable, || {
        assert_eq!(arch::level(), Level::Portable);
        f()
    });
    let w = arch::with_level(level, || {
        assert_eq!(arch::level(), level);
        f()
    });
    (p, w)
}

fn ulp64(v: f64) -> f64 {
    let a = v.abs();
    f64::from_bits(a.to_bits() + 1) - a
}

fn ulp32(v: f64) -> f64 {
    let a = (v as f32).abs();
    f64::from(f32::from_bits(a.to_bits() + 1) - a)
}

/// Uniform draws on several ranges (both sin/cos reductions, tanh's switch and clamp), and
/// values the kernels hand to `libm`.
fn inputs64(seed: u64) -> Vec<f64> {
    let mut rng = Xoshiro256::from_u64(seed);
    let mut xs = Vec::new();
    for r in [0.7, 5.0, 50.0, 1e5] {
        xs.extend((0..50_000).map(|_| uniform(&mut rng, -r, r)));
    }
    xs.extend([0.0, -0.0, 1e6, -3e15, f64::INFINITY, f64::NAN]);
    xs
}

fn same_or_both_nan(a: f64, b: f64) -> bool {
    a == b || (a.is_nan() && b.is_nan())
}

#[test]
fn sin_cos_f64_within_two_ulp_and_fused_on_fma_levels() {
    for level in wider_levels() {
        let x = inputs64(1);
        let ((s0, c0), (s1, c1)) = both(level, || {
            let (mut s, mut c) = (vec![0.0; x.len()], vec![0.0; x.len()]);
            fastmath::sin_cos_slice(&x, &mut s, &mut c);
            (s, c)
        });
        let mut differ = 0;
        for i in 0..x.len() {
            let (rs, rc) = libm::sincos(x[i]);
            for (a, b, r) in [(s0[i], s1[i], rs), (c0[i], c1[i], rc)] {
                assert!(
                    same_or_both_nan(a, b) || (a - b).abs() <= 2.0 * ulp64(r),
                    "{level} at {}: {a:e} vs {b:e}",
                    x[i]
                );
                differ += usize::from(a.to_bits() != b.to_bits() && !a.is_nan());
            }
        }
        eprintln!("sin/cos f64, {level}: {differ} of {} results differ from portable", 2 * x.len());
        assert!(differ > 0, "{level} gave the portable bits everywhere: did it run its fused copy?");
        // The Scalar hook for cos (blocks through the same kernel).
        let (v0, v1) = both(level, || {
            let mut v = x.clone();
            f64::cos_in_place(&mut v);
            v
        });
        for i in 0..x.len() {
            let r = libm::cos(x[i]);
            assert!(
                same_or_both_nan(v0[i], v1[i]) || (v0[i] - v1[i]).abs() <= 2.0 * ulp64(r),
                "cos at {}",
                x[i]
            );
        }
    }
}

#[test]
fn tanh_f64_within_four_ulp() {
    for level in wider_levels() {
        let x = inputs64(2);
        let (t0, t1) = both(level, || {
            let mut t = vec![0.0; x.len()];
            fastmath::tanh_slice(&x, &mut t);
            t
        });
        let (h0, h1) = both(level, || {
            let mut t = vec![0.0; x.len()];
            f64::tanh_slice(&x, &mut t);
            t
        });
        let mut differ = 0;
        for i in 0..x.len() {
            let r = libm::tanh(x[i]);
            for (a, b) in [(t0[i], t1[i]), (h0[i], h1[i])] {
                assert!(
                    same_or_both_nan(a, b) || (a - b).abs() <= 4.0 * ulp64(r),
                    "{level} tanh at {}",
                    x[i]
                );
                differ += usize::from(a.to_bits() != b.to_bits() && !a.is_nan());
            }
        }
        eprintln!("tanh f64, {level}: {differ} of {} results differ from portable", 2 * x.len());
        assert!(differ > 0, "{level} gave the portable bits everywhere: did it run its fused copy?");
    }
}

#[test]
fn exp_within_four_ulp() {
    for level in wider_levels() {
        let mut rng = Xoshiro256::from_u64(3);
        let mut x: Vec<f64> = (0..100_000).map(|_| uniform(&mut rng, -700.0, 700.0)).collect();
        x.extend((0..100_000).map(|_| uniform(&mut rng, -30.0, 5.0)));
        x.extend([-800.0, 710.0, f64::NAN, 0.0]);
        let (e0, e1) = both(level, || {
            let mut e = x.clone();
            f64::exp_in_place(&mut e);
            e
        });
        let (k0, k1) = both(level, || {
            let mut e = x.clone();
            f64::scaled_exp_in_place(&mut e, 1.7, -0.5, 0.09);
            e
        });
        for i in 0..x.len() {
            assert!(
                same_or_both_nan(e0[i], e1[i]) || (e0[i] - e1[i]).abs() <= 4.0 * f64::EPSILON * e0[i],
                "exp at {}",
                x[i]
            );
            assert!(same_or_both_nan(k0[i], k1[i]) || (k0[i] - k1[i]).abs() <= 4.0 * f64::EPSILON * k0[i]);
        }
        let x32: Vec<f32> = x.iter().map(|&v| (v / 8.0) as f32).collect();
        let (f0, f1) = both(level, || {
            let mut e = x32.clone();
            f32::exp_in_place(&mut e);
            e
        });
        for i in 0..x32.len() {
            let (a, b) = (f64::from(f0[i]), f64::from(f1[i]));
            let tol = 2.0 * (6.0 + 0.45 * f64::from(x32[i].abs())) * f64::from(f32::EPSILON) * a;
            assert!(same_or_both_nan(a, b) || (a - b).abs() <= tol, "exp_f32 at {}", x32[i]);
        }
    }
}

#[test]
fn f32_sin_cos_and_tanh_within_two_ulp() {
    for level in wider_levels() {
        let x: Vec<f32> = inputs64(4).iter().map(|&v| (v / 20.0) as f32).collect();
        let (r0, r1) = both(level, || {
            let (mut s, mut c) = (vec![0.0_f32; x.len()], vec![0.0_f32; x.len()]);
            fastmath::sin_cos_slice_f32(&x, &mut s, &mut c);
            let mut t = vec![0.0_f32; x.len()];
            fastmath::tanh_slice_f32(&x, &mut t);
            let mut k = x.clone();
            f32::cos_in_place(&mut k);
            (s, c, t, k)
        });
        for i in 0..x.len() {
            let v = f64::from(x[i]);
            let refs = [libm::sin(v), libm::cos(v), libm::tanh(v), libm::cos(v)];
            let pairs = [(r0.0[i], r1.0[i]), (r0.1[i], r1.1[i]), (r0.2[i], r1.2[i]), (r0.3[i], r1.3[i])];
            for ((a, b), r) in pairs.into_iter().zip(refs) {
                let (a, b) = (f64::from(a), f64::from(b));
                assert!(same_or_both_nan(a, b) || (a - b).abs() <= 2.0 * ulp32(r), "{level} f32 at {v}");
            }
        }
    }
}

fn random(rng: &mut Xoshiro256, n: usize) -> Vec<f64> {
    (0..n).map(|_| standard_normal(rng)).collect()
}

/// |C_portable − C_level| ≤ 2k·u·(|A|·|B|) entry-wise, for row-major A (m × k) and B (k × n).
/// Returns how many entries differ in their bits.
fn check_gemm<S: Scalar>(
    level: Level,
    m: usize,
    k: usize,
    n: usize,
    ta: Trans,
    tb: Trans,
    seed: u64,
) -> usize {
    let mut rng = Xoshiro256::from_u64(seed);
    let a: Vec<S> = random(&mut rng, m * k).into_iter().map(S::from_f64).collect();
    let b: Vec<S> = random(&mut rng, k * n).into_iter().map(S::from_f64).collect();
    let (ar, ac) = if ta == Trans::No { (m, k) } else { (k, m) };
    let (br, bc) = if tb == Trans::No { (k, n) } else { (n, k) };
    let (c0, c1) = both(level, || {
        let mut c = vec![S::zero(); m * n];
        gemm(
            S::one(),
            MatRef::new(ar, ac, &a).unwrap(),
            ta,
            MatRef::new(br, bc, &b).unwrap(),
            tb,
            S::zero(),
            MatMut::new(m, n, &mut c).unwrap(),
        )
        .unwrap();
        c
    });
    let at = |i: usize, p: usize| if ta == Trans::No { a[i * k + p] } else { a[p * m + i] }.re();
    let bt = |p: usize, j: usize| if tb == Trans::No { b[p * n + j] } else { b[j * k + p] }.re();
    let u = S::epsilon().re() / 2.0;
    let mut differ = 0;
    for i in 0..m {
        for j in 0..n {
            let abs_ab: f64 = (0..k).map(|p| (at(i, p) * bt(p, j)).abs()).sum();
            let d = (c0[i * n + j].re() - c1[i * n + j].re()).abs();
            assert!(
                d <= 2.0 * k as f64 * u * abs_ab,
                "{level} gemm {m}×{k}×{n} {ta:?}{tb:?} at ({i}, {j}): {d:e}"
            );
            differ += usize::from(c0[i * n + j].re().to_bits() != c1[i * n + j].re().to_bits());
        }
    }
    differ
}

#[test]
fn gemm_within_its_error_bound() {
    for level in wider_levels() {
        // Plain loops, packed with small buffers, packed with large buffers (≥ 2^20 flops),
        // each with edge tiles in both directions for every level's tile shapes (6 × 8/16,
        // 12 × 16/32); then products one register wide (AVX-512's 16-row tiles for n ≤ 8 f64,
        // n ≤ 16 f32), small and large, and the flagship's 30-row ones.
        let shapes = [
            (7, 5, 9),
            (40, 30, 50),
            (130, 96, 100),
            (50, 64, 8),
            (37, 300, 16),
            (700, 256, 8),
            (30, 256, 600),
        ];
        let mut differ = 0;
        for (m, k, n) in shapes {
            for (ta, tb) in [(Trans::No, Trans::No), (Trans::Yes, Trans::No), (Trans::No, Trans::Yes)] {
                differ += check_gemm::<f64>(level, m, k, n, ta, tb, 5);
                differ += check_gemm::<f32>(level, m, k, n, ta, tb, 6);
            }
        }
        eprintln!("gemm, {level}: {differ} entries differ from portable");
        if level >= Level::Avx512 {
            assert!(differ > 0, "{level} gave the portable bits everywhere: did it run its fused tiles?");
        } else {
            assert_eq!(differ, 0, "{level}: the AVX2 path's products keep the portable bits");
        }
    }
}

/// A well-conditioned SPD matrix B·Bᵀ/n + I (eigenvalues in about [1, 5]).
fn spd(rng: &mut Xoshiro256, n: usize) -> Vec<f64> {
    let b = random(rng, n * n);
    let mut a = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..n {
            a[i * n + j] = (0..n).map(|p| b[i * n + p] * b[j * n + p]).sum::<f64>() / n as f64;
        }
        a[i * n + i] += 1.0;
    }
    a
}

/// Returns how many entries of the factor differ in their bits.
fn check_cholesky_and_solve<S: Scalar>(level: Level, n: usize, seed: u64) -> usize {
    let mut rng = Xoshiro256::from_u64(seed);
    let a: Vec<S> = spd(&mut rng, n).into_iter().map(S::from_f64).collect();
    let rhs: Vec<S> = random(&mut rng, n * 3).into_iter().map(S::from_f64).collect();
    let ((l0, x0), (l1, x1)) = both(level, || {
        let mut l = a.clone();
        cholesky_in_place(MatMut::new(n, n, &mut l).unwrap(), Jitter::Fixed(0.0)).unwrap();
        let mut x = rhs.clone();
        solve_triangular(MatRef::new(n, n, &l).unwrap(), Side::Lower, MatMut::new(n, 3, &mut x).unwrap())
            .unwrap();
        (l, x)
    });
    let u = S::epsilon().re() / 2.0;
    let max = |v: &[S]| v.iter().map(|x| x.re().abs()).fold(0.0, f64::max);
    let tol_l = 8.0 * n as f64 * u * max(&l0);
    let tol_x = 8.0 * n as f64 * u * max(&x0);
    for (p, q) in l0.iter().zip(&l1) {
        assert!((p.re() - q.re()).abs() <= tol_l, "{level} Cholesky n = {n}: {} vs {}", p.re(), q.re());
    }
    for (p, q) in x0.iter().zip(&x1) {
        assert!((p.re() - q.re()).abs() <= tol_x, "{level} solve n = {n}: {} vs {}", p.re(), q.re());
    }
    l0.iter().zip(&l1).filter(|(p, q)| p.re().to_bits() != q.re().to_bits()).count()
}

#[test]
fn cholesky_and_triangular_solve_within_their_error_bounds() {
    for level in wider_levels() {
        // Crout blocks of each width (AVX-512: eight f64 columns above n = 32), and beyond its
        // largest n (the right-looking kernel).
        let mut differ = 0;
        for n in [3, 8, 16, 30, 33, 50, 64, 130, 300] {
            differ += check_cholesky_and_solve::<f64>(level, n, 7);
            differ += check_cholesky_and_solve::<f32>(level, n, 8);
        }
        eprintln!("Cholesky, {level}: {differ} factor entries differ from portable");
        if level >= Level::Avx512 {
            assert!(differ > 0, "{level} gave the portable bits everywhere: did it run its fused panel?");
        }
    }
}

#[test]
fn rbf_block_and_gradients_agree() {
    for level in wider_levels() {
        let k = Rbf::new(2);
        let params = [0.3_f64, (0.5_f64).ln()];
        let mut rng = Xoshiro256::from_u64(9);
        let (n1, n2) = (70, 45);
        let x1: Vec<f64> = (0..2 * n1).map(|_| uniform(&mut rng, -2.0, 2.0)).collect();
        let x2: Vec<f64> = (0..2 * n2).map(|_| uniform(&mut rng, -2.0, 2.0)).collect();
        let kbar = random(&mut rng, n1 * n2);
        let ((k0, g0, gx0), (k1, g1, gx1)) = both(level, || {
            let mut out = vec![0.0; n1 * n2];
            k.cross_covariance_block(&params, &x1, &x2, &mut out, &mut []).unwrap();
            let (mut g, mut gx) = ([0.0; 2], vec![0.0; 2 * n1]);
            let grad = BlockGrad { params: &mut g, x1: &mut gx, x2: None };
            k.cross_covariance_adjoint(&params, &x1, &x2, &out, &kbar, grad, &mut []).unwrap();
            (out, g, gx)
        });
        let s2 = params[0].exp();
        for (a, b) in k0.iter().zip(&k1) {
            assert!((a - b).abs() <= 64.0 * f64::EPSILON / 2.0 * s2, "{level} RBF block: {a:e} vs {b:e}");
        }
        let gmax = g0.iter().chain(&gx0).map(|v| v.abs()).fold(0.0, f64::max);
        for (a, b) in g0.iter().chain(&gx0).zip(g1.iter().chain(&gx1)) {
            assert!((a - b).abs() <= 1e-12 * gmax, "{level} RBF gradient: {a:e} vs {b:e}");
        }
    }
}

#[test]
fn deep_feature_map_agrees() {
    for level in wider_levels() {
        let map = DeepRff::new(Mlp::equinox(2, 16, 2, 4, Activation::Tanh).unwrap(), 64).unwrap();
        let mut rng = Xoshiro256::from_u64(10);
        let mut p = vec![0.0_f64; map.n_params()];
        map.init(&mut rng, 0.5, &mut p).unwrap();
        let n = 300;
        let x: Vec<f64> = (0..2 * n).map(|_| uniform(&mut rng, -2.0, 2.0)).collect();
        let (psi0, psi1) = both(level, || {
            let (mut psi, mut ws) = (vec![0.0; n * 64], vec![0.0; map.workspace_len(n).unwrap()]);
            map.features(&p, &x, &mut psi, &mut ws).unwrap();
            psi
        });
        for (a, b) in psi0.iter().zip(&psi1) {
            assert!((a - b).abs() <= 1e-14, "{level} deep features: {a:e} vs {b:e}");
        }
    }
}
