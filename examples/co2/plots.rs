//! The CO₂ figures: the series with the posterior predictive mean and its ±2σ band, the
//! extrapolation past the cut, and the held-out residuals.

use plotters::coord::Shift;
use plotters::prelude::*;
use std::error::Error;
use std::path::Path;

pub type Res = Result<(), Box<dyn Error>>;

const TRAIN: RGBColor = RGBColor(110, 110, 110);
const TEST: RGBColor = RGBColor(230, 120, 20);
const MEAN: RGBColor = RGBColor(31, 119, 180);

/// Points of the series: decimal years and ppm.
pub struct Points<'a> {
    pub year: &'a [f64],
    pub ppm: &'a [f64],
}

/// The predictive on a grid of years: mean and standard deviation of y, in ppm.
pub struct Band<'a> {
    pub year: &'a [f64],
    pub mean: &'a [f64],
    pub sd: &'a [f64],
}

/// A time window and what to draw in it.
pub struct Panel<'a> {
    pub title: String,
    pub years: (f64, f64),
    pub train: Points<'a>,
    pub test: Points<'a>,
    pub band: Band<'a>,
    /// A vertical line (the extrapolation's cut), if any.
    pub cut: Option<f64>,
}

/// Panels stacked vertically in one PNG of width 1100.
pub fn panels(path: &Path, panels: &[Panel], text: bool) -> Res {
    let h = 380 * panels.len() as u32;
    let root = BitMapBackend::new(path, (1100, h)).into_drawing_area();
    root.fill(&WHITE)?;
    for (area, p) in root.split_evenly((panels.len(), 1)).iter().zip(panels) {
        panel(area, p, text)?;
    }
    root.present()?;
    Ok(())
}

/// A year tick: "1990", or "1990.5" between whole years.
fn year_label(v: &f64) -> String {
    if (v - v.round()).abs() < 1e-6 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

fn in_window(x: f64, w: (f64, f64)) -> bool {
    x >= w.0 && x <= w.1
}

fn panel<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, p: &Panel, text: bool) -> Res
where
    DB::ErrorType: 'static,
{
    // The ppm range of everything inside the window.
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for pts in [&p.train, &p.test] {
        for (&x, &y) in pts.year.iter().zip(pts.ppm) {
            if in_window(x, p.years) {
                (lo, hi) = (lo.min(y), hi.max(y));
            }
        }
    }
    for ((&x, &m), &s) in p.band.year.iter().zip(p.band.mean).zip(p.band.sd) {
        if in_window(x, p.years) {
            (lo, hi) = (lo.min(m - 2.0 * s), hi.max(m + 2.0 * s));
        }
    }
    if !(lo.is_finite() && hi > lo) {
        (lo, hi) = (300.0, 400.0);
    }
    let pad = 0.04 * (hi - lo);
    let mut cb = ChartBuilder::on(area);
    cb.margin(10);
    if text {
        cb.caption(&p.title, ("sans-serif", 16)).x_label_area_size(32).y_label_area_size(54);
    }
    let mut chart = cb.build_cartesian_2d(p.years.0..p.years.1, (lo - pad)..(hi + pad))?;
    let mut mesh = chart.configure_mesh();
    mesh.light_line_style(WHITE.mix(0.0)).bold_line_style(BLACK.mix(0.08));
    if text {
        mesh.x_desc("year")
            .y_desc("CO2 (ppm)")
            .x_label_formatter(&year_label)
            .y_label_formatter(&|v| format!("{v:.0}"));
    } else {
        mesh.x_labels(0).y_labels(0);
    }
    mesh.draw()?;

    let band: Vec<(f64, f64, f64)> = p
        .band
        .year
        .iter()
        .zip(p.band.mean)
        .zip(p.band.sd)
        .filter(|((&x, _), _)| in_window(x, p.years))
        .map(|((&x, &m), &s)| (x, m, s))
        .collect();
    let outline: Vec<(f64, f64)> = band
        .iter()
        .map(|&(x, m, s)| (x, m + 2.0 * s))
        .chain(band.iter().rev().map(|&(x, m, s)| (x, m - 2.0 * s)))
        .collect();
    let s = chart.draw_series(std::iter::once(Polygon::new(outline, MEAN.mix(0.22).filled())))?;
    if text {
        s.label("±2σ (predictive, noise included)")
            .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 20, y + 5)], MEAN.mix(0.22).filled()));
    }
    let s = chart.draw_series(LineSeries::new(band.iter().map(|&(x, m, _)| (x, m)), MEAN.stroke_width(2)))?;
    if text {
        s.label("posterior mean")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], MEAN.stroke_width(2)));
    }
    for (pts, colour, label) in [(&p.train, TRAIN, "training weeks"), (&p.test, TEST, "held-out weeks")] {
        let s = chart.draw_series(
            pts.year
                .iter()
                .zip(pts.ppm)
                .filter(|(&x, _)| in_window(x, p.years))
                .map(|(&x, &y)| Circle::new((x, y), 2, colour.filled())),
        )?;
        if text {
            s.label(label).legend(move |(x, y)| Circle::new((x + 10, y), 3, colour.filled()));
        }
    }
    if let Some(c) = p.cut {
        chart.draw_series(std::iter::once(PathElement::new(
            [(c, lo - pad), (c, hi + pad)],
            BLACK.mix(0.5).stroke_width(1),
        )))?;
    }
    if text {
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK.mix(0.3))
            .draw()?;
    }
    Ok(())
}

/// Held-out residuals (y − mean) against time, one panel per split, with each point's ±2σ.
pub struct Residuals<'a> {
    pub title: String,
    pub year: &'a [f64],
    pub resid: &'a [f64],
    pub sd: &'a [f64],
}

/// The residual panels stacked vertically in one PNG.
pub fn residuals(path: &Path, panels: &[Residuals], text: bool) -> Res {
    let root = BitMapBackend::new(path, (1100, 300 * panels.len() as u32)).into_drawing_area();
    root.fill(&WHITE)?;
    for (area, r) in root.split_evenly((panels.len(), 1)).iter().zip(panels) {
        let (x0, x1) =
            r.year.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| (a.min(x), b.max(x)));
        let (x0, x1) = if x1 > x0 { (x0 - 0.3, x1 + 0.3) } else { (1958.0, 2002.0) };
        let lim = r
            .resid
            .iter()
            .zip(r.sd)
            .map(|(e, s)| e.abs().max(2.0 * s))
            .filter(|v| v.is_finite())
            .fold(0.5f64, f64::max)
            * 1.08;
        let mut cb = ChartBuilder::on(area);
        cb.margin(10);
        if text {
            cb.caption(&r.title, ("sans-serif", 16)).x_label_area_size(32).y_label_area_size(54);
        }
        let mut chart = cb.build_cartesian_2d(x0..x1, -lim..lim)?;
        let mut mesh = chart.configure_mesh();
        mesh.light_line_style(WHITE.mix(0.0)).bold_line_style(BLACK.mix(0.08));
        if text {
            mesh.x_desc("year")
                .y_desc("y - mean (ppm)")
                .x_label_formatter(&year_label)
                .y_label_formatter(&|v| format!("{v:.1}"));
        } else {
            mesh.x_labels(0).y_labels(0);
        }
        mesh.draw()?;
        chart.draw_series(std::iter::once(PathElement::new([(x0, 0.0), (x1, 0.0)], BLACK.mix(0.5))))?;
        let s = chart.draw_series(
            r.year
                .iter()
                .zip(r.sd)
                .map(|(&x, &s)| PathElement::new([(x, -2.0 * s), (x, 2.0 * s)], MEAN.mix(0.25))),
        )?;
        if text {
            s.label("±2σ of each prediction")
                .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], MEAN.mix(0.4).stroke_width(3)));
        }
        let s = chart
            .draw_series(r.year.iter().zip(r.resid).map(|(&x, &e)| Circle::new((x, e), 2, TEST.filled())))?;
        if text {
            s.label("held-out residual").legend(|(x, y)| Circle::new((x + 10, y), 3, TEST.filled()));
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::UpperLeft)
                .background_style(WHITE.mix(0.9))
                .border_style(BLACK.mix(0.3))
                .draw()?;
        }
    }
    root.present()?;
    Ok(())
}
