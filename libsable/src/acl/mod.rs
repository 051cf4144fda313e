//! Access control lists, as Redis 7.0 has them: users (`user`), their rules (`selector`), the commands and
//! categories rules name (`catalog`), the ACL log (`log`), password hashing (`sha256`), and here the registry of
//! users, the permission check the dispatcher runs, and the ACL file (ACL LOAD / ACL SAVE, `aclfile`).
//!
//! The hot path: every client holds its user (`Arc<User>`); a user allowed every command, key and channel (the
//! default user unless changed) is marked unrestricted, and the dispatcher then does nothing more than load that
//! flag.

pub mod catalog;
pub mod log;
pub mod selector;
pub mod sha256;
pub mod user;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use parking_lot::RwLock;

pub use selector::Denied;
pub use user::{User, UserState};

use crate::commands::Command;

/// Why a rule word was refused (Redis' errno values in `ACLSetUser`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleError {
    /// ENOENT
    UnknownName,
    /// EINVAL
    Syntax,
    /// EEXIST
    KeysAfterAll,
    /// EISDIR
    ChannelsAfterAll,
    /// ENODEV
    NoSuchPassword,
    /// EBADMSG
    BadHash,
    /// ECHILD
    FirstArgOfSubcommand,
}

impl RuleError {
    /// Redis' `ACLSetUserStringError`.
    pub fn message(self) -> &'static str {
        match self {
            RuleError::UnknownName => "Unknown command or category name in ACL",
            RuleError::Syntax => "Syntax error",
            RuleError::KeysAfterAll => {
                "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any \
                 effect. Try 'resetkeys' to start with an empty list of patterns"
            }
            RuleError::ChannelsAfterAll => {
                "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any \
                 effect. Try 'resetchannels' to start with an empty list of channels"
            }
            RuleError::NoSuchPassword => "The password you are trying to remove from the user does not exist",
            RuleError::BadHash => {
                "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters"
            }
            RuleError::FirstArgOfSubcommand => "Allowing first-arg of a subcommand is not supported",
        }
    }
}

/// Every user, by name, and the ACL log.
pub struct Acl {
    users: RwLock<BTreeMap<String, Arc<User>>>,
    default: Arc<User>,
    pub log: log::AclLog,
    /// `acl-pubsub-default allchannels`: new users may use every channel.
    pubsub_default_all: AtomicBool,
    /// `acllog-max-len`.
    pub log_max_len: AtomicUsize,
}

impl Default for Acl {
    fn default() -> Self {
        Self::new()
    }
}

/// True when a username may not be used (Redis' `ACLStringHasSpaces`).
pub fn invalid_name(name: &[u8]) -> bool {
    name.iter().any(|&c| c.is_ascii_whitespace() || c == 0)
}

impl Acl {
    pub fn new() -> Acl {
        let default = Arc::new(User::new("default".into(), UserState::default_user()));
        let mut users = BTreeMap::new();
        users.insert("default".to_string(), default.clone());
        Acl {
            users: RwLock::new(users),
            default,
            log: log::AclLog::default(),
            pubsub_default_all: AtomicBool::new(false),
            log_max_len: AtomicUsize::new(128),
        }
    }

    /// The `default` user, which new connections start as.
    pub fn default_user(&self) -> &Arc<User> {
        &self.default
    }

    /// True when a new connection is authenticated at once (the default user is `nopass` and on); while it is,
    /// no client needs AUTH (Redis' `authRequired`).
    pub fn default_open(&self) -> bool {
        let s = self.default.state();
        s.has(user::NOPASS) && s.enabled()
    }

    pub fn set_pubsub_default(&self, allchannels: bool) {
        self.pubsub_default_all.store(allchannels, Ordering::Relaxed);
    }

    fn allchannels(&self) -> bool {
        self.pubsub_default_all.load(Ordering::Relaxed)
    }

    pub fn get(&self, name: &[u8]) -> Option<Arc<User>> {
        self.users.read().get(String::from_utf8_lossy(name).as_ref()).cloned()
    }

    /// The user these credentials authenticate, if any (`ACLCheckUserCredentials`).
    pub fn authenticate(&self, name: &[u8], pass: &[u8]) -> Option<Arc<User>> {
        let u = self.get(name)?;
        let ok = u.state().password_ok(pass);
        ok.then_some(u)
    }

    /// `requirepass`: the default user's only password, or `nopass` when empty (`ACLUpdateDefaultUserPassword`).
    pub fn set_default_password(&self, pass: &str) {
        let mut s = self.default.state().clone();
        let _ = s.apply(b"resetpass", false);
        let op = if pass.is_empty() { b"nopass".to_vec() } else { [b">", pass.as_bytes()].concat() };
        let _ = s.apply(&op, false);
        self.default.set_state(s);
    }

    /// ACL SETUSER: creates or changes a user; on error nothing changes and the text is returned. A user that
    /// existed is returned with its rules from before.
    pub fn set_user(&self, name: &[u8], rules: &[Bytes]) -> Result<Option<(Arc<User>, UserState)>, String> {
        let name = String::from_utf8_lossy(name).into_owned();
        let mut users = self.users.write();
        let existing = users.get(&name).cloned();
        let mut state = existing.as_ref().map_or_else(|| UserState::new(self.allchannels()), |u| u.state().clone());
        state.apply_all(rules, self.allchannels())?;
        match existing {
            Some(u) => {
                let old = u.state().clone();
                u.set_state(state);
                Ok(Some((u, old)))
            }
            None => {
                users.insert(name.clone(), Arc::new(User::new(name, state)));
                Ok(None)
            }
        }
    }

    /// ACL DELUSER: removes the users that exist and returns them (their clients are to be disconnected).
    pub fn delete(&self, names: &[Bytes]) -> Vec<Arc<User>> {
        let mut users = self.users.write();
        names.iter().filter_map(|n| users.remove(String::from_utf8_lossy(n).as_ref())).collect()
    }

    /// Every user in name order.
    pub fn all(&self) -> Vec<Arc<User>> {
        self.users.read().values().cloned().collect()
    }

    /// ACL LIST / ACL SAVE lines: `user <name> <rules>`.
    pub fn list(&self) -> Vec<Vec<u8>> {
        self.all()
            .iter()
            .map(|u| {
                let mut line = format!("user {} ", u.name).into_bytes();
                line.extend_from_slice(&u.state().describe());
                line
            })
            .collect()
    }

    /// ACL LOAD (`ACLLoadFromFile`): replaces every user with the file's, or changes nothing and returns Redis'
    /// error text. On success returns the users that were replaced (their clients are to be disconnected); the
    /// default user is changed in place and keeps its clients.
    pub fn load(&self, filename: &str, text: &str) -> Result<Vec<Arc<User>>, String> {
        let mut errors = String::new();
        let mut loaded: BTreeMap<String, UserState> = BTreeMap::new();
        for (i, line) in text.split('\n').enumerate() {
            let linenum = i + 1;
            let line = line.trim_matches([' ', '\t', '\r', '\n']);
            if line.is_empty() {
                continue;
            }
            let argv: Vec<&str> = line.split(' ').filter(|w| !w.is_empty()).collect();
            if argv.is_empty() {
                continue;
            }
            if argv[0] != "user" || argv.len() < 2 {
                errors.push_str(&format!(
                    "{filename}:{linenum} should start with user keyword followed by the username. "
                ));
                continue;
            }
            if invalid_name(argv[1].as_bytes()) {
                errors
                    .push_str(&format!("'{filename}:{linenum}: username '{}' contains invalid characters. ", argv[1]));
                continue;
            }
            if loaded.contains_key(argv[1]) {
                errors.push_str(&format!("WARNING: Duplicate user '{}' found on line {linenum}. ", argv[1]));
                continue;
            }
            let words: Vec<Bytes> = argv[2..].iter().map(|w| Bytes::copy_from_slice(w.as_bytes())).collect();
            let mut state = UserState::new(self.allchannels());
            let Ok(merged) = user::merge_words(&words) else {
                errors.push_str(&format!("{filename}:{linenum}: Unmatched parenthesis in selector definition."));
                loaded.insert(argv[1].to_string(), state);
                continue;
            };
            let mut syntax_error = false;
            for op in merged {
                if let Err(e) = state.apply(&op, self.allchannels()) {
                    if e == RuleError::UnknownName {
                        errors.push_str(&format!(
                            "{filename}:{linenum}: Error in applying operation '{}': {}. ",
                            String::from_utf8_lossy(&op),
                            e.message()
                        ));
                    } else if !syntax_error {
                        errors.push_str(&format!("{filename}:{linenum}: {}. ", e.message()));
                        syntax_error = true;
                    }
                }
            }
            loaded.insert(argv[1].to_string(), state);
        }
        if !errors.is_empty() {
            errors.push_str("WARNING: ACL errors detected, no change to the previously active ACL rules was performed");
            return Err(errors);
        }
        let default_state = loaded.remove("default").unwrap_or_else(UserState::default_user);
        self.default.set_state(default_state);
        let mut users = self.users.write();
        let mut fresh: BTreeMap<String, Arc<User>> =
            loaded.into_iter().map(|(n, s)| (n.clone(), Arc::new(User::new(n, s)))).collect();
        fresh.insert("default".into(), self.default.clone());
        let old = std::mem::replace(&mut *users, fresh);
        Ok(old.into_values().filter(|u| !Arc::ptr_eq(u, &self.default)).collect())
    }

    /// ACL SAVE (`ACLSaveToFile`): every user, written to a temporary file renamed over `filename`.
    pub fn save(&self, filename: &str) -> std::io::Result<()> {
        let mut text = Vec::new();
        for line in self.list() {
            text.extend_from_slice(&line);
            text.push(b'\n');
        }
        let tmp = format!("{filename}.tmp-{}-{}", std::process::id(), crate::util::now_ms());
        let result = std::fs::write(&tmp, &text).and_then(|_| std::fs::rename(&tmp, filename));
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        result
    }
}

/// `ACLKillPubsubClientsIfNeeded`'s first test: unless the new rules allow every channel or every channel
/// pattern of the old ones, the channel patterns the subscribers of the user are checked against (else `None`).
pub fn revoked_channels(old: &UserState, new: &UserState) -> Option<Vec<Vec<u8>>> {
    if new.selectors.iter().any(|s| s.allchannels) {
        return None;
    }
    let upcoming: Vec<Vec<u8>> = new.selectors.iter().flat_map(|s| s.channels.iter().cloned()).collect();
    let kept = old.selectors.iter().all(|s| !s.allchannels && s.channels.iter().all(|c| upcoming.contains(c)));
    (!kept).then_some(upcoming)
}

/// True when a subscription (a PSUBSCRIBE pattern matched literally, a channel by glob) is not in `allowed`.
pub fn subscription_refused(allowed: &[Vec<u8>], name: &[u8], is_pattern: bool) -> bool {
    !allowed.iter().any(|p| if is_pattern { p == name } else { crate::util::glob::glob_match(p, name, false) })
}

/// The channel arguments of the pub/sub commands ACL rules restrict (Redis' `commands_with_channels`, only the
/// publishing and subscribing ones): (position, is a pattern).
fn channels_of(name: &str, argc: usize) -> Vec<(usize, bool)> {
    match name {
        "subscribe" | "ssubscribe" => (1..argc).map(|i| (i, false)).collect(),
        "psubscribe" => (1..argc).map(|i| (i, true)).collect(),
        "publish" | "spublish" if argc > 1 => vec![(1, false)],
        _ => Vec::new(),
    }
}

/// `ACLCheckAllUserCommandPerm`: may `user` run `cmd` with these arguments? On refusal, the most relevant reason
/// over all selectors (a key or channel beats the command; a later argument beats an earlier one).
pub fn check(user: &User, cmd: &Command, argv: &[Bytes]) -> Result<(), Denied> {
    let state = user.state();
    let keys = if state.selectors.iter().any(|s| !s.allkeys) {
        crate::commands::server::key_permissions(cmd, argv)
    } else {
        Vec::new()
    };
    let channels =
        if state.selectors.iter().any(|s| !s.allchannels) { channels_of(&cmd.name, argv.len()) } else { Vec::new() };
    let no_auth = cmd.has(crate::commands::flags::NO_AUTH);
    let is_sub = cmd.name.contains('|');
    let mut relevant = Denied::Command;
    for s in &state.selectors {
        match s.check(cmd.acl_id, no_auth, argv, is_sub, &keys, &channels) {
            Ok(()) => return Ok(()),
            Err(d) if d.rank() > relevant.rank() => relevant = d,
            Err(_) => {}
        }
    }
    Err(relevant)
}

/// `ACLUserCheckCmdWithUnrestrictedKeyAccess`: some selector allows the command and `perms` on every key (SORT's
/// BY and GET read keys no key check saw).
pub fn full_key_access(user: &User, cmd: &Command, argv: &[Bytes], perms: u8) -> bool {
    let state = user.state();
    let keys = crate::commands::server::key_permissions(cmd, argv);
    let channels = channels_of(&cmd.name, argv.len());
    let no_auth = cmd.has(crate::commands::flags::NO_AUTH);
    let is_sub = cmd.name.contains('|');
    state.selectors.iter().any(|s| {
        s.check(cmd.acl_id, no_auth, argv, is_sub, &keys, &channels).is_ok()
            && (s.allkeys || s.keys.iter().any(|k| k.perms & perms == perms && k.pattern == b"*"))
    })
}

/// A GENPASS password: `bits` random bits as lowercase hex (rounded up to whole characters), from the kernel's
/// random source when it can be read.
pub fn genpass(bits: usize) -> String {
    use std::io::Read;
    let chars = bits.div_ceil(4);
    let mut raw = vec![0u8; chars.div_ceil(2)];
    let from_kernel = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut raw)).is_ok();
    if !from_kernel {
        return crate::util::random_hex(chars);
    }
    let mut hex: String = raw.iter().map(|b| format!("{b:02x}")).collect();
    hex.truncate(chars);
    hex
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn load_replaces_users_or_nothing() {
        let acl = Acl::new();
        acl.set_user(b"old", &[Bytes::from_static(b"on")]).unwrap();
        let err = acl.load("f.acl", "user a on +get\nbogus\nuser b +nosuch\n").unwrap_err();
        assert_eq!(
            err,
            "f.acl:2 should start with user keyword followed by the username. f.acl:3: Error in applying operation \
             '+nosuch': Unknown command or category name in ACL. WARNING: ACL errors detected, no change to the \
             previously active ACL rules was performed"
        );
        assert!(acl.get(b"old").is_some());
        let gone = acl.load("f.acl", "user a on nopass +get ~*\nuser default on >pw ~* &* +@all\n").unwrap();
        assert_eq!(gone.len(), 1);
        assert!(acl.get(b"old").is_none());
        assert!(acl.authenticate(b"a", b"x").is_some());
        assert!(acl.authenticate(b"default", b"pw").is_some());
        assert!(!acl.default_open());
        assert_eq!(genpass(256).len(), 64);
        assert_eq!(genpass(5).len(), 2);
    }
}
