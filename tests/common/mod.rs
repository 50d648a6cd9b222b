//! Helpers shared by the integration tests, one place for each idea. A test file includes
//! them with `mod common;` and uses the submodule it needs:
//!
//! - [`fixture`]: the JAX reference fixtures vendored in `tests/data/` (see its README): loading
//!   (a missing file is a failure, never a skip), JSON flattening, a fixture's parameters in the
//!   crate's flat layout, the evaluation grid; the four checks of a whole SVGP against a
//!   fixture's trace (ELBO and gradient at init, one Adam step, the early trace, final
//!   predictions) and the macro `fixture_tests!` that makes them tests.
//! - [`oracle`]: the derivative oracles every reverse rule is checked against (forward-mode
//!   `Dual` gradients through `svgp::diff`, Richardson central differences), tolerances and
//!   error measures.
//! - [`gp`]: small models for the ELBO tests (a random-Fourier map with a lengthscale, a kernel
//!   with only the Dual default adjoint), random problems and parameters, Dual vs reverse ELBO
//!   gradients.
//! - [`deploy`]: the feature map the deploy tests export (with a blob family), random
//!   trained-looking feature models.
//! - [`lik`]: the likelihood tests' oracles: normal expectations by a fine trapezoid rule
//!   (generic, so `Dual` gives the true expectation's derivatives) and log densities written
//!   independently of the crate's.
//! - [`linalg`]: random and SPD matrices, naive products and determinants written independently
//!   of the crate's kernels.
//!
//! Every test target compiles all of it and uses a part, hence the `dead_code` allowance.
#![allow(dead_code, unused_imports, unused_macros)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod deploy;
pub mod fixture;
pub mod gp;
pub mod lik;
pub mod linalg;
pub mod oracle;

use svgp::rng::{uniform, Xoshiro256};

/// `n` independent draws from U(lo, hi).
pub fn random(rng: &mut Xoshiro256, n: usize, lo: f64, hi: f64) -> Vec<f64> {
    (0..n).map(|_| uniform(rng, lo, hi)).collect()
}
