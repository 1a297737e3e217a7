//! How durations are written for people and for JSON.

use std::time::Duration;

/// For a sentence: `0.4 ms`, `3.2 ms`, `45 ms`, `1.9 s`.
pub fn short(duration: Duration) -> String {
    readable(duration, 1)
}

/// For a table cell, at most 7 columns: `0.4 ms`, `45 ms`, `1.93 s`, `12.34 s`.
pub fn cell(duration: Duration) -> String {
    readable(duration, 2)
}

/// Milliseconds below a second (one decimal under 10 ms), seconds with `second_decimals` above.
fn readable(duration: Duration, second_decimals: usize) -> String {
    let ms = millis(duration);
    if ms < 10.0 {
        format!("{ms:.1} ms")
    } else if ms < 1000.0 {
        format!("{ms:.0} ms")
    } else {
        format!("{:.second_decimals$} s", ms / 1000.0)
    }
}

/// Milliseconds with a fraction, as JSON numbers (microsecond precision).
pub fn millis(duration: Duration) -> f64 {
    (duration.as_secs_f64() * 1_000_000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_well() {
        let ms = Duration::from_micros;
        assert_eq!(short(ms(420)), "0.4 ms");
        assert_eq!(short(ms(45_300)), "45 ms");
        assert_eq!(short(ms(1_930_000)), "1.9 s");
        assert_eq!(cell(ms(1_930_000)), "1.93 s");
        assert_eq!(cell(ms(3_210)), "3.2 ms");
        assert!(cell(ms(99_999_000)).len() <= 8);
        assert_eq!(millis(ms(1_234_567)), 1234.567);
    }
}
