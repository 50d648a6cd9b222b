//! Byte-stream decoding shared by the fuzz targets.
#![allow(dead_code)]

/// Reads sizes and floats off the fuzzer's bytes; runs out gracefully (zeros).
pub struct Bytes<'a>(pub &'a [u8]);

impl Bytes<'_> {
    pub fn u8(&mut self) -> u8 {
        match self.0.split_first() {
            Some((&b, rest)) => {
                self.0 = rest;
                b
            }
            None => 0,
        }
    }
    /// Any f64 bit pattern (NaN, ±∞, subnormals, huge) when `raw`, else a tame value in
    /// [-8, 8) with a few bits of mantissa, so that sums stay exact-ish and finite.
    pub fn f64(&mut self, raw: bool) -> f64 {
        if raw {
            let mut b = [0u8; 8];
            for x in b.iter_mut() {
                *x = self.u8();
            }
            f64::from_le_bytes(b)
        } else {
            (self.u8() as i8) as f64 / 16.0
        }
    }
}

/// Scale factor 2^-e (exact) that brings `max_abs` near 1, so checks cannot overflow.
pub fn pow2_scale(max_abs: f64) -> f64 {
    if !(max_abs > 0.0) || !max_abs.is_finite() {
        return 1.0;
    }
    let e = max_abs.log2().floor() as i32;
    2f64.powi(-e)
}
