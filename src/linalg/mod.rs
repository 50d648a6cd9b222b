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

/// Runs `$body` with `$i` = 0, 1, …, `$n − 1` for a constant `$n` ≤ 24, written out one by one:
/// the register tiles' row loops. Written as a loop, a short row loop is what LLVM's loop
/// vectoriser picks in the AVX-512 copies (masked, with gathers and scatters across the rows,
/// the tile in memory): measured 30× slower. Written out, every index is a constant and the
/// tile stays in registers whatever the level.
///
/// Builds with debug assertions (unoptimised ones, as a rule) keep the loop: unoptimised
/// code gains nothing from the copies, and its frames would hold every copy's locals (they
/// tripled the stack a training step needs, `tests/train_stack.rs`).
#[cfg(debug_assertions)]
macro_rules! unrolled {
    ($n:expr, |$i:ident| $body:block) => {
        for $i in 0..$n {
            $body
        }
    };
}

/// Runs `$body` with `$i` = 0, 1, …, `$n − 1` (see the `debug_assertions` twin for the docs).
#[cfg(not(debug_assertions))]
macro_rules! unrolled {
    ($n:expr, |$i:ident| $body:block) => {
        unrolled!(@ $n, $i, $body; 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23)
    };
    (@ $n:expr, $i:ident, $body:block; $($k:literal)*) => {{
        const { assert!($n <= 24, "unrolled!: at most 24 rows") };
        $(
            if $k < $n {
                let $i: usize = $k;
                $body
            }
        )*
    }};
}

mod adjoint;
mod cholesky;
mod eigen;
mod engine;
mod gemm;
mod packed;
mod triangular;
mod vector;

pub(crate) use vector::dot_kernel;
mod view;

pub use adjoint::{cholesky_adjoint, gemm_adjoint, solve_triangular_adjoint};
pub use cholesky::{cholesky_in_place, CholeskyInfo, Jitter};
pub use eigen::sym_eigen;
pub use gemm::{axpy, dot, gemm, gemv, syrk, Trans};
pub use packed::PackedLower;
pub use triangular::{cholesky_inverse, log_det_from_factor, solve_triangular, Side};
pub(crate) use view::rows_of;
pub use view::{MatMut, MatRef};
