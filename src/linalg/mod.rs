//! Dense linear algebra on caller-provided row-major slices, generic over [`Scalar`](crate::Scalar).
//!
//! Nothing here allocates. Views check their dimensions once, at construction; the
//! routines then trust them.

mod cholesky;
mod gemm;
mod triangular;
mod view;

pub use cholesky::{cholesky_in_place, CholeskyInfo, Jitter};
pub use gemm::{axpy, dot, gemm, gemv, Trans};
pub use triangular::{cholesky_inverse, log_det_from_factor, solve_triangular, Side};
pub use view::{MatMut, MatRef};
