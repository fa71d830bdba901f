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

/// [`nearest`], or else the one candidate the input is the beginning of (`deletion` for
/// `deletion_date`, `us-gov` for `us-government`): a name remembered by half. Only for the names a message suggests, never
/// for deciding what a misspelt key stands in for.
pub fn nearest_or_completion<'a>(input: &str, candidates: impl IntoIterator<Item = &'a str> + Clone) -> Option<&'a str> {
    nearest(input, candidates.clone()).or_else(|| by_first_part(input, candidates))
}

fn by_first_part<'a>(input: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lowered = input.to_ascii_lowercase();
    if lowered.chars().count() < 3 {
        return None;
    }
    let mut matching = candidates.into_iter().filter(|candidate| {
        let candidate = candidate.to_ascii_lowercase();
        candidate.len() > lowered.len() && candidate.starts_with(&lowered)
    });
    let first = matching.next()?;
    matching.next().is_none().then_some(first)
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
    fn completes_a_name_remembered_by_its_first_part() {
        use super::nearest_or_completion;
        let fields = ["deletion_date", "auto_renew", "trial_end", "term_start", "term_end", "view_invoices"];
        assert_eq!(nearest_or_completion("deletion", fields), Some("deletion_date"));
        assert_eq!(nearest_or_completion("trial", fields), Some("trial_end"));
        assert_eq!(nearest_or_completion("us-gov", ["commercial", "us-government"]), Some("us-government"));
        assert_eq!(nearest_or_completion("edu", ["commercial", "education", "government", "nonprofit"]), Some("education"));
        assert_eq!(nearest_or_completion("renew", fields), None, "a later part is not enough");
        assert_eq!(nearest_or_completion("invoices", fields), None, "nor is an unrelated name's last part");
        assert_eq!(nearest_or_completion("term", fields), None, "two fields start with it");
        assert_eq!(nearest("deletion", fields), None, "decoding never takes a completion for a misspelling");
    }
}
