//! Redis 7 functions: Lua libraries loaded with FUNCTION LOAD (`#!lua name=<library>`, then code that calls
//! `redis.register_function`), called with FCALL / FCALL_RO, listed, deleted, dumped and restored.
//!
//! The libraries are server state kept in RocksDB (`sys` records `function:<library>` → code, written through
//! the WAL before FUNCTION LOAD answers), so they survive restarts and FLUSHALL as in Redis, and are loaded again
//! at start-up. [`Functions`] holds their metadata (functions, flags, descriptions); each worker thread runs a
//! library's code once in its own Lua state to get the callbacks (see `Vm::library`), again after any change.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use mlua::{Function, Lua, MultiValue, Table, Value};
use parking_lot::RwLock;

use super::libs::raise;
use crate::commands::{CmdError, CmdResult};
use crate::storage::Store;

/// Prefix of the `sys` records holding the libraries' code.
const SYS_PREFIX: &[u8] = b"function:";

/// Redis' function flags (`redis.register_function{…, flags = {…}}`).
const FLAGS: &[&str] = &["no-writes", "allow-oom", "allow-stale", "no-cluster", "allow-cross-slot-keys"];

#[derive(Clone, Debug, PartialEq)]
pub struct FunctionInfo {
    pub name: String,
    pub description: Option<String>,
    pub flags: Vec<String>,
}

#[derive(Debug)]
pub struct Library {
    pub name: String,
    pub code: Arc<[u8]>,
    /// By name.
    pub functions: Vec<FunctionInfo>,
}

/// The server's function libraries, by lowercase name: library and function names are case-insensitive, as in
/// Redis.
#[derive(Default)]
pub struct Functions {
    libraries: RwLock<BTreeMap<String, Arc<Library>>>,
    /// Bumped by every change: threads run the libraries' code again.
    generation: AtomicU64,
}

/// One function a library's code registered: its metadata and, in the thread that ran the code, its callback.
pub struct Registered {
    pub info: FunctionInfo,
    pub callback: Function,
}

/// How FUNCTION RESTORE treats libraries that exist already.
#[derive(Clone, Copy, PartialEq)]
pub enum RestorePolicy {
    Append,
    Replace,
    Flush,
}

impl Functions {
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    pub fn libraries(&self) -> Vec<Arc<Library>> {
        self.libraries.read().values().cloned().collect()
    }

    /// The library holding function `name`, and that function.
    pub fn find(&self, name: &str) -> Option<(Arc<Library>, FunctionInfo)> {
        let libraries = self.libraries.read();
        libraries.values().find_map(|lib| {
            lib.functions.iter().find(|f| f.name.eq_ignore_ascii_case(name)).map(|f| (lib.clone(), f.clone()))
        })
    }

    /// Loads the libraries stored in RocksDB (start-up). One that no longer loads is logged and left out.
    pub fn load_stored(&self, store: &Store) -> CmdResult {
        for (_, code) in store.sys_records(SYS_PREFIX)? {
            match super::with_library_vm(|vm| vm.register(&code)) {
                Ok((name, functions)) => {
                    let lib = Library { name: name.clone(), code: code.into(), functions: infos(functions) };
                    self.libraries.write().insert(name.to_ascii_lowercase(), Arc::new(lib));
                }
                Err(e) => tracing::error!("a stored function library does not load: {}", e.message()),
            }
        }
        self.generation.fetch_add(1, Ordering::AcqRel);
        Ok(())
    }

    /// FUNCTION LOAD: the library's name.
    pub fn load(&self, store: &Store, code: &[u8], replace: bool) -> CmdResult<String> {
        let name = library_name(code)?;
        if !replace && self.libraries.read().contains_key(&name.to_ascii_lowercase()) {
            return Err(CmdError::err(format!("Library '{name}' already exists")));
        }
        let (name, functions) = super::with_library_vm(|vm| vm.register(code))?;
        let lib = Library { name: name.clone(), code: code.into(), functions: infos(functions) };
        self.install(store, vec![lib], if replace { RestorePolicy::Replace } else { RestorePolicy::Append })?;
        Ok(name)
    }

    /// Adds `new` libraries (after checking every name) and writes the resulting set to RocksDB.
    fn install(&self, store: &Store, new: Vec<Library>, policy: RestorePolicy) -> CmdResult {
        let mut libraries = self.libraries.write();
        let mut next = if policy == RestorePolicy::Flush { BTreeMap::new() } else { libraries.clone() };
        for lib in new {
            let key = lib.name.to_ascii_lowercase();
            if policy == RestorePolicy::Append && next.contains_key(&key) {
                return Err(CmdError::err(format!("Library {} already exists", lib.name)));
            }
            next.remove(&key);
            for f in &lib.functions {
                if next.values().any(|other| other.functions.iter().any(|g| g.name.eq_ignore_ascii_case(&f.name))) {
                    return Err(CmdError::err(format!("Function {} already exists", f.name)));
                }
            }
            next.insert(key, Arc::new(lib));
        }
        persist(store, &next)?;
        *libraries = next;
        self.generation.fetch_add(1, Ordering::AcqRel);
        Ok(())
    }

    pub fn delete(&self, store: &Store, name: &str) -> CmdResult {
        let mut libraries = self.libraries.write();
        let key = name.to_ascii_lowercase();
        if !libraries.contains_key(&key) {
            return Err(CmdError::err("Library not found"));
        }
        let mut next = libraries.clone();
        next.remove(&key);
        persist(store, &next)?;
        *libraries = next;
        self.generation.fetch_add(1, Ordering::AcqRel);
        Ok(())
    }

    pub fn flush(&self, store: &Store) -> CmdResult {
        let mut libraries = self.libraries.write();
        persist(store, &BTreeMap::new())?;
        libraries.clear();
        self.generation.fetch_add(1, Ordering::AcqRel);
        Ok(())
    }

    /// FUNCTION RESTORE of the libraries' `codes`.
    pub fn restore(&self, store: &Store, codes: &[Vec<u8>], policy: RestorePolicy) -> CmdResult {
        let mut new = Vec::with_capacity(codes.len());
        for code in codes {
            let (name, functions) = super::with_library_vm(|vm| vm.register(code))?;
            if new.iter().any(|l: &Library| l.name.eq_ignore_ascii_case(&name)) {
                return Err(CmdError::err(format!("Library {name} already exists")));
            }
            new.push(Library { name, code: code.as_slice().into(), functions: infos(functions) });
        }
        self.install(store, new, policy)
    }

    /// (libraries, functions), for FUNCTION STATS and INFO.
    pub fn counts(&self) -> (usize, usize) {
        let libraries = self.libraries.read();
        (libraries.len(), libraries.values().map(|l| l.functions.len()).sum())
    }

    /// Bytes of the libraries' code and names (INFO's `used_memory_functions`).
    pub fn usage(&self) -> usize {
        self.libraries.read().values().map(|l| l.code.len() + l.name.len()).sum()
    }
}

fn infos(functions: Vec<Registered>) -> Vec<FunctionInfo> {
    let mut infos: Vec<FunctionInfo> = functions.into_iter().map(|r| r.info).collect();
    infos.sort_by(|a, b| a.name.cmp(&b.name));
    infos
}

fn persist(store: &Store, libraries: &BTreeMap<String, Arc<Library>>) -> CmdResult {
    let records: Vec<(Vec<u8>, Vec<u8>)> =
        libraries.values().map(|lib| ([SYS_PREFIX, lib.name.as_bytes()].concat(), lib.code.to_vec())).collect();
    store.replace_sys_records(SYS_PREFIX, &records)
}

/// Letters, digits and underscores, at least one.
fn valid_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// The library name of `#!lua name=<library>`, with Redis' errors for a missing or bad shebang.
pub fn library_name(code: &[u8]) -> CmdResult<String> {
    let Some(rest) = code.strip_prefix(b"#!") else {
        return Err(CmdError::err("Missing library metadata"));
    };
    let end = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
    let line = String::from_utf8_lossy(&rest[..end]).into_owned();
    let (engine, rest) = line.split_once(' ').unwrap_or((&line, ""));
    let parts = rest.split(' ').filter(|p| !p.is_empty());
    if !engine.eq_ignore_ascii_case("lua") {
        return Err(CmdError::err(format!("Engine '{engine}' not found")));
    }
    let mut name = None;
    for part in parts {
        match part.strip_prefix("name=") {
            Some(_) if name.is_some() => {
                return Err(CmdError::err("Invalid metadata value, name argument was given multiple times"));
            }
            // Redis reads the shebang with its argument splitter: a quoted name loses its quotes.
            Some(n) => name = Some(n.strip_prefix('"').and_then(|n| n.strip_suffix('"')).unwrap_or(n).to_string()),
            None => return Err(CmdError::err(format!("Invalid metadata value given: {part}"))),
        }
    }
    let name = name.ok_or_else(|| CmdError::err("Library name was not given"))?;
    if !valid_name(&name) {
        return Err(CmdError::err(
            "Library names can only contain letters, numbers, or underscores(_) and must be at least one character long",
        ));
    }
    Ok(name)
}

/// `redis.register_function(name, callback)` or `redis.register_function{function_name=…, callback=…,
/// flags=…, description=…}` while a library's code runs.
pub fn register(lua: &Lua, out: &RefCell<Vec<Registered>>, args: MultiValue) -> mlua::Result<()> {
    let fail = |text: &str| raise(lua, format!("ERR {text}").as_bytes());
    let (name, callback, description, flags) = match (args.len(), args.front()) {
        (2, Some(Value::String(name))) => {
            let Some(Value::Function(f)) = args.get(1) else {
                return Err(fail("second argument to redis.register_function must be a function"));
            };
            (name.to_str()?.to_string(), f.clone(), None, Vec::new())
        }
        (1, Some(Value::Table(t))) => named_arguments(t).map_err(|e| fail(&e))?,
        (1, _) => {
            return Err(fail(
                "calling redis.register_function with a single argument is only applicable to Lua table \
                 (representing named arguments).",
            ))
        }
        (2, _) => return Err(fail("first argument to redis.register_function must be a string")),
        _ => return Err(fail("wrong number of arguments to redis.register_function")),
    };
    if !valid_name(&name) {
        // Redis 7.0 words it as for library names.
        return Err(fail(
            "Library names can only contain letters, numbers, or underscores(_) and must be at least one character long",
        ));
    }
    let mut registered = out.borrow_mut();
    if registered.iter().any(|r| r.info.name.eq_ignore_ascii_case(&name)) {
        return Err(fail("Function already exists in the library"));
    }
    registered.push(Registered { info: FunctionInfo { name, description, flags }, callback });
    Ok(())
}

type Named = (String, Function, Option<String>, Vec<String>);

fn named_arguments(t: &Table) -> Result<Named, String> {
    let (mut name, mut callback, mut description, mut flags) = (None, None, None, Vec::new());
    for pair in t.pairs::<Value, Value>() {
        let (k, v) = pair.map_err(|e| e.to_string())?;
        let key = match &k {
            Value::String(s) => s.to_string_lossy(),
            _ => return Err("named argument key given to redis.register_function is not a string".into()),
        };
        match (key.as_str(), v) {
            ("function_name", Value::String(s)) => name = Some(s.to_string_lossy()),
            ("function_name", _) => {
                return Err("function_name argument given to redis.register_function must be a string".into())
            }
            ("callback", Value::Function(f)) => callback = Some(f),
            ("callback", _) => {
                return Err("callback argument given to redis.register_function must be a function".into())
            }
            ("description", Value::String(s)) => description = Some(s.to_string_lossy()),
            ("description", _) => {
                return Err("description argument given to redis.register_function must be a string".into())
            }
            ("flags", Value::Table(list)) => {
                for flag in list.sequence_values::<Value>() {
                    match flag.map_err(|e| e.to_string())? {
                        Value::String(s) if FLAGS.contains(&s.to_string_lossy().as_str()) => {
                            flags.push(s.to_string_lossy())
                        }
                        _ => return Err("unknown flag given".into()),
                    }
                }
            }
            ("flags", _) => {
                return Err(
                    "flags argument to redis.register_function must be a table representing function flags".into()
                )
            }
            _ => return Err("unknown argument given to redis.register_function".into()),
        }
    }
    let name = name.ok_or("redis.register_function must get a function name argument")?;
    let callback = callback.ok_or("redis.register_function must get a callback argument")?;
    Ok((name, callback, description, flags))
}

/// Each thread's callbacks of the libraries, as of a generation of [`Functions`].
#[derive(Default)]
pub struct ThreadLibraries {
    pub generation: u64,
    pub callbacks: HashMap<String, Function>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn library_names_follow_redis() {
        assert_eq!(library_name(b"#!lua name=mylib\nreturn").unwrap(), "mylib");
        assert_eq!(library_name(b"#!LUA name=a_1").unwrap(), "a_1");
        for (code, err) in [
            (&b"return 1"[..], "ERR Missing library metadata"),
            (b"#!lua\nreturn 1", "ERR Library name was not given"),
            (b"#!python name=x\n", "ERR Engine 'python' not found"),
            (b"#!lua name=mylib foo=bar\n", "ERR Invalid metadata value given: foo=bar"),
            (
                b"#!lua name=my-lib\n",
                "ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one \
                 character long",
            ),
        ] {
            assert_eq!(library_name(code).unwrap_err().message(), err);
        }
    }
}
