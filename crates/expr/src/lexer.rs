//! The tokenizer: expression text → a vector of [`Token`]s (byte spans into the text).
//!
//! The parser asks [`tokenize`] for the whole token list up front (an expression is at most
//! 4 KB, so this is one small allocation) and keeps the text beside it: a token carries
//! only its kind and byte span, and its text is sliced out when needed (for names and
//! placeholders in the AST, and for the `token:`/`near:` parts of syntax errors).
//!
//! DynamoDB's tokens, as observed from its error messages:
//! - words: runs of ASCII letters, digits and `_`. A word is a name, a keyword
//!   (`AND`, `SET`, …, matched case-insensitively by the parser), a function name or, when
//!   it is all digits, a list index. A word that starts with a digit is not a valid name
//!   (the documentation says such attribute names need a placeholder); the parser rejects
//!   it with a syntax error on that word.
//! - `#name` and `:value` placeholders: the sigil followed by one or more letters, digits
//!   or `_`. A sigil with nothing valid after it is a token of its own, which the parser
//!   then reports: DynamoDB answers `ADD hits : incr` with `token: ":", near: "hits : incr"`.
//! - punctuation `= <> < <= > >= ( ) [ ] , . + -`.
//! - whitespace (space, tab, CR, LF) separates tokens; every other character (any other
//!   ASCII symbol, a control character, any non-ASCII character) becomes a one-character
//!   [`TokenKind::Unknown`] token, so the lexer itself never fails and never panics; the
//!   parser reports the character as the offending token.

/// What a token is. Its text is `&source[start..end]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenKind {
    /// Letters, digits and `_` (a name, keyword, function name or list index).
    Word,
    /// `#` followed by at least one letter, digit or `_`.
    NamePlaceholder,
    /// `:` followed by at least one letter, digit or `_`.
    ValuePlaceholder,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    Dot,
    Plus,
    Minus,
    /// Any other character, including a lone `#` or `:`.
    Unknown,
    /// The end of the input (always the last token; empty span at the end of the text).
    Eof,
}

/// One token: its kind and byte span in the source text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Token {
    pub kind: TokenKind,
    pub start: usize,
    pub end: usize,
}

impl Token {
    /// The token's text (`"<EOF>"` for the end of input, as DynamoDB writes it).
    pub fn text<'a>(&self, source: &'a str) -> &'a str {
        if self.kind == TokenKind::Eof {
            return "<EOF>";
        }
        source.get(self.start..self.end).unwrap_or("")
    }
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Splits `source` into tokens, ending with one [`TokenKind::Eof`]. Never fails: characters
/// that start no token become [`TokenKind::Unknown`] tokens.
pub fn tokenize(source: &str) -> Vec<Token> {
    let bytes = source.as_bytes();
    // A rough guess that avoids most regrowth: about one token per three bytes.
    let mut tokens = Vec::with_capacity(bytes.len() / 3 + 2);
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let start = i;
        let kind = match b {
            b' ' | b'\t' | b'\r' | b'\n' => {
                i += 1;
                continue;
            }
            b'#' | b':' => {
                i += 1;
                let body = i;
                while i < bytes.len() && is_word_byte(bytes[i]) {
                    i += 1;
                }
                if i == body {
                    TokenKind::Unknown
                } else if b == b'#' {
                    TokenKind::NamePlaceholder
                } else {
                    TokenKind::ValuePlaceholder
                }
            }
            // A word starts with a letter or digit (digits for list indexes); an underscore
            // may only follow, so `_a` is the unknown token `_` followed by the word `a`.
            _ if b.is_ascii_alphanumeric() => {
                while i < bytes.len() && is_word_byte(bytes[i]) {
                    i += 1;
                }
                TokenKind::Word
            }
            b'=' => {
                i += 1;
                TokenKind::Eq
            }
            b'<' => {
                i += 1;
                match bytes.get(i) {
                    Some(b'>') => {
                        i += 1;
                        TokenKind::Ne
                    }
                    Some(b'=') => {
                        i += 1;
                        TokenKind::Le
                    }
                    _ => TokenKind::Lt,
                }
            }
            b'>' => {
                i += 1;
                if bytes.get(i) == Some(&b'=') {
                    i += 1;
                    TokenKind::Ge
                } else {
                    TokenKind::Gt
                }
            }
            b'(' | b')' | b'[' | b']' | b',' | b'.' | b'+' | b'-' => {
                i += 1;
                match b {
                    b'(' => TokenKind::LParen,
                    b')' => TokenKind::RParen,
                    b'[' => TokenKind::LBracket,
                    b']' => TokenKind::RBracket,
                    b',' => TokenKind::Comma,
                    b'.' => TokenKind::Dot,
                    b'+' => TokenKind::Plus,
                    _ => TokenKind::Minus,
                }
            }
            _ => {
                // One whole character (never split a multi-byte UTF-8 sequence).
                i += source[i..].chars().next().map_or(1, char::len_utf8);
                TokenKind::Unknown
            }
        };
        tokens.push(Token {
            kind,
            start,
            end: i,
        });
    }
    tokens.push(Token {
        kind: TokenKind::Eof,
        start: bytes.len(),
        end: bytes.len(),
    });
    tokens
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(s: &str) -> Vec<(TokenKind, &str)> {
        tokenize(s).iter().map(|t| (t.kind, t.text(s))).collect()
    }

    #[test]
    fn tokens() {
        use TokenKind::*;
        assert_eq!(
            kinds("a.b[10] <> :v_1 AND #n<=x"),
            vec![
                (Word, "a"),
                (Dot, "."),
                (Word, "b"),
                (LBracket, "["),
                (Word, "10"),
                (RBracket, "]"),
                (Ne, "<>"),
                (ValuePlaceholder, ":v_1"),
                (Word, "AND"),
                (NamePlaceholder, "#n"),
                (Le, "<="),
                (Word, "x"),
                (Eof, "<EOF>"),
            ]
        );
        assert_eq!(
            kinds(": # é\u{0}!"),
            vec![
                (Unknown, ":"),
                (Unknown, "#"),
                (Unknown, "é"),
                (Unknown, "\u{0}"),
                (Unknown, "!"),
                (Eof, "<EOF>"),
            ]
        );
        assert_eq!(
            kinds("a>=b>c<d"),
            vec![
                (Word, "a"),
                (Ge, ">="),
                (Word, "b"),
                (Gt, ">"),
                (Word, "c"),
                (Lt, "<"),
                (Word, "d"),
                (Eof, "<EOF>"),
            ]
        );
    }
}
