//! Reading an input file: the bytes, the text, the YAML tree, each failure as a diagnostic.

use std::path::Path;

use crate::scenario::diagnostic::{Diagnostic, Diagnostics, Position};
use crate::scenario::yaml::{self, Node, NodeValue};

/// Reads a file as UTF-8 text (a BOM is dropped). Not found, unreadable, too large or not
/// text: a diagnostic naming the file.
pub fn read_text(path: &Path) -> Result<String, Diagnostics> {
    read_text_once(path).map_err(|d| Diagnostics(vec![d]))
}

#[allow(clippy::result_large_err)] // built once per bad file, then collected into Diagnostics
fn read_text_once(path: &Path) -> Result<String, Diagnostic> {
    let fail = |message: String, expected: &str| Diagnostic::new(path, Position::NONE, message).expected(expected);
    let metadata = std::fs::metadata(path).map_err(|error| fail(io_message(&error), "a readable YAML file"))?;
    if metadata.is_dir() {
        return Err(fail("this is a folder, not a file".into(), "a YAML file"));
    }
    // Devices and pipes (/dev/zero, /dev/stdin) could be read forever.
    if !metadata.is_file() {
        return Err(fail("this is not a regular file".into(), "a YAML file"));
    }
    if metadata.len() > yaml::MAX_FILE_BYTES as u64 {
        return Err(fail(format!("the file is {} bytes; the limit is {}", metadata.len(), yaml::MAX_FILE_BYTES), "a hand-written YAML file"));
    }
    let bytes = std::fs::read(path).map_err(|error| fail(io_message(&error), "a readable YAML file"))?;
    decode_utf8(path, bytes)
}

pub fn text_from_bytes(path: &Path, bytes: Vec<u8>) -> Result<String, Diagnostics> {
    decode_utf8(path, bytes).map_err(|d| Diagnostics(vec![d]))
}

#[allow(clippy::result_large_err)] // built once per bad file, then collected into Diagnostics
fn decode_utf8(path: &Path, bytes: Vec<u8>) -> Result<String, Diagnostic> {
    let bytes = match bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        Some(rest) => rest.to_vec(),
        None => bytes,
    };
    if bytes.starts_with(&[0xFF, 0xFE, 0, 0]) || bytes.starts_with(&[0, 0, 0xFE, 0xFF]) {
        return Err(Diagnostic::new(path, Position::NONE, "the file is UTF-32 text").expected("UTF-8 text (save the file as UTF-8)"));
    }
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err(Diagnostic::new(path, Position::NONE, "the file is UTF-16 text").expected("UTF-8 text (save the file as UTF-8)"));
    }
    String::from_utf8(bytes).map_err(|error| {
        let offset = error.utf8_error().valid_up_to();
        let text = String::from_utf8_lossy(error.as_bytes());
        let prefix = &text[..offset.min(text.len())];
        let line = prefix.matches('\n').count() + 1;
        let column = prefix.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        Diagnostic::new(path, Position::new(line as u32, column as u32), format!("the file is not UTF-8 text (invalid byte at offset {offset})"))
            .expected("a YAML text file")
    })
}

fn io_message(error: &std::io::Error) -> String {
    match error.kind() {
        std::io::ErrorKind::NotFound => "no such file".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied: the file cannot be read".to_string(),
        _ => format!("cannot read the file: {error}"),
    }
}

/// Parses text into a YAML tree whose root must be a mapping (`what` names the document kind
/// for messages: "a scenario"). The tree comes with the mistakes that did not stop the parse
/// (see [`yaml::parse_with_findings`]), for the caller to report with its own.
pub fn parse_mapping(path: &Path, text: &str, what: &str, keys: &str) -> Result<(Node, Vec<Diagnostic>), Diagnostics> {
    parse_mapping_once(path, text, what, keys).map_err(|d| Diagnostics(vec![d]))
}

fn located(path: &Path, text: &str, error: yaml::YamlError) -> Diagnostic {
    let diagnostic = Diagnostic::new(path, error.position, error.message).width(error.width);
    let diagnostic = match error.expected {
        Some(expected) => diagnostic.expected(expected),
        None => diagnostic,
    };
    diagnostic.with_source(text)
}

#[allow(clippy::result_large_err)] // built once per bad file, then collected into Diagnostics
fn parse_mapping_once(path: &Path, text: &str, what: &str, keys: &str) -> Result<(Node, Vec<Diagnostic>), Diagnostic> {
    let (node, findings) = yaml::parse_with_findings(text).map_err(|error| located(path, text, error))?;
    let findings = findings.into_iter().map(|error| located(path, text, error)).collect();
    match &node.value {
        NodeValue::Mapping(_) => Ok((node, findings)),
        NodeValue::Null => {
            let message = if text.trim().is_empty() { "the file is empty" } else { "the file holds no value: only comments, blank lines or a null" };
            Err(Diagnostic::new(path, Position::new(1, 1), message).expected(format!("{what}: a mapping with {keys}")))
        }
        _ => Err(Diagnostic::new(path, node.position, format!("found {} at the top of the file", node.describe()))
            .expected(format!("{what}: a mapping with {keys}"))
            .with_source(text)),
    }
}
