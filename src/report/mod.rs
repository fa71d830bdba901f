//! Reports out: the CSV files of the format doc, JUnit XML, and writing any output file
//! all-or-nothing.

pub mod csv_reports;
pub mod junit;

use std::collections::BTreeSet;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The temporary files of outputs not yet in place (and scratch folders), so that an
/// interrupted run can remove them (see [`remove_unfinished_outputs_then`]).
static UNFINISHED: Mutex<BTreeSet<PathBuf>> = Mutex::new(BTreeSet::new());

/// Held while a set of outputs is renamed into place: an interruption waits for the set to be
/// complete rather than leave some files old and some new.
static COMMITTING: Mutex<()> = Mutex::new(());

/// One temporary file in [`UNFINISHED`], until it is renamed into place or dropped.
struct Unfinished(PathBuf);

/// A new empty file named `.cspsim-*.tmp` in `folder` (ignored by git and by the suite walk).
fn temporary_in(folder: &Path) -> std::io::Result<tempfile::NamedTempFile> {
    tempfile::Builder::new().prefix(".cspsim-").suffix(".tmp").tempfile_in(folder)
}

/// The folder a file of `path` is in: `.` for a bare file name.
fn folder_of(path: &Path) -> &Path {
    path.parent().filter(|parent| !parent.as_os_str().is_empty()).unwrap_or(Path::new("."))
}

fn unfinished_list() -> std::sync::MutexGuard<'static, BTreeSet<PathBuf>> {
    UNFINISHED.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Unfinished {
    fn listed(list: &mut BTreeSet<PathBuf>, path: &Path) -> Unfinished {
        list.insert(path.to_path_buf());
        Unfinished(path.to_path_buf())
    }

    /// Creates the temporary file while holding the list, so that no file exists on disk
    /// without being in it (an interruption between the two would leave it behind).
    fn create_in(folder: &Path) -> std::io::Result<(tempfile::NamedTempFile, Unfinished)> {
        let mut list = unfinished_list();
        let temporary = temporary_in(folder)?;
        let unfinished = Unfinished::listed(&mut list, temporary.path());
        Ok((temporary, unfinished))
    }
}

impl Drop for Unfinished {
    fn drop(&mut self) {
        unfinished_list().remove(&self.0);
    }
}

/// For the interrupt handler (Ctrl-C, SIGTERM): lets a set of outputs being put in place
/// finish, removes every temporary file still unfinished, and ends the process with `exit`
/// while still holding the list, so that no thread starts another file in between. An
/// interrupted run leaves neither a truncated file nor a `.cspsim-*.tmp` behind.
pub fn remove_unfinished_outputs_then(exit: impl FnOnce() -> std::convert::Infallible) -> std::convert::Infallible {
    let _committing = COMMITTING.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let unfinished = unfinished_list();
    for path in unfinished.iter() {
        let _ = if path.is_dir() { remove_folder_being_written(path) } else { std::fs::remove_file(path) };
    }
    exit()
}

/// Other threads may still be writing into a scratch folder: removing it file by file would
/// race with them (a file created behind the removal leaves the folder in place). Renamed
/// away first, it takes no new files, as they are created under the old name.
fn remove_folder_being_written(folder: &Path) -> std::io::Result<()> {
    let mut doomed = folder.as_os_str().to_os_string();
    doomed.push(".removing");
    let doomed = PathBuf::from(doomed);
    match std::fs::rename(folder, &doomed) {
        Ok(()) => std::fs::remove_dir_all(&doomed),
        Err(_) => std::fs::remove_dir_all(folder),
    }
}

/// Creates a folder and its parents while holding the list of unfinished outputs: an
/// interruption, which removes them holding the list until the process ends, cannot have a
/// folder made again behind its back (a scratch folder recreated by a late `create_dir_all`).
/// An empty path is the working folder, which exists.
pub fn create_folder(folder: &Path) -> std::io::Result<()> {
    if folder.as_os_str().is_empty() {
        return Ok(());
    }
    let _list = unfinished_list();
    std::fs::create_dir_all(folder)
}

/// Copies a file into a scratch folder, held like [`create_folder`].
pub fn copy_into_scratch(from: &Path, to: &Path) -> std::io::Result<u64> {
    let _list = unfinished_list();
    std::fs::copy(from, to)
}

/// Keeps a scratch folder (`bench`'s copies of the suite) on the list an interruption removes,
/// for as long as the returned guard lives.
pub fn remove_on_interrupt(folder: &Path) -> impl Drop {
    Unfinished::listed(&mut unfinished_list(), folder)
}

/// A file being written in the folder of its final name, renamed into place when complete, so
/// that an interrupted run never leaves a truncated file under the final name.
///
/// Two kinds of target are not replaced: a symbolic link keeps pointing where it did (the
/// file it points to is replaced), and a target that is not a regular file (`/dev/stdout`, a
/// named pipe, a device) is written to directly, as there is nothing to keep whole.
pub struct AtomicFile {
    target: Target,
    /// [`AtomicFile::make_ready`] has run and nothing was written since: committing only renames.
    ready: bool,
    _unfinished: Option<Unfinished>,
}

enum Target {
    Replace { path: std::path::PathBuf, temporary: tempfile::NamedTempFile },
    Direct(std::fs::File),
}

impl AtomicFile {
    pub fn create(path: &Path) -> std::io::Result<AtomicFile> {
        if AtomicFile::writes_directly(path) {
            let file = std::fs::OpenOptions::new().write(true).open(path)?;
            return Ok(AtomicFile { target: Target::Direct(file), ready: false, _unfinished: None });
        }
        let path = if std::fs::symlink_metadata(path).is_ok_and(|meta| meta.file_type().is_symlink()) {
            std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
        } else {
            path.to_path_buf()
        };
        let (temporary, unfinished) = Unfinished::create_in(folder_of(&path))?;
        Ok(AtomicFile { target: Target::Replace { path, temporary }, ready: false, _unfinished: Some(unfinished) })
    }

    pub fn file(&mut self) -> &mut std::fs::File {
        self.ready = false;
        match &mut self.target {
            Target::Replace { temporary, .. } => temporary.as_file_mut(),
            Target::Direct(file) => file,
        }
    }

    /// Everything that can fail before the file takes its place: the bytes on disk, the
    /// permissions set. Done for every file of a set before any of them is committed, so that
    /// committing a set is only renames.
    pub fn make_ready(&mut self) -> std::io::Result<()> {
        self.ready = true;
        match &mut self.target {
            Target::Direct(file) => file.flush(),
            Target::Replace { temporary, .. } => {
                temporary.as_file_mut().flush()?;
                temporary.as_file().sync_all()?;
                // Temporary files are private (0600); reports are for everyone who can read
                // the folder.
                #[cfg(unix)]
                {
                    use std::os::unix::fs::PermissionsExt;
                    temporary.as_file().set_permissions(std::fs::Permissions::from_mode(0o644))?;
                }
                Ok(())
            }
        }
    }

    pub fn commit(mut self) -> std::io::Result<()> {
        if !self.ready {
            self.make_ready()?;
        }
        match self.target {
            Target::Replace { path, temporary } => temporary.persist(&path).map(|_| ()).map_err(|error| error.error),
            Target::Direct(_) => Ok(()),
        }
    }

    /// Whether `path` is written to directly rather than replaced: `/dev/stdout`, a pipe, a
    /// device.
    pub fn writes_directly(path: &Path) -> bool {
        std::fs::metadata(path).is_ok_and(|meta| !meta.is_file() && !meta.is_dir())
    }
}

/// Puts a set of staged files in place, all of them or none: each file a new one replaces is
/// first moved aside, so that when a later rename fails (a file of the set that another user
/// owns in a shared folder, an immutable file) the earlier ones are put back as they were.
/// The error names the file and says that nothing was replaced.
pub fn commit_all(mut files: Vec<AtomicFile>) -> std::io::Result<()> {
    let _committing = COMMITTING.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    for file in files.iter_mut().filter(|file| !file.ready) {
        file.make_ready()?;
    }
    let mut placed: Vec<(PathBuf, Option<tempfile::TempPath>)> = Vec::new();
    for file in files {
        let Target::Replace { path, temporary } = file.target else { continue };
        match put_in_place(&path, temporary) {
            Ok(old) => placed.push((path, old)),
            Err(error) => {
                for (path, old) in placed.into_iter().rev() {
                    match old {
                        // Should the old file not go back, its copy is kept rather than lost.
                        Some(old) => {
                            if std::fs::rename(&old, &path).is_err() {
                                let _ = old.keep();
                            }
                        }
                        None => {
                            let _ = std::fs::remove_file(&path);
                        }
                    }
                }
                let name = crate::scenario::diagnostic::display_path(&path);
                return Err(std::io::Error::new(error.kind(), format!("cannot put {name} in place ({error}); none of the files was replaced")));
            }
        }
    }
    // Every file is in place: the old ones kept aside go (their paths delete them on drop).
    Ok(())
}

/// Renames `temporary` to `path`, keeping the file already there under another name first;
/// returns that name. The old file is linked there rather than moved, so that `path` is
/// never missing for a reader; where a link cannot be made it is moved.
fn put_in_place(path: &Path, temporary: tempfile::NamedTempFile) -> std::io::Result<Option<tempfile::TempPath>> {
    let old = match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.is_dir() => {
            return Err(std::io::Error::new(std::io::ErrorKind::IsADirectory, "a folder is in its place"));
        }
        Ok(_) => {
            let aside = temporary_in(folder_of(path))?.into_temp_path();
            std::fs::remove_file(&aside)?;
            if std::fs::hard_link(path, &aside).is_err() {
                std::fs::rename(path, &aside)?;
            }
            Some(aside)
        }
        Err(_) => None,
    };
    match temporary.persist(path) {
        Ok(_) => Ok(old),
        Err(error) => {
            if let Some(old) = &old {
                let _ = std::fs::rename(old, path);
            }
            Err(error.error)
        }
    }
}

/// Writes a whole file atomically (see [`AtomicFile`]).
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    stage(path, bytes)?.commit()
}

/// A whole file written beside its place, to be committed with the other files of its set.
pub fn stage(path: &Path, bytes: &[u8]) -> std::io::Result<AtomicFile> {
    if path.is_dir() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::IsADirectory,
            format!("{} is a folder, not a file", crate::scenario::diagnostic::display_path(path)),
        ));
    }
    let mut file = AtomicFile::create(path)?;
    file.file().write_all(bytes)?;
    file.make_ready()?;
    Ok(file)
}

/// A CSV report written row by row (memory stays flat whatever the run's size) and put in
/// place atomically. Cells of text columns are neutralized (see [`neutralize`]).
pub struct CsvFile {
    writer: csv::Writer<std::io::BufWriter<AtomicFile>>,
    header: Vec<&'static str>,
    text: Vec<bool>,
}

impl std::io::Write for AtomicFile {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.file().write(bytes)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.file().flush()
    }
}

impl CsvFile {
    pub fn create(path: &Path, header: Vec<&'static str>, is_text: impl Fn(&str) -> bool) -> std::io::Result<CsvFile> {
        let file = AtomicFile::create(path)?;
        let mut writer = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(std::io::BufWriter::new(file));
        writer.write_record(&header)?;
        let text = header.iter().map(|column| is_text(column)).collect();
        Ok(CsvFile { writer, header, text })
    }

    pub fn write(&mut self, row: crate::outcome::Row) -> std::io::Result<()> {
        debug_assert!(row.0.iter().map(|(name, _)| *name).eq(self.header.iter().copied()), "a row has its report's columns");
        let cells = row.0.into_iter().zip(&self.text).map(|((_, cell), text)| if *text { neutralize(&cell) } else { cell });
        self.writer.write_record(cells)?;
        Ok(())
    }

    /// Every row written and flushed; the file is not yet in place.
    pub fn finish(self) -> std::io::Result<AtomicFile> {
        let buffered = self.writer.into_inner().map_err(|error| error.into_error())?;
        let mut file = buffered.into_inner().map_err(|error| error.into_error())?;
        file.make_ready()?;
        Ok(file)
    }

    pub fn commit(self) -> std::io::Result<()> {
        self.finish()?.commit()
    }
}

/// A CSV file in memory: a header row, RFC 4180 quoting, CRLF line ends. Cells of columns
/// for which `is_text` holds are neutralized (see [`neutralize`]); the others are numbers.
pub fn csv_bytes<H: AsRef<str>>(header: &[H], rows: &[Vec<String>], is_text: impl Fn(&str) -> bool) -> Vec<u8> {
    let names: Vec<String> = header.iter().map(|h| h.as_ref().to_string()).collect();
    let text: Vec<bool> = names.iter().map(|name| is_text(name)).collect();
    // Some column names come from the user (what-if columns are named after policies).
    let mut bytes = csv_records([names], &vec![true; text.len()]);
    bytes.extend(csv_records(rows.iter().cloned(), &text));
    bytes
}

/// CSV records without a header, quoted and neutralized as in [`csv_bytes`]: a part of a file
/// written piece by piece. `text[i]` says whether column `i` holds text.
pub fn csv_records(rows: impl IntoIterator<Item = Vec<String>>, text: &[bool]) -> Vec<u8> {
    let mut writer = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(Vec::new());
    for row in rows {
        let cells = row.into_iter().zip(text).map(|(cell, text)| if *text { neutralize(&cell) } else { cell });
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

    #[test]
    fn a_set_that_cannot_be_put_in_place_whole_leaves_every_file_as_it_was() {
        let folder = tempfile::tempdir().unwrap();
        let (first, second, third) = (folder.path().join("a.csv"), folder.path().join("b.csv"), folder.path().join("c.csv"));
        std::fs::write(&first, "old a").unwrap();
        let files = vec![stage(&first, b"new a").unwrap(), stage(&second, b"new b").unwrap(), stage(&third, b"new c").unwrap()];
        // After staging, something takes the third file's place that no file can replace.
        std::fs::create_dir(&third).unwrap();
        std::fs::write(third.join("keep"), "x").unwrap();
        let error = commit_all(files).unwrap_err().to_string();
        assert!(error.contains("c.csv") && error.contains("none of the files was replaced"), "{error}");
        assert_eq!(std::fs::read_to_string(&first).unwrap(), "old a", "the replaced file is put back");
        assert!(!second.exists(), "a file that was not there before is gone again");
        let left: Vec<String> = std::fs::read_dir(folder.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        assert_eq!(left.len(), 2, "no temporary file is left: {left:?}");
        // And a set that can be put in place is, its old files gone.
        let files = vec![stage(&first, b"new a").unwrap(), stage(&second, b"new b").unwrap()];
        commit_all(files).unwrap();
        assert_eq!(std::fs::read_to_string(&first).unwrap(), "new a");
        assert_eq!(std::fs::read_dir(folder.path()).unwrap().count(), 3, "a.csv, b.csv and the c.csv folder");
    }
}
