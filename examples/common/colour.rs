//! Colour maps for the examples' figures (included with `#[path]` by every example that draws
//! a field): one interpolation through evenly spaced stops, used by each named map.

use plotters::style::RGBColor;

/// Piecewise-linear colour map through evenly spaced RGB stops.
pub fn lerp_map(stops: &[(u8, u8, u8)], t: f64) -> RGBColor {
    let t = if t.is_finite() { t.clamp(0.0, 1.0) } else { 0.0 };
    let s = t * (stops.len() - 1) as f64;
    let i = (s.floor() as usize).min(stops.len() - 2);
    let f = s - i as f64;
    let mix = |a: u8, b: u8| (a as f64 + f * (b as f64 - a as f64)).round() as u8;
    let (a, b) = (stops[i], stops[i + 1]);
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}
