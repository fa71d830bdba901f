//! "Did you mean ...?": the nearest valid name for a misspelling.

/// The candidate closest to `input` by edit distance, if it is close enough to be a likely
/// typo (at most a third of the longer name, and at least one character in common).
pub fn nearest<'a>(input: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lowered = input.to_ascii_lowercase();
    let mut best: Option<(usize, &'a str)> = None;
    for candidate in candidates {
        if candidate == input {
            continue;
        }
        let distance = strsim::damerau_levenshtein(&lowered, &candidate.to_ascii_lowercase());
        let limit = (input.chars().count().max(candidate.chars().count()) / 3).max(1);
        let close_enough = distance <= limit && distance < candidate.chars().count();
        if close_enough && best.is_none_or(|(best_distance, _)| distance < best_distance) {
            best = Some((distance, candidate));
        }
    }
    best.map(|(_, candidate)| candidate)
}

#[cfg(test)]
mod tests {
    use super::nearest;

    #[test]
    fn finds_typos_but_not_unrelated_names() {
        let keys = ["customer", "items", "cart"];
        assert_eq!(nearest("custmer", keys), Some("customer"));
        assert_eq!(nearest("Customer", keys), Some("customer"));
        assert_eq!(nearest("itmes", keys), Some("items"));
        assert_eq!(nearest("zebra", keys), None);
        assert_eq!(nearest("x", ["y"]), None);
    }
}
