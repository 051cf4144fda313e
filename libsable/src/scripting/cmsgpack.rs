//! `cmsgpack`: MessagePack as the lua-cmsgpack Redis bundles writes and reads it (`pack`, `unpack`, `unpack_one`,
//! `unpack_limit`), byte for byte: integers in the smallest form, a float32 when the number survives the trip,
//! tables as arrays when their keys are exactly 1..n, nesting cut at 16 levels (deeper tables become nil).

use mlua::{Lua, MultiValue, Table, Value};

/// lua-cmsgpack's LUACMSGPACK_MAX_NESTING.
const MAX_NESTING: usize = 16;

pub fn cmsgpack_table(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.raw_set(
        "pack",
        lua.create_function(|lua, args: MultiValue| {
            if args.is_empty() {
                return Err(super::libs::arg_error(lua, 0, "MessagePack pack needs input."));
            }
            let mut out = Vec::new();
            for v in args.iter() {
                encode(v, &mut out, 0)?;
            }
            Ok(mlua::BString::from(out))
        })?,
    )?;
    t.raw_set(
        "unpack",
        lua.create_function(|lua, data: mlua::String| {
            let bytes = data.as_bytes();
            let mut pos = 0;
            let mut values = Vec::new();
            while pos < bytes.len() {
                values.push(decode(lua, &bytes, &mut pos).map_err(|e| at_caller(lua, e))?);
            }
            Ok(MultiValue::from_iter(values))
        })?,
    )?;
    t.raw_set(
        "unpack_one",
        lua.create_function(|lua, (data, offset): (mlua::String, Option<i64>)| unpack_limit(lua, &data, 1, offset))?,
    )?;
    t.raw_set(
        "unpack_limit",
        lua.create_function(|lua, (data, limit, offset): (mlua::String, i64, Option<i64>)| {
            unpack_limit(lua, &data, limit, offset)
        })?,
    )?;
    Ok(t)
}

/// Up to `limit` objects (0: all) from `offset`; returns the offset of the next one (-1 at the end), then them.
fn unpack_limit(lua: &Lua, data: &mlua::String, limit: i64, offset: Option<i64>) -> mlua::Result<MultiValue> {
    let bytes = data.as_bytes();
    let offset = offset.unwrap_or(0);
    if offset < 0 || limit < 0 {
        // lua-cmsgpack prints the input's length as the "limit".
        let len = bytes.len();
        return Err(super::libs::lua_error(
            lua,
            &format!("Invalid request to unpack with offset of {offset} and limit of {len}."),
        ));
    }
    let mut pos = offset as usize;
    if pos > bytes.len() {
        let msg = format!("Start offset {offset} greater than input length {}.", bytes.len());
        return Err(super::libs::lua_error(lua, &msg));
    }
    let mut values = Vec::new();
    while pos < bytes.len() && (limit == 0 || (values.len() as i64) < limit) {
        values.push(decode(lua, &bytes, &mut pos).map_err(|e| at_caller(lua, e))?);
    }
    let next = if pos < bytes.len() { pos as i64 } else { -1 };
    values.insert(0, Value::Integer(next));
    Ok(MultiValue::from_iter(values))
}

fn encode(v: &Value, out: &mut Vec<u8>, level: usize) -> mlua::Result<()> {
    match v {
        Value::Boolean(b) => out.push(if *b { 0xc3 } else { 0xc2 }),
        Value::Integer(n) => encode_int(*n, out),
        Value::Number(d) => {
            if d.is_finite() && (*d as i64) as f64 == *d {
                encode_int(*d as i64, out);
            } else if (*d as f32) as f64 == *d {
                out.push(0xca);
                out.extend_from_slice(&(*d as f32).to_be_bytes());
            } else {
                out.push(0xcb);
                out.extend_from_slice(&d.to_be_bytes());
            }
        }
        Value::String(s) => {
            let bytes = s.as_bytes();
            let len = bytes.len();
            if len < 32 {
                out.push(0xa0 | len as u8);
            } else if len <= 0xff {
                out.extend_from_slice(&[0xd9, len as u8]);
            } else if len <= 0xffff {
                out.push(0xda);
                out.extend_from_slice(&(len as u16).to_be_bytes());
            } else {
                out.push(0xdb);
                out.extend_from_slice(&(len as u32).to_be_bytes());
            }
            out.extend_from_slice(&bytes);
        }
        Value::Table(t) if level < MAX_NESTING => encode_table(t, out, level)?,
        _ => out.push(0xc0),
    }
    Ok(())
}

fn encode_int(n: i64, out: &mut Vec<u8>) {
    if n >= 0 {
        if n <= 127 {
            out.push(n as u8);
        } else if n <= 0xff {
            out.extend_from_slice(&[0xcc, n as u8]);
        } else if n <= 0xffff {
            out.push(0xcd);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        } else if n <= 0xffff_ffff {
            out.push(0xce);
            out.extend_from_slice(&(n as u32).to_be_bytes());
        } else {
            out.push(0xcf);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    } else if n >= -32 {
        out.push(n as i8 as u8);
    } else if n >= -128 {
        out.extend_from_slice(&[0xd0, n as i8 as u8]);
    } else if n >= -32768 {
        out.push(0xd1);
        out.extend_from_slice(&(n as i16).to_be_bytes());
    } else if n >= -2147483648 {
        out.push(0xd2);
        out.extend_from_slice(&(n as i32).to_be_bytes());
    } else {
        out.push(0xd3);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

fn encode_table(t: &Table, out: &mut Vec<u8>, level: usize) -> mlua::Result<()> {
    // Two walks, holding no values: a table of a million entries would not fit mlua's reference stack.
    // An array when the keys are exactly 1..n (an empty table too), as lua-cmsgpack's table_is_an_array.
    let (mut len, mut max, mut only_indexes) = (0usize, 0i64, true);
    for pair in t.pairs::<Value, Value>() {
        let (k, _) = pair?;
        len += 1;
        let n = match k {
            Value::Integer(n) => n,
            Value::Number(d) if d.fract() == 0.0 => d as i64,
            _ => {
                only_indexes = false;
                continue;
            }
        };
        max = max.max(n);
        only_indexes &= n > 0;
    }
    let is_array = only_indexes && max == len as i64;
    let header = |out: &mut Vec<u8>, len: usize, fix: u8, b16: u8, b32: u8| {
        if len <= 15 {
            out.push(fix | len as u8);
        } else if len <= 0xffff {
            out.push(b16);
            out.extend_from_slice(&(len as u16).to_be_bytes());
        } else {
            out.push(b32);
            out.extend_from_slice(&(len as u32).to_be_bytes());
        }
    };
    if is_array {
        header(out, len, 0x90, 0xdc, 0xdd);
        for i in 1..=len {
            encode(&t.raw_get::<Value>(i)?, out, level + 1)?;
        }
    } else {
        header(out, len, 0x80, 0xde, 0xdf);
        for pair in t.pairs::<Value, Value>() {
            let (k, v) = pair?;
            encode(&k, out, level + 1)?;
            encode(&v, out, level + 1)?;
        }
    }
    Ok(())
}

/// A decoding error (raised without a position where the input is read) as lua-cmsgpack's `luaL_error`
/// raises it: at the position of the script's call.
fn at_caller(lua: &Lua, e: mlua::Error) -> mlua::Error {
    match e {
        mlua::Error::RuntimeError(msg) => super::libs::lua_error(lua, &msg),
        other => other,
    }
}

fn missing() -> mlua::Error {
    mlua::Error::RuntimeError("Missing bytes in input.".into())
}

fn take<'a>(bytes: &'a [u8], pos: &mut usize, n: usize) -> mlua::Result<&'a [u8]> {
    let slice = bytes.get(*pos..*pos + n).ok_or_else(missing)?;
    *pos += n;
    Ok(slice)
}

fn be(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0, |acc, &b| acc << 8 | b as u64)
}

fn decode(lua: &Lua, bytes: &[u8], pos: &mut usize) -> mlua::Result<Value> {
    let tag = take(bytes, pos, 1)?[0];
    let num = |n: f64| Ok(Value::Number(n));
    match tag {
        0x00..=0x7f => num(tag as f64),
        0xe0..=0xff => num(tag as i8 as f64),
        0x80..=0x8f => decode_map(lua, bytes, pos, (tag & 0x0f) as usize),
        0x90..=0x9f => decode_array(lua, bytes, pos, (tag & 0x0f) as usize),
        0xa0..=0xbf => decode_str(lua, bytes, pos, (tag & 0x1f) as usize),
        0xc0 => Ok(Value::Nil),
        0xc2 => Ok(Value::Boolean(false)),
        0xc3 => Ok(Value::Boolean(true)),
        0xc4 | 0xd9 => {
            let n = be(take(bytes, pos, 1)?) as usize;
            decode_str(lua, bytes, pos, n)
        }
        0xc5 | 0xda => {
            let n = be(take(bytes, pos, 2)?) as usize;
            decode_str(lua, bytes, pos, n)
        }
        0xc6 | 0xdb => {
            let n = be(take(bytes, pos, 4)?) as usize;
            decode_str(lua, bytes, pos, n)
        }
        0xca => num(f32::from_bits(be(take(bytes, pos, 4)?) as u32) as f64),
        0xcb => num(f64::from_bits(be(take(bytes, pos, 8)?))),
        0xcc => num(be(take(bytes, pos, 1)?) as f64),
        0xcd => num(be(take(bytes, pos, 2)?) as f64),
        0xce => num(be(take(bytes, pos, 4)?) as f64),
        0xcf => num(be(take(bytes, pos, 8)?) as f64),
        0xd0 => num(be(take(bytes, pos, 1)?) as u8 as i8 as f64),
        0xd1 => num(be(take(bytes, pos, 2)?) as u16 as i16 as f64),
        0xd2 => num(be(take(bytes, pos, 4)?) as u32 as i32 as f64),
        0xd3 => num(be(take(bytes, pos, 8)?) as i64 as f64),
        0xdc => {
            let n = be(take(bytes, pos, 2)?) as usize;
            decode_array(lua, bytes, pos, n)
        }
        0xdd => {
            let n = be(take(bytes, pos, 4)?) as usize;
            decode_array(lua, bytes, pos, n)
        }
        0xde => {
            let n = be(take(bytes, pos, 2)?) as usize;
            decode_map(lua, bytes, pos, n)
        }
        0xdf => {
            let n = be(take(bytes, pos, 4)?) as usize;
            decode_map(lua, bytes, pos, n)
        }
        _ => Err(mlua::Error::RuntimeError("Bad data format in input.".into())),
    }
}

fn decode_str(lua: &Lua, bytes: &[u8], pos: &mut usize, n: usize) -> mlua::Result<Value> {
    Ok(Value::String(lua.create_string(take(bytes, pos, n)?)?))
}

fn decode_array(lua: &Lua, bytes: &[u8], pos: &mut usize, n: usize) -> mlua::Result<Value> {
    // A count the input cannot hold is refused before anything is allocated for it.
    if n > bytes.len() - *pos {
        return Err(missing());
    }
    let t = lua.create_table_with_capacity(n, 0)?;
    for i in 1..=n {
        t.raw_set(i, decode(lua, bytes, pos)?)?;
    }
    Ok(Value::Table(t))
}

fn decode_map(lua: &Lua, bytes: &[u8], pos: &mut usize, n: usize) -> mlua::Result<Value> {
    if n > (bytes.len() - *pos) / 2 {
        return Err(missing());
    }
    let t = lua.create_table_with_capacity(0, n)?;
    for _ in 0..n {
        let k = decode(lua, bytes, pos)?;
        let v = decode(lua, bytes, pos)?;
        if k != Value::Nil {
            t.raw_set(k, v)?;
        }
    }
    Ok(Value::Table(t))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packed(lua: &Lua, v: Value) -> Vec<u8> {
        let mut out = Vec::new();
        encode(&v, &mut out, 0).unwrap();
        let _ = lua;
        out
    }

    #[test]
    fn packs_as_lua_cmsgpack() {
        let lua = Lua::new();
        assert_eq!(packed(&lua, Value::Number(0.1)), [0xcb, 0x3f, 0xb9, 0x99, 0x99, 0x99, 0x99, 0x99, 0x9a]);
        assert_eq!(packed(&lua, Value::Number(-1099511627776.0)), [0xd3, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0]);
        assert_eq!(packed(&lua, Value::Number(1.5)), [0xca, 0x3f, 0xc0, 0, 0]);
        assert_eq!(packed(&lua, Value::Integer(200)), [0xcc, 200]);
        assert_eq!(packed(&lua, Value::Integer(-5)), [0xfb]);
        let t = lua.create_table().unwrap();
        assert_eq!(packed(&lua, Value::Table(t)), [0x90], "an empty table is an empty array");
    }

    #[test]
    fn truncated_input_is_an_error() {
        let lua = Lua::new();
        let mut pos = 0;
        assert!(decode(&lua, &[0xdd, 0xff, 0xff, 0xff, 0xff], &mut pos).is_err());
        let mut pos = 0;
        assert!(decode(&lua, &[0xdb, 0, 0, 0, 9, b'a'], &mut pos).is_err());
    }
}
