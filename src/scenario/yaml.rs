//! YAML text to a tree of located nodes.
//!
//! serde-saphyr parses the text (with resource budgets: alias bombs and absurd nesting are
//! refused before they cost memory) into [`Node`]s that remember their line, column and
//! original spelling. Typed decoding then runs over the tree (`node_de`), so that it can
//! keep going after an error and report every error of a file, and so that numbers are read
//! exactly as written (the spelling `32.00`, never a binary float).

use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;
use serde_saphyr::budget::BudgetBreach;

use crate::scenario::diagnostic::Position;

/// The largest input file read (scenario, catalog, policy). Scenario files are hand-written;
/// anything bigger is a mistake (a wrong path, a generated dump).
pub const MAX_FILE_BYTES: usize = 8 * 1024 * 1024;
/// The parser's budget for one file: far beyond any hand-written scenario, far below what
/// would exhaust memory.
const MAX_DEPTH: usize = 48;
const MAX_NODES: usize = 200_000;
const MAX_EVENTS: usize = 500_000;
const MAX_ALIASES: usize = 2_000;
const MAX_ANCHORS: usize = 2_000;

#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub value: NodeValue,
    pub position: Position,
    /// The node's text as written in the file (scalars only; quotes included).
    pub spelling: String,
}

#[derive(Clone, Debug, PartialEq)]
pub enum NodeValue {
    Null,
    Bool(bool),
    Integer(i128),
    /// A number with a fraction or exponent. Only its spelling is ever used.
    Float,
    Text(String),
    Sequence(Vec<Node>),
    Mapping(Vec<(Node, Node)>),
}

impl Node {
    /// What kind of value this is, for messages: "a list", "the number 2.5".
    pub fn describe(&self) -> String {
        match &self.value {
            NodeValue::Null => "nothing (an empty value)".to_string(),
            NodeValue::Bool(value) => format!("the boolean {value}"),
            NodeValue::Integer(_) | NodeValue::Float => format!("the number {}", self.spelling),
            NodeValue::Text(text) => format!("the text `{}`", shorten(text)),
            NodeValue::Sequence(_) => "a list".to_string(),
            NodeValue::Mapping(_) => "a mapping".to_string(),
        }
    }

    /// The scalar as text: strings as they are, other scalars by their spelling (so that
    /// `country: NO` is the country and `price: 32.00` keeps its two decimals).
    pub fn scalar_text(&self) -> Option<&str> {
        match &self.value {
            NodeValue::Text(text) => Some(text),
            NodeValue::Bool(_) | NodeValue::Integer(_) | NodeValue::Float => Some(&self.spelling),
            _ => None,
        }
    }

    pub fn width(&self) -> usize {
        match &self.value {
            NodeValue::Sequence(_) | NodeValue::Mapping(_) => 1,
            _ => self.spelling.chars().count().clamp(1, 80),
        }
    }

    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            NodeValue::Mapping(entries) => entries.iter().find(|(k, _)| k.scalar_text() == Some(key)).map(|(_, v)| v),
            _ => None,
        }
    }

    /// Visits every node of the tree, depth first.
    pub fn walk<'a>(&'a self, visit: &mut impl FnMut(&'a Node)) {
        visit(self);
        match &self.value {
            NodeValue::Sequence(items) => items.iter().for_each(|item| item.walk(visit)),
            NodeValue::Mapping(entries) => entries.iter().for_each(|(key, value)| {
                key.walk(visit);
                value.walk(visit);
            }),
            _ => {}
        }
    }
}

fn shorten(text: &str) -> String {
    if text.chars().count() > 40 { text.chars().take(40).collect::<String>() + "..." } else { text.to_string() }
}

/// A parse failure: where, and what the parser said, already phrased for a person.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct YamlError {
    pub position: Position,
    pub message: String,
    pub expected: Option<String>,
    /// How many characters the caret underlines.
    pub width: usize,
}

/// Parses one YAML document into a tree. Enforces the size limit and serde-saphyr's budgets.
/// The first of the mistakes [`parse_with_findings`] reads past is the error.
pub fn parse(source: &str) -> Result<Node, YamlError> {
    parse_with_findings(source).and_then(|(node, findings)| match findings.into_iter().next() {
        Some(first) => Err(first),
        None => Ok(node),
    })
}

/// [`parse`], reading past the mistakes that leave a usable tree: a repeated key (the tree
/// keeps its first entry) and a control character in a text. They are returned beside the
/// tree, so that the rest of the file is still checked.
pub fn parse_with_findings(source: &str) -> Result<(Node, Vec<YamlError>), YamlError> {
    if source.len() > MAX_FILE_BYTES {
        return Err(YamlError {
            position: Position::NONE,
            message: format!("the file is {} bytes; the limit is {MAX_FILE_BYTES}", source.len()),
            expected: Some("a hand-written scenario, catalog or policy file".into()),
            width: 1,
        });
    }
    if let Some(offset) = source.find('\0') {
        let before = &source[..offset];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |text| text.chars().count()) + 1;
        return Err(YamlError {
            position: Position::new(line as u32, column as u32),
            message: "the file contains a NUL byte: it is not a text file".into(),
            expected: Some("YAML text".into()),
            width: 1,
        });
    }
    let options = serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_depth: MAX_DEPTH,
            max_nodes: MAX_NODES,
            max_events: MAX_EVENTS,
            max_aliases: MAX_ALIASES,
            max_anchors: MAX_ANCHORS,
            max_total_scalar_bytes: MAX_FILE_BYTES,
        },
        strict_booleans: true,
        duplicate_keys: serde_saphyr::options::DuplicateKeyPolicy::PassThrough,
    };
    let raw: Spanned<RawNode> = serde_saphyr::from_str_with_options(source, options).map_err(|error| at_the_tab(source, describe_parse_error(&error)))?;
    let mut node = build(source, raw);
    let mut findings = Vec::new();
    drop_repeated_keys(&mut node, &mut findings);
    report_control_characters(&node, &mut findings);
    Ok((node, findings))
}

/// Every text of the file ends up in terminals, CSV files or XML (names, titles, URLs, what a
/// check expects): a control character there (an escape sequence, a bell) would act instead
/// of being read. Line breaks and tabs are text.
fn report_control_characters(node: &Node, errors: &mut Vec<YamlError>) {
    node.walk(&mut |node| {
        if let NodeValue::Text(text) = &node.value
            && let Some(bad) = text.chars().find(|c| c.is_control() && !matches!(c, '\n' | '\t'))
        {
            errors.push(YamlError {
                position: node.position,
                message: format!("the text contains the control character U+{:04X}", u32::from(bad)),
                expected: Some("printable text".to_string()),
                width: node.width(),
            });
        }
    });
}

/// Removes every entry whose key an earlier entry of the same mapping already has, and
/// reports it where the repeated key stands.
fn drop_repeated_keys(node: &mut Node, duplicates: &mut Vec<YamlError>) {
    match &mut node.value {
        NodeValue::Sequence(items) => items.iter_mut().for_each(|item| drop_repeated_keys(item, duplicates)),
        NodeValue::Mapping(entries) => {
            let mut seen: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
            entries.retain(|(key, _)| {
                let Some(identity) = key_identity(key) else { return true };
                let first = seen.insert(identity);
                if !first {
                    duplicates.push(YamlError {
                        position: key.position,
                        message: format!("duplicate key `{}`", shorten(key.scalar_text().unwrap_or_default())),
                        expected: Some("each key at most once in a mapping".to_string()),
                        width: key.width(),
                    });
                }
                first
            });
            entries.iter_mut().for_each(|(_, value)| drop_repeated_keys(value, duplicates));
        }
        _ => {}
    }
}

/// What makes two keys the same key. Keys are names here (handles, offer ids), read as
/// text: `1` and `"1"` name the same customer, and `0x0B` is `11`.
fn key_identity(key: &Node) -> Option<String> {
    match &key.value {
        NodeValue::Text(text) => Some(text.clone()),
        NodeValue::Integer(number) => Some(number.to_string()),
        NodeValue::Bool(value) => Some(value.to_string()),
        NodeValue::Null => Some("~".to_string()),
        NodeValue::Float => Some(key.spelling.clone()),
        NodeValue::Sequence(_) | NodeValue::Mapping(_) => None,
    }
}

/// The parser reports a tab where the token it was reading began, which can be lines
/// earlier; the tab itself (the first from that line on) is what to fix.
fn at_the_tab(source: &str, mut error: YamlError) -> YamlError {
    if !error.message.contains("tab") || !error.position.is_known() {
        return error;
    }
    let tab = source
        .lines()
        .enumerate()
        .skip(error.position.line as usize - 1)
        .find_map(|(index, line)| line.chars().position(|c| c == '\t').map(|column| Position::new(index as u32 + 1, column as u32 + 1)));
    if let Some(tab) = tab {
        error.position = tab;
        error.expected = Some("spaces: YAML does not allow tabs for indentation".to_string());
    }
    error
}

fn describe_parse_error(error: &serde_saphyr::Error) -> YamlError {
    let position = error
        .location()
        .map(|location| Position::new(location.line() as u32, location.column() as u32))
        .filter(|position| position.is_known())
        .unwrap_or(Position::NONE);
    let plain = error.without_snippet();
    // The library's own message is written for programmers ("set DuplicateKeyPolicy in
    // Options"); the common cases are rephrased for the person who wrote the file.
    let (message, expected) = match plain {
        serde_saphyr::Error::DuplicateMappingKey { key, .. } => {
            (format!("duplicate key `{}`", key.as_deref().unwrap_or("?")), Some("each key at most once in a mapping".to_string()))
        }
        serde_saphyr::Error::Budget { breach, .. } => (
            format!("the document is too large or too deeply nested: {}", describe_breach(breach)),
            Some(format!("a hand-written file: at most {MAX_DEPTH} levels of nesting, {MAX_NODES} values, {MAX_ALIASES} aliases")),
        ),
        serde_saphyr::Error::AliasError { .. }
        | serde_saphyr::Error::AliasReplayLimitExceeded { .. }
        | serde_saphyr::Error::AliasExpansionLimitExceeded { .. }
        | serde_saphyr::Error::AliasReplayStackDepthExceeded { .. } => {
            ("the document's aliases expand too far (an alias bomb?)".to_string(), Some("aliases that expand to a hand-written amount of data".to_string()))
        }
        serde_saphyr::Error::MultipleDocuments { .. } => {
            ("the file holds more than one YAML document".to_string(), Some("exactly one document per file".to_string()))
        }
        other => {
            let text = other.to_string();
            // Drop the library's own "line N column M:" prefix; the position is shown anyway.
            let text = match text.split_once(": ") {
                Some((prefix, rest)) if prefix.starts_with("error: line") || prefix.starts_with("line ") => rest.to_string(),
                _ => text,
            };
            let text = text.strip_prefix("error: ").unwrap_or(&text).to_string();
            // The position is shown on its own line; drop the library's copy of it.
            let text = match text.find(" at line ") {
                Some(index) => text[..index].to_string(),
                None => text,
            };
            let text = text.lines().next().unwrap_or("syntax error");
            if text.contains("non-finite float") {
                ("not a finite number: `.nan`, `.inf`, or a number too large to hold (such as 1e400)".to_string(), Some("a finite number".to_string()))
            } else if text.contains("recursion limit exceeded") {
                ("the document is nested too deeply".to_string(), Some(format!("at most {MAX_DEPTH} levels of nesting")))
            } else if text.contains("mapping values are not allowed") {
                // An unquoted text with ": " in it (a description or a title), or a key
                // indented deeper than its siblings.
                (
                    format!("invalid YAML: {text}"),
                    Some("a key indented like the keys beside it, or a text containing `: ` in quotes (`description: \"Note: ...\"`)".to_string()),
                )
            } else if text.contains("while parsing a block") || text.contains("indentation") {
                (format!("invalid YAML: {text}"), Some("keys of one mapping, and items of one list, indented to the same column".to_string()))
            } else {
                (format!("invalid YAML: {text}"), None)
            }
        }
    };
    YamlError { position, message, expected, width: 1 }
}

/// A budget breach in words, with the limit it passed.
fn describe_breach(breach: &BudgetBreach) -> String {
    match breach {
        BudgetBreach::Depth { depth } => format!("more than {MAX_DEPTH} levels of nesting (reached {depth})"),
        BudgetBreach::Nodes { nodes } => format!("more than {MAX_NODES} values (reached {nodes})"),
        BudgetBreach::Events { .. } => "too many YAML events".to_string(),
        BudgetBreach::Aliases { aliases } => format!("more than {MAX_ALIASES} aliases (reached {aliases})"),
        BudgetBreach::Anchors { anchors } => format!("more than {MAX_ANCHORS} anchors (reached {anchors})"),
        BudgetBreach::ScalarBytes { .. } => "too much text".to_string(),
        BudgetBreach::Documents { .. } => "too many documents".to_string(),
        other => {
            // The variants not named above are limits this loader does not set; their Rust
            // name is the most precise description available.
            let name = format!("{other:?}");
            format!("a resource limit was reached ({})", name.split([' ', '{', '(']).next().unwrap_or_default().to_lowercase())
        }
    }
}

/// The tree as serde-saphyr hands it over: every node with its span.
enum RawNode {
    Null,
    Bool(bool),
    Integer(i128),
    Float,
    Text(String),
    Sequence(Vec<Spanned<RawNode>>),
    Mapping(Vec<(Spanned<RawNode>, Spanned<RawNode>)>),
}

impl<'de> Deserialize<'de> for RawNode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct RawVisitor;
        impl<'de> Visitor<'de> for RawVisitor {
            type Value = RawNode;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any YAML value")
            }
            fn visit_unit<E>(self) -> Result<RawNode, E> {
                Ok(RawNode::Null)
            }
            fn visit_none<E>(self) -> Result<RawNode, E> {
                Ok(RawNode::Null)
            }
            fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<RawNode, D::Error> {
                RawNode::deserialize(deserializer)
            }
            fn visit_bool<E>(self, value: bool) -> Result<RawNode, E> {
                Ok(RawNode::Bool(value))
            }
            fn visit_i64<E>(self, value: i64) -> Result<RawNode, E> {
                Ok(RawNode::Integer(i128::from(value)))
            }
            fn visit_u64<E>(self, value: u64) -> Result<RawNode, E> {
                Ok(RawNode::Integer(i128::from(value)))
            }
            fn visit_i128<E>(self, value: i128) -> Result<RawNode, E> {
                Ok(RawNode::Integer(value))
            }
            fn visit_u128<E>(self, value: u128) -> Result<RawNode, E> {
                Ok(i128::try_from(value).map_or(RawNode::Float, RawNode::Integer))
            }
            fn visit_f64<E>(self, _value: f64) -> Result<RawNode, E> {
                Ok(RawNode::Float)
            }
            fn visit_str<E>(self, value: &str) -> Result<RawNode, E> {
                Ok(RawNode::Text(value.to_owned()))
            }
            fn visit_string<E>(self, value: String) -> Result<RawNode, E> {
                Ok(RawNode::Text(value))
            }
            fn visit_bytes<E>(self, value: &[u8]) -> Result<RawNode, E> {
                Ok(RawNode::Text(String::from_utf8_lossy(value).into_owned()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut access: A) -> Result<RawNode, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = access.next_element()? {
                    items.push(item);
                }
                Ok(RawNode::Sequence(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<RawNode, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = access.next_entry()? {
                    entries.push(entry);
                }
                Ok(RawNode::Mapping(entries))
            }
        }
        deserializer.deserialize_any(RawVisitor)
    }
}

fn build(source: &str, raw: Spanned<RawNode>) -> Node {
    let position = Position::new(raw.referenced.line() as u32, raw.referenced.column() as u32);
    let span = raw.defined.span();
    let spelling = match (&raw.value, span.byte_offset(), span.byte_len()) {
        (RawNode::Sequence(_) | RawNode::Mapping(_), _, _) => String::new(),
        (_, Some(offset), Some(length)) => source.get(offset as usize..(offset + length) as usize).unwrap_or_default().to_string(),
        _ => String::new(),
    };
    let value = match raw.value {
        RawNode::Null => NodeValue::Null,
        RawNode::Bool(value) => NodeValue::Bool(value),
        RawNode::Integer(value) => NodeValue::Integer(value),
        RawNode::Float => NodeValue::Float,
        RawNode::Text(text) => NodeValue::Text(text),
        RawNode::Sequence(items) => NodeValue::Sequence(items.into_iter().map(|item| build(source, item)).collect()),
        RawNode::Mapping(entries) => NodeValue::Mapping(entries.into_iter().map(|(key, value)| (build(source, key), build(source, value))).collect()),
    };
    let spelling = if spelling.is_empty() {
        match &value {
            NodeValue::Text(text) => text.clone(),
            NodeValue::Integer(number) => number.to_string(),
            NodeValue::Bool(b) => b.to_string(),
            _ => spelling,
        }
    } else {
        spelling
    };
    Node { value, position, spelling }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_keep_their_spelling() {
        let node = parse("price: 32.00\nq: 10\nc: NO\n").unwrap();
        assert_eq!(node.get("price").unwrap().scalar_text(), Some("32.00"));
        assert_eq!(node.get("q").unwrap().value, NodeValue::Integer(10));
        assert_eq!(node.get("c").unwrap().scalar_text(), Some("NO"));
        assert_eq!(node.get("q").unwrap().position, Position::new(2, 4));
    }

    #[test]
    fn duplicate_keys_are_refused_with_their_position() {
        let error = parse("a: 1\na: 2\n").unwrap_err();
        assert_eq!(error.position, Position::new(2, 1));
        assert_eq!(error.message, "duplicate key `a`");
    }

    #[test]
    fn alias_bombs_are_refused() {
        let mut text = String::from("a: &a [x, x, x, x, x, x, x, x, x]\n");
        let names: Vec<char> = "abcdefghij".chars().collect();
        for pair in names.windows(2) {
            let refs = vec![format!("*{}", pair[0]); 9].join(", ");
            text.push_str(&format!("{}: &{} [{}]\n", pair[1], pair[1], refs));
        }
        assert!(parse(&text).is_err());
    }

    #[test]
    fn deep_nesting_is_refused() {
        let text = format!("a: {}{}\n", "[".repeat(5000), "]".repeat(5000));
        assert!(parse(&text).is_err());
    }
}
