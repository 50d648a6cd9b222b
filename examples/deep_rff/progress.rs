//! Training progress on stderr: one updating line (`\r`) on a terminal, a plain line every few
//! hundred steps otherwise (logs and CI stay readable).

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// Progress display for one training run.
pub struct Progress {
    label: String,
    total: usize,
    tty: bool,
    enabled: bool,
    start: Instant,
    last_draw: Option<Instant>,
}

/// A plain line every this many steps when stderr is not a terminal.
const LOG_EVERY: usize = 500;
/// Redraw at most this often on a terminal.
const REDRAW: Duration = Duration::from_millis(80);

impl Progress {
    pub fn new(label: &str, total: usize, enabled: bool) -> Self {
        Progress {
            label: label.to_string(),
            total,
            tty: std::io::stderr().is_terminal(),
            enabled,
            start: Instant::now(),
            last_draw: None,
        }
    }

    /// Report step `step` (1-based) with its loss.
    pub fn update(&mut self, step: usize, loss: f64) {
        if !self.enabled {
            return;
        }
        let now = Instant::now();
        let last = step == self.total;
        if self.tty {
            let due = self.last_draw.is_none_or(|t| now.duration_since(t) >= REDRAW);
            if !(due || last) {
                return;
            }
            self.last_draw = Some(now);
            let width = 24;
            let filled = (step * width).checked_div(self.total).unwrap_or(width).min(width);
            let bar: String = "#".repeat(filled) + &"-".repeat(width - filled);
            let elapsed = now.duration_since(self.start).as_secs_f64();
            let eta = if step > 0 { elapsed / step as f64 * (self.total - step) as f64 } else { 0.0 };
            let mut err = std::io::stderr().lock();
            let _ = write!(
                err,
                "\r\x1b[2K{:<6} [{bar}] {step:>5}/{}  -ELBO {loss:>12.3}  {elapsed:6.1}s  eta {eta:5.1}s",
                self.label, self.total
            );
            if last {
                let _ = writeln!(err);
            }
            let _ = err.flush();
        } else if step == 1 || step.is_multiple_of(LOG_EVERY) || last {
            let elapsed = now.duration_since(self.start).as_secs_f64();
            eprintln!("{:<6} step {step:>5}/{}  -ELBO {loss:>12.3}  {elapsed:6.1}s", self.label, self.total);
        }
    }
}
