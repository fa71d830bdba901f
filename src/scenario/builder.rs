//! Collecting a file's diagnostics while it is decoded and checked.

use std::path::Path;

use serde::Deserialize;

use crate::policy::{ParameterValue, Policy};
use crate::scenario::diagnostic::{Diagnostic, Diagnostics, Position, SourceLines};
use crate::scenario::model::ParameterNode;
use crate::scenario::node_de::{self, Located};
use crate::scenario::yaml::{Node, NodeValue};
use crate::suggest::nearest_or_completion;

/// Accumulates every problem found in one file.
pub struct Builder<'a> {
    pub file: &'a Path,
    pub source: &'a str,
    pub diagnostics: Diagnostics,
    /// Built on the first diagnostic: most files have none.
    lines: std::cell::OnceCell<SourceLines<'a>>,
}

impl<'a> Builder<'a> {
    pub fn new(file: &'a Path, source: &'a str) -> Self {
        Builder { file, source, diagnostics: Diagnostics::default(), lines: std::cell::OnceCell::new() }
    }

    pub fn report(&mut self, diagnostic: Diagnostic) {
        let lines = self.lines.get_or_init(|| SourceLines::new(self.source));
        self.diagnostics.push(diagnostic.with_line_of(lines));
    }

    /// An error at a located value.
    pub fn error_at<T>(&mut self, located: &Located<T>, message: impl Into<String>, expected: impl Into<String>) {
        let diagnostic = Diagnostic::new(self.file, located.position, message).expected(expected).width(located.width as usize);
        self.report(diagnostic);
    }

    /// A file this one refers to (a catalog, a policy file) cannot be used. When it could not
    /// be read at all, the error is reported at the reference; otherwise the referenced file's
    /// own located errors are passed on.
    pub fn referenced_file_failed(&mut self, reference: &Located<String>, what: &str, path: &Path, expected: &str, diagnostics: Diagnostics) {
        if diagnostics.0.iter().any(|d| !d.position.is_known()) {
            let message = format!("cannot use the {what} `{}` ({})", reference.value, diagnostics.0[0].message);
            self.error_at(reference, message, format!("{expected}; looked for {}", crate::scenario::diagnostic::display_path(path)));
        } else {
            self.diagnostics.extend(diagnostics);
        }
    }

    /// An unknown name defined by the file (a customer, user, offer), with the nearest one.
    pub fn unknown_name<'n>(&mut self, located: &Located<String>, what: &str, known: impl IntoIterator<Item = &'n str> + Clone) {
        let scope = match what {
            "offer" => "in the catalog",
            "built-in policy" => "built in",
            _ => "defined in this file",
        };
        self.unknown(located, what, known, scope);
    }

    /// The id a file-defined name stands for; an unknown name is reported with the nearest
    /// defined one.
    pub fn lookup_name<Id: Copy>(&mut self, names: &std::collections::BTreeMap<String, Id>, located: &Located<String>, what: &str) -> Option<Id> {
        let found = names.get(&located.value).copied();
        if found.is_none() {
            self.unknown_name(located, what, names.keys().map(String::as_str));
        }
        found
    }

    /// An unknown name from a fixed vocabulary (rule IDs, codes, fields), with the nearest one.
    pub fn unknown_term<'n>(&mut self, located: &Located<String>, what: &str, known: impl IntoIterator<Item = &'n str> + Clone, reference: &str) {
        self.unknown(located, what, known, reference);
    }

    fn unknown<'n>(&mut self, located: &Located<String>, what: &str, known: impl IntoIterator<Item = &'n str> + Clone, scope: &str) {
        let suggestion = nearest_or_completion(&located.value, known.clone());
        let mut names: Vec<&str> = known.into_iter().collect();
        names.sort_unstable();
        names.dedup();
        let article = if what.starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" };
        let expected = if names.is_empty() {
            format!("{article} {what} {scope} (there is none)")
        } else if names.len() <= 20 {
            format!("one of: {}", names.join(", "))
        } else {
            format!("one of the {} {what}s {scope}", names.len())
        };
        let diagnostic = Diagnostic::new(self.file, located.position, format!("unknown {what} `{}`", located.value))
            .expected(expected)
            .suggest(suggestion)
            .width(located.width as usize);
        self.report(diagnostic);
    }

    /// Decodes a node into `T`, reporting every decoding error.
    pub fn decode<T: for<'de> Deserialize<'de>>(&mut self, node: &Node) -> Option<T> {
        match node_de::decode::<T>(node) {
            Ok(value) => Some(value),
            Err(errors) => {
                self.report_decode_errors(errors);
                None
            }
        }
    }

    /// Like [`Builder::decode`], but a value with placeholders for what could be stepped over
    /// (see [`node_de::decode_recovering`]) is still returned, its errors reported, so that the
    /// checks that need the value still run. The file does not run: it has errors.
    pub fn decode_recovering<T: for<'de> Deserialize<'de> + schemars::JsonSchema>(&mut self, node: &Node) -> Option<T> {
        let (mut value, mut errors) = node_de::decode_recovering::<T>(node);
        // serde stops a mapping at its first bad value. An optional value that is wrong
        // (`tags: x`, `by: [ana]`) is left out and the rest decoded again, so that the
        // mistakes after it are found too; a required one that is left out comes back as a
        // missing key, which is no progress, and ends the attempts.
        let mut pruned = node.clone();
        let mut fatal = errors.last().cloned().filter(|_| value.is_none());
        for _ in 0..MAX_DECODE_RETRIES {
            let Some(stopped_at) = fatal.take() else { break };
            if matches!(stopped_at.kind, node_de::DecodeErrorKind::MissingKey { .. } | node_de::DecodeErrorKind::AlreadyReported)
                || !remove_value_at(&mut pruned, stopped_at.position)
            {
                break;
            }
            let (retried, more) = node_de::decode_recovering::<T>(&pruned);
            if retried.is_none() && more.last().is_some_and(|error| matches!(error.kind, node_de::DecodeErrorKind::MissingKey { .. })) {
                break;
            }
            fatal = more.last().cloned().filter(|_| retried.is_none());
            for error in more {
                if !errors.iter().any(|known| known.position == error.position && known.message() == error.message()) {
                    errors.push(error);
                }
            }
            value = retried;
        }
        // serde names the first missing key of a mapping; the schema names the others.
        let missing_keys = match errors.iter().any(|error| matches!(error.kind, node_de::DecodeErrorKind::MissingKey { .. })) {
            true => node_de::missing_keys::<T>(node),
            false => Vec::new(),
        };
        // serde and the schema may name the mapping differently: one key missing at one place
        // is one error, named as the schema names it ("a suspend action", where serde, reading
        // a name-or-mapping form, says "a step section").
        let key_of = |error: &node_de::DecodeError| match &error.kind {
            node_de::DecodeErrorKind::MissingKey { key, .. } => Some((error.position, key.clone())),
            _ => None,
        };
        errors.retain(|error| key_of(error).is_none() || !missing_keys.iter().any(|missing| key_of(missing) == key_of(error)));
        self.report_decode_errors(errors);
        self.report_decode_errors_once(missing_keys);
        value
    }

    /// Reports diagnostics found before decoding began (those the parse read past).
    pub fn report_all(&mut self, diagnostics: Vec<Diagnostic>) {
        diagnostics.into_iter().for_each(|diagnostic| self.report(diagnostic));
    }

    /// Names and titles end up in terminals, CSV files and XML: a control character there (an
    /// escape sequence, a bell) would act instead of being read. Returns whether the text is clean.
    pub fn refuse_control_characters(&mut self, text: &Located<String>, what: &str) -> bool {
        let Some(bad) = text.value.chars().find(|c| c.is_control()) else { return true };
        // Text with a control character is reported as the file is read (`yaml::parse`); a
        // line break or a tab, which that allows, is no part of a name either.
        if matches!(bad, '\n' | '\t') {
            self.error_at(text, format!("{what} contains the control character U+{:04X}", u32::from(bad)), "printable text on one line");
        }
        false
    }

    /// Reports the errors of a second decoding of a part of the file, leaving out those the
    /// first one reported.
    pub fn report_decode_errors_once(&mut self, errors: Vec<node_de::DecodeError>) {
        let new: Vec<node_de::DecodeError> = errors
            .into_iter()
            .filter(|error| !self.diagnostics.0.iter().any(|reported| reported.position == error.position && reported.message == error.message()))
            .collect();
        self.report_decode_errors(new);
    }

    fn report_decode_errors(&mut self, errors: Vec<node_de::DecodeError>) {
        for error in errors.into_iter().filter(|e| e.kind != crate::scenario::node_de::DecodeErrorKind::AlreadyReported) {
            let mut diagnostic = Diagnostic::new(self.file, error.position, error.message()).width(error.width as usize);
            if let Some(expected) = error.expected() {
                diagnostic = diagnostic.expected(expected);
            }
            diagnostic = diagnostic.suggest(error.suggestion());
            self.report(diagnostic);
        }
    }

    /// Where the first name a message quotes (`like this`) stands in the source, at or after
    /// `from`.
    fn find_named(&self, message: &str, from: Position) -> Option<(Position, usize)> {
        let name = message.split('`').nth(1).filter(|name| !name.is_empty())?;
        self.source.lines().enumerate().skip(from.line.saturating_sub(1) as usize).find_map(|(index, line)| {
            let byte = line.find(name)?;
            Some((Position::new(index as u32 + 1, line[..byte].chars().count() as u32 + 1), name.chars().count()))
        })
    }

    /// Applies parameter values to a policy, reporting unknown names and bad values; returns
    /// the values that applied, so that they can be applied again to another base policy.
    pub fn apply_parameters<'p>(
        &mut self,
        policy: &mut Policy,
        parameters: impl IntoIterator<Item = (&'p Located<String>, &'p Located<ParameterNode>)>,
    ) -> Vec<(String, ParameterValue)> {
        let mut applied = Vec::new();
        for (name, value) in parameters {
            match Policy::parameter(&name.value) {
                Err(near) => {
                    let diagnostic = Diagnostic::new(self.file, name.position, format!("unknown policy parameter `{}`", name.value))
                        .expected("a parameter listed by `cspsim policies`")
                        .suggest(near)
                        .width(name.width as usize);
                    self.report(diagnostic);
                }
                Ok(parameter) => {
                    let parsed = parameter_value(&value.value);
                    match parameter.apply_to(policy, &parsed) {
                        Ok(()) => applied.push((parameter.name.to_string(), parsed)),
                        Err(message) => {
                            // In a mapping value (the role matrix) the message names the bad
                            // entry: point at it rather than at the mapping's first line.
                            let (position, width) = match &value.value {
                                ParameterNode::Map(_) => self.find_named(&message, value.position).unwrap_or((value.position, value.width as usize)),
                                _ => (value.position, value.width as usize),
                            };
                            let diagnostic = Diagnostic::new(self.file, position, format!("bad value for `{}`: {message}", parameter.name))
                                .expected(parameter.expected)
                                .width(width);
                            self.report(diagnostic);
                        }
                    }
                }
            }
        }
        applied
    }

    pub fn finish<T>(self, value: Option<T>) -> Result<T, Diagnostics> {
        match value {
            Some(value) if self.diagnostics.is_empty() => Ok(value),
            _ => Err(self.diagnostics.finish()),
        }
    }
}

pub fn parameter_value(node: &ParameterNode) -> ParameterValue {
    match node {
        ParameterNode::Text(text) => ParameterValue::Text(text.clone()),
        ParameterNode::List(items) => ParameterValue::List(items.clone()),
        ParameterNode::Map(entries) => ParameterValue::Map(entries.iter().map(|(k, v)| (k.clone(), parameter_value(v))).collect()),
    }
}

/// How many bad optional values one decoding steps over.
const MAX_DECODE_RETRIES: usize = 32;

/// Removes the mapping entry or list item whose value stands at `position` (never the root).
fn remove_value_at(node: &mut Node, position: crate::scenario::diagnostic::Position) -> bool {
    match &mut node.value {
        NodeValue::Mapping(entries) => {
            if let Some(index) = entries.iter().position(|(_, value)| value.position == position) {
                entries.remove(index);
                return true;
            }
            entries.iter_mut().any(|(_, value)| remove_value_at(value, position))
        }
        NodeValue::Sequence(items) => {
            if let Some(index) = items.iter().position(|item| item.position == position) {
                items.remove(index);
                return true;
            }
            items.iter_mut().any(|item| remove_value_at(item, position))
        }
        _ => false,
    }
}

/// A copy of a mapping `node` with one more entry, `key: value` (placed at the mapping).
pub fn with_key(node: &Node, key: &str, value: NodeValue) -> Node {
    let mut copy = node.clone();
    if let NodeValue::Mapping(entries) = &mut copy.value {
        let at = |value: NodeValue| Node { value, position: node.position, spelling: String::new() };
        entries.push((at(NodeValue::Text(key.to_string())), at(value)));
    }
    copy
}

/// A copy of a mapping node with the values of some present keys replaced, so that the rest
/// can be decoded on its own while those parts are decoded piece by piece.
pub fn with_placeholders(node: &Node, replacements: &[(&str, NodeValue)]) -> Node {
    let mut copy = node.clone();
    if let NodeValue::Mapping(entries) = &mut copy.value {
        for (key, value) in entries.iter_mut() {
            if let Some((_, replacement)) = replacements.iter().find(|(name, _)| key.scalar_text() == Some(name)) {
                value.value = replacement.clone();
            }
        }
    }
    copy
}
