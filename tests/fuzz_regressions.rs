//! Inputs the `model_api` fuzz target (fuzz/fuzz_targets/model_api.rs) found, pinned: each test
//! failed before the fix it names and checks the contract the target asserts (`Ok` means
//! finite, else a typed error; training keeps the last finite parameters).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: a failed unwrap is a failed test

use svgp::batch::{accumulate_elbo_and_grad, accumulate_workspace_len};
use svgp::gp::{Closed, ElboOptions, Svgp};
use svgp::kernel::Rbf;
use svgp::Error;

/// An f32 model whose per-point expected log-likelihood is about −5e37: each point's ELBO is
/// finite, eight of them sum to −4e38, past f32's largest value.
fn f32_overflowing_sum() -> (Svgp<Closed<Rbf>>, Vec<f32>, Vec<f32>, Vec<f32>) {
    let model = Svgp::new(Closed(Rbf::new(1)), 1, 1e-6).unwrap();
    let mut p = vec![0.0f32; model.n_params()];
    model.init_params(&[0.0f32, 0.0], &[0.0], 0.01, &mut p).unwrap();
    (model, p, vec![0.0; 8], vec![1e18; 8])
}

/// Chunk sums: finite chunks whose sum overflows were `Ok(-inf)`; now [`Error::NonFinite`]
/// (the whole-batch ELBO on the same points already said so).
#[test]
fn chunked_elbo_whose_sum_overflows_is_an_error() {
    let (model, p, x, y) = f32_overflowing_sum();
    let mut g = vec![0.0f32; p.len()];
    let mut ws = vec![0.0f32; model.workspace_len(8).unwrap()];
    let whole = model.elbo_and_grad(&p, &x, &y, ElboOptions::default(), &mut g, &mut ws);
    assert!(matches!(whole, Err(Error::NonFinite { .. })), "{whole:?}");
    // One point per chunk: every chunk is finite on its own.
    let mut ws = vec![0.0f32; model.workspace_len(1).unwrap()];
    let one = model.elbo_and_grad(&p, &x[..1], &y[..1], ElboOptions::default(), &mut g, &mut ws).unwrap();
    assert!(one.is_finite() && one < -1e37);
    let mut ws = vec![0.0f32; accumulate_workspace_len(&model, 1).unwrap()];
    let r = accumulate_elbo_and_grad(&model, &p, &x, &y, 1, &mut g, &mut ws);
    assert!(matches!(r, Err(Error::NonFinite { .. })), "{r:?}");
}

/// The split ELBO sums its chunks the same way.
#[cfg(feature = "std")]
#[test]
fn split_elbo_whose_sum_overflows_is_an_error() {
    use svgp::parallel::{with_split_elbo, Split};
    let (model, p, x, y) = f32_overflowing_sum();
    let mut g = vec![0.0f32; p.len()];
    for threads in [1, 2] {
        let split = Split::new(8, threads);
        let r =
            with_split_elbo(&model, &x, &y, ElboOptions::default(), split, |e| e.elbo_and_grad(&p, &mut g));
        assert!(matches!(r, Ok(Err(Error::NonFinite { .. }))), "{threads} threads: {r:?}");
    }
}
