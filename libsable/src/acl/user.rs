//! A user: its flags, password hashes and selectors (the root selector first), how rule words change them
//! (`ACLSetUser`, `ACLStringSetUser`) and how they are described back (ACL LIST, ACL SAVE).

use std::sync::atomic::{AtomicBool, Ordering};

use bytes::Bytes;
use parking_lot::{RwLock, RwLockReadGuard};

use super::selector::Selector;
use super::{sha256, RuleError};

/// User flags, in the order Redis describes them.
pub const ENABLED: u8 = 1;
pub const DISABLED: u8 = 2;
pub const NOPASS: u8 = 4;
pub const SKIP_SANITIZE: u8 = 8;
pub const SANITIZE: u8 = 16;
pub const FLAG_NAMES: &[(u8, &str)] = &[
    (ENABLED, "on"),
    (DISABLED, "off"),
    (NOPASS, "nopass"),
    (SKIP_SANITIZE, "skip-sanitize-payload"),
    (SANITIZE, "sanitize-payload"),
];

/// What a user may do.
#[derive(Debug, Clone, PartialEq)]
pub struct UserState {
    pub flags: u8,
    /// SHA-256 hex digests, in the order they were added.
    pub passwords: Vec<String>,
    /// The root selector, then the `(...)` selectors.
    pub selectors: Vec<Selector>,
}

/// Redis' `ACLCheckPasswordHash`: 64 lowercase hex characters.
fn valid_hash(h: &[u8]) -> bool {
    h.len() == 64 && h.iter().all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(c))
}

impl UserState {
    /// A new user: off, no passwords, no permissions (`allchannels` as `acl-pubsub-default` says).
    pub fn new(allchannels: bool) -> UserState {
        UserState { flags: DISABLED, passwords: Vec::new(), selectors: vec![Selector::new(true, allchannels)] }
    }

    /// The default user: on, nopass, every command, key and channel.
    pub fn default_user() -> UserState {
        let mut s = UserState::new(false);
        for op in ["+@all", "~*", "&*", "on", "nopass"] {
            let _ = s.apply(op.as_bytes(), false);
        }
        s
    }

    pub fn root(&self) -> &Selector {
        &self.selectors[0]
    }

    pub fn enabled(&self) -> bool {
        self.flags & DISABLED == 0
    }

    pub fn has(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }

    /// Applies one (merged) rule word, as Redis' `ACLSetUser`. `allchannels`: `acl-pubsub-default`.
    pub fn apply(&mut self, op: &[u8], allchannels: bool) -> Result<(), RuleError> {
        let is = |w: &str| op.eq_ignore_ascii_case(w.as_bytes());
        if op.is_empty() {
            return Ok(());
        }
        if is("on") {
            self.flags = (self.flags | ENABLED) & !DISABLED;
        } else if is("off") {
            self.flags = (self.flags | DISABLED) & !ENABLED;
        } else if is("skip-sanitize-payload") {
            self.flags = (self.flags | SKIP_SANITIZE) & !SANITIZE;
        } else if is("sanitize-payload") {
            self.flags = (self.flags | SANITIZE) & !SKIP_SANITIZE;
        } else if is("nopass") {
            self.flags |= NOPASS;
            self.passwords.clear();
        } else if is("resetpass") {
            self.flags &= !NOPASS;
            self.passwords.clear();
        } else if op[0] == b'>' || op[0] == b'#' {
            let hash = if op[0] == b'>' {
                sha256::hex(&op[1..])
            } else if valid_hash(&op[1..]) {
                String::from_utf8_lossy(&op[1..]).into_owned()
            } else {
                return Err(RuleError::BadHash);
            };
            if !self.passwords.contains(&hash) {
                self.passwords.push(hash);
            }
            self.flags &= !NOPASS;
        } else if op[0] == b'<' || op[0] == b'!' {
            let hash = if op[0] == b'<' {
                sha256::hex(&op[1..])
            } else if valid_hash(&op[1..]) {
                String::from_utf8_lossy(&op[1..]).into_owned()
            } else {
                return Err(RuleError::BadHash);
            };
            let pos = self.passwords.iter().position(|p| *p == hash).ok_or(RuleError::NoSuchPassword)?;
            self.passwords.remove(pos);
        } else if op[0] == b'(' && op[op.len() - 1] == b')' {
            let mut sel = Selector::new(false, allchannels);
            for word in op[1..op.len() - 1].split(|c| c.is_ascii_whitespace()).filter(|w| !w.is_empty()) {
                sel.apply(word)?;
            }
            self.selectors.push(sel);
        } else if is("clearselectors") {
            self.selectors.truncate(1);
        } else if is("reset") {
            for w in ["resetpass", "resetkeys", "resetchannels"] {
                self.apply(w.as_bytes(), allchannels)?;
            }
            if allchannels {
                self.apply(b"allchannels", allchannels)?;
            }
            for w in ["off", "sanitize-payload", "clearselectors", "-@all"] {
                self.apply(w.as_bytes(), allchannels)?;
            }
        } else {
            self.selectors[0].apply(op)?;
        }
        Ok(())
    }

    /// Applies rule words as ACL SETUSER does (`ACLStringSetUser`): selector words spread over several arguments
    /// are merged first; on the first error nothing is changed and the error text is returned.
    pub fn apply_all(&mut self, args: &[Bytes], allchannels: bool) -> Result<(), String> {
        let merged = merge_words(args).map_err(|start| {
            format!("Unmatched parenthesis in acl selector starting at '{}'.", crate::util::arg_text(start))
        })?;
        let mut staged = self.clone();
        for op in &merged {
            staged.apply(op, allchannels).map_err(|e| {
                format!("Error in ACL SETUSER modifier '{}': {}", crate::util::arg_text(op), e.message())
            })?;
        }
        *self = staged;
        Ok(())
    }

    /// The user as rules (`ACLDescribeUser`), without `user <name>`.
    pub fn describe(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for (flag, name) in FLAG_NAMES {
            if self.flags & flag != 0 {
                out.extend_from_slice(name.as_bytes());
                out.push(b' ');
            }
        }
        for p in &self.passwords {
            out.push(b'#');
            out.extend_from_slice(p.as_bytes());
            out.push(b' ');
        }
        for s in &self.selectors {
            if s.root {
                out.extend_from_slice(&s.describe());
            } else {
                out.extend_from_slice(b" (");
                out.extend_from_slice(&s.describe());
                out.push(b')');
            }
        }
        out
    }

    /// `ACLCheckUserCredentials` for an existing user.
    pub fn password_ok(&self, pass: &[u8]) -> bool {
        if !self.enabled() {
            return false;
        }
        if self.has(NOPASS) {
            return true;
        }
        let hash = sha256::hex(pass);
        // Compare every stored hash whole, as Redis' time-independent compare does.
        self.passwords.iter().fold(false, |ok, p| ok | constant_eq(p.as_bytes(), hash.as_bytes()))
    }

    /// True when the user may run anything: the dispatcher then checks nothing more.
    fn unrestricted(&self) -> bool {
        let r = self.root();
        r.allcommands && r.allkeys && r.allchannels
    }
}

fn constant_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Redis' `ACLMergeSelectorArguments`: `(` … `)` spread over several words becomes one word (joined by spaces).
/// `Err` carries the word where an unclosed selector starts.
pub fn merge_words(args: &[Bytes]) -> Result<Vec<Vec<u8>>, &[u8]> {
    let mut out = Vec::new();
    let mut open: Option<(usize, Vec<u8>)> = None;
    for (i, a) in args.iter().enumerate() {
        if a.first() == Some(&b'(') && a.last() != Some(&b')') && open.is_none() {
            open = Some((i, a.to_vec()));
            continue;
        }
        if let Some((_, sel)) = open.as_mut() {
            sel.push(b' ');
            sel.extend_from_slice(a);
            if a.last() == Some(&b')') {
                out.push(open.take().map(|(_, s)| s).unwrap_or_default());
            }
            continue;
        }
        out.push(a.to_vec());
    }
    match open {
        Some((i, _)) => Err(&args[i]),
        None => Ok(out),
    }
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User").field("name", &self.name).finish()
    }
}

/// A user: its name and its current rules. Clients authenticated as the user share it, so a change of its rules
/// applies to them at their next command.
pub struct User {
    pub name: String,
    state: RwLock<UserState>,
    unrestricted: AtomicBool,
}

impl User {
    pub fn new(name: String, state: UserState) -> User {
        let unrestricted = AtomicBool::new(state.unrestricted());
        User { name, state: RwLock::new(state), unrestricted }
    }

    /// One relaxed load: true when the user may run every command on every key and channel.
    #[inline]
    pub fn unrestricted(&self) -> bool {
        self.unrestricted.load(Ordering::Relaxed)
    }

    pub fn state(&self) -> RwLockReadGuard<'_, UserState> {
        self.state.read()
    }

    /// Replaces the rules.
    pub fn set_state(&self, state: UserState) {
        let mut s = self.state.write();
        self.unrestricted.store(state.unrestricted(), Ordering::Relaxed);
        *s = state;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(words: &[&str]) -> Vec<Bytes> {
        words.iter().map(|w| Bytes::copy_from_slice(w.as_bytes())).collect()
    }

    #[test]
    fn describes_users_like_redis() {
        assert_eq!(UserState::default_user().describe(), b"on nopass ~* &* +@all");
        let mut u = UserState::new(false);
        u.apply_all(&args(&["reset"]), false).unwrap();
        assert_eq!(u.describe(), b"off sanitize-payload resetchannels -@all");
        u.apply_all(&args(&["on", ">password", "~k*", "+get", "(", "+set", "%W~w*", ")"]), false).unwrap();
        assert_eq!(
            String::from_utf8(u.describe()).unwrap(),
            "on sanitize-payload #5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8 ~k* \
             resetchannels -@all +get (%W~w* resetchannels -@all +set)"
        );
        assert!(u.password_ok(b"password"));
        assert!(!u.password_ok(b"other"));
    }

    #[test]
    fn errors_change_nothing() {
        let mut u = UserState::new(false);
        let before = u.clone();
        assert_eq!(
            u.apply_all(&args(&["on", "+get", "bogus"]), false),
            Err("Error in ACL SETUSER modifier 'bogus': Syntax error".into())
        );
        assert_eq!(u, before);
        assert_eq!(
            u.apply_all(&args(&["(+get", "~x"]), false),
            Err("Unmatched parenthesis in acl selector starting at '(+get'.".into())
        );
        assert_eq!(
            u.apply_all(&args(&["<nosuch"]), false),
            Err("Error in ACL SETUSER modifier '<nosuch': The password you are trying to remove from the user does \
                 not exist"
                .into())
        );
        assert!(u.apply_all(&args(&["#abc"]), false).unwrap_err().contains("exactly 64 characters"));
        assert!(u.apply_all(&args(&["nopass", ">x"]), false).is_ok());
        assert!(!u.has(NOPASS));
    }
}
