//! The one error type of the command layer, and its one conversion to a RESP error line.

use std::fmt;

use crate::util::arg_text;

/// Why a command failed. [`CmdError::message`] is the only place that turns it into Redis' error text.
#[derive(Debug, Clone, PartialEq)]
pub enum CmdError {
    /// `-ERR wrong number of arguments for 'name' command` (lowercase name, subcommands as `name|sub`).
    WrongArity(String),
    UnknownCommand {
        name: Vec<u8>,
        args: Vec<Vec<u8>>,
    },
    UnknownSubcommand {
        sub: Vec<u8>,
        cmd: String,
    },
    WrongType,
    Syntax,
    NotInteger,
    NotFloat,
    Overflow,
    /// A prefixed message: `("ERR", "index out of range")`, `("NOAUTH", "Authentication required.")`.
    Prefixed(&'static str, String),
    /// A message that already carries its own prefix word.
    Raw(String),
    /// A script's error that was counted in the error statistics when a command the script called failed or was
    /// refused: the script runner fails with it, not counted again (Redis' `ERR_REPLY_FLAG_NO_STATS_UPDATE`).
    Counted(String),
    /// `-NOPERM <text>`: an ACL refusal.
    NoPerm(String),
    /// `-WRONGPASS invalid username-password pair or user is disabled.`
    WrongPass,
    /// Storage failure (disk full, corruption); the text is logged and sent as `-ERR`.
    Storage(String),
}

pub type CmdResult<T = ()> = Result<T, CmdError>;

impl CmdError {
    /// `-ERR <msg>`.
    pub fn err(msg: impl Into<String>) -> Self {
        CmdError::Prefixed("ERR", msg.into())
    }

    /// A known subcommand used with arguments its handler rejects (Redis' `addReplySubcommandSyntaxError`):
    /// `argv` is the whole command, its second word the subcommand as the client typed it.
    pub fn subcommand_syntax(argv: &[bytes::Bytes], cmd: &str) -> Self {
        let sub = argv.get(1).map(|s| &s[..s.len().min(128)]).unwrap_or_default();
        CmdError::err(format!(
            "unknown subcommand or wrong number of arguments for '{}'. Try {cmd} HELP.",
            arg_text(sub)
        ))
    }

    /// The text after `-` in the error reply.
    pub fn message(&self) -> String {
        match self {
            CmdError::WrongArity(name) => format!("ERR wrong number of arguments for '{name}' command"),
            CmdError::UnknownCommand { name, args } => {
                // Redis quotes arguments while the list is under 128 bytes, each cut to what is left of them.
                let mut list = Vec::new();
                for a in args {
                    if list.len() >= 128 {
                        break;
                    }
                    let a = &a[..a.iter().position(|&c| c == 0).unwrap_or(a.len())];
                    let room = 128 - list.len();
                    list.push(b'\'');
                    list.extend_from_slice(&a[..a.len().min(room)]);
                    list.extend_from_slice(b"' ");
                }
                format!(
                    "ERR unknown command '{}', with args beginning with: {}",
                    arg_text(&name[..name.len().min(128)]),
                    arg_text(&list)
                )
            }
            CmdError::UnknownSubcommand { sub, cmd } => {
                format!(
                    "ERR unknown subcommand '{}'. Try {} HELP.",
                    arg_text(&sub[..sub.len().min(128)]),
                    cmd.to_uppercase()
                )
            }
            CmdError::WrongType => "WRONGTYPE Operation against a key holding the wrong kind of value".into(),
            CmdError::Syntax => "ERR syntax error".into(),
            CmdError::NotInteger => "ERR value is not an integer or out of range".into(),
            CmdError::NotFloat => "ERR value is not a valid float".into(),
            CmdError::Overflow => "ERR increment or decrement would overflow".into(),
            CmdError::Prefixed(prefix, msg) => format!("{prefix} {msg}"),
            CmdError::Raw(msg) | CmdError::Counted(msg) => msg.clone(),
            CmdError::Storage(msg) => format!("ERR storage error: {msg}"),
            CmdError::NoPerm(msg) => format!("NOPERM {msg}"),
            CmdError::WrongPass => "WRONGPASS invalid username-password pair or user is disabled.".into(),
        }
    }
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
            CmdError::UnknownCommand { name: b"foo".to_vec(), args: vec![b"a".to_vec(), b"b".to_vec()] }.message(),
            "ERR unknown command 'foo', with args beginning with: 'a' 'b' "
        );
        assert_eq!(
            CmdError::UnknownSubcommand { sub: b"x".to_vec(), cmd: "client".into() }.message(),
            "ERR unknown subcommand 'x'. Try CLIENT HELP."
        );
    }
}
