//! Input errors a person can act on: file, line, column, the offending line, what was
//! expected and the nearest valid name.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// A position in a source file, 1-based. Line 0 means "no position" (e.g. an unreadable
/// file).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Position {
    pub line: u32,
    pub column: u32,
}

impl Position {
    pub const NONE: Position = Position { line: 0, column: 0 };

    pub fn new(line: u32, column: u32) -> Self {
        Position { line, column }
    }
    pub fn is_known(self) -> bool {
        self.line > 0
    }
}

/// One input error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub file: PathBuf,
    pub position: Position,
    /// What is wrong, in a sentence.
    pub message: String,
    /// What was expected there.
    pub expected: Option<String>,
    /// The nearest valid name, for a misspelling.
    pub suggestion: Option<String>,
    /// The text of the offending line, when the file could be read.
    pub source_line: Option<String>,
    /// How many characters the caret underline covers.
    pub width: u32,
}

impl Diagnostic {
    pub fn new(file: &Path, position: Position, message: impl Into<String>) -> Self {
        Diagnostic { file: file.to_path_buf(), position, message: message.into(), expected: None, suggestion: None, source_line: None, width: 1 }
    }

    pub fn expected(mut self, expected: impl Into<String>) -> Self {
        self.expected = Some(expected.into());
        self
    }

    pub fn suggest(mut self, suggestion: Option<impl Into<String>>) -> Self {
        self.suggestion = suggestion.map(Into::into);
        self
    }

    pub fn width(mut self, width: usize) -> Self {
        self.width = u32::try_from(width.max(1)).unwrap_or(1);
        self
    }

    /// Fills in the offending line from the file's text.
    pub fn with_source(self, source: &str) -> Self {
        self.with_line_of(&SourceLines::new(source))
    }

    /// [`Diagnostic::with_source`] for a file with many diagnostics: the lines are indexed once.
    pub fn with_line_of(mut self, source: &SourceLines) -> Self {
        if self.position.is_known() && self.source_line.is_none() {
            self.source_line = source.line(self.position.line).map(sanitize_line);
        }
        self
    }

    /// `file:line:column`, or just the file when there is no position.
    pub fn location(&self) -> String {
        let file = display_path(&self.file);
        if self.position.is_known() { format!("{file}:{}:{}", self.position.line, self.position.column) } else { file }
    }

    /// The rustc-like rendering shown to users:
    ///
    /// ```text
    /// error: unknown key `custmer` in a buy step
    ///   --> scenarios/x.yaml:12:7
    ///    |
    /// 12 |       custmer: wingtip
    ///    |       ^^^^^^^ expected one of: customer, items
    ///    = help: did you mean `customer`?
    /// ```
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Quoted names, paths and values come from the input: a control character in them
        // (an escape sequence that clears the screen) is shown, never sent to the terminal.
        let printable = |text: &str| -> String { text.chars().map(|c| if c.is_control() { '\u{fffd}' } else { c }).collect() };
        let shorten = |text: &str| printable(&shorten(text));
        let _ = writeln!(out, "error: {}", shorten(&self.message));
        let gutter = if self.position.is_known() { self.position.line.to_string().len() } else { 1 };
        let pad = " ".repeat(gutter);
        let _ = writeln!(out, "{pad}--> {}", printable(&self.location()));
        if let Some(line) = &self.source_line {
            let _ = writeln!(out, "{pad} |");
            // A long line is shown as a window around the column, so the caret stays on screen.
            let column = self.position.column.max(1) as usize;
            let (line, column) = window(line, column);
            let _ = writeln!(out, "{} | {}", self.position.line, line);
            let caret_pad: String = line.chars().take(column - 1).map(|c| if c == '\t' { '\t' } else { ' ' }).collect();
            // The carets end where the shown window does.
            let shown = line.chars().count().saturating_sub(column - 1).max(1);
            let carets = "^".repeat((self.width as usize).min(shown));
            match &self.expected {
                Some(expected) => {
                    let _ = writeln!(out, "{pad} | {caret_pad}{carets} expected {}", shorten(expected));
                }
                None => {
                    let _ = writeln!(out, "{pad} | {caret_pad}{carets}");
                }
            }
        } else if let Some(expected) = &self.expected {
            let _ = writeln!(out, "{pad} = expected {}", shorten(expected));
        }
        if let Some(suggestion) = &self.suggestion {
            let _ = writeln!(out, "{pad} = help: {}", shorten(&format!("did you mean `{suggestion}`?")));
        }
        out
    }
}

/// A message as shown: a name quoted in it that is absurdly long (a pasted blob, a generated
/// key) is cut to its start and its length, and the whole text to a screenful, so that one
/// mistake cannot flood the terminal.
fn shorten(text: &str) -> std::borrow::Cow<'_, str> {
    const LONGEST_NAME: usize = 80;
    const LONGEST_TEXT: usize = 1_000;
    if text.len() <= LONGEST_NAME {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut shortened = String::new();
    for (index, part) in text.split('`').enumerate() {
        if index > 0 {
            shortened.push('`');
        }
        let count = part.chars().count();
        if index % 2 == 1 && count > LONGEST_NAME {
            let start: String = part.chars().take(40).collect();
            let _ = write!(shortened, "{start}...({count} characters)");
        } else {
            shortened.push_str(part);
        }
    }
    if shortened.chars().count() > LONGEST_TEXT {
        let cut: String = shortened.chars().take(LONGEST_TEXT).collect();
        shortened = format!("{cut}... (cut)");
    }
    std::borrow::Cow::Owned(shortened)
}

/// A source text with the start of each line indexed, so that showing the line of each of
/// many diagnostics does not scan the file from the top each time.
pub struct SourceLines<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> SourceLines<'a> {
    pub fn new(text: &'a str) -> Self {
        let starts = std::iter::once(0).chain(text.match_indices('\n').map(|(index, _)| index + 1)).collect();
        SourceLines { text, starts }
    }

    /// Line `number` (from 1) without its line ending, as `str::lines` gives it.
    pub fn line(&self, number: u32) -> Option<&'a str> {
        let index = usize::try_from(number).ok()?.checked_sub(1)?;
        let start = *self.starts.get(index)?;
        let end = self.starts.get(index + 1).map_or(self.text.len(), |next| next - 1);
        if start >= self.text.len() {
            return None;
        }
        let line = &self.text[start..end];
        // As `str::lines`: a carriage return ends a line only before a line feed.
        Some(if end < self.text.len() { line.strip_suffix('\r').unwrap_or(line) } else { line })
    }
}

/// Control characters (binary input) are replaced so they cannot disturb a terminal; a
/// pathological line is capped before `window` cuts it to size.
fn sanitize_line(line: &str) -> String {
    line.chars().take(100_000).map(|c| if c.is_control() && c != '\t' { '\u{fffd}' } else { c }).collect()
}

/// At most 100 characters of `line` around `column`, with `...` where it was cut, and the
/// column within the shown text.
fn window(line: &str, column: usize) -> (String, usize) {
    const WIDTH: usize = 100;
    let characters: Vec<char> = line.chars().collect();
    if characters.len() <= WIDTH {
        return (line.to_string(), column);
    }
    let start = column.saturating_sub(WIDTH / 2).min(characters.len().saturating_sub(WIDTH));
    let end = (start + WIDTH).min(characters.len());
    let mut shown: String = characters[start..end].iter().collect();
    let mut column = column - start;
    if start > 0 {
        shown.insert_str(0, "...");
        column += 3;
    }
    if end < characters.len() {
        shown.push_str("...");
    }
    (shown, column)
}

/// Paths are shown with `/` whatever the platform, so messages and snapshots are stable.
/// A path as a person reads it: `/` separators, and `folder/..` steps taken out
/// (`scenarios/billing/../catalogs/x.yaml` is shown as `scenarios/catalogs/x.yaml`). Only for
/// showing; files are opened by the path as given.
pub fn display_path(path: &Path) -> String {
    use std::path::Component;
    let mut parts: Vec<Component> = Vec::new();
    for component in path.components() {
        match component {
            Component::CurDir if !parts.is_empty() => {}
            Component::ParentDir if matches!(parts.last(), Some(Component::Normal(_))) => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    let shown: std::path::PathBuf = parts.iter().collect();
    shown.to_string_lossy().replace('\\', "/")
}

/// Every error of one file (or several), in file and position order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.0.push(diagnostic);
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn extend(&mut self, other: Diagnostics) {
        self.0.extend(other.0);
    }
    /// Sorted by file and position, duplicates removed.
    pub fn finish(mut self) -> Self {
        self.0.sort_by(|a, b| (&a.file, a.position).cmp(&(&b.file, b.position)));
        self.0.dedup();
        self
    }
    pub fn render(&self) -> String {
        // A file with thousands of mistakes is one mistake repeated: show enough to fix it.
        const SHOWN: usize = 50;
        let mut out: String = self.0.iter().take(SHOWN).map(|d| d.render() + "\n").collect();
        let count = self.0.len();
        if count > SHOWN {
            let _ = writeln!(out, "... and {} more errors not shown\n", count - SHOWN);
        }
        let _ = writeln!(out, "{count} error{} in input", if count == 1 { "" } else { "s" });
        out
    }
}

impl std::fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.render())
    }
}

impl std::error::Error for Diagnostics {}

#[cfg(test)]
mod tests {
    use super::SourceLines;
    use proptest::prelude::*;

    proptest! {
        /// The index finds the same lines as `str::lines`, which it replaces for speed.
        #[test]
        fn indexed_lines_are_the_lines_of_the_text(text in "[ab\r\n]{0,12}") {
            let expected: Vec<&str> = text.lines().collect();
            let index = SourceLines::new(&text);
            for (number, line) in expected.iter().enumerate() {
                prop_assert_eq!(index.line(number as u32 + 1), Some(*line));
            }
            prop_assert_eq!(index.line(expected.len() as u32 + 1), None);
            prop_assert_eq!(index.line(0), None);
        }
    }
}
