//! Small helpers shared by every layer: Redis-exact number parsing and formatting, time, glob matching.

pub mod glob;
pub mod hdr;
pub mod pqsort;

use std::cell::Cell;
use std::time::{SystemTime, UNIX_EPOCH};

/// The value of a run of ASCII digits (no sign); None on anything else or on overflow of a u64.
pub fn parse_digits(digits: &[u8]) -> Option<u64> {
    let mut v: u64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add((c - b'0') as u64)?;
    }
    Some(v)
}

/// Parses a decimal integer exactly as Redis' `string2ll`: optional `-`, no `+`, no leading zeros, no spaces,
/// no overflow.
pub fn parse_i64(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    if s == b"0" {
        return Some(0);
    }
    let (neg, digits) = if s[0] == b'-' { (true, &s[1..]) } else { (false, s) };
    if digits.is_empty() || !(b'1'..=b'9').contains(&digits[0]) {
        return None;
    }
    let v = parse_digits(digits)?;
    if neg {
        if v > i64::MAX as u64 + 1 {
            None
        } else {
            Some((v as i64).wrapping_neg())
        }
    } else {
        i64::try_from(v).ok()
    }
}

/// Parses a double as Redis does (`strtod` over the whole string): no leading space, no trailing garbage, `inf`
/// and `infinity` in any case with an optional sign, never NaN.
pub fn parse_f64(s: &[u8]) -> Option<f64> {
    if s.is_empty() || s[0].is_ascii_whitespace() || s.len() > 5000 {
        return None;
    }
    let text = std::str::from_utf8(s).ok()?;
    let lower = text.to_ascii_lowercase();
    let body = lower.trim_start_matches(['+', '-']);
    if body.starts_with("nan") || lower.len() - body.len() > 1 {
        return None;
    }
    if body.starts_with("0x") {
        return parse_hex_float(&lower);
    }
    let v: f64 = text.parse().ok()?;
    if v.is_nan() {
        None
    } else {
        Some(v)
    }
}

/// `strtod` also accepts C99 hex floats (`0x1p3`); rare, but Redis users can send them.
fn parse_hex_float(s: &str) -> Option<f64> {
    let (neg, rest) = match s.as_bytes()[0] {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let rest = rest.strip_prefix("0x")?;
    let (mant, exp) = match rest.find('p') {
        Some(i) => (&rest[..i], rest[i + 1..].parse::<i32>().ok()?),
        None => (rest, 0),
    };
    let (int_part, frac_part) = match mant.find('.') {
        Some(i) => (&mant[..i], &mant[i + 1..]),
        None => (mant, ""),
    };
    if int_part.is_empty() && frac_part.is_empty() {
        return None;
    }
    let mut v = 0f64;
    for c in int_part.chars() {
        v = v * 16.0 + c.to_digit(16)? as f64;
    }
    let mut scale = 1.0 / 16.0;
    for c in frac_part.chars() {
        v += c.to_digit(16)? as f64 * scale;
        scale /= 16.0;
    }
    let v = v * 2f64.powi(exp);
    Some(if neg { -v } else { v })
}

/// Formats a double as C's `%.17g`, which is how Redis 7.0 replies with scores and floats; infinities are `inf`
/// and `-inf`.
pub fn fmt_double(d: f64) -> String {
    fmt_g(d, 17)
}

/// C's `%.{precision}g`.
pub fn fmt_g(d: f64, precision: usize) -> String {
    if d.is_infinite() {
        return if d > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if d.is_nan() {
        return "nan".into();
    }
    if d == 0.0 {
        return if d.is_sign_negative() { "-0".into() } else { "0".into() };
    }
    let p = precision.max(1);
    let sci = format!("{:.*e}", p - 1, d);
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if exp < -4 || exp >= p as i32 {
        let m = trim_fraction(mantissa);
        format!("{}e{}{:02}", m, if exp < 0 { '-' } else { '+' }, exp.abs())
    } else {
        let decimals = (p as i32 - 1 - exp).max(0) as usize;
        trim_fraction(&format!("{:.*}", decimals, d)).to_string()
    }
}

/// C's `%f` with the fraction's trailing zeros (and a bare point) removed: Redis' `trimDoubleString`.
pub fn fmt_f_trimmed(d: f64) -> String {
    trim_fraction(&format!("{d:.6}")).to_string()
}

fn trim_fraction(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

/// Milliseconds since the Unix epoch; inside a command, the time the command started (see [`command_clock`]).
pub fn now_ms() -> u64 {
    match COMMAND_MS.get() {
        0 => wall_ms(),
        at => at,
    }
}

/// True while this thread runs a command (inside [`command_clock`]).
pub fn in_command() -> bool {
    COMMAND_MS.get() != 0
}

/// Milliseconds since the Unix epoch, now (also inside a command).
pub fn wall_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

thread_local! {
    /// The time of the command this thread is running, 0 outside commands.
    static COMMAND_MS: Cell<u64> = const { Cell::new(0) };
}

/// The clock of one command, as Redis' per-command time snapshot: every expiry check of the command (and of a
/// transaction's commands) sees the same time, the wall clock read when it started (read each time: a time
/// carried forward from an earlier reading by the monotonic clock ran behind the wall after the system clock was
/// adjusted, and a client that set PXAT from its own clock then saw a PTTL above what it set). The same reading
/// starts the command's timing for INFO commandstats and the slow log, ended by [`CommandClock::elapsed_us`]: two
/// clock reads a command, as Redis' `call()` times with `ustime()` (a wall clock set back in between gives 0).
/// Dropping it ends the snapshot.
pub struct CommandClock {
    started_us: u64,
    outermost: bool,
}

/// Starts the clock of a command; a command inside another (EXEC's) keeps the outer one's time.
pub fn command_clock() -> CommandClock {
    let started_us = now_us();
    let outermost = COMMAND_MS.get() == 0;
    if outermost {
        COMMAND_MS.set((started_us / 1000).max(1));
    }
    CommandClock { started_us, outermost }
}

impl CommandClock {
    /// Microseconds since the command started.
    pub fn elapsed_us(&self) -> u64 {
        now_us().saturating_sub(self.started_us)
    }
}

impl Drop for CommandClock {
    fn drop(&mut self) {
        if self.outermost {
            COMMAND_MS.set(0);
        }
    }
}

/// Microseconds since the Unix epoch.
pub fn now_us() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_micros() as u64).unwrap_or(0)
}

/// A random number from the standard library's per-process random hasher keys, mixed with a counter and the
/// clock: unpredictable enough for cursors, run ids and RANDOMKEY, and no extra dependency.
pub fn random_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    h.write_u64(now_us());
    h.finish()
}

/// A random lowercase hex string of `n` characters (run ids).
pub fn random_hex(n: usize) -> String {
    let mut out = String::with_capacity(n + 16);
    while out.len() < n {
        out.push_str(&format!("{:016x}", random_u64()));
    }
    out.truncate(n);
    out
}

/// First code point of the private-use block that carries raw bytes inside error texts (see [`arg_text`]).
const RAW_BYTE_BASE: u32 = 0x10FF00;

/// A client argument as Redis prints it into an error text with `%s`: cut at its first NUL byte, every other
/// byte kept as it is. Bytes ≥ 0x80 travel through the `String` as private-use characters that
/// [`crate::resp::reply::Reply::error`] turns back into the same bytes, so error replies are byte-exact.
pub fn arg_text(b: &[u8]) -> String {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    b[..end]
        .iter()
        .map(|&c| if c < 0x80 { c as char } else { char::from_u32(RAW_BYTE_BASE + c as u32).unwrap_or('?') })
        .collect()
}

/// The byte a character of an error text stands for: raw bytes carried by [`arg_text`], or None for ordinary
/// characters.
pub fn raw_byte_of(c: char) -> Option<u8> {
    let v = c as u32;
    (RAW_BYTE_BASE..RAW_BYTE_BASE + 256).contains(&v).then(|| (v - RAW_BYTE_BASE) as u8)
}

/// ASCII case-insensitive comparison without allocating.
pub fn eq_ic(a: &[u8], b: &[u8]) -> bool {
    a.eq_ignore_ascii_case(b)
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_command_sees_one_time_and_a_nested_one_the_outer_time() {
        assert_eq!(COMMAND_MS.get(), 0);
        let outer = command_clock();
        let at = now_ms();
        assert!(at.abs_diff(wall_ms()) <= 25, "{at} vs {}", wall_ms());
        std::thread::sleep(std::time::Duration::from_millis(5));
        assert_eq!(now_ms(), at, "the time stands still within a command");
        {
            let _inner = command_clock();
            assert_eq!(now_ms(), at);
        }
        assert_eq!(now_ms(), at, "the inner command leaves the outer time");
        drop(outer);
        assert!(now_ms() >= at + 5, "outside commands the clock runs");
    }

    #[test]
    fn a_command_clock_never_runs_behind_the_wall() {
        // A client that sets PXAT from its own clock expects PTTL ≤ the span it gave (Redis' GETEX PXAT test).
        let end = std::time::Instant::now() + std::time::Duration::from_millis(60);
        while std::time::Instant::now() < end {
            let before = wall_ms();
            let clock = command_clock();
            let at = now_ms();
            drop(clock);
            assert!(at >= before && at <= wall_ms(), "{before} ≤ {at} ≤ now");
            std::thread::sleep(std::time::Duration::from_micros(300));
        }
    }

    use super::*;

    #[test]
    fn integers_follow_string2ll() {
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_i64(b"9223372036854775807"), Some(i64::MAX));
        for bad in [&b"9223372036854775808"[..], b"+1", b"01", b"-0", b" 1", b"1 ", b"", b"-", b"1.0"] {
            assert_eq!(parse_i64(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn doubles_follow_strtod() {
        assert_eq!(parse_f64(b"1.5"), Some(1.5));
        assert_eq!(parse_f64(b"-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_f64(b"+Infinity"), Some(f64::INFINITY));
        assert_eq!(parse_f64(b"1e3"), Some(1000.0));
        assert_eq!(parse_f64(b"0x10"), Some(16.0));
        assert_eq!(parse_f64(b".5"), Some(0.5));
        for bad in [&b"nan"[..], b" 1", b"1 ", b"", b"abc", b"--1"] {
            assert_eq!(parse_f64(bad), None);
        }
    }

    #[test]
    fn g17_matches_c() {
        assert_eq!(fmt_double(1.1), "1.1000000000000001");
        assert_eq!(fmt_double(3.0), "3");
        assert_eq!(fmt_double(1e20), "1e+20");
        assert_eq!(fmt_double(0.0001), "0.0001");
        assert_eq!(fmt_double(0.00001), "1.0000000000000001e-05");
        assert_eq!(fmt_double(-2.5), "-2.5");
        assert_eq!(fmt_g(1234567.0, 6), "1.23457e+06");
    }
}
