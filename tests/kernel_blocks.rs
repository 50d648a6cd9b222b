//! Every built-in kernel's blocks and reverse rules (the closed forms the SVGP calls) against
//! `eval` and the `Dual` oracle, for D = 1, 10, 17 and 40 inputs (beyond the old caps of 16
//! inputs and 64 parameters), on every code path: direct differences (D < 8), products through
//! gemm (D ≥ 8), and the same on duals (forward over reverse).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod common;

use common::kernel::{check_kernel, rand_vec};
use svgp::kernel::{
    ArcCosine, Constant, Kernel, Linear, Matern, Nu, Periodic, Product, RationalQuadratic, Rbf, RbfArd,
    Scale, Sum,
};

const DIMS: [usize; 4] = [1, 10, 17, 40];

/// Log-scale parameters around `center` (ln of natural values spread by a factor e^±0.3).
fn params(n: usize, seed: u64, center: f64) -> Vec<f64> {
    rand_vec(n, seed, center - 0.3, center + 0.3)
}

/// ARD lengthscales that keep the kernel away from 0 and 1 at D inputs in [−1.5, 1.5]^D:
/// ln ℓ ≈ ln √D.
fn ard_params(d: usize, extra: usize, seed: u64) -> Vec<f64> {
    let mut p = vec![0.2];
    p.extend(params(d, seed, 0.5 * (d as f64).ln() + 0.3));
    p.extend(params(extra, seed + 1, 0.0));
    p
}

#[test]
fn rbf_ard_blocks_match_eval_and_dual() {
    for d in DIMS {
        check_kernel("RBF-ARD", &RbfArd::new(d), &ard_params(d, 0, 10), 7, 5, 1e-14, 1e-11);
    }
}

#[test]
fn matern_blocks_match_eval_and_dual() {
    for nu in [Nu::Half, Nu::ThreeHalves, Nu::FiveHalves] {
        for d in DIMS {
            let label = format!("Matérn {nu:?}");
            check_kernel(&label, &Matern::new(d, nu), &ard_params(d, 0, 20), 7, 5, 1e-13, 1e-10);
        }
    }
}

#[test]
fn rational_quadratic_blocks_match_eval_and_dual() {
    for d in DIMS {
        check_kernel("RQ", &RationalQuadratic::new(d), &ard_params(d, 1, 30), 7, 5, 1e-13, 1e-11);
    }
}

#[test]
fn periodic_blocks_match_eval_and_dual() {
    for d in DIMS {
        // Periods around 1 and lengthscales around √D: several periods across the inputs.
        let mut p = vec![0.1];
        p.extend(params(d, 40, 0.0));
        p.extend(params(d, 41, 0.5 * (d as f64).ln() + 0.3));
        check_kernel("periodic", &Periodic::new(d), &p, 7, 5, 1e-13, 1e-11);
    }
}

#[test]
fn linear_and_constant_blocks_match_eval_and_dual() {
    for d in DIMS {
        check_kernel("linear", &Linear::new(d), &params(d, 50, -(d as f64).ln()), 7, 5, 1e-14, 1e-12);
        check_kernel("constant", &Constant::new(d), &[0.3], 7, 5, 0.0, 1e-14);
    }
}

#[test]
fn composite_blocks_match_eval_and_dual() {
    // The Mauna Loa kernel: RBF trend + periodic × RBF decay.
    let co2 = Sum(Rbf::new(1), Product(Periodic::new(1), Rbf::new(1)));
    let p = [&Rbf::params(2.0, 1.5)[..], &[0.3_f64.ln(), 0.7_f64.ln(), 0.9_f64.ln()], &Rbf::params(1.2, 2.0)]
        .concat();
    check_kernel("RBF + periodic × RBF", &co2, &p, 9, 6, 1e-14, 1e-11);
    for d in [1, 10, 17] {
        let k = Scale(Product(Sum(RbfArd::new(d), Linear::new(d)), Matern::new(d, Nu::FiveHalves)));
        let mut p = vec![0.4];
        p.extend(ard_params(d, 0, 60));
        p.extend(params(d, 61, -(d as f64).ln()));
        p.extend(ard_params(d, 0, 62));
        check_kernel("σ²·(RBF-ARD + linear)·Matérn", &k, &p, 7, 5, 1e-13, 1e-10);
        let k =
            Sum(Sum(Constant::new(d), RationalQuadratic::new(d)), Product(Periodic::new(d), RbfArd::new(d)));
        let mut p = vec![-0.5];
        p.extend(ard_params(d, 1, 63));
        p.push(0.1);
        p.extend(params(d, 64, 0.0));
        p.extend(params(d, 65, 0.5 * (d as f64).ln() + 0.3));
        p.extend(ard_params(d, 0, 66));
        check_kernel("c + RQ + periodic × RBF-ARD", &k, &p, 7, 5, 1e-13, 1e-10);
    }
    // A kernel with the Dual default rules inside a composite (arc-cosine has no closed form).
    let k = Product(ArcCosine::new(3, 1), Sum(Rbf::new(3), Constant::new(3)));
    let p = [0.1, -0.2, 0.3, 0.1, -0.4];
    check_kernel("arc-cosine × (RBF + c)", &k, &p, 6, 4, 1e-14, 1e-12);
}

#[test]
fn blocks_on_duals_match_the_blocks_on_floats() {
    // The blocks and their reverse rules are generic: on Dual numbers (the path forward-over-
    // reverse Hessian products take) the values are the float ones.
    use svgp::kernel::BlockGrad;
    use svgp::Dual;
    type D2 = Dual<f64, 2>;
    fn run<K: Kernel>(k: &K, p: &[f64]) {
        let d = k.input_dim();
        let (x1, x2, kb) =
            (rand_vec(4 * d, 7, -1.0, 1.0), rand_vec(3 * d, 8, -1.0, 1.0), rand_vec(12, 9, -1.0, 1.0));
        let lift = |v: &[f64]| v.iter().map(|&t| D2::constant(t)).collect::<Vec<_>>();
        let (pd, x1d, x2d, kbd) = (lift(p), lift(&x1), lift(&x2), lift(&kb));
        let mut ws = vec![D2::default(); k.block_workspace_len(4, 3).unwrap()];
        let mut kv = vec![D2::default(); 12];
        k.cross_covariance_block(&pd, &x1d, &x2d, &mut kv, &mut ws).unwrap();
        let (mut gp, mut g1, mut g2) =
            (lift(&vec![0.0; p.len()]), lift(&vec![0.0; 4 * d]), lift(&vec![0.0; 3 * d]));
        let grad = BlockGrad { params: &mut gp, x1: &mut g1, x2: Some(&mut g2) };
        k.cross_covariance_adjoint(&pd, &x1d, &x2d, &kv, &kbd, grad, &mut ws).unwrap();
        let (want_g, _, _) = common::kernel::block_adjoint(k, p, &x1, &x2, &kb, true, 0.0);
        let (want_k, _) = common::kernel::block(k, p, &x1, &x2);
        let err_k = common::kernel::rel_err(&kv.iter().map(|v| v.re).collect::<Vec<_>>(), &want_k, 1e-300);
        let err_g = common::kernel::rel_err(&gp.iter().map(|v| v.re).collect::<Vec<_>>(), &want_g, 1e-300);
        assert!(err_k <= 1e-13 && err_g <= 1e-11, "{k:?}: duals vs floats {err_k:e} {err_g:e}");
    }
    for d in [1, 10] {
        run(&RbfArd::new(d), &ard_params(d, 0, 70));
        run(&Matern::new(d, Nu::ThreeHalves), &ard_params(d, 0, 71));
    }
    run(&Sum(Rbf::new(1), Product(Periodic::new(1), Rbf::new(1))), &[0.1, 0.2, -0.3, 0.0, 0.1, 0.2, 0.3]);
}
