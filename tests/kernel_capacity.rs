//! The Dual work buffer's capacity: without `alloc`, a user kernel that needs more dual numbers
//! than its capacity is refused when the model is built, with a message that says so; with
//! `alloc` there is no cap. (Run it both ways: `cargo test --test kernel_capacity` and
//! `cargo test --no-default-features --test kernel_capacity`.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod common;

use common::kernel::rand_vec;
use svgp::gp::{Closed, Svgp};
use svgp::kernel::{DualCapacity, Kernel};
use svgp::Scalar;

/// k(x, y) = exp(−Σ_d θ_d |x_d − y_d|): a user kernel with one parameter per input, on the
/// Dual reverse rules.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Laplace(usize);

impl Kernel for Laplace {
    type Params<C> = C;
    fn view<S: Scalar, C: svgp::layout::SliceRef<S>>(&self, raw: C) -> svgp::Result<C> {
        Ok(raw)
    }
    fn input_dim(&self) -> usize {
        self.0
    }
    fn n_params(&self) -> usize {
        self.0
    }
    fn eval<S: Scalar>(&self, p: &[S], x: &[S], y: &[S]) -> S {
        let s: S = p.iter().zip(x.iter().zip(y)).map(|(&t, (&a, &b))| t.exp() * (a - b).abs()).sum();
        (-s).exp()
    }
}

/// Without `alloc`, a user kernel needing more dual numbers than the default capacity is refused
/// when the model is built, with the numbers; `DualCapacity` with enough room is accepted and
/// trains. With `alloc` there is no cap: the same model builds and its gradient runs.
#[test]
fn dual_capacity_is_checked_when_the_model_is_built() {
    let wide = Laplace(40); // 40 + 2·40 = 120 dual numbers > 96
    let built = Svgp::new(Closed(wide), 3, 1e-6);
    #[cfg(not(feature = "alloc"))]
    {
        let err = built.map(|_| ()).unwrap_err();
        assert_eq!(err, svgp::Error::DualCapacity { needed: 120, capacity: 96 });
        let msg = format!("{err}");
        assert!(msg.contains("120") && msg.contains("DualCapacity"), "{msg}");
        assert_eq!(
            Svgp::new(Closed(DualCapacity::<_, 100>(wide)), 3, 1e-6).map(|_| ()),
            Err(svgp::Error::DualCapacity { needed: 120, capacity: 100 })
        );
    }
    #[cfg(feature = "alloc")]
    assert!(built.is_ok());
    // Enough capacity: built, and the ELBO's gradient through the Dual rules is finite.
    let model = Svgp::new(Closed(DualCapacity::<_, 120>(wide)), 3, 1e-6).unwrap();
    let (n, d) = (5, 40);
    let x = rand_vec(n * d, 12, -1.0, 1.0);
    let y = rand_vec(n, 13, -1.0, 1.0);
    let p = common::gp::random_params(&model, &vec![-3.0; d], &mut svgp::rng::Xoshiro256::from_u64(14));
    let mut ws = vec![0.0; model.workspace_len(n).unwrap()];
    let mut g = vec![0.0; model.n_params()];
    let e = model.elbo_and_grad(&p, &x, &y, svgp::gp::ElboOptions::default(), &mut g, &mut ws).unwrap();
    assert!(e.is_finite() && g.iter().all(|v| v.is_finite()), "{e} {g:?}");
    assert!(g[..d].iter().any(|v| *v != 0.0), "{:?}", &g[..d]);
}
