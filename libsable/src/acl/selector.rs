//! A selector: the command bitmap, key patterns and channel patterns one set of rules grants (a user's root
//! selector, and the `(...)` selectors of Redis 7). Applying one rule word (`ACLSetSelector`), describing the
//! rules back (`ACLDescribeSelector`, with Redis' category-fitting search) and checking a command against it.

use std::collections::BTreeMap;

use bytes::Bytes;

use super::catalog::{catalog, category_bit, AclCatalog, CATEGORIES};
use super::RuleError;
use crate::util::glob::glob_match;

/// Key pattern permissions.
pub const READ: u8 = 1;
pub const WRITE: u8 = 2;
pub const ALL: u8 = READ | WRITE;

/// A key pattern and what it allows (`~p` both, `%R~p` read, `%W~p` write).
#[derive(Debug, Clone, PartialEq)]
pub struct KeyPattern {
    pub pattern: Vec<u8>,
    pub perms: u8,
}

impl KeyPattern {
    /// The rule that sets this pattern (`~p`, `%R~p`, `%W~p`), as Redis' `sdsCatPatternString`.
    pub fn describe(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(match self.perms {
            READ => b"%R~",
            WRITE => b"%W~",
            _ => b"~",
        });
        out.extend_from_slice(&self.pattern);
    }
}

/// Why a command is refused, in Redis' order of relevance (`ACL_DENIED_CMD` < `KEY` < `CHANNEL`); the position
/// is the argument of the key or channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denied {
    Command,
    Key(usize),
    Channel(usize),
}

impl Denied {
    pub fn rank(self) -> (u8, usize) {
        match self {
            Denied::Command => (1, 0),
            Denied::Key(p) => (2, p),
            Denied::Channel(p) => (4, p),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Selector {
    pub root: bool,
    pub allkeys: bool,
    pub allchannels: bool,
    pub allcommands: bool,
    bits: Vec<u64>,
    /// `+cmd|arg` first arguments allowed for a command whose bit is off.
    firstargs: BTreeMap<usize, Vec<String>>,
    pub keys: Vec<KeyPattern>,
    pub channels: Vec<Vec<u8>>,
}

fn has_spaces(s: &[u8]) -> bool {
    s.iter().any(|&c| c.is_ascii_whitespace() || c == 0)
}

impl Selector {
    /// An empty selector (no commands, keys or channels); `allchannels` as `acl-pubsub-default` says.
    pub fn new(root: bool, allchannels: bool) -> Selector {
        Selector {
            root,
            allkeys: false,
            allchannels,
            allcommands: false,
            bits: vec![0; catalog().bits().div_ceil(64)],
            firstargs: BTreeMap::new(),
            keys: Vec::new(),
            channels: Vec::new(),
        }
    }

    pub fn bit(&self, id: usize) -> bool {
        self.bits.get(id / 64).is_some_and(|w| w & (1 << (id % 64)) != 0)
    }

    fn set_bit(&mut self, id: usize, on: bool) {
        if let Some(w) = self.bits.get_mut(id / 64) {
            if on {
                *w |= 1 << (id % 64);
            } else {
                *w &= !(1 << (id % 64));
                self.allcommands = false;
            }
        }
    }

    /// `ACLChangeSelectorPerm`: a command and all its subcommands.
    fn change_perm(&mut self, cat: &AclCatalog, id: usize, on: bool) {
        self.set_bit(id, on);
        self.firstargs.remove(&id);
        for &sub in &cat.cmds[id].subs {
            self.set_bit(sub, on);
        }
    }

    fn set_category(&mut self, cat: &AclCatalog, flag: u32, on: bool) {
        for &top in &cat.tops {
            if cat.cmds[top].categories & flag != 0 {
                self.change_perm(cat, top, on);
            }
            for &sub in &cat.cmds[top].subs {
                if cat.cmds[sub].categories & flag != 0 {
                    self.change_perm(cat, sub, on);
                }
            }
        }
    }

    fn all_commands(&mut self, on: bool) {
        let fill = if on { u64::MAX } else { 0 };
        self.bits.iter_mut().for_each(|w| *w = fill);
        self.allcommands = on;
        self.firstargs.clear();
    }

    /// True when every command bit the catalog has is set and `+@all` was given (future commands too).
    pub fn future_commands(&self) -> bool {
        self.bit(catalog().future_bit())
    }

    /// Applies one rule word (Redis' `ACLSetSelector`).
    pub fn apply(&mut self, op: &[u8]) -> Result<(), RuleError> {
        let cat = catalog();
        if op.is_empty() {
            return Err(RuleError::Syntax);
        }
        let is = |w: &str| op.eq_ignore_ascii_case(w.as_bytes());
        if is("allkeys") || op == b"~*" {
            self.allkeys = true;
            self.keys.clear();
        } else if is("resetkeys") {
            self.allkeys = false;
            self.keys.clear();
        } else if is("allchannels") || op == b"&*" {
            self.allchannels = true;
            self.channels.clear();
        } else if is("resetchannels") {
            self.allchannels = false;
            self.channels.clear();
        } else if is("allcommands") || is("+@all") {
            self.all_commands(true);
        } else if is("nocommands") || is("-@all") {
            self.all_commands(false);
        } else if op[0] == b'~' || op[0] == b'%' {
            if self.allkeys {
                return Err(RuleError::KeysAfterAll);
            }
            let mut perms = 0;
            let mut offset = 1;
            if op[0] == b'%' {
                while offset < op.len() {
                    let c = op[offset].to_ascii_uppercase();
                    if c == b'R' && perms & READ == 0 {
                        perms |= READ;
                    } else if c == b'W' && perms & WRITE == 0 {
                        perms |= WRITE;
                    } else if op[offset] == b'~' {
                        offset += 1;
                        break;
                    } else {
                        return Err(RuleError::Syntax);
                    }
                    offset += 1;
                }
                // `%~x` grants nothing: redis-server 7.0.15 refuses it.
                if perms == 0 {
                    return Err(RuleError::Syntax);
                }
            } else {
                perms = ALL;
            }
            let pattern = &op[offset.min(op.len())..];
            if has_spaces(pattern) {
                return Err(RuleError::Syntax);
            }
            match self.keys.iter_mut().find(|k| k.pattern == pattern) {
                Some(k) => k.perms |= perms,
                None => self.keys.push(KeyPattern { pattern: pattern.to_vec(), perms }),
            }
            self.allkeys = false;
        } else if op[0] == b'&' {
            if self.allchannels {
                return Err(RuleError::ChannelsAfterAll);
            }
            let pattern = &op[1..];
            if has_spaces(pattern) {
                return Err(RuleError::Syntax);
            }
            if !self.channels.iter().any(|c| c == pattern) {
                self.channels.push(pattern.to_vec());
            }
            self.allchannels = false;
        } else if op[0] == b'+' && op.get(1) != Some(&b'@') {
            let name = &op[1..];
            match name.iter().rposition(|&c| c == b'|') {
                None => {
                    let id = cat.lookup(name).ok_or(RuleError::UnknownName)?;
                    self.change_perm(cat, id, true);
                }
                Some(bar) => {
                    let (base, sub) = (&name[..bar], &name[bar + 1..]);
                    let id = cat.lookup(base).ok_or(RuleError::UnknownName)?;
                    if cat.cmds[id].parent.is_some() {
                        return Err(RuleError::FirstArgOfSubcommand);
                    }
                    if sub.is_empty() {
                        return Err(RuleError::Syntax);
                    }
                    if !cat.cmds[id].subs.is_empty() {
                        let sid = cat.lookup(name).ok_or(RuleError::UnknownName)?;
                        self.change_perm(cat, sid, true);
                    } else {
                        let sub = String::from_utf8_lossy(sub).into_owned();
                        let list = self.firstargs.entry(id).or_default();
                        if !list.iter().any(|s| s.eq_ignore_ascii_case(&sub)) {
                            list.push(sub);
                        }
                    }
                }
            }
        } else if op[0] == b'-' && op.get(1) != Some(&b'@') {
            let id = cat.lookup(&op[1..]).ok_or(RuleError::UnknownName)?;
            self.change_perm(cat, id, false);
        } else if (op[0] == b'+' || op[0] == b'-') && op.get(1) == Some(&b'@') {
            let flag = category_bit(&op[2..]).ok_or(RuleError::UnknownName)?;
            self.set_category(cat, flag, op[0] == b'+');
        } else {
            return Err(RuleError::Syntax);
        }
        Ok(())
    }

    /// Commands of a category this selector allows and denies (`ACLCountCategoryBitsForSelector`).
    fn count_category(&self, cat: &AclCatalog, flag: u32) -> (usize, usize) {
        let (mut on, mut off) = (0, 0);
        for c in cat.cmds.iter().enumerate().filter(|(_, c)| c.categories & flag != 0) {
            if self.bit(c.0) {
                on += 1;
            } else {
                off += 1;
            }
        }
        (on, off)
    }

    /// The command rules that rebuild this selector's bitmap (`ACLDescribeSelectorCommandRules`): `+@all` or
    /// `-@all`, the categories that fit best, then single commands.
    pub fn describe_commands(&self) -> String {
        let cat = catalog();
        let additive = !self.future_commands();
        let mut fake = Selector::new(false, false);
        let mut rules = String::new();
        if additive {
            rules.push_str("-@all ");
        } else {
            rules.push_str("+@all ");
            fake.all_commands(true);
        }
        let mut temp = self.clone();
        let mut applied = [false; 32];
        loop {
            let mut best = None;
            let (mut mindiff, mut maxsame) = (usize::MAX, 0);
            for (j, _) in CATEGORIES.iter().enumerate() {
                if applied[j] {
                    continue;
                }
                let (on, off) = temp.count_category(cat, 1 << j);
                let (diff, same) = if additive { (off, on) } else { (on, off) };
                if same > diff && (diff < mindiff || (diff == mindiff && same > maxsame)) {
                    best = Some(j);
                    mindiff = diff;
                    maxsame = same;
                }
            }
            let Some(j) = best else { break };
            fake.set_category(cat, 1 << j, additive);
            temp.set_category(cat, 1 << j, !additive);
            rules.push_str(if additive { "+@" } else { "-@" });
            rules.push_str(CATEGORIES[j]);
            rules.push(' ');
            applied[j] = true;
        }
        // Single commands: walk the commands as Redis walks its table, emitting each difference left.
        for &top in &cat.tops {
            self.describe_single(cat, &mut fake, &mut rules, top);
            for &sub in &cat.cmds[top].subs {
                self.describe_single(cat, &mut fake, &mut rules, sub);
            }
        }
        rules.pop();
        rules
    }

    fn describe_single(&self, cat: &AclCatalog, fake: &mut Selector, rules: &mut String, id: usize) {
        let user = self.bit(id);
        if user != fake.bit(id) {
            rules.push(if user { '+' } else { '-' });
            rules.push_str(&cat.cmds[id].name);
            rules.push(' ');
            fake.change_perm(cat, id, user);
        }
        if !user {
            for arg in self.firstargs.get(&id).into_iter().flatten() {
                rules.push('+');
                rules.push_str(&cat.cmds[id].name);
                rules.push('|');
                rules.push_str(arg);
                rules.push(' ');
            }
        }
    }

    /// GETUSER's `keys` field: `~*`, or the patterns' rules separated by spaces.
    pub fn describe_keys(&self) -> Vec<u8> {
        if self.allkeys {
            return b"~*".to_vec();
        }
        let mut out = Vec::new();
        for (i, k) in self.keys.iter().enumerate() {
            if i > 0 {
                out.push(b' ');
            }
            k.describe(&mut out);
        }
        out
    }

    /// GETUSER's `channels` field.
    pub fn describe_channels(&self) -> Vec<u8> {
        if self.allchannels {
            return b"&*".to_vec();
        }
        let mut out = Vec::new();
        for (i, c) in self.channels.iter().enumerate() {
            if i > 0 {
                out.push(b' ');
            }
            out.push(b'&');
            out.extend_from_slice(c);
        }
        out
    }

    /// The selector as rules (`ACLDescribeSelector`): keys, channels, commands.
    pub fn describe(&self) -> Vec<u8> {
        let mut out = Vec::new();
        if self.allkeys {
            out.extend_from_slice(b"~* ");
        } else {
            for k in &self.keys {
                k.describe(&mut out);
                out.push(b' ');
            }
        }
        if self.allchannels {
            out.extend_from_slice(b"&* ");
        } else {
            out.extend_from_slice(b"resetchannels ");
            for c in &self.channels {
                out.push(b'&');
                out.extend_from_slice(c);
                out.push(b' ');
            }
        }
        out.extend_from_slice(self.describe_commands().as_bytes());
        out
    }

    /// True when this selector allows the command itself (its bit, `no_auth`, or an allowed first argument).
    pub fn allows_command(&self, id: usize, no_auth: bool, argv: &[Bytes], is_sub: bool) -> bool {
        if self.allcommands || no_auth || self.bit(id) {
            return true;
        }
        let idx = if is_sub { 2 } else { 1 };
        match (self.firstargs.get(&id), argv.get(idx)) {
            (Some(list), Some(arg)) => list.iter().any(|s| s.as_bytes().eq_ignore_ascii_case(arg)),
            _ => false,
        }
    }

    /// `ACLSelectorCheckKey`: may this selector touch `key` with `perms`?
    pub fn allows_key(&self, key: &[u8], perms: u8) -> bool {
        self.allkeys || self.keys.iter().any(|k| k.perms & perms == perms && glob_match(&k.pattern, key, false))
    }

    /// `ACLCheckChannelAgainstList`: a channel is matched against the patterns, a PSUBSCRIBE pattern literally.
    pub fn allows_channel(&self, channel: &[u8], is_pattern: bool) -> bool {
        self.allchannels
            || self.channels.iter().any(|p| if is_pattern { p == channel } else { glob_match(p, channel, false) })
    }

    /// `ACLSelectorCheckCmd`, with the command's keys (position, permissions needed) and channels (position,
    /// is a pattern) already found.
    pub fn check(
        &self,
        id: usize,
        no_auth: bool,
        argv: &[Bytes],
        is_sub: bool,
        keys: &[(usize, u8)],
        channels: &[(usize, bool)],
    ) -> Result<(), Denied> {
        if !self.allows_command(id, no_auth, argv, is_sub) {
            return Err(Denied::Command);
        }
        if !self.allkeys {
            for &(pos, perms) in keys {
                if !self.allows_key(&argv[pos], perms) {
                    return Err(Denied::Key(pos));
                }
            }
        }
        if !self.allchannels {
            for &(pos, is_pattern) in channels {
                if !self.allows_channel(&argv[pos], is_pattern) {
                    return Err(Denied::Channel(pos));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sel(rules: &[&str]) -> Selector {
        let mut s = Selector::new(true, false);
        for r in rules {
            s.apply(r.as_bytes()).unwrap();
        }
        s
    }

    #[test]
    fn describes_like_redis() {
        assert_eq!(sel(&[]).describe_commands(), "-@all");
        assert_eq!(sel(&["+@all"]).describe_commands(), "+@all");
        assert_eq!(sel(&["+get"]).describe_commands(), "-@all +get");
        assert_eq!(sel(&["+@all", "-get"]).describe_commands(), "+@all -get");
        let s = sel(&["+@set", "+@hash", "-@geo", "+get", "+mget", "-hset"]);
        let d = s.describe_commands();
        let words: std::collections::BTreeSet<&str> = d.split(' ').collect();
        assert_eq!(words, ["-@all", "+@set", "+@hash", "+get", "+mget", "-hset"].into_iter().collect());
        assert_eq!(sel(&["+config|get"]).describe_commands(), "-@all +config|get");
        assert_eq!(sel(&["+select|0"]).describe_commands(), "-@all +select|0");
        assert_eq!(sel(&["~a", "%R~b", "%W~c", "%RW~a"]).describe(), b"~a %R~b %W~c resetchannels -@all");
        assert_eq!(sel(&["allkeys", "&x", "&y"]).describe_channels(), b"&x &y");
        assert_eq!(sel(&["allkeys", "allchannels"]).describe(), b"~* &* -@all");
    }

    #[test]
    fn rule_errors() {
        let mut s = sel(&["allkeys", "allchannels"]);
        assert_eq!(s.apply(b"~x"), Err(RuleError::KeysAfterAll));
        assert_eq!(s.apply(b"&x"), Err(RuleError::ChannelsAfterAll));
        assert_eq!(s.apply(b"+nosuch"), Err(RuleError::UnknownName));
        assert_eq!(s.apply(b"+@nosuch"), Err(RuleError::UnknownName));
        assert_eq!(s.apply(b"-select|0"), Err(RuleError::UnknownName));
        assert_eq!(s.apply(b"+config|get|x"), Err(RuleError::FirstArgOfSubcommand));
        assert_eq!(s.apply(b"+select|"), Err(RuleError::Syntax));
        assert_eq!(s.apply(b"get"), Err(RuleError::Syntax));
        let mut s = sel(&[]);
        assert_eq!(s.apply(b"%X~a"), Err(RuleError::Syntax));
        assert_eq!(s.apply(b"%RR~a"), Err(RuleError::Syntax));
        assert_eq!(s.apply(b"%~a"), Err(RuleError::Syntax));
        assert_eq!(s.apply(b"%"), Err(RuleError::Syntax));
        assert_eq!(s.apply(b"%R"), Ok(()));
        assert_eq!(s.describe_keys(), b"%R~");
    }

    #[test]
    fn checks_keys_by_permission() {
        let s = sel(&["+@all", "%R~r*", "%W~w*", "~both"]);
        assert!(s.allows_key(b"r1", READ));
        assert!(!s.allows_key(b"r1", WRITE));
        assert!(!s.allows_key(b"w1", READ | WRITE));
        assert!(s.allows_key(b"both", READ | WRITE));
        assert!(!s.allows_key(b"anything", 0));
        let c = sel(&["&news.*"]);
        assert!(c.allows_channel(b"news.a", false));
        assert!(!c.allows_channel(b"news.a", true));
        assert!(c.allows_channel(b"news.*", true));
    }
}
