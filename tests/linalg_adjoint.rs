//! Every reverse-mode rule in `linalg` against `Dual` forward mode: for random SPD matrices
//! of sizes 1 to 40, the adjoint contracted with random directions must equal the directional
//! derivatives that `Dual<f64, 4>` computes through the forward routine, to 1e-8 relative.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::linalg::{randn, random_spd};
use svgp::linalg::{
    cholesky_adjoint, cholesky_in_place, gemm, gemm_adjoint, solve_triangular, solve_triangular_adjoint,
    Jitter, MatMut, MatRef, Side, Trans,
};
use svgp::rng::Xoshiro256;
use svgp::Dual;

const LANES: usize = 4;
type D = Dual<f64, LANES>;

/// Lift `x` with tangents `dirs[lane]` (each the same length as `x`).
fn lift(x: &[f64], dirs: &[Vec<f64>]) -> Vec<D> {
    (0..x.len()).map(|i| Dual::new(x[i], core::array::from_fn(|l| dirs[l][i]))).collect()
}

fn inner(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Relative agreement with a floor on the scale (directional derivatives can be ~0).
fn assert_close(forward: f64, reverse: f64, scale: f64, what: &str) {
    let err = (forward - reverse).abs() / scale.max(forward.abs()).max(1e-300);
    assert!(err <= 1e-8, "{what}: forward {forward} vs reverse {reverse} (rel {err:e})");
}

fn symmetric(rng: &mut Xoshiro256, n: usize) -> Vec<f64> {
    let mut e = randn(rng, n * n);
    for i in 0..n {
        for j in 0..i {
            e[j * n + i] = e[i * n + j];
        }
    }
    e
}

fn lower(rng: &mut Xoshiro256, n: usize) -> Vec<f64> {
    let mut e = randn(rng, n * n);
    for i in 0..n {
        for j in i + 1..n {
            e[i * n + j] = 0.0;
        }
    }
    e
}

#[test]
fn cholesky_adjoint_matches_dual() {
    let mut rng = Xoshiro256::from_u64(11);
    for n in 1..=40 {
        let a = random_spd(&mut rng, n, 0.5);
        let lbar = lower(&mut rng, n);
        let dirs: Vec<Vec<f64>> = (0..LANES).map(|_| symmetric(&mut rng, n)).collect();
        // Forward: L(A + Σ t_l E_l) on duals; ℓ = ⟨L̄, L⟩.
        let mut ad = lift(&a, &dirs);
        cholesky_in_place(MatMut::new(n, n, &mut ad).unwrap(), Jitter::Fixed(0.0)).unwrap();
        // Reverse.
        let l: Vec<f64> = ad.iter().map(|d| d.re).collect();
        let mut bar = lbar.clone();
        cholesky_adjoint(MatRef::new(n, n, &l).unwrap(), MatMut::new(n, n, &mut bar).unwrap()).unwrap();
        for i in 0..n {
            for j in 0..n {
                assert_eq!(bar[i * n + j], bar[j * n + i], "Ā symmetric");
            }
        }
        let scale = bar.iter().map(|v| v.abs()).sum::<f64>() * 1e-3;
        for lane in 0..LANES {
            let fwd: f64 = (0..n * n).map(|t| lbar[t] * ad[t].eps[lane]).sum();
            let rev = inner(&bar, &dirs[lane]);
            assert_close(fwd, rev, scale, &format!("cholesky n={n} lane {lane}"));
        }
    }
}

#[test]
fn solve_triangular_adjoint_matches_dual() {
    let mut rng = Xoshiro256::from_u64(12);
    for n in 1..=40 {
        for (side, k) in [(Side::Lower, 1), (Side::Lower, 3), (Side::LowerTrans, 1), (Side::LowerTrans, 17)] {
            let a = random_spd(&mut rng, n, 0.5);
            let mut l = a.clone();
            cholesky_in_place(MatMut::new(n, n, &mut l).unwrap(), Jitter::Fixed(0.0)).unwrap();
            let b = randn(&mut rng, n * k);
            let xbar0 = randn(&mut rng, n * k);
            let dl: Vec<Vec<f64>> = (0..LANES).map(|_| lower(&mut rng, n)).collect();
            let db: Vec<Vec<f64>> = (0..LANES).map(|_| randn(&mut rng, n * k)).collect();
            // Forward on duals: X(L + tE_L, B + tE_B).
            let ld = lift(&l, &dl);
            let mut xd = lift(&b, &db);
            solve_triangular(MatRef::new(n, n, &ld).unwrap(), side, MatMut::new(n, k, &mut xd).unwrap())
                .unwrap();
            // Reverse.
            let x: Vec<f64> = xd.iter().map(|d| d.re).collect();
            let mut bbar = xbar0.clone();
            let mut lbar = vec![0.0; n * n];
            solve_triangular_adjoint(
                MatRef::new(n, n, &l).unwrap(),
                side,
                MatRef::new(n, k, &x).unwrap(),
                MatMut::new(n, k, &mut bbar).unwrap(),
                MatMut::new(n, n, &mut lbar).unwrap(),
            )
            .unwrap();
            for i in 0..n {
                for j in i + 1..n {
                    assert_eq!(lbar[i * n + j], 0.0, "strict upper of L̄ untouched");
                }
            }
            let scale = (bbar.iter().chain(&lbar).map(|v| v.abs()).sum::<f64>()) * 1e-3;
            for lane in 0..LANES {
                let fwd: f64 = (0..n * k).map(|t| xbar0[t] * xd[t].eps[lane]).sum();
                let rev = inner(&lbar, &dl[lane]) + inner(&bbar, &db[lane]);
                assert_close(fwd, rev, scale, &format!("solve {side:?} n={n} k={k} lane {lane}"));
            }
        }
    }
}

#[test]
fn gemm_adjoint_matches_dual() {
    let mut rng = Xoshiro256::from_u64(13);
    for &(m, n, k) in &[(1, 1, 1), (3, 5, 7), (20, 9, 40), (30, 64, 33)] {
        for ta in [Trans::No, Trans::Yes] {
            for tb in [Trans::No, Trans::Yes] {
                let (ar, ac) = if ta == Trans::Yes { (k, m) } else { (m, k) };
                let (br, bc) = if tb == Trans::Yes { (n, k) } else { (k, n) };
                let a = randn(&mut rng, m * k);
                let b = randn(&mut rng, k * n);
                let cbar = randn(&mut rng, m * n);
                let da: Vec<Vec<f64>> = (0..LANES).map(|_| randn(&mut rng, m * k)).collect();
                let db: Vec<Vec<f64>> = (0..LANES).map(|_| randn(&mut rng, k * n)).collect();
                let alpha = -1.3;
                let (ad, bd) = (lift(&a, &da), lift(&b, &db));
                let mut cd = vec![D::constant(0.0); m * n];
                gemm(
                    D::constant(alpha),
                    MatRef::new(ar, ac, &ad).unwrap(),
                    ta,
                    MatRef::new(br, bc, &bd).unwrap(),
                    tb,
                    D::constant(0.0),
                    MatMut::new(m, n, &mut cd).unwrap(),
                )
                .unwrap();
                // Accumulates: start from a known offset and subtract it.
                let mut abar = vec![1.0; m * k];
                let mut bbar = vec![2.0; k * n];
                gemm_adjoint(
                    alpha,
                    MatRef::new(ar, ac, &a).unwrap(),
                    ta,
                    MatRef::new(br, bc, &b).unwrap(),
                    tb,
                    MatRef::new(m, n, &cbar).unwrap(),
                    Some(MatMut::new(ar, ac, &mut abar).unwrap()),
                    Some(MatMut::new(br, bc, &mut bbar).unwrap()),
                )
                .unwrap();
                abar.iter_mut().for_each(|v| *v -= 1.0);
                bbar.iter_mut().for_each(|v| *v -= 2.0);
                let scale = abar.iter().chain(&bbar).map(|v| v.abs()).sum::<f64>() * 1e-3;
                for lane in 0..LANES {
                    let fwd: f64 = (0..m * n).map(|t| cbar[t] * cd[t].eps[lane]).sum();
                    let rev = inner(&abar, &da[lane]) + inner(&bbar, &db[lane]);
                    assert_close(fwd, rev, scale, &format!("gemm {m}x{n}x{k} {ta:?} {tb:?} lane {lane}"));
                }
            }
        }
    }
}

#[test]
fn adjoints_reject_bad_dimensions() {
    let l = [1.0, 0.0, 0.0, 1.0];
    let mut bar = [0.0; 3];
    assert!(cholesky_adjoint(MatRef::new(2, 2, &l).unwrap(), MatMut::new(1, 3, &mut bar).unwrap()).is_err());
    let x = [1.0; 2];
    let mut xbar = [1.0; 3];
    let mut lbar = [0.0; 4];
    assert!(solve_triangular_adjoint(
        MatRef::new(2, 2, &l).unwrap(),
        Side::Lower,
        MatRef::new(2, 1, &x).unwrap(),
        MatMut::new(3, 1, &mut xbar).unwrap(),
        MatMut::new(2, 2, &mut lbar).unwrap(),
    )
    .is_err());
    assert!(gemm_adjoint(
        1.0,
        MatRef::new(2, 2, &l).unwrap(),
        Trans::No,
        MatRef::new(2, 1, &x).unwrap(),
        Trans::No,
        MatRef::new(1, 1, &[1.0]).unwrap(),
        None,
        None,
    )
    .is_err());
}
