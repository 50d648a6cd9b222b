//! How a model's feature map or kernel describes itself in a blob header, and the stored scalars.

use crate::error::{BlobError, Error, Result};
use crate::features::{Coupling, DeepRff, FeatureMap, FourierForm, RandomFourier, Spectrum};
use crate::kernel::{ArcCosine, Kernel, Matern, Nu, Rbf, RbfArd};
use crate::nn::{Activation, Mlp, MAX_LAYERS};
use crate::Scalar;

/// Number of `u32` words a shape may use in the header (unused words must be 0).
pub const SHAPE_WORDS: usize = 16;

/// The largest input dimension, feature count or inducing-point count a blob may declare.
///
/// Far beyond any microcontroller model; it bounds the size arithmetic on untrusted headers.
pub const MAX_DIM: u32 = 1 << 20;

/// A feature map or kernel shape that can be written into and read back from a blob header.
///
/// Decoding untrusted words must reject anything that cannot describe a valid shape
/// (zero or absurd sizes, unknown options, non-zero unused words) with
/// [`Error::InvalidModel`], so that the reader never builds a shape it cannot evaluate.
pub trait ModelShape: Copy + Sized {
    /// A number identifying the family (type) in the header; distinct for every implementor.
    const FAMILY: u32;
    /// Write the shape into `words` (all zero on entry).
    fn encode_shape(&self, words: &mut [u32; SHAPE_WORDS]) -> Result<()>;
    /// Rebuild the shape from header words, validating them.
    fn decode_shape(words: &[u32; SHAPE_WORDS]) -> Result<Self>;
}

/// An [`Error::InvalidModel`] ([`BlobError::BadShapeWord`] saying what the word describes)
/// pointing at shape word `word`.
#[cold]
pub fn bad_shape(what: &'static str, word: usize) -> Error {
    Error::InvalidModel { kind: BlobError::BadShapeWord(what), at: super::format::offset::SHAPE + 4 * word }
}

/// Checks that a size read from a header is in `1..=MAX_DIM`.
pub fn check_size(words: &[u32; SHAPE_WORDS], i: usize, what: &'static str) -> Result<usize> {
    match words[i] {
        1..=MAX_DIM => Ok(words[i] as usize),
        _ => Err(bad_shape(what, i)),
    }
}

/// Checks that words `from..` are zero (reserved for other shapes).
pub fn check_unused(words: &[u32; SHAPE_WORDS], from: usize) -> Result<()> {
    match words.iter().skip(from).position(|&w| w != 0) {
        None => Ok(()),
        Some(k) => Err(bad_shape("non-zero unused shape word", from + k)),
    }
}

impl ModelShape for Rbf {
    const FAMILY: u32 = 0x0001;
    fn encode_shape(&self, words: &mut [u32; SHAPE_WORDS]) -> Result<()> {
        words[0] = dim_word(self.input_dim())?;
        Ok(())
    }
    fn decode_shape(words: &[u32; SHAPE_WORDS]) -> Result<Self> {
        let d = check_size(words, 0, "RBF input dimension")?;
        check_unused(words, 1)?;
        Ok(Rbf::new(d))
    }
}

/// The largest parameter count a decoded shape may have (bounds all later size arithmetic,
/// on 32-bit targets too).
const MAX_PARAMS: u64 = 1 << 24;
/// The widest MLP layer a blob may declare.
const MAX_WIDTH: u32 = 1 << 16;

fn activation_code(a: Activation) -> u32 {
    match a {
        Activation::Tanh => 1,
        Activation::Relu => 2,
        Activation::Gelu => 3,
        Activation::Softplus => 4,
        Activation::Sin => 5,
    }
}

/// Words: `[layers L, activation, widths[0..=L] (input first), J]`; activation codes
/// 1 tanh, 2 relu, 3 gelu, 4 softplus, 5 sin.
impl ModelShape for DeepRff {
    const FAMILY: u32 = 0x0100;
    fn encode_shape(&self, words: &mut [u32; SHAPE_WORDS]) -> Result<()> {
        let mlp = self.mlp();
        words[0] = dim_word(mlp.n_layers())?;
        words[1] = activation_code(mlp.activation());
        for (w, &width) in words[2..].iter_mut().zip(mlp.widths()) {
            *w = dim_word(width)?;
        }
        words[3 + mlp.n_layers()] = dim_word(self.n_features())?;
        Ok(())
    }
    fn decode_shape(words: &[u32; SHAPE_WORDS]) -> Result<Self> {
        let layers = match words[0] {
            l @ 1..=8 if l as usize <= MAX_LAYERS => l as usize,
            _ => return Err(bad_shape("deep RFF layer count", 0)),
        };
        let activation = match words[1] {
            1 => Activation::Tanh,
            2 => Activation::Relu,
            3 => Activation::Gelu,
            4 => Activation::Softplus,
            5 => Activation::Sin,
            _ => return Err(bad_shape("deep RFF activation", 1)),
        };
        let widths = &words[2..3 + layers];
        if let Some(i) = widths.iter().position(|&w| w == 0 || w > MAX_WIDTH) {
            return Err(bad_shape("deep RFF layer width", 2 + i));
        }
        let j = check_size(words, 3 + layers, "deep RFF features")?;
        check_unused(words, 4 + layers)?;
        // Parameter count in u64 before any usize arithmetic on these sizes.
        let mlp_params: u64 = widths.windows(2).map(|w| (u64::from(w[0]) + 1) * u64::from(w[1])).sum();
        let h = u64::from(widths[layers]);
        if mlp_params + (h + 1) * j as u64 + 1 > MAX_PARAMS {
            return Err(bad_shape("deep RFF too many parameters", 3 + layers));
        }
        let mut ws = [0usize; MAX_LAYERS + 1];
        for (o, &w) in ws.iter_mut().zip(widths) {
            *o = w as usize;
        }
        let mlp = Mlp::new(&ws[..=layers], activation).map_err(|_| bad_shape("deep RFF MLP", 2))?;
        DeepRff::new(mlp, j).map_err(|_| bad_shape("deep RFF features", 3 + layers))
    }
}

/// Words: `[D]`.
impl ModelShape for RbfArd {
    const FAMILY: u32 = 0x0002;
    fn encode_shape(&self, words: &mut [u32; SHAPE_WORDS]) -> Result<()> {
        words[0] = dim_word(self.input_dim())?;
        Ok(())
    }
    fn decode_shape(words: &[u32; SHAPE_WORDS]) -> Result<Self> {
        let d = check_size(words, 0, "ARD RBF input dimension")?;
        check_unused(words, 1)?;
        Ok(RbfArd::new(d))
    }
}

fn nu_code(nu: Nu) -> u32 {
    match nu {
        Nu::Half => 1,
        Nu::ThreeHalves => 3,
        Nu::FiveHalves => 5,
    }
}

fn nu_of(code: u32) -> Option<Nu> {
    match code {
        1 => Some(Nu::Half),
        3 => Some(Nu::ThreeHalves),
        5 => Some(Nu::FiveHalves),
        _ => None,
    }
}

/// Words: `[D, 2ν]` (2ν = 1, 3 or 5).
impl ModelShape for Matern {
    const FAMILY: u32 = 0x0003;
    fn encode_shape(&self, words: &mut [u32; SHAPE_WORDS]) -> Result<()> {
        words[0] = dim_word(self.input_dim())?;
        words[1] = nu_code(self.nu());
        Ok(())
    }
    fn decode_shape(words: &[u32; SHAPE_WORDS]) -> Result<Self> {
        let d = check_size(words, 0, "Matern input dimension")?;
        let nu = nu_of(words[1]).ok_or(bad_shape("Matern smoothness", 1))?;
        check_unused(words, 2)?;
        Ok(Matern::new(d, nu))
    }
}

/// Words: `[D, order + 1]`.
impl ModelShape for ArcCosine {
    const FAMILY: u32 = 0x0004;
    fn encode_shape(&self, words: &mut [u32; SHAPE_WORDS]) -> Result<()> {
        words[0] = dim_word(self.input_dim())?;
        words[1] = u32::from(self.order()) + 1;
        Ok(())
    }
    fn decode_shape(words: &[u32; SHAPE_WORDS]) -> Result<Self> {
        let d = check_size(words, 0, "arc-cosine input dimension")?;
        let order = match words[1] {
            1..=3 => (words[1] - 1) as u8,
            _ => return Err(bad_shape("arc-cosine order", 1)),
        };
        check_unused(words, 2)?;
        Ok(ArcCosine::new(d, order))
    }
}

/// Words: `[D, J, form (1 cos-phase, 2 cos-sin), spectrum (1 RBF, 2/4/6 Matérn 2ν + 1, 7 Laplace)]`.
///
/// The coupling of the frequencies is a choice made when drawing them; evaluation does not
/// depend on it, so it is not stored and a decoded map reports [`Coupling::Iid`].
impl ModelShape for RandomFourier {
    const FAMILY: u32 = 0x0101;
    fn encode_shape(&self, words: &mut [u32; SHAPE_WORDS]) -> Result<()> {
        let (d, j) = (self.input_dim(), self.n_features());
        words[0] = dim_word(d)?;
        words[1] = dim_word(j)?;
        // The form is not exposed; the parameter count tells them apart (cos-phase has b).
        words[2] = if self.n_params() == 1 + d * j + j { 1 } else { 2 };
        words[3] = match self.spectrum() {
            Spectrum::Rbf => 1,
            Spectrum::Matern(nu) => nu_code(nu) + 1,
            Spectrum::Laplace => 7,
        };
        Ok(())
    }
    fn decode_shape(words: &[u32; SHAPE_WORDS]) -> Result<Self> {
        let d = check_size(words, 0, "random Fourier input dimension")?;
        let j = check_size(words, 1, "random Fourier features")?;
        let form = match words[2] {
            1 => FourierForm::CosPhase,
            2 => FourierForm::CosSin,
            _ => return Err(bad_shape("random Fourier form", 2)),
        };
        let spectrum = match words[3] {
            1 => Spectrum::Rbf,
            7 => Spectrum::Laplace,
            c => Spectrum::Matern(nu_of(c.wrapping_sub(1)).ok_or(bad_shape("random Fourier spectrum", 3))?),
        };
        check_unused(words, 4)?;
        if (d as u64 + 1) * j as u64 + 1 > MAX_PARAMS {
            return Err(bad_shape("random Fourier too many parameters", 1));
        }
        RandomFourier::new(d, j, form, spectrum, Coupling::Iid)
            .map_err(|_| bad_shape("random Fourier features", 1))
    }
}

/// A size as a header word, refusing sizes the reader would reject.
pub fn dim_word(n: usize) -> Result<u32> {
    match u32::try_from(n) {
        Ok(w @ 1..=MAX_DIM) => Ok(w),
        _ => Err(Error::InvalidParameter { what: "model size for export", value: n as f64 }),
    }
}

/// A float type a posterior can be evaluated in and stored natively: `f32` or `f64`.
///
/// Besides little-endian reading and writing, it carries the few conversions the blob's
/// encoded blocks need ([`Block`](super::Block)): from `f32` (every narrower encoding decodes
/// exactly to `f32`), from the `i64` sums of the integer dot products, and a bit-for-bit
/// *carrier* for `i32` values, so that a block's fixed-point copy of a vector can live in the
/// caller's `[S]` workspace (one workspace type for every encoding, no unsafe casts).
pub trait StoredScalar: Scalar {
    /// The native encoding of this type in a blob.
    const NATIVE: super::Encoding;
    /// Bytes per value.
    const SIZE: usize;
    /// Decode from exactly `SIZE` little-endian bytes.
    fn read_le(bytes: &[u8]) -> Self;
    /// Encode into exactly `SIZE` bytes, little-endian.
    fn write_le(self, out: &mut [u8]);
    /// An `f32`, exactly (`f64` widens it).
    fn from_f32(v: f32) -> Self;
    /// An `i64`, rounded to nearest.
    fn from_i64(v: i64) -> Self;
    /// Truncated towards zero and saturated to `i32` (NaN gives 0), as `as i32` does.
    fn to_i32(self) -> i32;
    /// Keeps the bits of `q` in a value of this type (not a conversion; see [`Self::carried`]).
    fn carry(q: i32) -> Self;
    /// The `i32` kept by [`Self::carry`].
    fn carried(self) -> i32;
}

macro_rules! impl_stored {
    ($t:ty, $n:literal, $enc:ident, $bits:ty) => {
        // The carrier goes through `u32`, so an `f64` slot holds a small positive pattern
        // (never a NaN); an `f32` slot may hold a NaN pattern, which moves bit for bit.
        impl StoredScalar for $t {
            const NATIVE: super::Encoding = super::Encoding::$enc;
            const SIZE: usize = $n;
            #[inline]
            fn read_le(bytes: &[u8]) -> Self {
                let mut a = [0u8; $n];
                a.copy_from_slice(&bytes[..$n]);
                <$t>::from_le_bytes(a)
            }
            #[inline]
            fn write_le(self, out: &mut [u8]) {
                out[..$n].copy_from_slice(&self.to_le_bytes());
            }
            #[inline(always)]
            fn from_f32(v: f32) -> Self {
                v as $t
            }
            #[inline(always)]
            fn from_i64(v: i64) -> Self {
                v as $t
            }
            #[inline(always)]
            fn to_i32(self) -> i32 {
                self as i32
            }
            #[inline(always)]
            fn carry(q: i32) -> Self {
                <$t>::from_bits(q as u32 as $bits)
            }
            #[inline(always)]
            fn carried(self) -> i32 {
                self.to_bits() as u32 as i32
            }
        }
    };
}
impl_stored!(f32, 4, F32, u32);
impl_stored!(f64, 8, F64, u64);
