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

/// Values a model meets at its edges: zeros, NaN, infinities, the extremes of f64 and f32,
/// subnormals, and the points where exp, squares and f32 conversions overflow.
const SPECIAL: [f64; 32] = [
    0.0,
    -0.0,
    f64::NAN,
    f64::INFINITY,
    f64::NEG_INFINITY,
    f64::MAX,
    f64::MIN,
    f64::MIN_POSITIVE,
    -f64::MIN_POSITIVE,
    5e-324,
    -5e-324,
    1e300,
    -1e300,
    1e-300,
    1e154,
    -1e154,
    3.4e38,
    3.5e38,
    -3.5e38,
    1e-45,
    1e-38,
    1e19,
    1e-19,
    709.0,
    710.0,
    -745.0,
    -746.0,
    88.0,
    89.0,
    -104.0,
    1.0,
    -1.0,
];

impl Bytes<'_> {
    /// A value for a model input or parameter: usually an ordinary number, often an extreme one.
    /// The first byte picks the class: a tame value in [-8, 8) (half the time), an edge value
    /// ([`SPECIAL`]), ±2^k over the whole exponent range (subnormal to near-overflow), a tame
    /// mantissa times 10^e (|e| ≤ 40), or any bit pattern.
    pub fn value(&mut self) -> f64 {
        let tag = self.u8();
        match tag >> 4 {
            0..=7 => self.f64(false),
            8 | 9 => SPECIAL[self.u8() as usize % SPECIAL.len()],
            10 | 11 => {
                let sign = if tag & 1 == 0 { 1.0 } else { -1.0 };
                sign * pow2((self.u8() as i8) as i32 * 8 + (tag as i32 >> 1 & 7))
            }
            12..=14 => self.f64(false) * 10f64.powi((self.u8() % 81) as i32 - 40),
            _ => self.f64(true),
        }
    }
    /// A little-endian u64 from 8 bytes (zeros when the input runs out).
    pub fn u64(&mut self) -> u64 {
        let mut b = [0u8; 8];
        b.iter_mut().for_each(|x| *x = self.u8());
        u64::from_le_bytes(b)
    }
}

/// 2^e exactly, for e in [-1074, 1023] (subnormal below -1022).
pub fn pow2(e: i32) -> f64 {
    let e = e.clamp(-1074, 1023);
    if e >= -1022 {
        f64::from_bits(((e + 1023) as u64) << 52)
    } else {
        f64::from_bits(1u64 << (e + 1074))
    }
}
