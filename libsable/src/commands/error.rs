//! The one error type of the command layer, and its one conversion to a RESP error line.

use std::fmt;

/// Why a command failed. [`CmdError::message`] is the only place that turns it into Redis' error text.
#[derive(Debug, Clone, PartialEq)]
pub enum CmdError {
    /// `-ERR wrong number of arguments for 'name' command` (lowercase name, subcommands as `name|sub`).
    WrongArity(String),
    UnknownCommand { name: String, args: Vec<String> },
    UnknownSubcommand { sub: String, cmd: String },
    WrongType,
    Syntax,
    NotInteger,
    NotFloat,
    Overflow,
    /// A prefixed message: `("ERR", "index out of range")`, `("NOAUTH", "Authentication required.")`.
    Prefixed(&'static str, String),
    /// A message that already carries its own prefix word.
    Raw(String),
    /// Storage failure (disk full, corruption); the text is logged and sent as `-ERR`.
    Storage(String),
}

pub type CmdResult<T = ()> = Result<T, CmdError>;

impl CmdError {
    /// `-ERR <msg>`.
    pub fn err(msg: impl Into<String>) -> Self {
        CmdError::Prefixed("ERR", msg.into())
    }

    /// The text after `-` in the error reply.
    pub fn message(&self) -> String {
        match self {
            CmdError::WrongArity(name) => format!("ERR wrong number of arguments for '{name}' command"),
            CmdError::UnknownCommand { name, args } => {
                let mut s = format!("ERR unknown command '{}', with args beginning with: ", truncate(name));
                for a in args.iter().take(128) {
                    s.push_str(&format!("'{}' ", truncate(a)));
                }
                s
            }
            CmdError::UnknownSubcommand { sub, cmd } => {
                format!("ERR unknown subcommand '{}'. Try {}.", truncate(sub), cmd.to_uppercase() + " HELP")
            }
            CmdError::WrongType => "WRONGTYPE Operation against a key holding the wrong kind of value".into(),
            CmdError::Syntax => "ERR syntax error".into(),
            CmdError::NotInteger => "ERR value is not an integer or out of range".into(),
            CmdError::NotFloat => "ERR value is not a valid float".into(),
            CmdError::Overflow => "ERR increment or decrement would overflow".into(),
            CmdError::Prefixed(prefix, msg) => format!("{prefix} {msg}"),
            CmdError::Raw(msg) => msg.clone(),
            CmdError::Storage(msg) => format!("ERR storage error: {msg}"),
        }
    }
}

/// Redis cuts echoed names and arguments at 128 bytes in its error texts.
fn truncate(s: &str) -> String {
    if s.len() <= 128 {
        return s.to_string();
    }
    let mut end = 128;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_string()
}

impl fmt::Display for CmdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl From<rocksdb::Error> for CmdError {
    fn from(e: rocksdb::Error) -> Self {
        tracing::error!("storage error: {e}");
        CmdError::Storage(e.into_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_match_redis() {
        assert_eq!(CmdError::WrongArity("get".into()).message(), "ERR wrong number of arguments for 'get' command");
        assert_eq!(
            CmdError::UnknownCommand { name: "foo".into(), args: vec!["a".into(), "b".into()] }.message(),
            "ERR unknown command 'foo', with args beginning with: 'a' 'b' "
        );
        assert_eq!(
            CmdError::UnknownSubcommand { sub: "x".into(), cmd: "client".into() }.message(),
            "ERR unknown subcommand 'x'. Try CLIENT HELP."
        );
    }
}
