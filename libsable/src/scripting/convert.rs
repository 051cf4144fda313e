//! Conversions between Redis replies and Lua values, as Redis 7.0's scripting engine makes them: a command's RESP
//! reply becomes the Lua value `redis.call` returns, and a script's return value becomes the client's reply.

use mlua::{Lua, Table, Value};

use crate::resp::reply::Reply;
use crate::util::fmt_double;

/// The deepest nesting of reply arrays converted (Redis' Lua stack would overflow long before).
const MAX_DEPTH: usize = 1000;

/// An error table as Redis' `luaPushErrorBuff` builds it from a RESP error line or a message: `-CODE msg` keeps
/// its code, a message without a leading `-` gets `ERR`; line ends are trimmed.
pub fn error_text(raw: &[u8]) -> Vec<u8> {
    let (code, msg): (&[u8], &[u8]) = match raw.strip_prefix(b"-") {
        Some(rest) => match rest.iter().position(|&b| b == b' ') {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => (b"ERR", rest),
        },
        None => (b"ERR", raw),
    };
    let mut msg = msg;
    while let Some(rest) = msg.strip_suffix(b"\n").or_else(|| msg.strip_suffix(b"\r")) {
        msg = rest;
    }
    let mut out = Vec::with_capacity(code.len() + 1 + msg.len());
    out.extend_from_slice(code);
    out.push(b' ');
    out.extend_from_slice(msg);
    out
}

/// `{err = text}`.
pub fn error_table(lua: &Lua, text: &[u8]) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.raw_set("err", lua.create_string(text)?)?;
    Ok(t)
}

/// Marks the error table of an error already counted in the error statistics (a command's error reply, a
/// command refused to the script), as Redis marks it: a script that returns or raises it fails without the
/// error being counted twice.
pub fn mark_counted(t: &Table) -> mlua::Result<()> {
    t.raw_set(COUNTED, true)
}

const COUNTED: &str = "ignore_error_stats_update";

/// A RESP reply as Redis hands it to a script. Returns (is an error reply, value); RESP2 and RESP3 types map as
/// in Redis 7.0 (`redisProtocolToLuaType`): nil bulk and nil array → false in RESP2, status → `{ok=…}`, error →
/// `{err=…}`, RESP3 null → nil, map → `{map=…}`, set → `{set=…}`, double → `{double=…}`, boolean → boolean,
/// big number → `{big_number=…}`, verbatim → `{verbatim_string={format=…, string=…}}`.
pub fn reply_to_lua(lua: &Lua, bytes: &[u8]) -> mlua::Result<(bool, Value)> {
    let mut pos = 0;
    let is_error = bytes.first() == Some(&b'-');
    let value = parse(lua, bytes, &mut pos, 0)?;
    Ok((is_error, value))
}

fn bad_reply() -> mlua::Error {
    mlua::Error::RuntimeError("malformed reply from a command".into())
}

/// The line at `pos` (without its CRLF), advancing past it.
fn line<'a>(bytes: &'a [u8], pos: &mut usize) -> mlua::Result<&'a [u8]> {
    let rest = bytes.get(*pos..).ok_or_else(bad_reply)?;
    let end = rest.windows(2).position(|w| w == b"\r\n").ok_or_else(bad_reply)?;
    *pos += end + 2;
    Ok(&rest[..end])
}

fn number(text: &[u8]) -> mlua::Result<i64> {
    std::str::from_utf8(text).ok().and_then(|s| s.parse().ok()).ok_or_else(bad_reply)
}

fn parse(lua: &Lua, bytes: &[u8], pos: &mut usize, depth: usize) -> mlua::Result<Value> {
    if depth > MAX_DEPTH {
        return Err(bad_reply());
    }
    let kind = *bytes.get(*pos).ok_or_else(bad_reply)?;
    *pos += 1;
    let head = line(bytes, pos)?;
    let tagged = |tag: &str, v: Value| -> mlua::Result<Value> {
        let t = lua.create_table()?;
        t.raw_set(tag, v)?;
        Ok(Value::Table(t))
    };
    Ok(match kind {
        b'+' => tagged("ok", Value::String(lua.create_string(head)?))?,
        b'-' => {
            let mut raw = Vec::with_capacity(head.len() + 1);
            raw.push(b'-');
            raw.extend_from_slice(head);
            let t = error_table(lua, &error_text(&raw))?;
            mark_counted(&t)?;
            Value::Table(t)
        }
        b':' => Value::Integer(number(head)?),
        b'$' | b'=' => {
            let n = number(head)?;
            if n < 0 {
                return Ok(Value::Boolean(false));
            }
            let n = n as usize;
            let data = bytes.get(*pos..*pos + n).ok_or_else(bad_reply)?;
            *pos += n + 2;
            if kind == b'=' {
                let (format, text) = if data.len() >= 4 { (&data[..3], &data[4..]) } else { (&b"txt"[..], data) };
                let inner = lua.create_table()?;
                inner.raw_set("format", lua.create_string(format)?)?;
                inner.raw_set("string", lua.create_string(text)?)?;
                tagged("verbatim_string", Value::Table(inner))?
            } else {
                Value::String(lua.create_string(data)?)
            }
        }
        b'*' | b'~' | b'>' => {
            let n = number(head)?;
            if n < 0 {
                return Ok(Value::Boolean(false));
            }
            let t = lua.create_table()?;
            for i in 1..=n {
                let v = parse(lua, bytes, pos, depth + 1)?;
                t.raw_set(i, v)?;
            }
            if kind == b'~' {
                // A set: its members as keys, each `true`.
                let set = lua.create_table()?;
                for v in t.sequence_values::<Value>() {
                    set.raw_set(v?, true)?;
                }
                tagged("set", Value::Table(set))?
            } else {
                Value::Table(t)
            }
        }
        b'%' => {
            let n = number(head)?;
            let t = lua.create_table()?;
            for _ in 0..n.max(0) {
                let k = parse(lua, bytes, pos, depth + 1)?;
                let v = parse(lua, bytes, pos, depth + 1)?;
                t.raw_set(k, v)?;
            }
            tagged("map", Value::Table(t))?
        }
        b'_' => Value::Nil,
        b'#' => Value::Boolean(head == b"t"),
        b',' => {
            let text = std::str::from_utf8(head).map_err(|_| bad_reply())?;
            let d = match text {
                "inf" => f64::INFINITY,
                "-inf" => f64::NEG_INFINITY,
                t => t.parse().map_err(|_| bad_reply())?,
            };
            tagged("double", Value::Number(d))?
        }
        b'(' => tagged("big_number", Value::String(lua.create_string(head)?))?,
        // Attributes are not shown to scripts (as in Redis 7.0): the pairs are skipped, the reply follows.
        b'|' => {
            for _ in 0..number(head)?.max(0) * 2 {
                parse(lua, bytes, pos, depth + 1)?;
            }
            parse(lua, bytes, pos, depth + 1)?
        }
        _ => return Err(bad_reply()),
    })
}

/// The error a script's return value replies with, when it is an error table (`{err = …}`).
pub fn error_reply_of(value: &Value) -> Option<String> {
    let Value::Table(t) = value else { return None };
    string_field(t, "err").map(|err| String::from_utf8_lossy(&err.as_bytes()).into_owned())
}

/// True for an error table marked by [`mark_counted`].
pub fn is_counted(value: &Value) -> bool {
    matches!(value, Value::Table(t) if matches!(t.raw_get::<Value>(COUNTED), Ok(Value::Boolean(true))))
}

/// A string field of a table, if it holds one.
fn string_field(t: &Table, name: &str) -> Option<mlua::String> {
    match t.raw_get::<Value>(name) {
        Ok(Value::String(s)) => Some(s),
        _ => None,
    }
}

/// Writes a script's return value as the reply, as Redis 7.0's `luaReplyToRedisReply`: `resp` is the protocol
/// the script chose (`redis.setresp`), which decides how booleans and RESP3-only types are written.
pub fn lua_to_reply(out: &mut Reply, value: &Value, resp: u8) {
    write_value(out, value, resp, 0);
}

fn write_value(out: &mut Reply, value: &Value, resp: u8, depth: usize) {
    match value {
        Value::String(s) => out.bulk(&s.as_bytes()),
        Value::Boolean(b) => {
            if resp == 3 {
                out.boolean(*b);
            } else if *b {
                out.int(1);
            } else {
                out.null();
            }
        }
        Value::Integer(n) => out.int(*n),
        // Redis truncates toward zero: `return 3.99` replies 3.
        Value::Number(d) => out.int(if d.is_nan() { 0 } else { *d as i64 }),
        // A table nested deeper than Redis' Lua stack allows (a table holding itself): Redis' error, in place.
        Value::Table(_) if depth >= MAX_DEPTH => out.error("ERR reached lua stack limit"),
        Value::Table(t) => write_table(out, t, resp, depth),
        _ => out.null(),
    }
}

fn write_table(out: &mut Reply, t: &Table, resp: u8, depth: usize) {
    if let Some(err) = string_field(t, "err") {
        out.error(&String::from_utf8_lossy(&err.as_bytes()));
        return;
    }
    if let Some(ok) = string_field(t, "ok") {
        let text = String::from_utf8_lossy(&ok.as_bytes()).replace(['\r', '\n'], " ");
        out.simple(&text);
        return;
    }
    match t.raw_get::<Value>("double") {
        Ok(Value::Number(d)) => return out.double(d),
        Ok(Value::Integer(n)) => return out.double(n as f64),
        _ => {}
    }
    if let Some(big) = string_field(t, "big_number") {
        // Line breaks would break the reply's framing: Redis maps them to spaces.
        let digits: Vec<u8> = big.as_bytes().iter().map(|&b| if b == b'\r' || b == b'\n' { b' ' } else { b }).collect();
        if out.resp3 {
            out.raw(b"(");
            out.raw(&digits);
            out.raw(b"\r\n");
        } else {
            out.bulk(&digits);
        }
        return;
    }
    if let Ok(Value::Table(v)) = t.raw_get::<Value>("verbatim_string") {
        if let (Some(format), Some(text)) = (string_field(&v, "format"), string_field(&v, "string")) {
            let (format, text) = (format.as_bytes(), text.as_bytes());
            if out.resp3 && format.len() == 3 {
                out.raw(format!("={}\r\n", text.len() + 4).as_bytes());
                out.raw(&format);
                out.raw(b":");
                out.raw(&text);
                out.raw(b"\r\n");
            } else {
                out.bulk(&text);
            }
            return;
        }
    }
    // Written in two walks, holding no values: a reply of a million elements would not fit mlua's reference stack.
    if let Ok(Value::Table(map)) = t.raw_get::<Value>("map") {
        out.map(map.pairs::<Value, Value>().count());
        for (k, v) in map.pairs::<Value, Value>().flatten() {
            write_value(out, &k, resp, depth + 1);
            write_value(out, &v, resp, depth + 1);
        }
        return;
    }
    if let Ok(Value::Table(set)) = t.raw_get::<Value>("set") {
        out.set(set.pairs::<Value, Value>().count());
        for (m, _) in set.pairs::<Value, Value>().flatten() {
            write_value(out, &m, resp, depth + 1);
        }
        return;
    }
    // An array: elements 1, 2, … up to the first nil.
    let present = |i: usize| !matches!(t.raw_get::<Value>(i), Ok(Value::Nil) | Err(_));
    let len = (1..).take_while(|&i| present(i)).count();
    out.array(len);
    for i in 1..=len {
        let v = t.raw_get::<Value>(i).unwrap_or(Value::Nil);
        write_value(out, &v, resp, depth + 1);
    }
}

/// A Lua number as a command argument: an integer as digits, anything else as `%.17g` (Redis 7.0).
pub fn number_arg(d: f64) -> String {
    if d.fract() == 0.0 && d.abs() < 1e17 {
        return itoa::Buffer::new().format(d as i64).to_string();
    }
    fmt_double(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_texts_follow_redis() {
        assert_eq!(error_text(b"-ERR value is not an integer\r\n"), b"ERR value is not an integer");
        assert_eq!(error_text(b"-WRONGTYPE Operation"), b"WRONGTYPE Operation");
        assert_eq!(error_text(b"-x"), b"ERR x");
        assert_eq!(error_text(b"-"), b"ERR ");
        assert_eq!(error_text(b"plain message"), b"ERR plain message");
    }

    #[test]
    fn replies_become_lua_values_and_back() {
        let lua = Lua::new();
        for (resp, reply) in [
            (2, &b":5\r\n"[..]),
            (2, b"$3\r\nabc\r\n"),
            (2, b"*2\r\n:1\r\n*1\r\n$1\r\nx\r\n"),
            (2, b"+OK\r\n"),
            (2, b"-ERR bad\r\n"),
            (3, b"%1\r\n$1\r\na\r\n:1\r\n"),
            (3, b",3.5\r\n"),
            (3, b"#t\r\n"),
            (3, b"_\r\n"),
        ] {
            let (_, v) = reply_to_lua(&lua, reply).unwrap();
            let mut out = Reply::new(resp == 3);
            lua_to_reply(&mut out, &v, resp);
            assert_eq!(&out.buf[..], reply, "{}", String::from_utf8_lossy(reply));
        }
        // RESP2 nils are false, which a script returns as a nil bulk.
        let (_, v) = reply_to_lua(&lua, b"$-1\r\n").unwrap();
        assert_eq!(v, Value::Boolean(false));
        assert!(reply_to_lua(&lua, b"$5\r\nab").is_err(), "a truncated reply is an error, not a panic");
    }

    #[test]
    fn numbers_as_arguments() {
        assert_eq!(number_arg(5.0), "5");
        assert_eq!(number_arg(-3.0), "-3");
        assert_eq!(number_arg(3.5), "3.5");
        assert_eq!(number_arg(0.1), "0.10000000000000001");
        assert_eq!(number_arg(1e21), "1e+21");
    }
}
