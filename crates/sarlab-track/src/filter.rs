//! The run filter language: MLflow's search syntax and more.
//!
//! ```text
//! metrics.f1_macro > 0.9 and params.kernel = 'rbf' and (params.C >= 10 or params.gamma = 'scale')
//! tags.git_dirty = 'false' and not attributes.status = 'FAILED'
//! ```
//!
//! Grammar (keywords are case-insensitive):
//!
//! ```text
//! expr       := and ("or" and)*
//! and        := unary ("and" unary)*
//! unary      := "not" unary | "(" expr ")" | comparison
//! comparison := field op literal | field ["not"] "in" "(" literal ("," literal)* ")"
//! field      := ("metrics" | "params" | "tags" | "attributes" | "run") "." key
//! key        := [A-Za-z0-9_.:/-]+ | `any text`
//! op         := "=" | "!=" | "<>" | "<" | "<=" | ">" | ">=" | "like" | "not like"
//! literal    := number | 'text' | "text"     (a quote inside is doubled)
//! ```
//!
//! An expression is parsed into a [`Filter`] tree, then compiled to a SQL condition on
//! `runs r` whose every key and literal is a bound parameter: nothing the user types is
//! pasted into SQL. A metric compares its value at the run's highest step for that key
//! (the summary, for per-fold metrics); a parameter compares by its stored type, so
//! `params.C >= 10` is numeric and `params.gamma = 'scale'` textual. A run without the
//! key never matches a comparison (SQL's NULL), and matches its negation only through
//! `not`. Errors name the column (1-based) where parsing failed.

use std::fmt;

use rusqlite::types::Value as SqlValue;

/// A parsed filter.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
    Compare {
        field: Field,
        op: Op,
        value: Literal,
    },
    In {
        field: Field,
        negated: bool,
        values: Vec<Literal>,
    },
}

/// What a comparison reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field {
    Metric(String),
    Param(String),
    Tag(String),
    Attribute(Attribute),
}

/// Columns of the runs table that filters may read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attribute {
    Uuid,
    Name,
    Status,
    StartMs,
    EndMs,
    ConfigHash,
    Parent,
    FailureReason,
}

impl Attribute {
    const ALL: [(&'static str, Attribute); 8] = [
        ("uuid", Attribute::Uuid),
        ("name", Attribute::Name),
        ("status", Attribute::Status),
        ("start_ms", Attribute::StartMs),
        ("end_ms", Attribute::EndMs),
        ("config_hash", Attribute::ConfigHash),
        ("parent", Attribute::Parent),
        ("failure_reason", Attribute::FailureReason),
    ];

    /// The column (a fixed identifier, never user text).
    fn column(self) -> &'static str {
        match self {
            Attribute::Uuid => "r.uuid",
            Attribute::Name => "r.name",
            Attribute::Status => "r.status",
            Attribute::StartMs => "r.start_ms",
            Attribute::EndMs => "r.end_ms",
            Attribute::ConfigHash => "r.config_hash",
            Attribute::Parent => "r.parent_uuid",
            Attribute::FailureReason => "r.failure_reason",
        }
    }
}

/// Comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Like,
    NotLike,
}

impl Op {
    fn sql(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Ne => "!=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Like => "LIKE",
            Op::NotLike => "NOT LIKE",
        }
    }
}

/// A literal: numbers compare numerically, text textually.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Number(f64),
    Text(String),
}

/// A filter that did not parse: where and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterError {
    /// 1-based character column.
    pub column: usize,
    pub message: String,
}

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at column {}: {}", self.column, self.message)
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Quoted(String),
    Backquoted(String),
    Number(f64),
    Symbol(&'static str),
    LParen,
    RParen,
    Comma,
    Dot,
}

fn tokenize(input: &str) -> Result<Vec<(usize, Token)>, FilterError> {
    let chars: Vec<char> = input.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    let error = |at: usize, message: String| FilterError {
        column: at + 1,
        message,
    };
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        match c {
            c if c.is_whitespace() => i += 1,
            '(' => {
                tokens.push((start, Token::LParen));
                i += 1;
            }
            ')' => {
                tokens.push((start, Token::RParen));
                i += 1;
            }
            ',' => {
                tokens.push((start, Token::Comma));
                i += 1;
            }
            '.' if !chars.get(i + 1).is_some_and(|d| d.is_ascii_digit()) => {
                tokens.push((start, Token::Dot));
                i += 1;
            }
            '=' => {
                tokens.push((start, Token::Symbol("=")));
                i += if chars.get(i + 1) == Some(&'=') { 2 } else { 1 };
            }
            '!' | '<' | '>' => {
                let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
                let symbol = match two.as_str() {
                    "!=" => "!=",
                    "<>" => "!=",
                    "<=" => "<=",
                    ">=" => ">=",
                    _ if c == '<' => "<",
                    _ if c == '>' => ">",
                    _ => return Err(error(start, "`!` must be followed by `=`".to_owned())),
                };
                i += if symbol.len() == 2 || two == "<>" {
                    2
                } else {
                    1
                };
                tokens.push((start, Token::Symbol(symbol)));
            }
            '\'' | '"' | '`' => {
                let quote = c;
                let mut text = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => {
                            return Err(error(
                                start,
                                format!("unterminated {quote}…{quote} (no closing {quote})"),
                            ));
                        }
                        Some(&q) if q == quote => {
                            if chars.get(i + 1) == Some(&quote) {
                                text.push(quote);
                                i += 2;
                            } else {
                                i += 1;
                                break;
                            }
                        }
                        Some(&other) => {
                            text.push(other);
                            i += 1;
                        }
                    }
                }
                tokens.push((
                    start,
                    if quote == '`' {
                        Token::Backquoted(text)
                    } else {
                        Token::Quoted(text)
                    },
                ));
            }
            c if c.is_ascii_digit() || c == '-' || c == '+' || c == '.' => {
                let mut end = i + 1;
                while end < chars.len()
                    && (chars[end].is_ascii_alphanumeric()
                        || chars[end] == '.'
                        || ((chars[end] == '-' || chars[end] == '+')
                            && matches!(chars[end - 1], 'e' | 'E')))
                {
                    end += 1;
                }
                let text: String = chars[i..end].iter().collect();
                let value: f64 = text
                    .parse()
                    .map_err(|_| error(start, format!("`{text}` is not a number")))?;
                if !value.is_finite() {
                    return Err(error(start, format!("`{text}` is not a finite number")));
                }
                tokens.push((start, Token::Number(value)));
                i = end;
            }
            c if c.is_alphanumeric() || c == '_' => {
                let mut end = i + 1;
                while end < chars.len()
                    && (chars[end].is_alphanumeric() || matches!(chars[end], '_' | ':' | '/' | '-'))
                {
                    end += 1;
                }
                tokens.push((start, Token::Word(chars[i..end].iter().collect())));
                i = end;
            }
            other => return Err(error(start, format!("unexpected character `{other}`"))),
        }
    }
    Ok(tokens)
}

struct Parser {
    tokens: Vec<(usize, Token)>,
    position: usize,
    /// Column (0-based) just past the input, for errors at the end.
    end: usize,
    /// Parentheses and `not`s open at the current token.
    depth: usize,
    /// Comparisons parsed so far.
    comparisons: usize,
}

/// Deepest nesting of parentheses and `not` a filter may have: far beyond any filter
/// a person writes, and far below what would exhaust the parser's stack (each level is
/// a few recursive calls, here and when the tree is compiled and dropped).
pub const MAX_NESTING: usize = 64;

/// Most comparisons one filter may hold: every one is a subquery of the SQL, and a
/// long `and`/`or` chain is a tree as deep as it is long.
pub const MAX_COMPARISONS: usize = 1000;

impl Parser {
    /// Parses all of `input` with `rule`: `empty` when there is nothing to parse,
    /// `trailing` when `rule` stops before the end.
    fn whole<T>(
        input: &str,
        empty: &str,
        rule: impl FnOnce(&mut Parser) -> Result<T, FilterError>,
        trailing: &str,
    ) -> Result<T, FilterError> {
        let mut parser = Parser {
            tokens: tokenize(input)?,
            position: 0,
            end: input.chars().count(),
            depth: 0,
            comparisons: 0,
        };
        if parser.peek().is_none() {
            return parser.error(empty);
        }
        let parsed = rule(&mut parser)?;
        if parser.peek().is_some() {
            return parser.error(trailing);
        }
        Ok(parsed)
    }

    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.position).map(|(_, t)| t)
    }

    fn column(&self) -> usize {
        self.tokens
            .get(self.position)
            .map_or(self.end, |(at, _)| *at)
    }

    fn error<T>(&self, message: impl Into<String>) -> Result<T, FilterError> {
        Err(FilterError {
            column: self.column() + 1,
            message: message.into(),
        })
    }

    fn keyword(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Token::Word(w)) if w.eq_ignore_ascii_case(word))
    }

    fn advance(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.position).map(|(_, t)| t.clone());
        self.position += 1;
        token
    }

    fn expr(&mut self) -> Result<Filter, FilterError> {
        let mut left = self.and()?;
        while self.keyword("or") {
            self.advance();
            let right = self.and()?;
            left = Filter::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Filter, FilterError> {
        let mut left = self.unary()?;
        while self.keyword("and") {
            self.advance();
            let right = self.unary()?;
            left = Filter::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Filter, FilterError> {
        let opens = self.keyword("not") || self.peek() == Some(&Token::LParen);
        if opens && self.depth >= MAX_NESTING {
            return self.error(format!(
                "the filter nests parentheses and `not` deeper than {MAX_NESTING} levels"
            ));
        }
        if self.keyword("not") {
            self.advance();
            self.depth += 1;
            let inner = self.unary();
            self.depth -= 1;
            return Ok(Filter::Not(Box::new(inner?)));
        }
        if self.peek() == Some(&Token::LParen) {
            self.advance();
            self.depth += 1;
            let inner = self.expr();
            self.depth -= 1;
            let inner = inner?;
            if self.peek() != Some(&Token::RParen) {
                return self.error("expected `)` to close the parenthesis");
            }
            self.advance();
            return Ok(inner);
        }
        self.comparisons += 1;
        if self.comparisons > MAX_COMPARISONS {
            return self.error(format!(
                "the filter has more than {MAX_COMPARISONS} comparisons"
            ));
        }
        self.comparison()
    }

    fn field(&mut self) -> Result<Field, FilterError> {
        let prefix = match self.peek() {
            Some(Token::Word(w)) => w.to_ascii_lowercase(),
            _ => {
                return self.error(
                    "expected a field: metrics.<key>, params.<key>, tags.<key> or attributes.<name>",
                );
            }
        };
        let prefix_column = self.column();
        self.advance();
        if self.peek() != Some(&Token::Dot) {
            return self.error(format!("expected `.` after `{prefix}`"));
        }
        self.advance();
        // A key is a word, possibly dotted (`pca.whiten`), or any backquoted text.
        let key = match self.advance() {
            Some(Token::Word(w)) => {
                let mut key = w;
                while self.peek() == Some(&Token::Dot) {
                    self.advance();
                    match self.advance() {
                        Some(Token::Word(w)) => {
                            key.push('.');
                            key.push_str(&w);
                        }
                        _ => {
                            self.position -= 1;
                            return self.error("expected the rest of the key after `.`");
                        }
                    }
                }
                key
            }
            Some(Token::Backquoted(k)) => k,
            _ => {
                self.position -= 1;
                return self.error(format!("expected a key after `{prefix}.`"));
            }
        };
        Ok(match prefix.as_str() {
            "metrics" | "metric" => Field::Metric(key),
            "params" | "param" => Field::Param(key),
            "tags" | "tag" => Field::Tag(key),
            "attributes" | "attribute" | "run" => {
                match Attribute::ALL.iter().find(|(name, _)| *name == key) {
                    Some((_, attribute)) => Field::Attribute(*attribute),
                    None => {
                        let names: Vec<&str> = Attribute::ALL.iter().map(|(n, _)| *n).collect();
                        return Err(FilterError {
                            column: prefix_column + 1,
                            message: format!(
                                "unknown attribute `{key}`; attributes are {}",
                                names.join(", ")
                            ),
                        });
                    }
                }
            }
            other => {
                return Err(FilterError {
                    column: prefix_column + 1,
                    message: format!(
                        "unknown prefix `{other}`: expected metrics, params, tags or attributes"
                    ),
                });
            }
        })
    }

    fn literal(&mut self) -> Result<Literal, FilterError> {
        match self.advance() {
            Some(Token::Number(v)) => Ok(Literal::Number(v)),
            Some(Token::Quoted(t)) => Ok(Literal::Text(t)),
            _ => {
                self.position -= 1;
                self.error("expected a value: a number or a quoted string")
            }
        }
    }

    fn comparison(&mut self) -> Result<Filter, FilterError> {
        let field = self.field()?;
        let negated = self.keyword("not");
        if negated {
            self.advance();
        }
        if self.keyword("in") {
            self.advance();
            if self.peek() != Some(&Token::LParen) {
                return self.error("expected `(` after `in`");
            }
            self.advance();
            let mut values = vec![self.literal()?];
            while self.peek() == Some(&Token::Comma) {
                self.advance();
                values.push(self.literal()?);
            }
            if self.peek() != Some(&Token::RParen) {
                return self.error("expected `,` or `)` in the value list");
            }
            self.advance();
            return Ok(Filter::In {
                field,
                negated,
                values,
            });
        }
        let op = if self.keyword("like") {
            self.advance();
            if negated { Op::NotLike } else { Op::Like }
        } else if negated {
            return self.error("expected `like` or `in` after `not`");
        } else {
            match self.peek() {
                Some(Token::Symbol(s)) => {
                    let op = match *s {
                        "=" => Op::Eq,
                        "!=" => Op::Ne,
                        "<" => Op::Lt,
                        "<=" => Op::Le,
                        ">" => Op::Gt,
                        _ => Op::Ge,
                    };
                    self.advance();
                    op
                }
                _ => {
                    return self
                        .error("expected a comparison operator (=, !=, <, <=, >, >=, like, in)");
                }
            }
        };
        let value = self.literal()?;
        Ok(Filter::Compare { field, op, value })
    }
}

impl Filter {
    /// Parses a filter expression.
    pub fn parse(input: &str) -> Result<Filter, FilterError> {
        Parser::whole(
            input,
            "empty filter",
            Parser::expr,
            "expected `and`, `or` or the end of the filter",
        )
    }

    /// A SQL condition on `runs r`; keys and literals are appended to `params` and
    /// referenced as `?` placeholders, in order.
    ///
    /// A comparison on a metric (its latest value), parameter or tag is either a set,
    /// `r.id IN (SELECT run_id FROM <table> WHERE key = ? AND value <op> ?)` (one scan
    /// of the key's range of the covering `(key, run, value)` index), or a probe,
    /// `EXISTS (SELECT 1 FROM <table> WHERE run_id = r.id AND key = ? AND value <op> ?)`
    /// (one primary key lookup per candidate run). The first comparison of the top-level `and` chain
    /// is the set SQLite drives the query from; every other conjunct only probes the
    /// runs it leaves, instead of building a set of its own. The two forms select the
    /// same runs: a run without the key matches no comparison (and so matches its
    /// `not`).
    pub fn to_sql(&self, params: &mut Vec<SqlValue>) -> String {
        let mut conjuncts = Vec::new();
        self.conjuncts(&mut conjuncts);
        if conjuncts.len() == 1 {
            return self.sql(params, Form::Set);
        }
        let driver = conjuncts
            .iter()
            .position(|c| c.is_field_comparison())
            .unwrap_or(0);
        let parts: Vec<String> = conjuncts
            .iter()
            .enumerate()
            .map(|(i, c)| c.sql(params, if i == driver { Form::Set } else { Form::Probe }))
            .collect();
        format!("({})", parts.join(" AND "))
    }

    /// The operands of the top-level `and` chain, in order.
    fn conjuncts<'a>(&'a self, out: &mut Vec<&'a Filter>) {
        match self {
            Filter::And(a, b) => {
                a.conjuncts(out);
                b.conjuncts(out);
            }
            other => out.push(other),
        }
    }

    fn is_field_comparison(&self) -> bool {
        match self {
            Filter::Compare { field, .. } | Filter::In { field, .. } => {
                !matches!(field, Field::Attribute(_))
            }
            _ => false,
        }
    }

    fn sql(&self, params: &mut Vec<SqlValue>, form: Form) -> String {
        match self {
            Filter::And(a, b) => format!("({} AND {})", a.sql(params, form), b.sql(params, form)),
            Filter::Or(a, b) => format!("({} OR {})", a.sql(params, form), b.sql(params, form)),
            Filter::Not(inner) => format!("(NOT COALESCE({}, 0))", inner.sql(params, form)),
            Filter::Compare { field, op, value } => {
                match_sql(field, Condition::Compare(*op, value), params, form)
            }
            Filter::In {
                field,
                negated,
                values,
            } => match_sql(
                field,
                Condition::In {
                    negated: *negated,
                    values,
                },
                params,
                form,
            ),
        }
    }
}

/// What a comparison asks of a field's value.
enum Condition<'a> {
    Compare(Op, &'a Literal),
    In {
        negated: bool,
        values: &'a [Literal],
    },
}

impl Condition<'_> {
    /// `<value> <condition>` with every literal bound (pushed onto `params` in the
    /// order of their `?`).
    fn sql(&self, value: &str, params: &mut Vec<SqlValue>) -> String {
        match self {
            Condition::Compare(op @ (Op::Like | Op::NotLike), literal) => {
                params.push(SqlValue::Text(literal.text()));
                format!("{value} {} ?", op.sql())
            }
            Condition::Compare(op, literal) => {
                format!(
                    "{value} {} {}",
                    op.sql(),
                    literal_sql(literal, value, params)
                )
            }
            Condition::In { negated, values } => {
                let items: Vec<String> = values
                    .iter()
                    .map(|v| literal_sql(v, value, params))
                    .collect();
                format!(
                    "{value} {}IN ({})",
                    if *negated { "NOT " } else { "" },
                    items.join(", ")
                )
            }
        }
    }
}

/// Where a field's values are: rows (`run_id`, `key`, `value`) of a table, or a
/// column of `runs`.
enum Source<'a> {
    Keyed(&'static str, &'a str),
    Column(&'static str),
}

/// How a comparison on a keyed table is written (see [`Filter::to_sql`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Form {
    Set,
    Probe,
}

impl Field {
    /// Parses a field alone, e.g. `metrics.f1_macro` or `params.feature` (for ordering
    /// and grouping).
    pub fn parse(input: &str) -> Result<Field, FilterError> {
        Parser::whole(
            input,
            "expected a field such as metrics.f1_macro",
            Parser::field,
            "expected the end of the field",
        )
    }

    /// Where the field's values live in the database.
    fn source(&self) -> Source<'_> {
        match self {
            // The latest value of each metric key.
            Field::Metric(key) => Source::Keyed("metric_latest", key),
            Field::Param(key) => Source::Keyed("params", key),
            Field::Tag(key) => Source::Keyed("tags", key),
            Field::Attribute(attribute) => Source::Column(attribute.column()),
        }
    }

    /// The field's value for run `r` as a SQL expression (NULL when the run lacks the
    /// key); a metric is its value at the highest step.
    pub fn value_sql(&self, params: &mut Vec<SqlValue>) -> String {
        match self.source() {
            Source::Column(column) => column.to_owned(),
            Source::Keyed(table, key) => {
                params.push(SqlValue::Text(key.to_owned()));
                format!("(SELECT k.value FROM {table} k WHERE k.run_id = r.id AND k.key = ?)")
            }
        }
    }

    /// How the field is written in a filter.
    pub fn name(&self) -> String {
        match self {
            Field::Metric(key) => format!("metrics.{key}"),
            Field::Param(key) => format!("params.{key}"),
            Field::Tag(key) => format!("tags.{key}"),
            Field::Attribute(attribute) => format!(
                "attributes.{}",
                Attribute::ALL
                    .iter()
                    .find(|(_, a)| a == attribute)
                    .map_or("?", |(n, _)| *n)
            ),
        }
    }
}

/// `field <condition>` with the condition's literals bound.
fn match_sql(
    field: &Field,
    condition: Condition<'_>,
    params: &mut Vec<SqlValue>,
    form: Form,
) -> String {
    let (table, key) = match field.source() {
        Source::Column(column) => return format!("({})", condition.sql(column, params)),
        Source::Keyed(table, key) => (table, key),
    };
    params.push(SqlValue::Text(key.to_owned()));
    let condition = condition.sql("k.value", params);
    match form {
        Form::Set => {
            format!("(r.id IN (SELECT k.run_id FROM {table} k WHERE k.key = ? AND {condition}))")
        }
        Form::Probe => format!(
            "(EXISTS (SELECT 1 FROM {table} k WHERE k.run_id = r.id AND k.key = ? AND {condition}))"
        ),
    }
}

/// A literal as a SQL operand compared with `value`. Values keep their types in the
/// database (`crop = 48` is stored as a number), so a literal that reads as a number
/// — `48` or `'48'` — compares numerically with numeric values and textually with
/// text ones, whichever way it was written: `params.crop = '48'` and
/// `params.crop = 48` match the same runs, and neither silently matches nothing.
fn literal_sql(literal: &Literal, value: &str, params: &mut Vec<SqlValue>) -> String {
    match literal.number() {
        Some(number) => {
            params.push(SqlValue::Real(number));
            params.push(SqlValue::Text(literal.text()));
            format!("(CASE WHEN typeof({value}) IN ('integer', 'real') THEN ? ELSE ? END)")
        }
        None => {
            params.push(SqlValue::Text(literal.text()));
            "?".to_owned()
        }
    }
}

impl Literal {
    /// The literal's number: a bare number, or quoted text that is one whole finite
    /// number (`'48'`, `' 1e-3'` with spaces is not).
    fn number(&self) -> Option<f64> {
        match self {
            Literal::Number(v) => Some(*v),
            Literal::Text(t) => t.parse::<f64>().ok().filter(|v| v.is_finite()),
        }
    }

    /// The literal as text: quoted text as written; a bare number as sarlab writes
    /// numbers (`48`, not `48.0`).
    fn text(&self) -> String {
        match self {
            Literal::Text(t) => t.clone(),
            Literal::Number(v) if v.fract() == 0.0 && v.abs() < 1e15 => format!("{}", *v as i64),
            Literal::Number(v) => v.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compare(field: Field, op: Op, value: Literal) -> Filter {
        Filter::Compare { field, op, value }
    }

    #[test]
    fn nesting_and_length_are_bounded_with_a_clear_error() {
        // 9,000 nested parentheses used to overflow the stack and abort the process.
        let deep = format!("{}params.C = 1{}", "(".repeat(9000), ")".repeat(9000));
        let err = Filter::parse(&deep).unwrap_err();
        assert!(err.to_string().contains("deeper than 64 levels"), "{err}");
        assert_eq!(
            err.column,
            MAX_NESTING + 1,
            "points at the first parenthesis too many"
        );
        let nots = format!("{}params.C = 1", "not ".repeat(100_000));
        assert!(
            Filter::parse(&nots)
                .unwrap_err()
                .to_string()
                .contains("deeper than")
        );
        // The deepest allowed nesting parses.
        let ok = format!(
            "{}params.C = 1{}",
            "(".repeat(MAX_NESTING),
            ")".repeat(MAX_NESTING)
        );
        assert!(Filter::parse(&ok).is_ok());
        let long = vec!["params.C = 1"; MAX_COMPARISONS + 1].join(" and ");
        let err = Filter::parse(&long).unwrap_err();
        assert!(
            err.to_string().contains("more than 1000 comparisons"),
            "{err}"
        );
        let most = vec!["params.C = 1"; MAX_COMPARISONS].join(" or ");
        let filter = Filter::parse(&most).expect("1000 comparisons");
        let mut params = Vec::new();
        assert!(filter.to_sql(&mut params).len() > 1000);
    }

    #[test]
    fn parses_into_a_tree_with_precedence() {
        let f = Filter::parse(
            "metrics.f1_macro > 0.9 and params.kernel = 'rbf' and (params.C >= 10 or params.gamma = \"scale\")",
        )
        .expect("parse");
        let expected = Filter::And(
            Box::new(Filter::And(
                Box::new(compare(
                    Field::Metric("f1_macro".into()),
                    Op::Gt,
                    Literal::Number(0.9),
                )),
                Box::new(compare(
                    Field::Param("kernel".into()),
                    Op::Eq,
                    Literal::Text("rbf".into()),
                )),
            )),
            Box::new(Filter::Or(
                Box::new(compare(
                    Field::Param("C".into()),
                    Op::Ge,
                    Literal::Number(10.0),
                )),
                Box::new(compare(
                    Field::Param("gamma".into()),
                    Op::Eq,
                    Literal::Text("scale".into()),
                )),
            )),
        );
        assert_eq!(f, expected);
        // `and` binds tighter than `or`; keywords are case-insensitive; dotted and
        // backquoted keys; doubled quotes; `in` lists; scientific numbers.
        let f = Filter::parse(
            "tags.a = 'x' OR tags.b = 'it''s' AND NOT params.pca.whiten in ('true', 1e-3) or params.`odd key!` not like 'a%'",
        )
        .expect("parse");
        let Filter::Or(left, right) = f else {
            panic!("or at the top")
        };
        assert!(matches!(*left, Filter::Or(_, _)));
        assert!(matches!(
            *right,
            Filter::Compare {
                op: Op::NotLike,
                ..
            }
        ));
        assert_eq!(
            Filter::parse("attributes.status != 'FAILED'").expect("parse"),
            compare(
                Field::Attribute(Attribute::Status),
                Op::Ne,
                Literal::Text("FAILED".into())
            )
        );
    }

    #[test]
    fn errors_point_at_the_column() {
        let cases = [
            ("metrics.f1 >", 13, "expected a value"),
            ("metrics.f1 > 'open", 14, "unterminated"),
            ("foo.bar = 1", 1, "unknown prefix `foo`"),
            ("attributes.colour = 'red'", 1, "unknown attribute"),
            ("(params.C = 1", 14, "expected `)`"),
            ("params.C = 1 params.D = 2", 14, "expected `and`, `or`"),
            ("params.C ~ 1", 10, "unexpected character"),
            ("", 1, "empty filter"),
            ("params. = 1", 9, "expected a key"),
            ("params.C 1", 10, "comparison operator"),
            ("params.C not = 1", 14, "expected `like` or `in`"),
        ];
        for (input, column, message) in cases {
            let err = Filter::parse(input).expect_err(input);
            assert_eq!(err.column, column, "{input}: {err}");
            assert!(err.message.contains(message), "{input}: {err}");
        }
    }

    #[test]
    fn user_text_is_bound_never_pasted() {
        let hostile = "params.kernel = '''; DROP TABLE runs; --'";
        let f = Filter::parse(hostile).expect("a quoted string is just a value");
        let mut params = Vec::new();
        let sql = f.to_sql(&mut params);
        assert!(!sql.contains("DROP"), "{sql}");
        assert_eq!(
            params,
            vec![
                SqlValue::Text("kernel".into()),
                SqlValue::Text("'; DROP TABLE runs; --".into())
            ]
        );
        // Unquoted SQL is not a filter at all.
        assert!(Filter::parse("params.kernel = 'rbf'; DROP TABLE runs; --").is_err());
        assert!(Filter::parse("1 = 1").is_err());
        let mut params = Vec::new();
        let sql = Filter::parse("params.`x'); DROP TABLE runs; --` = 1")
            .expect("backquoted key")
            .to_sql(&mut params);
        assert!(!sql.contains("DROP"), "{sql}");
    }
    /// Runs matching `expression` in a small database, by name.
    fn matching(conn: &rusqlite::Connection, expression: &str) -> Vec<String> {
        let filter = Filter::parse(expression).expect(expression);
        let mut params = Vec::new();
        let condition = filter.to_sql(&mut params);
        let sql = format!("SELECT r.name FROM runs r WHERE {condition} ORDER BY r.name");
        let mut statement = conn.prepare(&sql).expect("prepare");
        statement
            .query_map(rusqlite::params_from_iter(params), |row| row.get(0))
            .expect("query")
            .collect::<Result<Vec<String>, _>>()
            .expect("rows")
    }

    #[test]
    fn expressions_select_the_expected_runs() {
        let conn = rusqlite::Connection::open_in_memory().expect("db");
        crate::schema::migrate_connection(&conn, std::path::Path::new(":memory:")).expect("schema");
        conn.execute(
            "INSERT INTO experiments (id, name, created_ms) VALUES (1, 'e', 0)",
            [],
        )
        .expect("experiment");
        // name, status, C, kernel, gamma (text or number), f1 per fold (the last step is
        // the summary), git_dirty
        type Row = (
            &'static str,
            &'static str,
            f64,
            &'static str,
            SqlValue,
            [f64; 2],
            &'static str,
        );
        let runs: [Row; 4] = [
            (
                "a",
                "FINISHED",
                1.0,
                "rbf",
                SqlValue::Text("scale".into()),
                [0.95, 0.91],
                "false",
            ),
            (
                "b",
                "FINISHED",
                10.0,
                "rbf",
                SqlValue::Real(0.01),
                [0.80, 0.85],
                "true",
            ),
            (
                "c",
                "FAILED",
                100.0,
                "linear",
                SqlValue::Text("scale".into()),
                [0.99, 0.70],
                "false",
            ),
            (
                "d",
                "FINISHED",
                10.0,
                "poly",
                SqlValue::Text("auto".into()),
                [0.10, 0.95],
                "false",
            ),
        ];
        for (name, status, c, kernel, gamma, f1, dirty) in runs {
            conn.execute(
                "INSERT INTO runs (uuid, experiment_id, name, status, start_ms, config_hash) \
                 VALUES (?1, 1, ?1, ?2, 0, ?1)",
                rusqlite::params![name, status],
            )
            .expect("run");
            for (key, value) in [
                ("C", SqlValue::Real(c)),
                ("kernel", SqlValue::Text(kernel.into())),
                ("gamma", gamma),
            ] {
                conn.execute(
                    "INSERT INTO params (run_id, key, value) \
                     SELECT id, ?2, ?3 FROM runs WHERE uuid = ?1",
                    rusqlite::params![name, key, value],
                )
                .expect("param");
            }
            for (step, value) in f1.iter().enumerate() {
                conn.execute(
                    "INSERT INTO metrics (run_id, key, value, step, timestamp_ms) \
                     SELECT id, 'f1_macro', ?2, ?3, 0 FROM runs WHERE uuid = ?1",
                    rusqlite::params![name, value, step as i64],
                )
                .expect("metric");
            }
            conn.execute(
                "INSERT INTO tags (run_id, key, value) \
                 SELECT id, 'git_dirty', ?2 FROM runs WHERE uuid = ?1",
                rusqlite::params![name, dirty],
            )
            .expect("tag");
        }
        conn.execute_batch(crate::schema::FILL_METRIC_LATEST)
            .expect("latest metrics");
        let table: [(&str, &[&str]); 14] = [
            // A metric is its value at the highest step: 0.91, 0.85, 0.70, 0.95.
            ("metrics.f1_macro > 0.9", &["a", "d"]),
            ("metrics.f1_macro <= 0.85", &["b", "c"]),
            ("params.C >= 10", &["b", "c", "d"]),
            ("params.C = 10 and params.kernel = 'rbf'", &["b"]),
            (
                "metrics.f1_macro > 0.8 and params.kernel = 'rbf' and (params.C >= 10 or params.gamma = 'scale')",
                &["a", "b"],
            ),
            ("params.gamma = 'scale'", &["a", "c"]),
            ("params.gamma < 1", &["b"]),
            ("tags.git_dirty = 'false'", &["a", "c", "d"]),
            ("attributes.status != 'FINISHED'", &["c"]),
            ("params.kernel in ('poly', 'linear')", &["c", "d"]),
            ("params.kernel not in ('poly', 'linear')", &["a", "b"]),
            ("params.kernel like 'r%'", &["a", "b"]),
            // A missing key matches no comparison, and matches `not` of one.
            ("params.missing = 1", &[]),
            ("not params.missing = 1", &["a", "b", "c", "d"]),
        ];
        for (expression, expected) in table {
            assert_eq!(matching(&conn, expression), expected, "{expression}");
        }
        // The hostile string is a harmless value, and the table survives it.
        assert!(matching(&conn, "params.kernel = '''; DROP TABLE runs; --'").is_empty());
        assert_eq!(matching(&conn, "params.C > 0").len(), 4);
    }
}
