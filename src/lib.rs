//! # svgp
//!
//! Sparse variational Gaussian processes with deep random-Fourier-feature kernels, written
//! once over one [`Scalar`] trait so the same code runs in `f32`, `f64` and forward-mode
//! [`Dual`] numbers (gradients without a tape). The core is `no_std` and allocates nothing:
//! callers own every buffer.
#![no_std]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod arch;
pub mod batch;
pub mod deploy;
pub mod dual;
pub mod error;
pub mod fastmath;
pub mod features;
pub mod gp;
pub mod inducing;
pub mod kernel;
pub mod linalg;
pub mod nn;
pub mod objective;
pub mod optim;
#[cfg(feature = "std")]
pub mod parallel;
pub mod rng;
pub mod scalar;
pub mod train;

pub use dual::Dual;
pub use error::{Error, Result};
pub use scalar::Scalar;
pub mod diff;

// The README's example is compiled and run as a doctest.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
