//! Argument checks the examples share (included with `#[path]`): numbers in range, an output
//! directory that can be written, and a memory estimate against what the machine has, so that
//! a bad command line fails at once with a message naming the flag, the path or the size,
//! before any training.

use std::path::Path;

/// Parses `value` of `flag` as an integer in `[min, max]`.
pub fn count(flag: &str, value: &str, min: usize, max: usize) -> Result<usize, String> {
    let v: usize = value.parse().map_err(|_| format!("{flag}: not a non-negative integer: {value:?}"))?;
    if v < min || v > max {
        return Err(format!("{flag} must be in [{min}, {max}], got {v}"));
    }
    Ok(v)
}

/// Parses `value` of `flag` as a finite number that `ok` accepts (`want` says what it wants).
pub fn number(flag: &str, value: &str, want: &str, ok: impl Fn(f64) -> bool) -> Result<f64, String> {
    let v: f64 = value.parse().map_err(|_| format!("{flag}: not a number: {value:?}"))?;
    if !(v.is_finite() && ok(v)) {
        return Err(format!("{flag} must be {want}, got {value}"));
    }
    Ok(v)
}

/// Creates `dir` (and its parents) and writes and removes a probe file in it, so an unwritable
/// output directory is reported before the work, naming the directory and the operation.
pub fn writable_dir(dir: &Path) -> Result<(), String> {
    std::fs::create_dir_all(dir)
        .map_err(|e| format!("cannot create output directory {}: {e}", dir.display()))?;
    let probe = dir.join(format!(".svgp-write-probe-{}", std::process::id()));
    std::fs::write(&probe, b"probe")
        .map_err(|e| format!("cannot write in output directory {}: {e}", dir.display()))?;
    std::fs::remove_file(&probe).map_err(|e| format!("cannot remove probe file {}: {e}", probe.display()))
}

/// Checks that `path` can be created as a file: its directory exists (or can be created) and
/// is writable. The file itself is not created.
pub fn writable_file(path: &Path) -> Result<(), String> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    if path.is_dir() {
        return Err(format!("{} is a directory, not a file", path.display()));
    }
    writable_dir(dir)
}

/// Checks that `path` is a readable file.
pub fn readable_file(path: &Path) -> Result<(), String> {
    std::fs::File::open(path).map(|_| ()).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// Bytes of memory available to a new allocation (Linux `MemAvailable`), if the system says.
pub fn available_memory() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/meminfo").ok()?;
    let kib: u64 =
        s.lines().find(|l| l.starts_with("MemAvailable:"))?.split_whitespace().nth(1)?.parse().ok()?;
    kib.checked_mul(1024)
}

/// What [`fits_in_memory`] allows where the system does not say what is available: 1 TiB.
const UNKNOWN_AVAILABLE: u64 = 1 << 40;

/// Refuses a run whose buffers need more memory than the machine has available: `bytes` is
/// the estimate (`None`: it does not even fit in 64 bits), `what` says what needs it.
pub fn fits_in_memory(what: &str, bytes: Option<u64>) -> Result<(), String> {
    let gib = |b: u64| b as f64 / (1u64 << 30) as f64;
    let Some(b) = bytes else {
        return Err(format!("{what}: the buffers' size overflows (the sizes asked for are absurd)"));
    };
    let (avail, known) = available_memory().map_or((UNKNOWN_AVAILABLE, false), |a| (a, true));
    if b > avail {
        return Err(format!(
            "{what} needs about {:.1} GiB of memory, but {} {:.1} GiB",
            gib(b),
            if known { "only this much is available:" } else { "the limit where the system does not say is" },
            gib(avail)
        ));
    }
    Ok(())
}

/// `n` values of `bytes_each` bytes, as a checked byte count.
pub fn bytes_of(n: usize, bytes_each: usize) -> Option<u64> {
    (n as u64).checked_mul(bytes_each as u64)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test
mod tests {
    use super::*;

    #[test]
    fn counts_and_numbers_in_range() {
        assert_eq!(count("--n", "600", 1, 1000), Ok(600));
        assert!(count("--n", "0", 1, 1000).unwrap_err().contains("--n must be in [1, 1000]"));
        assert!(count("--n", "-3", 1, 1000).unwrap_err().contains("not a non-negative integer"));
        assert!(count("--n", "99999999999999999999999", 1, 1000).is_err());
        assert_eq!(number("--lr", "0.01", "> 0", |v| v > 0.0), Ok(0.01));
        assert!(number("--lr", "-1", "> 0", |v| v > 0.0).unwrap_err().contains("--lr must be > 0"));
        assert!(number("--lr", "inf", "> 0", |v| v > 0.0).is_err());
        assert!(number("--lr", "NaN", "> 0", |v| v > 0.0).is_err());
    }

    #[test]
    fn output_checks_name_the_path() {
        let base = std::env::temp_dir().join(format!("svgp-checks-{}", std::process::id()));
        let nested = base.join("a/b");
        writable_dir(&nested).unwrap();
        assert!(nested.is_dir());
        writable_file(&nested.join("model.bin")).unwrap();
        assert!(!nested.join("model.bin").exists());
        // A path under a regular file cannot be a directory.
        let file = base.join("plain");
        std::fs::write(&file, b"x").unwrap();
        let e = writable_dir(&file.join("out")).unwrap_err();
        assert!(e.contains("cannot create output directory") && e.contains("plain/out"), "{e}");
        assert!(writable_file(&nested).unwrap_err().contains("is a directory"));
        assert!(readable_file(&base.join("missing.log")).unwrap_err().contains("missing.log"));
        std::fs::remove_dir_all(&base).unwrap();
    }

    #[test]
    fn absurd_sizes_are_refused_before_allocation() {
        // 10^13 points of 16 bytes: 160 TB.
        let e = fits_in_memory("the training data", bytes_of(10_000_000_000_000, 16)).unwrap_err();
        assert!(e.contains("the training data needs about") && e.contains("GiB"), "{e}");
        assert!(fits_in_memory("x", None).unwrap_err().contains("overflows"));
        assert!(fits_in_memory("a small buffer", bytes_of(1000, 8)).is_ok());
    }
}
