//! Fuzzing the loader and the engine (a proptest stand-in for cargo-fuzz that runs in CI):
//! arbitrary bytes and random mutations of the bundled scenarios must never panic or hang;
//! they load and run, or they are refused with located messages. No case has a time limit
//! (a timed test fails on a slow machine): hangs are ruled out by the event limit every run
//! gets, and a hang would still stop CI at its own time limit.

use std::path::{Path, PathBuf};

use cspsim::engine::Limits;
use cspsim::outcome::record_scenario;
use cspsim::scenario::load::{LoadOptions, load_scenario_text};
use cspsim::scenario::source::text_from_bytes;
use proptest::prelude::*;

/// Every bundled scenario file with its bytes, read once for all cases.
fn bundled() -> &'static [(PathBuf, Vec<u8>)] {
    static BUNDLED: std::sync::LazyLock<Vec<(PathBuf, Vec<u8>)>> = std::sync::LazyLock::new(read_bundled);
    &BUNDLED
}

fn read_bundled() -> Vec<(PathBuf, Vec<u8>)> {
    let mut files = Vec::new();
    let mut folders = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios")];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
            } else if path.extension().is_some_and(|e| e == "yaml") {
                files.push(path);
            }
        }
    }
    files.sort();
    files.into_iter().map(|path| (path.clone(), std::fs::read(path).unwrap())).collect()
}

/// Loads and runs whatever the bytes are; panics only on a bug.
fn exercise(path: &Path, bytes: Vec<u8>) {
    let text = match text_from_bytes(path, bytes) {
        Ok(text) => text,
        Err(diagnostics) => {
            assert!(!diagnostics.is_empty());
            return;
        }
    };
    match load_scenario_text(path, "fuzzed.yaml", &text, &LoadOptions::default()) {
        Ok(loaded) => {
            let limits = Limits { max_events: 200_000 };
            // Ok or a reported engine error (too many events, overflow): never a panic.
            let _ = record_scenario(&loaded, limits);
        }
        Err(diagnostics) => {
            assert!(!diagnostics.is_empty(), "a refusal always says why");
            for diagnostic in &diagnostics.0 {
                assert!(!diagnostic.message.is_empty());
                assert_eq!(diagnostic.file.file_name(), path.file_name().or(diagnostic.file.file_name()));
            }
        }
    }
}

#[derive(Clone, Debug)]
enum Mutation {
    Delete { at: usize, length: usize },
    Insert { at: usize, text: &'static str },
    DuplicateLine { line: usize },
    SwapLines { first: usize, second: usize },
    BigNumber { at: usize, number: &'static str },
    FlipByte { at: usize, byte: u8 },
}

const FRAGMENTS: &[&str] = &[
    ":",
    ": ",
    "- ",
    "[",
    "]",
    "{",
    "}",
    "&a ",
    "*a",
    "\n",
    "  ",
    "~",
    "!!binary ",
    "\t",
    "\"",
    "'",
    "#",
    ",",
    "? ",
    "|",
    ">",
    "<<: *a",
    "2021-02-30",
    "9999-12-31",
    "sub-9999",
    "-1",
    "0",
    "1e400",
    ".nan",
    "null",
    "\u{feff}",
    "\u{0}",
    "é",
    "+99999d",
    "at: +1d\n",
    "    expect: { rejected: NOPE }\n",
    "  - by: nobody\n",
    "until: 8999-12-31\n",
];

const NUMBERS: &[&str] =
    &["0", "-1", "99999999999999999999", "9223372036854775807", "1000000000", "0.001", "-0.5", "1e3", "340282366920938463463374607431768211456"];

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 1..60_usize).prop_map(|(at, length)| Mutation::Delete { at, length }),
        (any::<usize>(), proptest::sample::select(FRAGMENTS)).prop_map(|(at, text)| Mutation::Insert { at, text }),
        any::<usize>().prop_map(|line| Mutation::DuplicateLine { line }),
        (any::<usize>(), any::<usize>()).prop_map(|(first, second)| Mutation::SwapLines { first, second }),
        (any::<usize>(), proptest::sample::select(NUMBERS)).prop_map(|(at, number)| Mutation::BigNumber { at, number }),
        (any::<usize>(), any::<u8>()).prop_map(|(at, byte)| Mutation::FlipByte { at, byte }),
    ]
}

fn apply(bytes: &mut Vec<u8>, mutation: &Mutation) {
    let length = bytes.len().max(1);
    match mutation {
        Mutation::Delete { at, length: count } => {
            let start = at % length;
            let end = (start + count).min(bytes.len());
            if start < end {
                bytes.drain(start..end);
            }
        }
        Mutation::Insert { at, text } => {
            let at = (at % length).min(bytes.len());
            bytes.splice(at..at, text.bytes());
        }
        Mutation::DuplicateLine { line } | Mutation::SwapLines { first: line, .. } if bytes.is_empty() => {
            let _ = line;
        }
        Mutation::DuplicateLine { line } => {
            let mut lines: Vec<Vec<u8>> = bytes.split(|b| *b == b'\n').map(<[u8]>::to_vec).collect();
            let index = line % lines.len();
            lines.insert(index, lines[index].clone());
            *bytes = lines.join(&b'\n');
        }
        Mutation::SwapLines { first, second } => {
            let mut lines: Vec<Vec<u8>> = bytes.split(|b| *b == b'\n').map(<[u8]>::to_vec).collect();
            let count = lines.len();
            lines.swap(first % count, second % count);
            *bytes = lines.join(&b'\n');
        }
        Mutation::BigNumber { at, number } => {
            let start = at % length;
            if let Some(offset) = bytes.iter().skip(start).position(u8::is_ascii_digit) {
                let begin = start + offset;
                let end = bytes[begin..].iter().position(|b| !b.is_ascii_digit()).map_or(bytes.len(), |p| begin + p);
                bytes.splice(begin..end, number.bytes());
            }
        }
        Mutation::FlipByte { at, byte } => {
            if !bytes.is_empty() {
                let index = at % bytes.len();
                bytes[index] = *byte;
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/fuzzed.yaml");
        exercise(&path, bytes);
    }

    #[test]
    fn mutated_scenarios_never_panic(file in any::<proptest::sample::Index>(), mutations in proptest::collection::vec(mutation(), 1..6)) {
        let files = bundled();
        let (path, original) = &files[file.index(files.len())];
        let mut bytes = original.clone();
        for mutation in &mutations {
            apply(&mut bytes, mutation);
        }
        exercise(path, bytes);
    }
}
