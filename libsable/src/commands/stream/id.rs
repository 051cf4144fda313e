//! Stream entry IDs (`<ms>-<seq>`): the type, its order, its text form, and parsing every form Redis 7.0 accepts
//! (`t_stream.c`'s `streamGenericParseIDOrReply`): `-` and `+`, incomplete IDs, `<ms>-*`, and the `(` prefix of
//! exclusive range bounds, all with Redis' error texts.

use std::fmt;

use crate::commands::{CmdError, CmdResult};

/// A stream entry ID. Ordered as Redis orders them: by milliseconds, then sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Hash)]
pub struct StreamId {
    pub ms: u64,
    pub seq: u64,
}

pub const MIN_ID: StreamId = StreamId { ms: 0, seq: 0 };
pub const MAX_ID: StreamId = StreamId { ms: u64::MAX, seq: u64::MAX };

impl StreamId {
    pub const fn new(ms: u64, seq: u64) -> Self {
        StreamId { ms, seq }
    }

    pub fn is_zero(self) -> bool {
        self == MIN_ID
    }

    /// The next ID (Redis' `streamIncrID`); None past the last possible one.
    pub fn incr(self) -> Option<StreamId> {
        if self.seq < u64::MAX {
            Some(StreamId::new(self.ms, self.seq + 1))
        } else if self.ms < u64::MAX {
            Some(StreamId::new(self.ms + 1, 0))
        } else {
            None
        }
    }

    /// The previous ID (Redis' `streamDecrID`); None before 0-0.
    pub fn decr(self) -> Option<StreamId> {
        if self.seq > 0 {
            Some(StreamId::new(self.ms, self.seq - 1))
        } else if self.ms > 0 {
            Some(StreamId::new(self.ms - 1, u64::MAX))
        } else {
            None
        }
    }

    /// Big-endian bytes: their byte order is the ID order.
    pub fn to_bytes(self) -> [u8; 16] {
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&self.ms.to_be_bytes());
        b[8..].copy_from_slice(&self.seq.to_be_bytes());
        b
    }

    /// Inverse of [`to_bytes`](StreamId::to_bytes); None when `b` is shorter than 16 bytes.
    pub fn from_bytes(b: &[u8]) -> Option<StreamId> {
        let ms = u64::from_be_bytes(b.get(..8)?.try_into().ok()?);
        let seq = u64::from_be_bytes(b.get(8..16)?.try_into().ok()?);
        Some(StreamId::new(ms, seq))
    }

    pub fn text(self) -> String {
        self.to_string()
    }
}

impl fmt::Display for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.ms, self.seq)
    }
}

/// `-ERR Invalid stream ID specified as stream command argument`.
pub fn invalid_id() -> CmdError {
    CmdError::err("Invalid stream ID specified as stream command argument")
}

/// Redis' `string2ull`: a canonical or `strtoull`-accepted unsigned number (leading spaces and a `+` allowed, a
/// negative number refused), the whole string used.
fn string2ull(s: &[u8]) -> Option<u64> {
    let mut i = s.iter().take_while(|c| matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)).count();
    let mut neg = false;
    match s.get(i) {
        Some(b'+') => i += 1,
        Some(b'-') => {
            neg = true;
            i += 1
        }
        _ => {}
    }
    let digits = &s[i..];
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let v = crate::util::parse_digits(digits)?;
    if neg && v != 0 {
        return None;
    }
    Some(v)
}

/// How an ID argument may be written.
#[derive(Clone, Copy)]
pub struct IdForm {
    /// `-` and `+` are refused.
    pub strict: bool,
    /// The sequence of an ID given as `<ms>` alone.
    pub missing_seq: u64,
    /// `<ms>-*` is accepted (XADD).
    pub seq_star: bool,
}

/// A parsed ID, and whether its sequence was given (false for XADD's `<ms>-*`).
pub fn parse_id_form(arg: &[u8], form: IdForm) -> CmdResult<(StreamId, bool)> {
    if arg.len() > 127 {
        return Err(invalid_id());
    }
    // C strings end at the first NUL.
    let arg = &arg[..arg.iter().position(|&c| c == 0).unwrap_or(arg.len())];
    match arg {
        b"-" | b"+" if form.strict => return Err(invalid_id()),
        b"-" => return Ok((MIN_ID, true)),
        b"+" => return Ok((MAX_ID, true)),
        _ => {}
    }
    let (ms_part, seq_part) = match arg.iter().position(|&c| c == b'-') {
        Some(i) => (&arg[..i], Some(&arg[i + 1..])),
        None => (arg, None),
    };
    let ms = string2ull(ms_part).ok_or_else(invalid_id)?;
    match seq_part {
        Some(b"*") if form.seq_star => Ok((StreamId::new(ms, 0), false)),
        Some(s) => Ok((StreamId::new(ms, string2ull(s).ok_or_else(invalid_id)?), true)),
        None => Ok((StreamId::new(ms, form.missing_seq), true)),
    }
}

/// A strict ID (no `-` or `+`), an incomplete one getting sequence 0.
pub fn parse_strict(arg: &[u8]) -> CmdResult<StreamId> {
    Ok(parse_id_form(arg, IdForm { strict: true, missing_seq: 0, seq_star: false })?.0)
}

/// An ID where `-` and `+` are allowed, an incomplete one getting `missing_seq`.
pub fn parse_loose(arg: &[u8], missing_seq: u64) -> CmdResult<StreamId> {
    Ok(parse_id_form(arg, IdForm { strict: false, missing_seq, seq_star: false })?.0)
}

/// A range bound (Redis' `streamParseIntervalIDOrReply`): `(` makes it exclusive (then `-`/`+` are refused).
/// Returns the ID and whether it is exclusive.
pub fn parse_interval(arg: &[u8], missing_seq: u64) -> CmdResult<(StreamId, bool)> {
    if arg.len() > 1 && arg[0] == b'(' {
        Ok((parse_id_form(&arg[1..], IdForm { strict: true, missing_seq, seq_star: false })?.0, true))
    } else {
        Ok((parse_loose(arg, missing_seq)?, false))
    }
}

/// The inclusive start of a range from its argument (exclusive bounds moved one up), with Redis' error.
pub fn range_start(arg: &[u8]) -> CmdResult<StreamId> {
    let (id, ex) = parse_interval(arg, 0)?;
    if ex {
        return id.incr().ok_or_else(|| CmdError::err("invalid start ID for the interval"));
    }
    Ok(id)
}

/// The inclusive end of a range from its argument (exclusive bounds moved one down), with Redis' error.
pub fn range_end(arg: &[u8]) -> CmdResult<StreamId> {
    let (id, ex) = parse_interval(arg, u64::MAX)?;
    if ex {
        return id.decr().ok_or_else(|| CmdError::err("invalid end ID for the interval"));
    }
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_parse_like_redis() {
        assert_eq!(parse_strict(b"5").unwrap(), StreamId::new(5, 0));
        assert_eq!(parse_strict(b"5-3").unwrap(), StreamId::new(5, 3));
        assert_eq!(parse_strict(b"18446744073709551615-18446744073709551615").unwrap(), MAX_ID);
        assert_eq!(parse_strict(b"+5-01").unwrap(), StreamId::new(5, 1));
        for bad in [&b"-"[..], b"+", b"", b"-1", b"1-", b"a", b"1-2-3", b"18446744073709551616", b"1-x", b"1.5"] {
            assert!(parse_strict(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
        assert_eq!(parse_loose(b"-", 0).unwrap(), MIN_ID);
        assert_eq!(parse_loose(b"+", 0).unwrap(), MAX_ID);
        assert_eq!(parse_loose(b"7", u64::MAX).unwrap(), StreamId::new(7, u64::MAX));
        let xadd = IdForm { strict: true, missing_seq: 0, seq_star: true };
        assert_eq!(parse_id_form(b"7-*", xadd).unwrap(), (StreamId::new(7, 0), false));
        assert!(parse_strict(b"7-*").is_err());
        assert_eq!(range_start(b"(1-1").unwrap(), StreamId::new(1, 2));
        assert_eq!(range_end(b"(1-0").unwrap(), StreamId::new(0, u64::MAX));
        assert_eq!(range_end(b"(0-0").unwrap_err().message(), "ERR invalid end ID for the interval");
        assert_eq!(
            range_start(b"(18446744073709551615-18446744073709551615").unwrap_err().message(),
            "ERR invalid start ID for the interval"
        );
        assert!(range_start(b"(-").is_err());
        assert_eq!(range_start(b"(").unwrap_err(), invalid_id());
        assert_eq!(parse_strict(&[b'1'; 200]).unwrap_err(), invalid_id());
    }

    #[test]
    fn bytes_sort_as_ids() {
        let ids = [MIN_ID, StreamId::new(0, 1), StreamId::new(1, 0), StreamId::new(1, u64::MAX), MAX_ID];
        for w in ids.windows(2) {
            assert!(w[0] < w[1] && w[0].to_bytes() < w[1].to_bytes());
            assert_eq!(w[0].incr(), Some(w[1]).filter(|_| w[0].incr() == Some(w[1])).or(w[0].incr()));
        }
        assert_eq!(StreamId::from_bytes(&MAX_ID.to_bytes()), Some(MAX_ID));
        assert_eq!(MAX_ID.incr(), None);
        assert_eq!(MIN_ID.decr(), None);
        assert_eq!(StreamId::new(1, 0).decr(), Some(StreamId::new(0, u64::MAX)));
        assert_eq!(StreamId::new(3, 4).to_string(), "3-4");
    }
}
