//! `struct`: Roberto Ierusalimschy's binary packing library as Redis bundles it (`lua_struct.c`), with its
//! format language (`<` `>` endianness, `!n` alignment, `b B h H l L T i[n] I[n]` integers, `f d` floats, `c[n]`
//! fixed strings, `s` zero-terminated strings, `x` padding), its sizes on x86_64 and its error texts.

use mlua::{Lua, MultiValue, Table, Value};

use super::libs::{arg_error, lua_error, type_error};

/// lua_struct.c's MAXINTSIZE.
const MAX_INT_SIZE: usize = 32;
/// lua_struct.c's MAXALIGN on x86_64 (the padding before a double in a struct).
const MAX_ALIGN: usize = 8;

pub fn struct_table(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.raw_set("pack", lua.create_function(|lua, args: MultiValue| pack(lua, args))?)?;
    t.raw_set("unpack", lua.create_function(|lua, args: MultiValue| unpack(lua, args))?)?;
    t.raw_set("size", lua.create_function(|lua, args: MultiValue| size(lua, args))?)?;
    Ok(t)
}

/// Endianness and maximum alignment, as the format's control options set them.
struct Header {
    little: bool,
    align: usize,
}

impl Header {
    fn new() -> Header {
        Header { little: true, align: 1 }
    }

    /// lua_struct.c's `controloptions`.
    fn control(&mut self, lua: &Lua, opt: u8, fmt: &[u8], at: &mut usize) -> mlua::Result<()> {
        match opt {
            b' ' => {}
            b'>' => self.little = false,
            b'<' => self.little = true,
            b'!' => {
                let a = number(lua, fmt, at, MAX_ALIGN)?;
                if !a.is_power_of_two() {
                    return Err(lua_error(lua, &format!("alignment {a} is not a power of 2")));
                }
                self.align = a;
            }
            _ => {
                return Err(arg_error(lua, 1, &format!("invalid format option '{}'", opt as char)));
            }
        }
        Ok(())
    }

    /// lua_struct.c's `gettoalign`: padding before an item of `size` at offset `len`.
    fn padding(&self, len: usize, opt: u8, size: usize) -> usize {
        if size == 0 || opt == b'c' {
            return 0;
        }
        let size = size.min(self.align);
        (size.wrapping_sub(len & size.wrapping_sub(1))) & size.wrapping_sub(1)
    }
}

/// lua_struct.c's `getnum`: the digits at `at`, or `default` when there are none.
fn number(lua: &Lua, fmt: &[u8], at: &mut usize, default: usize) -> mlua::Result<usize> {
    if !fmt.get(*at).is_some_and(u8::is_ascii_digit) {
        return Ok(default);
    }
    let mut a: i32 = 0;
    while let Some(d) = fmt.get(*at).filter(|c| c.is_ascii_digit()) {
        let d = (d - b'0') as i32;
        if a > i32::MAX / 10 || a * 10 > i32::MAX - d {
            return Err(lua_error(lua, "integral size overflow"));
        }
        a = a * 10 + d;
        *at += 1;
    }
    Ok(a as usize)
}

/// lua_struct.c's `optsize`.
fn option_size(lua: &Lua, opt: u8, fmt: &[u8], at: &mut usize) -> mlua::Result<usize> {
    Ok(match opt {
        b'B' | b'b' | b'x' => 1,
        b'H' | b'h' => 2,
        b'L' | b'l' | b'T' | b'd' => 8,
        b'f' => 4,
        b'c' => number(lua, fmt, at, 1)?,
        b'i' | b'I' => {
            let size = number(lua, fmt, at, 4)?;
            if size > MAX_INT_SIZE {
                return Err(lua_error(lua, &format!("integral size {size} is larger than limit of {MAX_INT_SIZE}")));
            }
            size
        }
        _ => 0,
    })
}

/// Argument `n` (1-based) as a number, as `luaL_checknumber` takes it (a numeric string converts).
fn check_number(lua: &Lua, args: &MultiValue, n: usize, fname: &str) -> mlua::Result<f64> {
    let v = args.get(n - 1).unwrap_or(&Value::Nil);
    let number = match v {
        Value::Number(x) => Some(*x),
        Value::Integer(i) => Some(*i as f64),
        Value::String(s) => std::str::from_utf8(&s.as_bytes()).ok().and_then(|s| s.trim().parse::<f64>().ok()),
        _ => None,
    };
    number.ok_or_else(|| type_error(lua, n as i32, "number", got(args, n, fname)))
}

/// Argument `n` (1-based) as bytes, as `luaL_checklstring` takes it (a number converts).
fn check_string(lua: &Lua, args: &MultiValue, n: usize, fname: &str) -> mlua::Result<Vec<u8>> {
    match args.get(n - 1).unwrap_or(&Value::Nil) {
        Value::String(s) => Ok(s.as_bytes().to_vec()),
        v @ (Value::Number(_) | Value::Integer(_)) => {
            Ok(lua.coerce_string(v.clone())?.map(|s| s.as_bytes().to_vec()).unwrap_or_default())
        }
        _ => Err(type_error(lua, n as i32, "string", got(args, n, fname))),
    }
}

/// What `luaL_typerror` finds as argument `n`: nothing past the arguments — but for the first one past `pack`'s,
/// which reads the nil lua_struct.c pushes after them (its mark before the buffer).
fn got<'a>(args: &'a MultiValue, n: usize, fname: &str) -> Option<&'a Value> {
    match args.get(n - 1) {
        None if fname == "pack" && n > 1 && n == args.len() + 1 => Some(&Value::Nil),
        found => found,
    }
}

fn pack(lua: &Lua, args: MultiValue) -> mlua::Result<mlua::BString> {
    let fmt = check_string(lua, &args, 1, "pack")?;
    let mut h = Header::new();
    let mut arg = 2;
    let mut out: Vec<u8> = Vec::new();
    let mut at = 0;
    while let Some(&opt) = fmt.get(at) {
        at += 1;
        let mut size = option_size(lua, opt, &fmt, &mut at)?;
        let pad = h.padding(out.len(), opt, size);
        out.resize(out.len() + pad, 0);
        match opt {
            b'b' | b'B' | b'h' | b'H' | b'l' | b'L' | b'T' | b'i' | b'I' => {
                let n = check_number(lua, &args, arg, "pack")?;
                arg += 1;
                let mut value = if n < 0.0 { n as i64 as u64 } else { n as u64 };
                let mut bytes = vec![0u8; size];
                for i in 0..size {
                    let slot = if h.little { i } else { size - 1 - i };
                    bytes[slot] = value as u8;
                    value >>= 8;
                }
                out.extend_from_slice(&bytes);
            }
            b'x' => out.push(0),
            b'f' => {
                let f = check_number(lua, &args, arg, "pack")? as f32;
                arg += 1;
                out.extend_from_slice(&if h.little { f.to_le_bytes() } else { f.to_be_bytes() });
            }
            b'd' => {
                let d = check_number(lua, &args, arg, "pack")?;
                arg += 1;
                out.extend_from_slice(&if h.little { d.to_le_bytes() } else { d.to_be_bytes() });
            }
            b'c' | b's' => {
                let s = check_string(lua, &args, arg, "pack")?;
                arg += 1;
                if size == 0 {
                    size = s.len();
                }
                // lua_struct.c checks the argument after the string (its index was already advanced).
                if s.len() < size {
                    return Err(arg_error(lua, arg as i32, "string too short"));
                }
                out.extend_from_slice(&s[..size]);
                if opt == b's' {
                    out.push(0);
                }
            }
            _ => h.control(lua, opt, &fmt, &mut at)?,
        }
    }
    Ok(mlua::BString::from(out))
}

fn unpack(lua: &Lua, args: MultiValue) -> mlua::Result<MultiValue> {
    let fmt = check_string(lua, &args, 1, "unpack")?;
    let data = check_string(lua, &args, 2, "unpack")?;
    let ld = data.len();
    let start = match args.get(2) {
        None | Some(Value::Nil) => 1.0,
        Some(_) => check_number(lua, &args, 3, "unpack")?,
    };
    // A size_t in lua_struct.c: a negative offset wraps to a huge one (and then finds the data too short).
    let start = start as i64 as u64 as usize;
    if start == 0 {
        return Err(arg_error(lua, 3, "offset must be 1 or greater"));
    }
    let mut pos = start - 1;
    let mut h = Header::new();
    let mut results: Vec<Value> = Vec::new();
    let too_short = || arg_error(lua, 2, "data string too short");
    let mut at = 0;
    while let Some(&opt) = fmt.get(at) {
        at += 1;
        let mut size = option_size(lua, opt, &fmt, &mut at)?;
        pos = pos.wrapping_add(h.padding(pos, opt, size));
        if !(size <= ld && pos <= ld - size) {
            return Err(too_short());
        }
        match opt {
            b'b' | b'B' | b'h' | b'H' | b'l' | b'L' | b'T' | b'i' | b'I' => {
                let bytes = &data[pos..pos + size];
                let mut l: u64 = 0;
                for i in 0..size {
                    let b = if h.little { bytes[size - 1 - i] } else { bytes[i] };
                    l = (l << 8) | b as u64;
                }
                let value = if opt.is_ascii_lowercase() {
                    // x86_64 masks the shift count as lua_struct.c's C shift does there.
                    let mask = u64::MAX.wrapping_shl((size * 8).wrapping_sub(1) as u32);
                    if l & mask != 0 {
                        l |= mask;
                    }
                    l as i64 as f64
                } else {
                    l as f64
                };
                results.push(Value::Number(value));
            }
            b'x' => {}
            b'f' => {
                let b: [u8; 4] = data[pos..pos + 4].try_into().map_err(|_| too_short())?;
                let f = if h.little { f32::from_le_bytes(b) } else { f32::from_be_bytes(b) };
                results.push(Value::Number(f as f64));
            }
            b'd' => {
                let b: [u8; 8] = data[pos..pos + 8].try_into().map_err(|_| too_short())?;
                results.push(Value::Number(if h.little { f64::from_le_bytes(b) } else { f64::from_be_bytes(b) }));
            }
            b'c' => {
                if size == 0 {
                    let previous = match results.last() {
                        Some(Value::Number(n)) => Some(*n),
                        Some(Value::String(s)) => {
                            std::str::from_utf8(&s.as_bytes()).ok().and_then(|s| s.trim().parse::<f64>().ok())
                        }
                        _ => None,
                    };
                    let Some(n) = previous else {
                        return Err(lua_error(lua, "format 'c0' needs a previous size"));
                    };
                    results.pop();
                    size = n as usize;
                    if !(size <= ld && pos <= ld - size) {
                        return Err(too_short());
                    }
                }
                results.push(Value::String(lua.create_string(&data[pos..pos + size])?));
            }
            b's' => {
                let Some(end) = data[pos..].iter().position(|&b| b == 0) else {
                    return Err(lua_error(lua, "unfinished string in data"));
                };
                results.push(Value::String(lua.create_string(&data[pos..pos + end])?));
                size = end + 1;
            }
            _ => h.control(lua, opt, &fmt, &mut at)?,
        }
        pos += size;
    }
    results.push(Value::Number((pos + 1) as f64));
    Ok(MultiValue::from_iter(results))
}

fn size(lua: &Lua, args: MultiValue) -> mlua::Result<f64> {
    let fmt = check_string(lua, &args, 1, "size")?;
    let mut h = Header::new();
    let mut pos = 0usize;
    let mut at = 0;
    while let Some(&opt) = fmt.get(at) {
        at += 1;
        let size = option_size(lua, opt, &fmt, &mut at)?;
        pos += h.padding(pos, opt, size);
        if opt == b's' {
            return Err(arg_error(lua, 1, "option 's' has no fixed size"));
        }
        if opt == b'c' && size == 0 {
            return Err(arg_error(lua, 1, "option 'c0' has no fixed size"));
        }
        if !opt.is_ascii_alphanumeric() {
            h.control(lua, opt, &fmt, &mut at)?;
        }
        pos += size;
    }
    Ok(pos as f64)
}
