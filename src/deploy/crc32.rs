//! CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), the checksum of the model format.
//!
//! A 16-entry nibble table: 64 bytes of flash and two table look-ups per byte, a middle ground
//! between the bitwise loop (8 shifts per byte) and the 1 KiB byte table. Speed hardly matters
//! here (a blob is checked once, at start-up), flash does.

/// Nibble table: the CRC of each 4-bit value, built at compile time.
const TABLE: [u32; 16] = {
    let mut t = [0u32; 16];
    let mut n = 0;
    while n < 16 {
        let mut c = n as u32;
        let mut k = 0;
        while k < 4 {
            c = if c & 1 != 0 { (c >> 1) ^ 0xEDB8_8320 } else { c >> 1 };
            k += 1;
        }
        t[n] = c;
        n += 1;
    }
    t
};

/// An incremental CRC-32: feed bytes with [`Crc32::update`], read the checksum with [`Crc32::finish`].
///
/// ```
/// use svgp::deploy::Crc32;
/// let mut c = Crc32::new();
/// c.update(b"1234");
/// c.update(b"56789");
/// assert_eq!(c.finish(), 0xCBF4_3926);
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Crc32 {
    state: u32,
}

impl Default for Crc32 {
    fn default() -> Self {
        Self::new()
    }
}

impl Crc32 {
    /// A fresh checksum (of the empty message).
    pub const fn new() -> Self {
        Self { state: 0xFFFF_FFFF }
    }

    /// Feed more bytes.
    pub const fn update(&mut self, bytes: &[u8]) {
        let mut c = self.state;
        let mut rest = bytes;
        // A `while let` over the slice, so the checksum also runs in const evaluation (blobs
        // checked at compile time, see `payload_f32`) without bounds checks at run time.
        while let [b, tail @ ..] = rest {
            c ^= *b as u32;
            c = (c >> 4) ^ TABLE[(c & 0xF) as usize];
            c = (c >> 4) ^ TABLE[(c & 0xF) as usize];
            rest = tail;
        }
        self.state = c;
    }

    /// The checksum of every byte fed so far.
    pub const fn finish(&self) -> u32 {
        !self.state
    }
}

/// The CRC-32 (IEEE) of a byte slice.
///
/// ```
/// assert_eq!(svgp::deploy::crc32(b"123456789"), 0xCBF4_3926);
/// ```
pub const fn crc32(bytes: &[u8]) -> u32 {
    let mut c = Crc32::new();
    c.update(bytes);
    c.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The textbook bit-at-a-time definition, as an independent oracle for the table version.
    fn bitwise(bytes: &[u8]) -> u32 {
        let mut c = 0xFFFF_FFFFu32;
        for &b in bytes {
            c ^= u32::from(b);
            for _ in 0..8 {
                let mask = (c & 1).wrapping_neg();
                c = (c >> 1) ^ (0xEDB8_8320 & mask);
            }
        }
        !c
    }

    #[test]
    fn check_values() {
        const AT_COMPILE_TIME: u32 = crc32(b"123456789");
        assert_eq!(AT_COMPILE_TIME, 0xCBF4_3926);
        // The standard check value, and two more published ones.
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
        assert_eq!(crc32(b"The quick brown fox jumps over the lazy dog"), 0x414F_A339);
    }

    #[test]
    fn table_matches_bitwise_on_all_byte_values() {
        let all: [u8; 256] = core::array::from_fn(|i| i as u8);
        for n in 0..all.len() {
            assert_eq!(crc32(&all[..n]), bitwise(&all[..n]), "prefix {n}");
        }
    }

    #[test]
    fn detects_every_single_bit_flip() {
        let msg = *b"svgp model blob";
        let good = crc32(&msg);
        for i in 0..msg.len() * 8 {
            let mut m = msg;
            m[i / 8] ^= 1 << (i % 8);
            assert_ne!(crc32(&m), good, "bit {i}");
        }
    }
}
