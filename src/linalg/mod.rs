//! Dense linear algebra on caller-provided row-major slices, generic over [`Scalar`](crate::Scalar).
//!
//! Nothing here allocates. Views check their dimensions once, at construction; the
//! routines then trust them. Bad values come back as typed errors: Cholesky reports
//! `NonFinite` input and `NotPositiveDefinite` pivots, triangular solves report a
//! non-finite result. Each routine has a reverse-mode rule ([`gemm_adjoint`],
//! [`cholesky_adjoint`], [`solve_triangular_adjoint`]), tested against `Dual` forward mode.
//!
//! Speed: large `f32`/`f64` products run through a packed, register-blocked kernel; the hot
//! loops run through [`crate::arch`]'s CPU dispatch (under `std`, copies compiled for AVX2 +
//! FMA chosen at run time; [`crate::arch::level`] says which copy runs).

mod adjoint;
mod cholesky;
mod eigen;
mod engine;
mod gemm;
mod packed;
mod triangular;
mod vector;
mod view;

pub use adjoint::{cholesky_adjoint, gemm_adjoint, solve_triangular_adjoint};
pub use cholesky::{cholesky_in_place, CholeskyInfo, Jitter};
pub use eigen::sym_eigen;
pub use gemm::{axpy, dot, gemm, gemv, syrk, Trans};
pub use packed::PackedLower;
pub use triangular::{cholesky_inverse, log_det_from_factor, solve_triangular, Side};
pub(crate) use view::rows_of;
pub use view::{MatMut, MatRef};
