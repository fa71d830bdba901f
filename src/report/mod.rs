//! Reports out: the CSV files of the format doc, JUnit XML, and writing any output file
//! all-or-nothing.

pub mod csv_reports;
pub mod junit;

use std::io::Write as _;
use std::path::Path;

/// Writes a file through a temporary file in the same folder and a rename, so that an
/// interrupted run never leaves a truncated file under the final name.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let folder = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let mut temporary = tempfile::Builder::new().prefix(".cspsim-").suffix(".tmp").tempfile_in(folder)?;
    temporary.write_all(bytes)?;
    temporary.as_file().sync_all()?;
    temporary.persist(path).map_err(|error| error.error)?;
    Ok(())
}

/// A CSV file in memory: a header row, RFC 4180 quoting, CRLF line ends. Cells of columns
/// for which `is_text` holds are neutralized (see [`neutralize`]); the others are numbers.
pub fn csv_bytes<H: AsRef<str>>(header: &[H], rows: &[Vec<String>], is_text: impl Fn(&str) -> bool) -> Vec<u8> {
    let mut writer = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(Vec::new());
    writer.write_record(header.iter().map(|h| h.as_ref())).expect("writing to memory");
    let text: Vec<bool> = header.iter().map(|h| is_text(h.as_ref())).collect();
    for row in rows {
        let cells = row.iter().zip(&text).map(|(cell, text)| if *text { neutralize(cell) } else { cell.clone() });
        writer.write_record(cells).expect("writing to memory");
    }
    writer.into_inner().expect("writing to memory")
}

/// A text cell from user input, made safe for spreadsheets: a leading `=`, `+`, `-`, `@`,
/// tab or carriage return would start a formula, so such cells get a leading apostrophe.
/// Numeric columns are not passed through here, so negative amounts stay numbers.
pub fn neutralize(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{text}") } else { text.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_starts_are_neutralized() {
        assert_eq!(neutralize("=SUM(A1)"), "'=SUM(A1)");
        assert_eq!(neutralize("-1+2"), "'-1+2");
        assert_eq!(neutralize("@cmd"), "'@cmd");
        assert_eq!(neutralize("wingtip"), "wingtip");
    }

    #[test]
    fn atomic_writes_replace_whole_files() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("x.csv");
        write_atomically(&path, b"one").unwrap();
        write_atomically(&path, b"two").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "two");
        assert_eq!(std::fs::read_dir(folder.path()).unwrap().count(), 1);
    }
}
