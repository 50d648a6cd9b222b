//! # svgp
//!
//! Sparse variational Gaussian processes with deep random-Fourier-feature kernels, written
//! once over one [`Scalar`] trait so the same code runs in `f32`, `f64` and forward-mode
//! [`Dual`] numbers (gradients without a tape). The core is `no_std` and allocates nothing:
//! callers own every buffer.
//!
//! # Stack
//!
//! Buffers that grow with the data are the caller's; what the core keeps on the stack is
//! bounded. Without `std` (the microcontroller build) one training step of the flagship models
//! (ELBO + gradient and an Adam update; N = 600, M = 30, deep kernel with J = 256) needs at
//! most 22 KiB of stack in f64 and 15 KiB in f32, measured on x86-64; the largest frame is the
//! matrix product's packing buffers, 15.4 KiB (f64) and 8.2 KiB (f32) on Cortex-M4F
//! (`thumbv7em-none-eabihf`). With `std` the products of at least 2²⁰ multiply-adds use larger
//! buffers and the step needs up to 330 KiB (deep kernel, f64), well within a desktop thread's
//! default 2 MiB. `tests/train_stack.rs` runs each step on a thread with its budget and says
//! how to measure: `SVGP_STACK_KIB=N cargo test --release --test train_stack` (add
//! `--no-default-features` for the `no_std` figures); single frames: nightly `rustc
//! -Z emit-stack-sizes` and `llvm-readobj --stack-sizes` on the object file.
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
pub mod layout;
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
