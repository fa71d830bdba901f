//! "Did you mean ...?": the nearest valid name for a misspelling.

/// The candidate closest to `input` by edit distance, if it is close enough to be a likely
/// typo (at most a third of the longer name, and at least one character in common).
pub fn nearest<'a>(input: &str, candidates: impl IntoIterator<Item = &'a str> + Clone) -> Option<&'a str> {
    by_spelling(input, candidates.clone()).or_else(|| by_part(input, candidates))
}

/// The one candidate that the input is the start of, or a whole part of (`deletion` for
/// `deletion_date`, `renew` for `auto_renew`): a name remembered by half.
fn by_part<'a>(input: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lowered = input.to_ascii_lowercase();
    if lowered.chars().count() < 3 {
        return None;
    }
    let mut matching = candidates.into_iter().filter(|candidate| {
        let candidate = candidate.to_ascii_lowercase();
        candidate != lowered && (candidate.starts_with(&lowered) || candidate.split(['_', '-']).any(|part| part == lowered))
    });
    let first = matching.next()?;
    matching.next().is_none().then_some(first)
}

fn by_spelling<'a>(input: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
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

    #[test]
    fn finds_a_name_remembered_by_half() {
        let fields = ["deletion_date", "auto_renew", "trial_end", "term_start", "term_end"];
        assert_eq!(nearest("deletion", fields), Some("deletion_date"));
        assert_eq!(nearest("renew", fields), Some("auto_renew"));
        assert_eq!(nearest("term", fields), None, "two fields start with it");
        assert_eq!(nearest("de", fields), None, "too short to say");
    }
}
