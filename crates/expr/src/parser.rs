//! The parser: expression text → [`Condition`], [`Update`] or [`Projection`], with
//! placeholders (`#n`, `:v`) left in the tree for [`crate::resolve`].
//!
//! Flow: [`tokenize`] the text once, then descend (recursive descent for paths, operands,
//! updates and projections; an explicit-stack operator-precedence loop for the boolean
//! structure of conditions). Grammar (keywords case-insensitive):
//!
//! ```text
//! condition  := or
//! or         := and ( OR and )*                       (left-associative)
//! and        := not ( AND not )*                      (left-associative)
//! not        := NOT not | primary
//! primary    := '(' condition ')'
//!             | operand comparator operand            comparator: = <> < <= > >=
//!             | operand BETWEEN operand AND operand
//!             | operand IN '(' operand ( ',' operand )* ')'
//!             | function                               (a function used as a condition)
//! operand    := path | :value | function
//! function   := word '(' operand ( ',' operand )* ')'
//! path       := name ( '.' name | '[' digits ']' )*    name: word | #name
//! update     := clause+        each of SET / REMOVE / ADD / DELETE at most once, any order
//! SET        := SET path '=' value ( ',' path '=' value )*
//!   value    := operand ( ('+' | '-') operand )*      (left-associative)
//! REMOVE     := REMOVE path ( ',' path )*
//! ADD        := ADD path :value ( ',' path :value )*   (DELETE likewise)
//! projection := path ( ',' path )*
//! ```
//!
//! Functions are parsed generically wherever an operand may stand; whether a function is
//! known and allowed where it appears is [`crate::validate`]'s business (so `size(a)` as a
//! condition is a validation error, as in DynamoDB, not a syntax error).
//!
//! Errors follow DynamoDB:
//! - `Syntax error; token: "<tok>", near: "<near>"`, where `near` is the input text from the
//!   start of the token before the offending one to the end of the token after it (to the
//!   end of the input when that is the end): `ADD hits : incr` gives `token: ":", near:
//!   "hits : incr"`, a missing operand at the end gives `token: "<EOF>", near: "= "`.
//! - Errors DynamoDB finds only in a complete parse tree — a reserved word used as a name,
//!   redundant parentheses, a repeated update clause — are reported only when the text has
//!   no syntax error, the first one in text order.
//! - Size and count limits (see the constants) are checked up front or while parsing.
//!
//! Stack use is bounded whatever the input: conditions are parsed with explicit operator
//! and operand stacks (shunting-yard style), so `((((…` and `NOT NOT …` of any length cost
//! no recursion; the only recursion is into function arguments, and every function counts
//! against [`MAX_OPERATORS`], which bounds it to a few hundred levels. The trees built are
//! at most about [`MAX_OPERATORS`] deep too (redundant parentheses add no tree level), so
//! recursive walkers over them (resolution, validation, evaluation, printing) are safe.

use crate::ast::{
    ArithmeticOp, Comparator, Condition, ExpressionKind, FunctionCall, Name, Operand, Path,
    PathElement, Projection, Update,
};
use crate::error::ExprError;
use crate::lexer::{tokenize, Token, TokenKind};
use crate::reserved::is_reserved;

/// DynamoDB's limit on an expression's length in bytes (UTF-8).
pub const MAX_EXPRESSION_SIZE: usize = 4096;

/// DynamoDB's limit on operators and functions in one expression. The documentation states
/// it for update expressions and its own operator-counting example applies it to filter
/// conditions; here it counts comparators, `BETWEEN`, `IN`, `AND`, `OR`, `NOT`, `+`, `-`
/// and every function call.
/// The deepest document path DynamoDB accepts (names and list indexes, counted together).
pub const MAX_PATH_DEPTH: usize = 32;

pub const MAX_OPERATORS: usize = 300;

/// Words that are grammar keywords in every expression kind: written where a name is
/// expected they are a syntax error, not a reserved-word error.
const KEYWORDS: [&str; 9] = [
    "AND", "OR", "NOT", "BETWEEN", "IN", "SET", "REMOVE", "ADD", "DELETE",
];

/// Parses a condition, filter or key-condition expression. `kind` selects the message
/// prefix (`Invalid ConditionExpression: …`).
pub fn parse_condition(text: &str, kind: ExpressionKind) -> Result<Condition, ExprError> {
    let mut parser = Parser::new(text, kind)?;
    let condition = parser.condition()?;
    parser.expect_eof()?;
    parser.finish(condition)
}

/// Parses an update expression.
pub fn parse_update(text: &str) -> Result<Update, ExprError> {
    let mut parser = Parser::new(text, ExpressionKind::Update)?;
    let update = parser.update()?;
    parser.finish(update)
}

/// Parses a projection expression.
pub fn parse_projection(text: &str) -> Result<Projection, ExprError> {
    let mut parser = Parser::new(text, ExpressionKind::Projection)?;
    let mut paths = vec![parser.path()?];
    while parser.eat(TokenKind::Comma) {
        paths.push(parser.path()?);
    }
    parser.expect_eof()?;
    parser.finish(Projection(paths))
}

/// An entry of the condition parser's operator stack.
#[derive(Clone, Copy, PartialEq, Eq)]
enum StackOp {
    Or,
    And,
    Not,
    /// An open parenthesis.
    Group,
}

impl StackOp {
    fn binding(self) -> u8 {
        match self {
            StackOp::Group => 0,
            StackOp::Or => 1,
            StackOp::And => 2,
            StackOp::Not => 3,
        }
    }
}

/// Applies `op` to the operands on top of the stack. The stacks are built so that an
/// operator always has its operands (a binary operator is pushed only after its left
/// operand and reduced only after its right one).
fn reduce(op: StackOp, operands: &mut Vec<(Condition, bool)>) {
    let condition = match op {
        StackOp::Not => match operands.pop() {
            Some((inner, _)) => Condition::Not(Box::new(inner)),
            None => return,
        },
        StackOp::And | StackOp::Or => {
            let (Some((right, _)), Some((left, _))) = (operands.pop(), operands.pop()) else {
                return;
            };
            if op == StackOp::And {
                Condition::And(Box::new(left), Box::new(right))
            } else {
                Condition::Or(Box::new(left), Box::new(right))
            }
        }
        StackOp::Group => return,
    };
    operands.push((condition, false));
}

/// The update clauses, in the order they are printed.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Clause {
    Set,
    Remove,
    Add,
    Delete,
}

impl Clause {
    fn from_word(word: &str) -> Option<Clause> {
        [
            ("SET", Clause::Set),
            ("REMOVE", Clause::Remove),
            ("ADD", Clause::Add),
            ("DELETE", Clause::Delete),
        ]
        .into_iter()
        .find(|(keyword, _)| word.eq_ignore_ascii_case(keyword))
        .map(|(_, clause)| clause)
    }

    fn keyword(self) -> &'static str {
        match self {
            Clause::Set => "SET",
            Clause::Remove => "REMOVE",
            Clause::Add => "ADD",
            Clause::Delete => "DELETE",
        }
    }
}

struct Parser<'a> {
    source: &'a str,
    tokens: Vec<Token>,
    /// Index of the next token. Never past the final `Eof`.
    pos: usize,
    kind: ExpressionKind,
    operators: usize,
    /// The first error found that DynamoDB reports only for a syntactically valid text.
    deferred: Option<ExprError>,
}

impl<'a> Parser<'a> {
    fn new(source: &'a str, kind: ExpressionKind) -> Result<Self, ExprError> {
        if source.len() > MAX_EXPRESSION_SIZE {
            return Err(ExprError::invalid(
                kind,
                format_args!(
                    "Expression size has exceeded the maximum allowed size; expression size: {}",
                    source.len()
                ),
            ));
        }
        let tokens = tokenize(source);
        if tokens.len() == 1 {
            // Only the end of input: empty or nothing but whitespace.
            return Err(ExprError::invalid(kind, "The expression can not be empty;"));
        }
        Ok(Parser {
            source,
            tokens,
            pos: 0,
            kind,
            operators: 0,
            deferred: None,
        })
    }

    fn finish<T>(self, result: T) -> Result<T, ExprError> {
        match self.deferred {
            Some(error) => Err(error),
            None => Ok(result),
        }
    }

    fn defer(&mut self, detail: impl std::fmt::Display) {
        if self.deferred.is_none() {
            self.deferred = Some(ExprError::invalid(self.kind, detail));
        }
    }

    // --- token access ---

    fn peek(&self) -> Token {
        self.tokens[self.pos]
    }

    fn peek_at(&self, offset: usize) -> Token {
        let last = self.tokens.len() - 1;
        self.tokens[(self.pos + offset).min(last)]
    }

    fn text(&self, token: Token) -> &'a str {
        token.text(self.source)
    }

    fn advance(&mut self) -> Token {
        let token = self.peek();
        if token.kind != TokenKind::Eof {
            self.pos += 1;
        }
        token
    }

    fn eat(&mut self, kind: TokenKind) -> bool {
        if self.peek().kind == kind {
            self.advance();
            true
        } else {
            false
        }
    }

    fn expect(&mut self, kind: TokenKind) -> Result<Token, ExprError> {
        if self.peek().kind == kind {
            Ok(self.advance())
        } else {
            Err(self.syntax_error())
        }
    }

    fn expect_eof(&self) -> Result<(), ExprError> {
        if self.peek().kind == TokenKind::Eof {
            Ok(())
        } else {
            Err(self.syntax_error())
        }
    }

    fn is_keyword(&self, token: Token, keyword: &str) -> bool {
        token.kind == TokenKind::Word && self.text(token).eq_ignore_ascii_case(keyword)
    }

    fn eat_keyword(&mut self, keyword: &str) -> bool {
        if self.is_keyword(self.peek(), keyword) {
            self.advance();
            true
        } else {
            false
        }
    }

    /// A syntax error at the next token, worded as DynamoDB words it.
    fn syntax_error(&self) -> ExprError {
        let index = self.pos;
        let token = self.tokens[index];
        let start = match index.checked_sub(1) {
            Some(previous) => self.tokens[previous].start,
            None => token.start,
        };
        let end = match token.kind {
            TokenKind::Eof => self.source.len(),
            _ => match self.tokens.get(index + 1) {
                Some(next) if next.kind != TokenKind::Eof => next.end,
                _ => self.source.len(),
            },
        };
        let near = self.source.get(start..end).unwrap_or("");
        ExprError::invalid(
            self.kind,
            format_args!(
                "Syntax error; token: \"{}\", near: \"{near}\"",
                self.text(token)
            ),
        )
    }

    /// Counts one operator or function against [`MAX_OPERATORS`].
    fn count_operator(&mut self) -> Result<(), ExprError> {
        self.operators += 1;
        if self.operators > MAX_OPERATORS {
            return Err(self.too_many_operators());
        }
        Ok(())
    }

    fn too_many_operators(&self) -> ExprError {
        // Decided (not observed): DynamoDB's text for exceeding the operator limit is taken
        // to be its size-limit text without the size, which users report for updates that
        // touch a few hundred attributes while staying under 4 KB.
        ExprError::invalid(
            self.kind,
            "Expression size has exceeded the maximum allowed size;",
        )
    }

    // --- paths and operands ---

    /// One name of a document path: a word (checked against keywords and reserved words)
    /// or a `#placeholder`.
    fn name(&mut self) -> Result<Name, ExprError> {
        let token = self.peek();
        match token.kind {
            TokenKind::NamePlaceholder => {
                self.advance();
                Ok(Name::Placeholder(self.text(token).to_owned()))
            }
            TokenKind::Word => {
                let text = self.text(token);
                let starts_with_digit = text.as_bytes().first().is_some_and(u8::is_ascii_digit);
                if starts_with_digit || KEYWORDS.iter().any(|k| text.eq_ignore_ascii_case(k)) {
                    return Err(self.syntax_error());
                }
                if is_reserved(text) {
                    self.defer(format_args!(
                        "Attribute name is a reserved keyword; reserved keyword: {text}"
                    ));
                }
                self.advance();
                Ok(Name::Literal(text.to_owned()))
            }
            _ => Err(self.syntax_error()),
        }
    }

    fn path(&mut self) -> Result<Path, ExprError> {
        let mut elements = vec![PathElement::Attribute(self.name()?)];
        loop {
            match self.peek().kind {
                TokenKind::Dot => {
                    self.advance();
                    elements.push(PathElement::Attribute(self.name()?));
                }
                TokenKind::LBracket => {
                    self.advance();
                    let token = self.peek();
                    let text = self.text(token);
                    let digits =
                        token.kind == TokenKind::Word && text.bytes().all(|b| b.is_ascii_digit());
                    if !digits {
                        return Err(self.syntax_error());
                    }
                    // An index must fit a (Java) int: DynamoDB refuses larger ones by name.
                    let Some(index) = text
                        .parse::<u32>()
                        .ok()
                        .filter(|i| i32::try_from(*i).is_ok())
                    else {
                        return Err(ExprError::invalid(
                            self.kind,
                            format_args!(
                                "List index is not within the allowable range; index: [{text}]"
                            ),
                        ));
                    };
                    self.advance();
                    self.expect(TokenKind::RBracket)?;
                    elements.push(PathElement::Index(index));
                }
                _ => {
                    if elements.len() > MAX_PATH_DEPTH {
                        // DynamoDB documents a 32-level limit for document paths; the wording
                        // of its error is not known, so this text is Stator's (see
                        // docs/compatibility.md).
                        self.defer(format_args!(
                            "The document path has too many nesting levels; nesting levels: {}",
                            elements.len()
                        ));
                    }
                    return Ok(Path(elements));
                }
            }
        }
    }

    fn operand(&mut self) -> Result<Operand, ExprError> {
        let token = self.peek();
        match token.kind {
            TokenKind::ValuePlaceholder => {
                self.advance();
                Ok(Operand::Value(self.text(token).to_owned()))
            }
            TokenKind::Word if self.peek_at(1).kind == TokenKind::LParen => {
                Ok(Operand::Function(self.function()?))
            }
            TokenKind::Word | TokenKind::NamePlaceholder => Ok(Operand::Path(self.path()?)),
            _ => Err(self.syntax_error()),
        }
    }

    /// `word ( operand, … )`; the caller saw the word followed by `(`.
    fn function(&mut self) -> Result<FunctionCall, ExprError> {
        let token = self.peek();
        let name = self.text(token);
        if name.as_bytes().first().is_some_and(u8::is_ascii_digit)
            || KEYWORDS.iter().any(|k| name.eq_ignore_ascii_case(k))
        {
            return Err(self.syntax_error());
        }
        self.advance();
        self.count_operator()?;
        self.expect(TokenKind::LParen)?;
        let mut args = vec![self.operand()?];
        while self.eat(TokenKind::Comma) {
            args.push(self.operand()?);
        }
        self.expect(TokenKind::RParen)?;
        Ok(FunctionCall {
            name: name.to_owned(),
            args,
        })
    }

    // --- conditions ---

    /// A whole condition, parsed with explicit operator and operand stacks (no recursion
    /// per nesting level, so `((((…` and `NOT NOT …` of any length cost no stack).
    fn condition(&mut self) -> Result<Condition, ExprError> {
        let mut operators: Vec<StackOp> = Vec::new();
        // Each operand carries whether it is exactly one parenthesised group with no
        // operator around it: closing a group around such an operand means the
        // parentheses are redundant.
        let mut operands: Vec<(Condition, bool)> = Vec::new();
        // Open parentheses on the operator stack.
        let mut groups = 0usize;
        loop {
            // Expecting an operand: any number of NOTs and opening parentheses, then an
            // atom.
            loop {
                if self.eat_keyword("NOT") {
                    self.count_operator()?;
                    operators.push(StackOp::Not);
                } else if self.eat(TokenKind::LParen) {
                    operators.push(StackOp::Group);
                    groups += 1;
                } else {
                    break;
                }
            }
            operands.push((self.atom()?, false));
            // Expecting an operator, a closing parenthesis or the end.
            loop {
                let token = self.peek();
                if self.is_keyword(token, "AND") || self.is_keyword(token, "OR") {
                    let op = if self.is_keyword(token, "AND") {
                        StackOp::And
                    } else {
                        StackOp::Or
                    };
                    self.advance();
                    self.count_operator()?;
                    // Left-associative: first reduce everything that binds at least as
                    // tightly.
                    while let Some(&top) = operators.last() {
                        if top == StackOp::Group || top.binding() < op.binding() {
                            break;
                        }
                        operators.pop();
                        reduce(top, &mut operands);
                    }
                    operators.push(op);
                    break;
                }
                if token.kind == TokenKind::RParen && groups > 0 {
                    self.advance();
                    groups -= 1;
                    while let Some(top) = operators.pop() {
                        if top == StackOp::Group {
                            break;
                        }
                        reduce(top, &mut operands);
                    }
                    if let Some(last) = operands.last_mut() {
                        if last.1 {
                            self.defer("The expression has redundant parentheses;");
                        }
                        last.1 = true;
                    }
                    continue;
                }
                // The end of the condition: every group must have been closed.
                if groups > 0 {
                    return Err(self.syntax_error());
                }
                while let Some(top) = operators.pop() {
                    reduce(top, &mut operands);
                }
                return match operands.pop() {
                    Some((condition, _)) if operands.is_empty() => Ok(condition),
                    _ => Err(self.syntax_error()),
                };
            }
        }
    }

    /// A comparison, `BETWEEN`, `IN` or a function used as a condition.
    fn atom(&mut self) -> Result<Condition, ExprError> {
        let left = self.operand()?;
        let token = self.peek();
        let comparator = match token.kind {
            TokenKind::Eq => Some(Comparator::Eq),
            TokenKind::Ne => Some(Comparator::Ne),
            TokenKind::Lt => Some(Comparator::Lt),
            TokenKind::Le => Some(Comparator::Le),
            TokenKind::Gt => Some(Comparator::Gt),
            TokenKind::Ge => Some(Comparator::Ge),
            _ => None,
        };
        if let Some(comparator) = comparator {
            self.advance();
            self.count_operator()?;
            let right = self.operand()?;
            return Ok(Condition::Compare(left, comparator, right));
        }
        if self.eat_keyword("BETWEEN") {
            self.count_operator()?;
            let low = self.operand()?;
            if !self.eat_keyword("AND") {
                return Err(self.syntax_error());
            }
            let high = self.operand()?;
            return Ok(Condition::Between(left, low, high));
        }
        if self.eat_keyword("IN") {
            self.count_operator()?;
            self.expect(TokenKind::LParen)?;
            let mut list = vec![self.operand()?];
            while self.eat(TokenKind::Comma) {
                list.push(self.operand()?);
            }
            self.expect(TokenKind::RParen)?;
            return Ok(Condition::In(left, list));
        }
        match left {
            Operand::Function(function) => Ok(Condition::Function(function)),
            _ => Err(self.syntax_error()),
        }
    }

    // --- updates ---

    fn update(&mut self) -> Result<Update, ExprError> {
        let mut update = Update::default();
        let mut seen = [false; 4];
        loop {
            let token = self.peek();
            let clause = match token.kind {
                TokenKind::Word => Clause::from_word(self.text(token)),
                _ => None,
            };
            let Some(clause) = clause else {
                return Err(self.syntax_error());
            };
            self.advance();
            let slot = &mut seen[clause as usize];
            if *slot {
                self.defer(format_args!(
                    "The \"{}\" section can only be used once in an update expression;",
                    clause.keyword()
                ));
            }
            *slot = true;
            loop {
                self.action(clause, &mut update)?;
                if !self.eat(TokenKind::Comma) {
                    break;
                }
            }
            if self.peek().kind == TokenKind::Eof {
                return Ok(update);
            }
        }
    }

    fn action(&mut self, clause: Clause, update: &mut Update) -> Result<(), ExprError> {
        let path = self.path()?;
        match clause {
            Clause::Set => {
                self.expect(TokenKind::Eq)?;
                let mut value = self.operand()?;
                // At most one `+` or `-` per value (`a + b + c` is a syntax error at the
                // second operator, which the clause loop then meets).
                let op = match self.peek().kind {
                    TokenKind::Plus => Some(ArithmeticOp::Plus),
                    TokenKind::Minus => Some(ArithmeticOp::Minus),
                    _ => None,
                };
                if let Some(op) = op {
                    self.advance();
                    self.count_operator()?;
                    let right = self.operand()?;
                    value = Operand::Arithmetic(Box::new(value), op, Box::new(right));
                }
                update.set.push((path, value));
            }
            Clause::Remove => update.remove.push(path),
            Clause::Add | Clause::Delete => {
                let token = self.expect(TokenKind::ValuePlaceholder)?;
                let value = Operand::Value(self.text(token).to_owned());
                if clause == Clause::Add {
                    update.add.push((path, value));
                } else {
                    update.delete.push((path, value));
                }
            }
        }
        Ok(())
    }
}
