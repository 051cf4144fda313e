//! Command metadata (COMMAND INFO and COMMAND DOCS trees) as published by Redis 7.0, loaded from `meta.json`
//! (made by `scripts/gen-command-meta.py` from a real redis-server) and rendered in RESP2 or RESP3.

use std::collections::HashMap;

use serde_json::Value;

use crate::resp::reply::Reply;

/// A RESP value of the metadata tree.
#[derive(Debug, Clone, PartialEq)]
pub enum MetaValue {
    Simple(String),
    Bulk(String),
    Int(i64),
    Array(Vec<MetaValue>),
    Set(Vec<MetaValue>),
    Map(Vec<(MetaValue, MetaValue)>),
    Null,
}

impl MetaValue {
    fn from_json(v: &Value) -> Option<MetaValue> {
        let a = v.as_array()?;
        let tag = a.first()?.as_str()?;
        Some(match tag {
            "s" => MetaValue::Simple(a.get(1)?.as_str()?.to_string()),
            "b" => MetaValue::Bulk(a.get(1)?.as_str()?.to_string()),
            "i" => MetaValue::Int(a.get(1)?.as_i64()?),
            "n" => MetaValue::Null,
            "a" | "set" => {
                let items = a.get(1)?.as_array()?.iter().map(MetaValue::from_json).collect::<Option<Vec<_>>>()?;
                if tag == "a" {
                    MetaValue::Array(items)
                } else {
                    MetaValue::Set(items)
                }
            }
            "m" => MetaValue::Map(
                a.get(1)?
                    .as_array()?
                    .iter()
                    .map(|pair| {
                        let p = pair.as_array()?;
                        Some((MetaValue::from_json(p.first()?)?, MetaValue::from_json(p.get(1)?)?))
                    })
                    .collect::<Option<Vec<_>>>()?,
            ),
            _ => return None,
        })
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            MetaValue::Simple(s) | MetaValue::Bulk(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_int(&self) -> Option<i64> {
        match self {
            MetaValue::Int(i) => Some(*i),
            _ => None,
        }
    }

    pub fn items(&self) -> &[MetaValue] {
        match self {
            MetaValue::Array(v) | MetaValue::Set(v) => v,
            _ => &[],
        }
    }

    /// The value under `key` in a map.
    pub fn get(&self, key: &str) -> Option<&MetaValue> {
        match self {
            MetaValue::Map(pairs) => pairs.iter().find(|(k, _)| k.as_str() == Some(key)).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn render(&self, out: &mut Reply) {
        match self {
            MetaValue::Simple(s) => out.simple(s),
            MetaValue::Bulk(s) => out.bulk(s.as_bytes()),
            MetaValue::Int(i) => out.int(*i),
            MetaValue::Null => out.null(),
            MetaValue::Array(v) => {
                out.array(v.len());
                v.iter().for_each(|x| x.render(out));
            }
            MetaValue::Set(v) => {
                out.set(v.len());
                v.iter().for_each(|x| x.render(out));
            }
            MetaValue::Map(pairs) => {
                out.map(pairs.len());
                for (k, v) in pairs {
                    k.render(out);
                    v.render(out);
                }
            }
        }
    }
}

/// COMMAND INFO and COMMAND DOCS of one command or subcommand (`client|list`).
#[derive(Debug, Clone)]
pub struct CommandMeta {
    pub info: MetaValue,
    pub docs: MetaValue,
}

impl CommandMeta {
    pub fn arity(&self) -> i32 {
        self.info.items().get(1).and_then(MetaValue::as_int).unwrap_or(0) as i32
    }

    pub fn flags(&self) -> Vec<&str> {
        self.info.items().get(2).map(|f| f.items().iter().filter_map(MetaValue::as_str).collect()).unwrap_or_default()
    }

    /// (first key, last key, step) of the legacy key specification.
    pub fn key_range(&self) -> (i32, i32, i32) {
        let i = self.info.items();
        let n = |idx: usize| i.get(idx).and_then(MetaValue::as_int).unwrap_or(0) as i32;
        (n(3), n(4), n(5))
    }

    pub fn acl_categories(&self) -> Vec<&str> {
        self.info.items().get(6).map(|f| f.items().iter().filter_map(MetaValue::as_str).collect()).unwrap_or_default()
    }

    pub fn key_specs(&self) -> &[MetaValue] {
        self.info.items().get(8).map(MetaValue::items).unwrap_or(&[])
    }
}

/// Redis' version the metadata came from, and every command and subcommand by lowercase name.
pub struct MetaCatalog {
    pub redis_version: String,
    pub commands: HashMap<String, CommandMeta>,
}

/// Parses the embedded `meta.json`, flattening subcommands under `parent|sub` names.
pub fn load_catalog() -> MetaCatalog {
    let json: Value = serde_json::from_str(include_str!("meta.json")).unwrap_or(Value::Null);
    let redis_version = json["redis_version"].as_str().unwrap_or("7.0.15").to_string();
    let mut commands = HashMap::new();
    if let Some(map) = json["commands"].as_object() {
        for (name, entry) in map {
            let (Some(info), Some(docs)) = (MetaValue::from_json(&entry["info"]), MetaValue::from_json(&entry["docs"]))
            else {
                continue;
            };
            if let Some(subs) = info.items().get(9) {
                for sub in subs.items() {
                    let Some(sub_name) = sub.items().first().and_then(MetaValue::as_str) else { continue };
                    let sub_docs = docs
                        .get("subcommands")
                        .and_then(|s| s.get(sub_name))
                        .cloned()
                        .unwrap_or(MetaValue::Map(vec![]));
                    commands.insert(sub_name.to_string(), CommandMeta { info: sub.clone(), docs: sub_docs });
                }
            }
            commands.insert(name.clone(), CommandMeta { info, docs });
        }
    }
    MetaCatalog { redis_version, commands }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_has_commands_and_subcommands() {
        let c = load_catalog();
        assert!(c.redis_version.starts_with("7."));
        let get = &c.commands["get"];
        assert_eq!(get.arity(), 2);
        assert_eq!(get.key_range(), (1, 1, 1));
        assert!(get.flags().contains(&"readonly"));
        assert_eq!(c.commands["client|setname"].arity(), 3);
        assert_eq!(c.commands["set"].docs.get("group").and_then(MetaValue::as_str), Some("string"));
    }
}
