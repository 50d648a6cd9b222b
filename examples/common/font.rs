//! Text for the examples' PNG figures (included with `#[path]`): plotters' bitmap backend
//! needs a font file, loaded at run time from DejaVu Sans (the Debian package
//! `fonts-dejavu-core`) or the file named by `SVGP_FONT`. Without one the figures are drawn
//! without text rather than failing.

use plotters::style::FontStyle;

const FONT_PATHS: [&str; 2] =
    ["/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "/usr/share/fonts/dejavu/DejaVuSans.ttf"];

/// Registers a sans-serif font for plot text; `false` when none is found (plots then carry no text).
pub fn init_font() -> bool {
    let candidates = std::env::var("SVGP_FONT").into_iter().chain(FONT_PATHS.iter().map(|s| s.to_string()));
    for path in candidates {
        if let Ok(bytes) = std::fs::read(&path) {
            // plotters keeps fonts for the whole program: leaking the one font file is the intent.
            let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
            if plotters::style::register_font("sans-serif", FontStyle::Normal, bytes).is_ok() {
                return true;
            }
        }
    }
    false
}
