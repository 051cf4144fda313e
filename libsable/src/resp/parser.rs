//! Request parser: turns the bytes a client sent into argument vectors.
//!
//! Requests are RESP multibulk arrays (`*2\r\n$3\r\nGET\r\n$1\r\nk\r\n`) or inline commands (`PING\r\n`, as typed
//! into telnet). The parser never consumes a partial frame, never allocates for a length it has not validated
//! against the configured limits, and reports malformed input with Redis' exact protocol error texts.
//! Arguments are zero-copy `Bytes` slices of the read buffer.

use bytes::{Bytes, BytesMut};

/// The argument vector of one command: `argv[0]` is the command name.
pub type Argv = Vec<Bytes>;

/// Lines (counts, lengths, inline commands) longer than this are refused, as in Redis.
const MAX_INLINE: usize = 64 * 1024;
/// Redis refuses a multibulk count above this (its `INT_MAX` check); preallocation is capped far lower.
const MAX_MULTIBULK: i64 = i32::MAX as i64;
const PREALLOC_ARGS: usize = 1024;

/// A malformed request: the text follows `-ERR Protocol error: `, then the connection is closed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtocolError(pub String);

/// Result of one parse attempt.
#[derive(Debug, PartialEq, Eq)]
pub enum Parsed {
    /// A complete command.
    Command(Argv),
    /// An empty request (`*0`, `*-1` or a blank inline line) was consumed; nothing to run.
    Empty,
    /// The buffer holds only part of a frame.
    Incomplete,
}

/// Stateless request parser carrying the configured size limits.
#[derive(Debug, Clone, Copy)]
pub struct RequestParser {
    pub max_bulk_len: i64,
    /// The client has not authenticated: Redis refuses more than 10 arguments or a bulk over 16 KiB before
    /// allocating for them, so an unauthenticated peer cannot make the server reserve much memory.
    pub unauthenticated: bool,
}

/// Redis' limits for a client that has not authenticated.
const UNAUTH_MAX_MULTIBULK: i64 = 10;
const UNAUTH_MAX_BULK: i64 = 16384;

impl RequestParser {
    pub fn new(max_bulk_len: i64) -> Self {
        Self { max_bulk_len, unauthenticated: false }
    }

    /// A parser with Redis' limits for a client that has not authenticated.
    pub fn unauthenticated(max_bulk_len: i64) -> Self {
        Self { max_bulk_len, unauthenticated: true }
    }

    /// Parses one request from the front of `buf`, consuming it only when complete.
    pub fn parse(&self, buf: &mut BytesMut) -> Result<Parsed, ProtocolError> {
        if buf.is_empty() {
            return Ok(Parsed::Incomplete);
        }
        if buf[0] == b'*' {
            self.parse_multibulk(buf)
        } else {
            parse_inline(buf)
        }
    }

    fn parse_multibulk(&self, buf: &mut BytesMut) -> Result<Parsed, ProtocolError> {
        let Some((count, mut pos)) = read_number_line(buf, 1, "too big mbulk count string")? else {
            return Ok(Parsed::Incomplete);
        };
        let count = count.ok_or_else(|| proto("invalid multibulk length"))?;
        if count > MAX_MULTIBULK {
            return Err(proto("invalid multibulk length"));
        }
        if self.unauthenticated && count > UNAUTH_MAX_MULTIBULK {
            return Err(proto("unauthenticated multibulk length"));
        }
        if count <= 0 {
            let _ = buf.split_to(pos);
            return Ok(Parsed::Empty);
        }
        let mut ranges = Vec::with_capacity((count as usize).min(PREALLOC_ARGS));
        for _ in 0..count {
            if pos >= buf.len() {
                return Ok(Parsed::Incomplete);
            }
            if buf[pos] != b'$' {
                return Err(proto(&format!("expected '$', got '{}'", buf[pos] as char)));
            }
            let Some((len, after)) = read_number_line(buf, pos + 1, "too big bulk count string")? else {
                return Ok(Parsed::Incomplete);
            };
            let len = match len {
                Some(l) if l >= 0 && l <= self.max_bulk_len => l as usize,
                _ => return Err(proto("invalid bulk length")),
            };
            if self.unauthenticated && len as i64 > UNAUTH_MAX_BULK {
                return Err(proto("unauthenticated bulk length"));
            }
            let end = after + len;
            if buf.len() < end + 2 {
                // Let the reader grow the buffer once for a large value instead of doubling repeatedly.
                buf.reserve(end + 2 - buf.len());
                return Ok(Parsed::Incomplete);
            }
            ranges.push((after, end));
            pos = end + 2;
        }
        let frame = buf.split_to(pos).freeze();
        Ok(Parsed::Command(ranges.into_iter().map(|(s, e)| frame.slice(s..e)).collect()))
    }
}

fn proto(msg: &str) -> ProtocolError {
    ProtocolError(msg.to_string())
}

/// Reads a `\r\n`-terminated decimal number starting at `start`. Returns the parsed value (None when it is not a
/// valid integer) and the offset after the line, or None when the line is not complete yet.
#[allow(clippy::type_complexity)]
fn read_number_line(
    buf: &BytesMut,
    start: usize,
    too_big: &str,
) -> Result<Option<(Option<i64>, usize)>, ProtocolError> {
    let Some(rel) = memchr_cr(&buf[start..]) else {
        if buf.len() - start > MAX_INLINE {
            return Err(proto(too_big));
        }
        return Ok(None);
    };
    let line_end = start + rel;
    if line_end + 1 >= buf.len() {
        return Ok(None);
    }
    let value = crate::util::parse_i64(&buf[start..line_end]);
    Ok(Some((value, line_end + 2)))
}

fn memchr_cr(b: &[u8]) -> Option<usize> {
    b.iter().position(|&c| c == b'\r')
}

fn parse_inline(buf: &mut BytesMut) -> Result<Parsed, ProtocolError> {
    let Some(nl) = buf.iter().position(|&c| c == b'\n') else {
        if buf.len() > MAX_INLINE {
            return Err(proto("too big inline request"));
        }
        return Ok(Parsed::Incomplete);
    };
    let line = buf.split_to(nl + 1);
    let mut text = &line[..nl];
    if text.last() == Some(&b'\r') {
        text = &text[..text.len() - 1];
    }
    let args = split_args(text).ok_or_else(|| proto("unbalanced quotes in request"))?;
    if args.is_empty() {
        return Ok(Parsed::Empty);
    }
    Ok(Parsed::Command(args.into_iter().map(Bytes::from).collect()))
}

/// Splits a line into arguments the way Redis' `sdssplitargs` does: whitespace separated, with "double quoted"
/// strings (escapes `\n \r \t \b \a \\ \" \xHH`) and 'single quoted' strings (escape `\'`). None on unbalanced
/// quotes or a closing quote not followed by a space.
pub fn split_args(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    let mut args = Vec::new();
    let mut i = 0;
    let n = line.len();
    loop {
        while i < n && line[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= n {
            return Some(args);
        }
        let mut cur = Vec::new();
        let mut in_dq = false;
        let mut in_sq = false;
        loop {
            if in_dq {
                if i >= n {
                    return None;
                }
                let c = line[i];
                if c == b'\\' && i + 3 < n && line[i + 1] == b'x' && is_hex(line[i + 2]) && is_hex(line[i + 3]) {
                    cur.push(hex_val(line[i + 2]) * 16 + hex_val(line[i + 3]));
                    i += 3;
                } else if c == b'\\' && i + 1 < n {
                    i += 1;
                    cur.push(match line[i] {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 8,
                        b'a' => 7,
                        other => other,
                    });
                } else if c == b'"' {
                    if i + 1 < n && !line[i + 1].is_ascii_whitespace() {
                        return None;
                    }
                    i += 1;
                    break;
                } else {
                    cur.push(c);
                }
            } else if in_sq {
                if i >= n {
                    return None;
                }
                let c = line[i];
                if c == b'\\' && i + 1 < n && line[i + 1] == b'\'' {
                    i += 1;
                    cur.push(b'\'');
                } else if c == b'\'' {
                    if i + 1 < n && !line[i + 1].is_ascii_whitespace() {
                        return None;
                    }
                    i += 1;
                    break;
                } else {
                    cur.push(c);
                }
            } else {
                if i >= n {
                    break;
                }
                match line[i] {
                    b' ' | b'\n' | b'\r' | b'\t' | 0 => {
                        i += 1;
                        break;
                    }
                    b'"' => in_dq = true,
                    b'\'' => in_sq = true,
                    c => cur.push(c),
                }
            }
            i += 1;
        }
        args.push(cur);
    }
}

fn is_hex(c: u8) -> bool {
    c.is_ascii_hexdigit()
}

fn hex_val(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        _ => c - b'A' + 10,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_all(input: &[u8]) -> (Vec<Parsed>, BytesMut) {
        let p = RequestParser::new(512 * 1024 * 1024);
        let mut buf = BytesMut::from(input);
        let mut out = Vec::new();
        loop {
            match p.parse(&mut buf).expect("valid input") {
                Parsed::Incomplete => break,
                other => out.push(other),
            }
        }
        (out, buf)
    }

    fn cmd(parts: &[&str]) -> Parsed {
        Parsed::Command(parts.iter().map(|s| Bytes::copy_from_slice(s.as_bytes())).collect())
    }

    #[test]
    fn pipelined_multibulk_and_partial_tail() {
        let (got, rest) = parse_all(b"*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*2\r\n$3\r\nGET\r\n$5\r\nab");
        assert_eq!(got, vec![cmd(&["PING"]), cmd(&["GET", "k"])]);
        assert_eq!(&rest[..], b"*2\r\n$3\r\nGET\r\n$5\r\nab");
    }

    #[test]
    fn binary_values_keep_crlf() {
        let (got, _) = parse_all(b"*2\r\n$3\r\nSET\r\n$4\r\na\r\nb\r\n");
        assert_eq!(got, vec![cmd(&["SET", "a\r\nb"])]);
    }

    #[test]
    fn inline_with_quotes() {
        let (got, _) = parse_all(b"set k \"a b\\x41\\n\" 'it\\'s'\r\nPING\n\r\n");
        assert_eq!(got, vec![cmd(&["set", "k", "a bA\n", "it's"]), cmd(&["PING"]), Parsed::Empty]);
    }

    #[test]
    fn protocol_errors_match_redis() {
        let p = RequestParser::new(100);
        let err = |s: &[u8]| p.parse(&mut BytesMut::from(s)).unwrap_err().0;
        assert_eq!(err(b"*x\r\n"), "invalid multibulk length");
        assert_eq!(err(b"*1\r\n+PING\r\n"), "expected '$', got '+'");
        assert_eq!(err(b"*1\r\n$101\r\n"), "invalid bulk length");
        assert_eq!(err(b"*1\r\n$-1\r\n"), "invalid bulk length");
        assert_eq!(err(b"*3000000000\r\n"), "invalid multibulk length");
        assert_eq!(err(b"set \"a\r\n"), "unbalanced quotes in request");
        let strict = RequestParser::unauthenticated(100);
        let strict_err = |b: &[u8]| strict.parse(&mut BytesMut::from(b)).unwrap_err().0;
        assert_eq!(strict_err(b"*11\r\n"), "unauthenticated multibulk length");
        assert_eq!(strict_err(b"*3000000000\r\n"), "invalid multibulk length");
        let mut ten = BytesMut::from(&b"*10\r\n"[..]);
        assert!(matches!(strict.parse(&mut ten), Ok(Parsed::Incomplete)));
        let big = RequestParser::unauthenticated(1 << 20);
        assert_eq!(
            big.parse(&mut BytesMut::from(&b"*1\r\n$16385\r\n"[..])).unwrap_err().0,
            "unauthenticated bulk length"
        );
        assert!(matches!(big.parse(&mut BytesMut::from(&b"*1\r\n$16384\r\n"[..])), Ok(Parsed::Incomplete)));
        assert_eq!(err(&vec![b'a'; 70 * 1024]), "too big inline request");
    }

    #[test]
    fn huge_count_is_not_preallocated() {
        let p = RequestParser::new(512);
        let mut buf = BytesMut::from(&b"*1000000000\r\n$3\r\nGET\r\n"[..]);
        assert_eq!(p.parse(&mut buf).unwrap(), Parsed::Incomplete);
    }

    #[test]
    fn empty_multibulk_is_skipped() {
        let (got, _) = parse_all(b"*0\r\n*-1\r\n*1\r\n$4\r\nPING\r\n");
        assert_eq!(got, vec![Parsed::Empty, Parsed::Empty, cmd(&["PING"])]);
    }
}
