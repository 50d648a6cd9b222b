//! The weekly Mauna Loa CO₂ record (`examples/data/co2_weekly.csv`, see the README beside it)
//! and the two train/test splits of the example.

use std::path::Path;
use svgp::batch::ShuffledEpochs;
use svgp::rng::Xoshiro256;

/// The vendored CSV.
pub const CSV: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/data/co2_weekly.csv");

/// The record: one entry per week with a measurement.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    /// Decimal year of each week (1958.24 … 2001.99), increasing.
    pub year: Vec<f64>,
    /// CO₂ in ppm.
    pub ppm: Vec<f64>,
}

impl Series {
    /// Number of weeks.
    pub fn len(&self) -> usize {
        self.year.len()
    }

    /// The weeks at `idx`, in the order given.
    pub fn select(&self, idx: &[usize]) -> Series {
        Series {
            year: idx.iter().map(|&i| self.year[i]).collect(),
            ppm: idx.iter().map(|&i| self.ppm[i]).collect(),
        }
    }
}

/// Reads a CSV with the header `date,year,co2_ppm`; errors name the file and the line.
pub fn load(path: &Path) -> Result<Series, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    parse(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Parses the CSV's text (see [`load`]).
pub fn parse(text: &str) -> Result<Series, String> {
    let mut lines = text.lines().enumerate();
    match lines.next() {
        Some((_, h)) if h.trim() == "date,year,co2_ppm" => {}
        Some((_, h)) => return Err(format!("line 1: expected the header date,year,co2_ppm, found {h:?}")),
        None => return Err("empty file".into()),
    }
    let mut s = Series { year: Vec::new(), ppm: Vec::new() };
    for (i, line) in lines {
        if line.trim().is_empty() {
            continue;
        }
        let lineno = i + 1;
        let cols: Vec<&str> = line.split(',').collect();
        if cols.len() != 3 {
            return Err(format!("line {lineno}: expected 3 columns, found {}", cols.len()));
        }
        let num = |c: &str, what: &str| -> Result<f64, String> {
            let v: f64 =
                c.trim().parse().map_err(|_| format!("line {lineno}: {what} is not a number: {c:?}"))?;
            if v.is_finite() {
                Ok(v)
            } else {
                Err(format!("line {lineno}: {what} is not finite: {c:?}"))
            }
        };
        let (year, ppm) = (num(cols[1], "year")?, num(cols[2], "co2_ppm")?);
        if s.year.last().is_some_and(|&last| year <= last) {
            return Err(format!("line {lineno}: years must increase ({year} after {})", s.year[s.len() - 1]));
        }
        s.year.push(year);
        s.ppm.push(ppm);
    }
    if s.len() < 10 {
        return Err(format!("{} weeks: too few to split and fit", s.len()));
    }
    Ok(s)
}

/// A train/test split of the record by index (each sorted by time).
#[derive(Clone, Debug, PartialEq)]
pub struct Split {
    /// `"random"` or `"extrapolate"`.
    pub name: &'static str,
    pub train: Vec<usize>,
    pub test: Vec<usize>,
}

/// A random `frac` of the weeks for training (a shuffle seeded by `seed`), the rest for testing.
pub fn random_split(n: usize, frac: f64, seed: u64) -> Result<Split, String> {
    let mut order = vec![0usize; n];
    ShuffledEpochs::new(n, Xoshiro256::from_u64(seed)).map_err(|e| e.to_string())?.next_batch(&mut order);
    let n_train = ((n as f64) * frac).round() as usize;
    if n_train == 0 || n_train >= n {
        return Err(format!("a training fraction of {frac} leaves no training or no test week out of {n}"));
    }
    let (mut train, mut test) = (order[..n_train].to_vec(), order[n_train..].to_vec());
    train.sort_unstable();
    test.sort_unstable();
    Ok(Split { name: "random", train, test })
}

/// Every week before `cut` (a decimal year) for training, the rest for testing.
pub fn split_at_year(year: &[f64], cut: f64) -> Result<Split, String> {
    let k = year.partition_point(|&y| y < cut);
    if k == 0 || k == year.len() {
        return Err(format!(
            "cutting at {cut} leaves no training or no test week ({:.2}–{:.2})",
            year[0],
            year[year.len() - 1]
        ));
    }
    Ok(Split { name: "extrapolate", train: (0..k).collect(), test: (k..year.len()).collect() })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test
mod tests {
    use super::*;

    #[test]
    fn the_vendored_record_loads() {
        let s = load(Path::new(CSV)).unwrap();
        assert_eq!(s.len(), 2225);
        assert_eq!((s.year[0], s.ppm[0]), (1958.238356, 316.1));
        assert_eq!((s.year[2224], s.ppm[2224]), (2001.991781, 371.5));
        assert!(s.ppm.iter().all(|&v| (300.0..400.0).contains(&v)));
    }

    #[test]
    fn bad_files_name_the_line() {
        assert!(parse("year,co2\n").unwrap_err().contains("line 1: expected the header"));
        let rows = |extra: &str| {
            let mut t = String::from("date,year,co2_ppm\n");
            for k in 0..12 {
                t += &format!("d,{},{}\n", 1960.0 + k as f64, 320.0 + k as f64);
            }
            t + extra
        };
        assert!(parse(&rows("")).is_ok());
        assert!(parse(&rows("d,1999,abc\n")).unwrap_err().contains("line 14: co2_ppm is not a number"));
        assert!(parse(&rows("d,1999\n")).unwrap_err().contains("line 14: expected 3 columns"));
        assert!(parse(&rows("d,1965,330\n")).unwrap_err().contains("line 14: years must increase"));
        assert!(parse(&rows("d,1999,inf\n")).unwrap_err().contains("not finite"));
        assert!(load(Path::new("no/such/file.csv")).unwrap_err().contains("cannot read no/such/file.csv"));
    }

    #[test]
    fn splits_partition_the_weeks() {
        let s = load(Path::new(CSV)).unwrap();
        let r = random_split(s.len(), 0.8, 0).unwrap();
        assert_eq!((r.train.len(), r.test.len()), (1780, 445));
        let mut all: Vec<usize> = r.train.iter().chain(&r.test).copied().collect();
        all.sort_unstable();
        assert_eq!(all, (0..s.len()).collect::<Vec<_>>());
        assert_ne!(r.train, random_split(s.len(), 0.8, 1).unwrap().train);
        let e = split_at_year(&s.year, 1995.0).unwrap();
        assert_eq!((e.train.len(), e.test.len()), (1860, 365));
        assert!(s.year[e.train[e.train.len() - 1]] < 1995.0 && s.year[e.test[0]] >= 1995.0);
        assert!(split_at_year(&s.year, 1900.0).is_err());
        assert!(random_split(s.len(), 1.0, 0).is_err());
    }
}
