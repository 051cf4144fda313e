//! The argument cursor every handler parses its arguments through.

use bytes::Bytes;

use super::error::{CmdError, CmdResult};
use crate::util::{eq_ic, parse_f64, parse_i64};

/// A cursor over a command's arguments (the command name already consumed).
pub struct Args<'a> {
    argv: &'a [Bytes],
    pos: usize,
}

impl<'a> Args<'a> {
    /// Starts after the command name, or after `skip` leading words (`1` for a plain command, `2` for a
    /// subcommand such as `CLIENT SETNAME`).
    pub fn new(argv: &'a [Bytes], skip: usize) -> Self {
        Self { argv, pos: skip.min(argv.len()) }
    }

    /// The whole argument vector, command name included.
    pub fn argv(&self) -> &'a [Bytes] {
        self.argv
    }

    pub fn remaining(&self) -> usize {
        self.argv.len() - self.pos
    }

    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    /// The arguments not consumed yet.
    pub fn rest(&self) -> &'a [Bytes] {
        &self.argv[self.pos..]
    }

    pub fn peek(&self) -> Option<&'a Bytes> {
        self.argv.get(self.pos)
    }

    /// The next argument; a syntax error when there is none (arity was already checked by the dispatcher).
    pub fn next_bytes(&mut self) -> CmdResult<&'a Bytes> {
        let a = self.argv.get(self.pos).ok_or(CmdError::Syntax)?;
        self.pos += 1;
        Ok(a)
    }

    pub fn next_i64(&mut self) -> CmdResult<i64> {
        parse_i64(self.next_bytes()?).ok_or(CmdError::NotInteger)
    }

    pub fn next_f64(&mut self) -> CmdResult<f64> {
        parse_f64(self.next_bytes()?).ok_or(CmdError::NotFloat)
    }

    /// Next argument as a lossy UTF-8 string (option names, patterns for messages).
    pub fn next_string(&mut self) -> CmdResult<String> {
        Ok(String::from_utf8_lossy(self.next_bytes()?).into_owned())
    }

    /// Consumes the next argument if it equals `word` (case-insensitive).
    pub fn eat(&mut self, word: &str) -> bool {
        match self.peek() {
            Some(a) if eq_ic(a, word.as_bytes()) => {
                self.pos += 1;
                true
            }
            _ => false,
        }
    }

    /// Syntax error unless every argument was consumed.
    pub fn finish(&self) -> CmdResult {
        if self.is_empty() {
            Ok(())
        } else {
            Err(CmdError::Syntax)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_consumes_in_order() {
        let argv: Vec<Bytes> = ["SET", "k", "12", "ex", "x"].iter().map(|s| Bytes::from(*s)).collect();
        let mut a = Args::new(&argv, 1);
        assert_eq!(&a.next_bytes().unwrap()[..], b"k");
        assert_eq!(a.next_i64().unwrap(), 12);
        assert!(!a.eat("px"));
        assert!(a.eat("EX"));
        assert_eq!(a.next_i64(), Err(CmdError::NotInteger));
        assert!(a.finish().is_ok());
        assert_eq!(a.next_bytes(), Err(CmdError::Syntax));
    }
}
