//! Shared helpers for the svgp benchmarks.
