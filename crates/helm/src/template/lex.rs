//! The lexer of Go's template syntax (`text/template/parse`'s `lex.go`): text, `{{ }}`
//! actions with their trim markers, comments, and the tokens inside — words, keywords,
//! strings, characters and numbers read as Go reads them.

use super::node::Number;

/// A syntax error, with the template's name and line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// The template (file) name.
    pub name: String,
    /// 1-based line.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl std::error::Error for ParseError {}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "template: {}:{}: {}", self.name, self.line, self.message)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Tok {
    Text(String),
    /// `{{`, the start of an action.
    Open,
    /// `}}`
    Close,
    Space,
    Ident(String),
    Field(String),
    Variable(String),
    Dot,
    Str(String),
    Char(i64),
    Number(String),
    Bool(bool),
    Nil,
    Pipe,
    LeftParen,
    RightParen,
    Declare,
    Assign,
    Comma,
    Keyword(&'static str),
}

#[derive(Debug, Clone)]
pub(super) struct Item {
    pub(super) tok: Tok,
    pub(super) line: usize,
}

const KEYWORDS: [&str; 10] = [
    "block", "break", "continue", "define", "else", "end", "if", "range", "template", "with",
];

pub(super) fn lex(name: &str, src: &str) -> Result<Vec<Item>, ParseError> {
    let err = |line: usize, message: String| ParseError {
        name: name.to_string(),
        line,
        message,
    };
    let bytes = src.as_bytes();
    let mut items: Vec<Item> = Vec::new();
    let mut pos = 0usize;
    let mut line = 1usize;
    let mut trim_next_text = false;
    while pos <= bytes.len() {
        let open = src[pos..].find("{{").map(|i| pos + i);
        let text_end = open.unwrap_or(bytes.len());
        let mut text = &src[pos..text_end];
        let left_trim = open.is_some_and(|o| {
            bytes.get(o + 2) == Some(&b'-')
                && matches!(bytes.get(o + 3), Some(b' ' | b'\t' | b'\r' | b'\n'))
        });
        if trim_next_text {
            text = text.trim_start_matches([' ', '\t', '\r', '\n']);
        }
        if left_trim {
            text = text.trim_end_matches([' ', '\t', '\r', '\n']);
        }
        if !text.is_empty() {
            items.push(Item {
                tok: Tok::Text(text.to_string()),
                line,
            });
        }
        line += src[pos..text_end].matches('\n').count();
        let Some(open) = open else { break };
        let mut p = open + 2;
        if left_trim {
            if bytes[p + 1] == b'\n' {
                line += 1;
            }
            p += 2;
        }
        let action_line = line;
        // A comment: `{{/*` … `*/}}`, nothing else in the action.
        if src[p..].starts_with("/*") {
            let Some(end) = src[p + 2..].find("*/").map(|i| p + 2 + i) else {
                return Err(err(line, "unclosed comment".into()));
            };
            line += src[p..end].matches('\n').count();
            let mut q = end + 2;
            trim_next_text = src[q..].starts_with(" -}}");
            if trim_next_text {
                q += 2;
            }
            if !src[q..].starts_with("}}") {
                return Err(err(line, "comment ends before closing delimiter".into()));
            }
            pos = q + 2;
            continue;
        }
        items.push(Item {
            tok: Tok::Open,
            line: action_line,
        });
        // Tokens up to `}}` or ` -}}`.
        loop {
            if p >= bytes.len() {
                return Err(err(line, "unclosed action".into()));
            }
            let c = bytes[p];
            if src[p..].starts_with("}}") {
                items.push(Item {
                    tok: Tok::Close,
                    line,
                });
                p += 2;
                trim_next_text = false;
                break;
            }
            if matches!(c, b' ' | b'\t' | b'\r' | b'\n') {
                // A right trim marker: space, `-`, `}}`.
                let start = p;
                while p < bytes.len() && matches!(bytes[p], b' ' | b'\t' | b'\r' | b'\n') {
                    if bytes[p] == b'\n' {
                        line += 1;
                    }
                    p += 1;
                }
                if src[p..].starts_with("-}}") {
                    items.push(Item {
                        tok: Tok::Close,
                        line,
                    });
                    p += 3;
                    trim_next_text = true;
                    break;
                }
                let _ = start;
                items.push(Item {
                    tok: Tok::Space,
                    line,
                });
                continue;
            }
            match c {
                b'"' => {
                    let (s, end) = lex_quoted(src, p).map_err(|m| err(line, m))?;
                    items.push(Item {
                        tok: Tok::Str(s),
                        line,
                    });
                    p = end;
                }
                b'`' => {
                    let Some(end) = src[p + 1..].find('`').map(|i| p + 1 + i) else {
                        return Err(err(line, "unterminated raw quoted string".into()));
                    };
                    let s = &src[p + 1..end];
                    items.push(Item {
                        tok: Tok::Str(s.replace('\r', "")),
                        line,
                    });
                    line += s.matches('\n').count();
                    p = end + 1;
                }
                b'\'' => {
                    let (ch, end) = lex_char(src, p).map_err(|m| err(line, m))?;
                    items.push(Item {
                        tok: Tok::Char(ch),
                        line,
                    });
                    p = end;
                }
                b'|' => {
                    items.push(Item {
                        tok: Tok::Pipe,
                        line,
                    });
                    p += 1;
                }
                b'(' => {
                    items.push(Item {
                        tok: Tok::LeftParen,
                        line,
                    });
                    p += 1;
                }
                b')' => {
                    items.push(Item {
                        tok: Tok::RightParen,
                        line,
                    });
                    p += 1;
                }
                b',' => {
                    items.push(Item {
                        tok: Tok::Comma,
                        line,
                    });
                    p += 1;
                }
                b':' if bytes.get(p + 1) == Some(&b'=') => {
                    items.push(Item {
                        tok: Tok::Declare,
                        line,
                    });
                    p += 2;
                }
                b'=' => {
                    items.push(Item {
                        tok: Tok::Assign,
                        line,
                    });
                    p += 1;
                }
                b'$' => {
                    let end = word_end(bytes, p + 1);
                    items.push(Item {
                        tok: Tok::Variable(src[p..end].to_string()),
                        line,
                    });
                    p = end;
                }
                b'.' if !bytes.get(p + 1).is_some_and(u8::is_ascii_digit) => {
                    let end = word_end(bytes, p + 1);
                    if end == p + 1 {
                        items.push(Item {
                            tok: Tok::Dot,
                            line,
                        });
                    } else {
                        items.push(Item {
                            tok: Tok::Field(src[p + 1..end].to_string()),
                            line,
                        });
                    }
                    p = end;
                }
                b'0'..=b'9' | b'.' | b'+' | b'-' => {
                    let end = number_end(bytes, p);
                    if end == p {
                        return Err(err(line, format!("bad character {:?}", c as char)));
                    }
                    items.push(Item {
                        tok: Tok::Number(src[p..end].to_string()),
                        line,
                    });
                    p = end;
                }
                c if c == b'_' || c.is_ascii_alphabetic() || c >= 0x80 => {
                    let end = word_end(bytes, p);
                    let word = &src[p..end];
                    let tok = match word {
                        "true" => Tok::Bool(true),
                        "false" => Tok::Bool(false),
                        "nil" => Tok::Nil,
                        w => match KEYWORDS.iter().find(|k| **k == w) {
                            Some(k) => Tok::Keyword(k),
                            None => Tok::Ident(w.to_string()),
                        },
                    };
                    items.push(Item { tok, line });
                    p = end;
                }
                c => {
                    return Err(err(
                        line,
                        format!("unrecognized character in action: {:?}", c as char),
                    ));
                }
            }
        }
        pos = p;
    }
    Ok(items)
}

fn word_end(bytes: &[u8], mut p: usize) -> usize {
    while p < bytes.len()
        && (bytes[p] == b'_' || bytes[p].is_ascii_alphanumeric() || bytes[p] >= 0x80)
    {
        p += 1;
    }
    p
}

fn number_end(bytes: &[u8], start: usize) -> usize {
    let mut p = start;
    if p < bytes.len() && matches!(bytes[p], b'+' | b'-') {
        p += 1;
    }
    let digits_start = p;
    while p < bytes.len() {
        let c = bytes[p];
        let after_exponent = p > digits_start && matches!(bytes[p - 1], b'e' | b'E' | b'p' | b'P');
        if c.is_ascii_alphanumeric()
            || c == b'.'
            || c == b'_'
            || (after_exponent && matches!(c, b'+' | b'-'))
        {
            p += 1;
        } else {
            break;
        }
    }
    if p == digits_start { start } else { p }
}

/// A double-quoted Go string starting at `start`; returns the value and the end.
fn lex_quoted(src: &str, start: usize) -> Result<(String, usize), String> {
    let mut out = String::new();
    let mut chars = src[start + 1..].char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Ok((out, start + 1 + i + 1)),
            '\n' => return Err("unterminated quoted string".into()),
            '\\' => {
                let Some((_, e)) = chars.next() else { break };
                match e {
                    'n' => out.push('\n'),
                    't' => out.push('\t'),
                    'r' => out.push('\r'),
                    'a' => out.push('\u{7}'),
                    'b' => out.push('\u{8}'),
                    'f' => out.push('\u{c}'),
                    'v' => out.push('\u{b}'),
                    '\\' => out.push('\\'),
                    '"' => out.push('"'),
                    '\'' => return Err("invalid syntax: \\' in a string".into()),
                    'x' | 'u' | 'U' => {
                        let n = match e {
                            'x' => 2,
                            'u' => 4,
                            _ => 8,
                        };
                        let hex: String = (0..n)
                            .filter_map(|_| chars.next().map(|(_, h)| h))
                            .collect();
                        let code = u32::from_str_radix(&hex, 16)
                            .map_err(|_| "invalid escape in string".to_string())?;
                        out.push(char::from_u32(code).ok_or("invalid escape in string")?);
                    }
                    '0'..='7' => {
                        let mut code = e.to_digit(8).unwrap_or(0);
                        for _ in 0..2 {
                            let Some((_, d)) = chars.next() else { break };
                            code = code * 8 + d.to_digit(8).ok_or("invalid octal escape")?;
                        }
                        out.push(char::from_u32(code).ok_or("invalid octal escape")?);
                    }
                    other => return Err(format!("invalid escape \\{other} in string")),
                }
            }
            c => out.push(c),
        }
    }
    Err("unterminated quoted string".into())
}

fn lex_char(src: &str, start: usize) -> Result<(i64, usize), String> {
    let rest = &src[start + 1..];
    let end = rest.find('\'').ok_or("unterminated character constant")?;
    let inner = &rest[..end];
    let value = if let Some(esc) = inner.strip_prefix('\\') {
        match esc {
            "n" => '\n',
            "t" => '\t',
            "r" => '\r',
            "\\" => '\\',
            "'" => '\'',
            "0" => '\0',
            _ => return Err(format!("unsupported character escape '{inner}'")),
        }
    } else {
        let mut cs = inner.chars();
        match (cs.next(), cs.next()) {
            (Some(c), None) => c,
            _ => return Err(format!("malformed character constant: '{inner}'")),
        }
    };
    Ok((value as i64, start + 1 + end + 1))
}

pub(super) fn parse_number(text: &str, is_char: bool, ch: i64) -> Result<Number, String> {
    if is_char {
        return Ok(Number {
            text: text.into(),
            int: Some(ch),
            float: Some(ch as f64),
            is_char: true,
        });
    }
    let clean = text.replace('_', "");
    let (negative, digits) = match clean.strip_prefix('-') {
        Some(rest) => (true, rest.to_string()),
        None => (false, clean.trim_start_matches('+').to_string()),
    };
    let lower = digits.to_ascii_lowercase();
    let int = if let Some(h) = lower.strip_prefix("0x") {
        i64::from_str_radix(h, 16).ok()
    } else if let Some(o) = lower.strip_prefix("0o") {
        i64::from_str_radix(o, 8).ok()
    } else if let Some(b) = lower.strip_prefix("0b") {
        i64::from_str_radix(b, 2).ok()
    } else if lower.len() > 1 && lower.starts_with('0') && lower.bytes().all(|b| b.is_ascii_digit())
    {
        i64::from_str_radix(&lower[1..], 8).ok()
    } else {
        lower.parse::<i64>().ok()
    };
    let int = int.map(|i| if negative { -i } else { i });
    let float = if lower.starts_with("0x") {
        int.map(|i| i as f64)
    } else {
        clean.parse::<f64>().ok()
    };
    let int = int.or_else(|| {
        float
            .filter(|f| f.fract() == 0.0 && f.abs() < 9.2e18)
            .map(|f| f as i64)
    });
    if int.is_none() && float.is_none() {
        return Err(format!("illegal number syntax: {text:?}"));
    }
    Ok(Number {
        text: text.into(),
        int,
        float,
        is_char: false,
    })
}

// ---------------------------------------------------------------- parsing
