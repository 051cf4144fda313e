//! Glob-style pattern matching with Redis' exact rules (`*`, `?`, `[a-z]`, `[^x]`, `\` escapes), used by KEYS,
//! SCAN MATCH, CONFIG GET and the pub/sub pattern commands.

/// True when `string` matches `pattern`. A lone `*` does not match the empty string here, exactly as in Redis'
/// `stringmatchlen`; callers that mean "everything" check [`is_match_all`] first, as Redis' KEYS and SCAN do.
pub fn glob_match(pattern: &[u8], string: &[u8], nocase: bool) -> bool {
    let mut skip_longer = false;
    matches(pattern, string, nocase, &mut skip_longer, 0)
}

/// The pattern `*`, which KEYS and SCAN treat as "no filter".
pub fn is_match_all(pattern: &[u8]) -> bool {
    pattern == b"*"
}

/// Byte at `i`, or 0 past the end (the C original reads the string's terminator there).
fn at(b: &[u8], i: usize) -> u8 {
    b.get(i).copied().unwrap_or(0)
}

fn same(a: u8, b: u8, nocase: bool) -> bool {
    if nocase {
        a.eq_ignore_ascii_case(&b)
    } else {
        a == b
    }
}

fn matches(pat: &[u8], s: &[u8], nocase: bool, skip_longer: &mut bool, depth: usize) -> bool {
    // Deep `*` nesting would exhaust the stack; such a pattern is treated as not matching.
    if depth > 1000 {
        return false;
    }
    let (mut p, mut i) = (0usize, 0usize);
    while p < pat.len() && i < s.len() {
        match pat[p] {
            b'*' => {
                while p + 1 < pat.len() && pat[p + 1] == b'*' {
                    p += 1;
                }
                if p + 1 == pat.len() {
                    return true;
                }
                while i < s.len() {
                    if matches(&pat[p + 1..], &s[i..], nocase, skip_longer, depth + 1) {
                        return true;
                    }
                    if *skip_longer {
                        return false;
                    }
                    i += 1;
                }
                // Nothing after this star matches anywhere in the rest: earlier stars cannot help either.
                *skip_longer = true;
                return false;
            }
            b'?' => i += 1,
            b'[' => {
                p += 1;
                let negate = at(pat, p) == b'^';
                if negate {
                    p += 1;
                }
                let mut hit = false;
                loop {
                    let rem = pat.len().saturating_sub(p);
                    if at(pat, p) == b'\\' && rem >= 2 {
                        p += 1;
                        if pat[p] == s[i] {
                            hit = true;
                        }
                    } else if at(pat, p) == b']' {
                        break;
                    } else if rem == 0 {
                        p -= 1;
                        break;
                    } else if rem >= 3 && pat[p + 1] == b'-' {
                        let (mut lo, mut hi, mut c) = (pat[p], pat[p + 2], s[i]);
                        if lo > hi {
                            std::mem::swap(&mut lo, &mut hi);
                        }
                        if nocase {
                            lo = lo.to_ascii_lowercase();
                            hi = hi.to_ascii_lowercase();
                            c = c.to_ascii_lowercase();
                        }
                        p += 2;
                        if c >= lo && c <= hi {
                            hit = true;
                        }
                    } else if same(pat[p], s[i], nocase) {
                        hit = true;
                    }
                    p += 1;
                }
                if negate {
                    hit = !hit;
                }
                if !hit {
                    return false;
                }
                i += 1;
            }
            c => {
                let lit = if c == b'\\' && pat.len() - p >= 2 {
                    p += 1;
                    pat[p]
                } else {
                    c
                };
                if !same(lit, s[i], nocase) {
                    return false;
                }
                i += 1;
            }
        }
        p += 1;
        if i == s.len() {
            while at(pat, p) == b'*' {
                p += 1;
            }
            break;
        }
    }
    p >= pat.len() && i == s.len()
}

#[cfg(test)]
mod tests {
    use super::glob_match;

    fn m(p: &str, s: &str) -> bool {
        glob_match(p.as_bytes(), s.as_bytes(), false)
    }

    #[test]
    fn redis_glob_rules() {
        // As in Redis, the empty string only matches a lone `*` through the callers' match-all shortcut.
        assert!(!m("*", ""));
        assert!(m("*", "abc"));
        assert!(m("h?llo", "hello"));
        assert!(!m("h?llo", "hllo"));
        assert!(m("h*llo", "heeeello"));
        assert!(m("h[ae]llo", "hallo"));
        assert!(!m("h[ae]llo", "hillo"));
        assert!(m("h[^e]llo", "hallo"));
        assert!(!m("h[^e]llo", "hello"));
        assert!(m("h[a-b]llo", "hbllo"));
        assert!(m("h[b-a]llo", "hallo"));
        assert!(m("a\\*b", "a*b"));
        assert!(!m("a\\*b", "axb"));
        assert!(m("[\\]]", "]"));
        assert!(m("[abc", "c"));
        assert!(m("a*", "a"));
        assert!(m("a**", "a"));
        assert!(!m("a", "ab"));
        assert!(!m("", "a"));
        assert!(m("", ""));
        assert!(glob_match(b"HELLO", b"hello", true));
    }

    #[test]
    fn pathological_pattern_terminates() {
        let p = "a*".repeat(50) + "b";
        assert!(!m(&p, &"a".repeat(60)));
    }
}
