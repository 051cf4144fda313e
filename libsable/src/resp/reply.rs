//! Reply encoder: writes RESP2 or RESP3 replies into the connection's output buffer.
//!
//! Every command writes through this type, so the protocol choice (HELLO 2/3) is made in one place: maps become
//! flat arrays in RESP2, nulls become `$-1`/`*-1`, doubles become bulk strings, and so on.

use bytes::{BufMut, BytesMut};

use crate::util::{fmt_double, raw_byte_of};

/// The output buffer of one connection plus its protocol version.
pub struct Reply {
    pub buf: BytesMut,
    pub resp3: bool,
}

impl Reply {
    pub fn new(resp3: bool) -> Self {
        Self { buf: BytesMut::with_capacity(16 * 1024), resp3 }
    }

    pub fn len(&self) -> usize {
        self.buf.len()
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    fn header(&mut self, prefix: u8, n: i64) {
        self.buf.put_u8(prefix);
        self.buf.put_slice(itoa::Buffer::new().format(n).as_bytes());
        self.buf.put_slice(b"\r\n");
    }

    pub fn simple(&mut self, s: &str) {
        self.buf.put_u8(b'+');
        self.buf.put_slice(s.as_bytes());
        self.buf.put_slice(b"\r\n");
    }

    pub fn ok(&mut self) {
        self.buf.put_slice(b"+OK\r\n");
    }

    /// An error reply; `msg` carries its own prefix (`ERR …`, `WRONGTYPE …`). As in Redis, line ends at the end
    /// are trimmed and inner ones become spaces, so a message can never break the framing; raw client bytes
    /// carried by [`crate::util::arg_text`] are written back as the bytes they were.
    pub fn error(&mut self, msg: &str) {
        self.buf.put_u8(b'-');
        let mut utf8 = [0u8; 4];
        for c in msg.trim_end_matches(['\r', '\n']).chars() {
            match (c, raw_byte_of(c)) {
                (_, Some(b)) => self.buf.put_u8(b),
                ('\r' | '\n', None) => self.buf.put_u8(b' '),
                (c, None) => self.buf.put_slice(c.encode_utf8(&mut utf8).as_bytes()),
            }
        }
        self.buf.put_slice(b"\r\n");
    }

    pub fn int(&mut self, n: i64) {
        self.header(b':', n);
    }

    pub fn bulk(&mut self, data: &[u8]) {
        self.header(b'$', data.len() as i64);
        self.buf.put_slice(data);
        self.buf.put_slice(b"\r\n");
    }

    pub fn bulk_int(&mut self, n: i64) {
        self.bulk(itoa::Buffer::new().format(n).as_bytes());
    }

    pub fn opt_bulk(&mut self, data: Option<&[u8]>) {
        match data {
            Some(d) => self.bulk(d),
            None => self.null(),
        }
    }

    /// The null reply of a missing bulk string: `$-1` in RESP2, `_` in RESP3.
    pub fn null(&mut self) {
        self.buf.put_slice(if self.resp3 { b"_\r\n" } else { b"$-1\r\n" });
    }

    /// The null reply of a missing array: `*-1` in RESP2, `_` in RESP3.
    pub fn null_array(&mut self) {
        self.buf.put_slice(if self.resp3 { b"_\r\n" } else { b"*-1\r\n" });
    }

    pub fn array(&mut self, n: usize) {
        self.header(b'*', n as i64);
    }

    /// A map of `n` pairs: `%n` in RESP3, an array of `2n` in RESP2.
    pub fn map(&mut self, n: usize) {
        if self.resp3 {
            self.header(b'%', n as i64)
        } else {
            self.header(b'*', 2 * n as i64)
        }
    }

    /// A set of `n` members: `~n` in RESP3, an array in RESP2.
    pub fn set(&mut self, n: usize) {
        self.header(if self.resp3 { b'~' } else { b'*' }, n as i64);
    }

    /// An out-of-band push of `n` items: `>n` in RESP3, an array in RESP2.
    pub fn push(&mut self, n: usize) {
        self.header(if self.resp3 { b'>' } else { b'*' }, n as i64);
    }

    /// A double: `,x` in RESP3, a bulk string in RESP2, formatted as Redis does (`%.17g`, `inf`, `-inf`).
    pub fn double(&mut self, d: f64) {
        let text = fmt_double(d);
        if self.resp3 {
            self.buf.put_u8(b',');
            self.buf.put_slice(text.as_bytes());
            self.buf.put_slice(b"\r\n");
        } else {
            self.bulk(text.as_bytes());
        }
    }

    /// A boolean: `#t`/`#f` in RESP3, `:1`/`:0` in RESP2.
    pub fn boolean(&mut self, b: bool) {
        if self.resp3 {
            self.buf.put_slice(if b { b"#t\r\n" } else { b"#f\r\n" });
        } else {
            self.int(b as i64);
        }
    }

    /// Verbatim text (INFO, CLIENT LIST…): `=len\r\ntxt:…` in RESP3, a bulk string in RESP2.
    pub fn verbatim(&mut self, text: &str) {
        if self.resp3 {
            self.header(b'=', text.len() as i64 + 4);
            self.buf.put_slice(b"txt:");
            self.buf.put_slice(text.as_bytes());
            self.buf.put_slice(b"\r\n");
        } else {
            self.bulk(text.as_bytes());
        }
    }

    /// Writes pre-encoded RESP bytes.
    pub fn raw(&mut self, bytes: &[u8]) {
        self.buf.put_slice(bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(resp3: bool, f: impl FnOnce(&mut Reply)) -> String {
        let mut r = Reply::new(resp3);
        f(&mut r);
        String::from_utf8(r.buf.to_vec()).expect("ascii")
    }

    #[test]
    fn protocol_dependent_types() {
        assert_eq!(encode(false, |r| r.null()), "$-1\r\n");
        assert_eq!(encode(true, |r| r.null()), "_\r\n");
        assert_eq!(encode(false, |r| r.null_array()), "*-1\r\n");
        assert_eq!(encode(false, |r| r.map(2)), "*4\r\n");
        assert_eq!(encode(true, |r| r.map(2)), "%2\r\n");
        assert_eq!(encode(false, |r| r.double(1.5)), "$3\r\n1.5\r\n");
        assert_eq!(encode(true, |r| r.double(f64::INFINITY)), ",inf\r\n");
        assert_eq!(encode(true, |r| r.boolean(true)), "#t\r\n");
        assert_eq!(encode(true, |r| r.verbatim("a")), "=5\r\ntxt:a\r\n");
    }

    #[test]
    fn errors_cannot_break_framing() {
        assert_eq!(encode(false, |r| r.error("ERR a\r\nb\r\n")), "-ERR a  b\r\n");
        let mut r = Reply::new(false);
        r.error(&format!("ERR x {}", crate::util::arg_text(b"a\xff\x00b")));
        assert_eq!(&r.buf[..], b"-ERR x a\xff\r\n");
    }
}
