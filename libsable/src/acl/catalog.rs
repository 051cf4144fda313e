//! The commands ACL rules name: every command and subcommand of Redis 7.0's command table (`meta.json`, the same
//! metadata COMMAND INFO shows), each with an ACL id (its bit in a selector's command bitmap) and its ACL
//! categories. Rules may name commands SableDB does not implement yet, as they may in Redis.

use std::collections::HashMap;
use std::sync::OnceLock;

use crate::commands::meta::load_catalog;

/// Redis' ACL categories, in Redis' order (ACL CAT, COMMAND INFO, the rule describer's search order).
pub const CATEGORIES: &[&str] = &[
    "keyspace",
    "read",
    "write",
    "set",
    "sortedset",
    "list",
    "hash",
    "string",
    "bitmap",
    "hyperloglog",
    "geo",
    "stream",
    "pubsub",
    "admin",
    "fast",
    "slow",
    "blocking",
    "dangerous",
    "connection",
    "transaction",
    "scripting",
];

/// The bit of a category name (case-insensitive), as Redis' `ACLGetCommandCategoryFlagByName`.
pub fn category_bit(name: &[u8]) -> Option<u32> {
    CATEGORIES.iter().position(|c| c.as_bytes().eq_ignore_ascii_case(name)).map(|i| 1 << i)
}

/// One command or subcommand.
pub struct AclCommand {
    /// Lowercase full name (`config|get` for a subcommand).
    pub name: String,
    pub parent: Option<usize>,
    pub subs: Vec<usize>,
    /// Category bits ([`category_bit`]).
    pub categories: u32,
    /// `no_auth`: always allowed (AUTH, HELLO…), as Redis skips their command bit.
    pub no_auth: bool,
}

/// Every command, by ACL id.
pub struct AclCatalog {
    pub cmds: Vec<AclCommand>,
    /// Top-level commands in name order (the order rules are described and ACL CAT lists).
    pub tops: Vec<usize>,
    by_name: HashMap<String, usize>,
}

impl AclCatalog {
    fn build() -> AclCatalog {
        let meta = load_catalog();
        let mut names: Vec<&String> = meta.commands.keys().filter(|n| !n.contains('|')).collect();
        names.sort();
        let mut cat = AclCatalog { cmds: Vec::new(), tops: Vec::new(), by_name: HashMap::new() };
        let categories = |m: &crate::commands::meta::CommandMeta| {
            m.acl_categories()
                .iter()
                .filter_map(|c| category_bit(c.trim_start_matches('@').as_bytes()))
                .fold(0, |a, b| a | b)
        };
        for name in names {
            let m = &meta.commands[name];
            let id = cat.cmds.len();
            cat.tops.push(id);
            cat.by_name.insert(name.clone(), id);
            cat.cmds.push(AclCommand {
                name: name.clone(),
                parent: None,
                subs: Vec::new(),
                categories: categories(m),
                no_auth: m.flags().contains(&"no_auth"),
            });
            let prefix = format!("{name}|");
            let mut subs: Vec<&String> = meta.commands.keys().filter(|n| n.starts_with(&prefix)).collect();
            subs.sort();
            for sub in subs {
                let sm = &meta.commands[sub];
                let sid = cat.cmds.len();
                cat.cmds[id].subs.push(sid);
                cat.by_name.insert(sub.clone(), sid);
                cat.cmds.push(AclCommand {
                    name: sub.clone(),
                    parent: Some(id),
                    subs: Vec::new(),
                    categories: categories(sm),
                    no_auth: sm.flags().contains(&"no_auth"),
                });
            }
        }
        cat
    }

    /// The id of a full name (`get`, `config|get`), lowercase.
    pub fn id(&self, name: &str) -> Option<usize> {
        self.by_name.get(name).copied()
    }

    /// Redis' `ACLLookupCommand`: `name` or `name|sub` (a subcommand only of a command that has subcommands),
    /// case-insensitive.
    pub fn lookup(&self, name: &[u8]) -> Option<usize> {
        let name = std::str::from_utf8(name).ok()?.to_ascii_lowercase();
        let mut parts = name.split('|');
        let base = self.id(parts.next()?)?;
        match (parts.next(), parts.next()) {
            (None, _) => Some(base),
            (Some(_), None) if !self.cmds[base].subs.is_empty() => self.id(&name),
            _ => None,
        }
    }

    /// Bits per selector bitmap: one per command plus the "future commands" bit `+@all` sets.
    pub fn bits(&self) -> usize {
        self.cmds.len() + 1
    }

    /// The id of the reserved "future commands" bit.
    pub fn future_bit(&self) -> usize {
        self.cmds.len()
    }
}

/// The process-wide catalog.
pub fn catalog() -> &'static AclCatalog {
    static CATALOG: OnceLock<AclCatalog> = OnceLock::new();
    CATALOG.get_or_init(AclCatalog::build)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_follows_redis() {
        let c = catalog();
        assert!(c.lookup(b"GET").is_some());
        assert!(c.lookup(b"config|get").is_some());
        assert!(c.lookup(b"config|nosuch").is_none());
        assert!(c.lookup(b"get|x").is_none());
        assert!(c.lookup(b"config|get|x").is_none());
        assert!(c.lookup(b"nosuch").is_none());
        let get = &c.cmds[c.lookup(b"get").unwrap()];
        assert!(get.categories & category_bit(b"read").unwrap() != 0);
        assert!(get.categories & category_bit(b"WRITE").unwrap() == 0);
        assert!(c.cmds[c.lookup(b"auth").unwrap()].no_auth);
        assert_eq!(category_bit(b"nosuch"), None);
    }
}
