//! Catalogs: decoded offer by offer (so every bad offer is reported), then checked as a
//! whole (unique ids, add-ons and trials that point at real offers) and turned into the
//! engine's [`Catalog`].

use std::collections::BTreeMap;
use std::path::Path;

use crate::engine::catalog::{
    BillingType, Catalog, Category, Country, Frequency, IsvTerms, Limit, LimitKind, MAX_TRIAL_DAYS, Offer, OfferId, Segment, Term, TrialSpec,
};
use crate::engine::money::Money;
use crate::scenario::builder::{Builder, with_placeholders};
use crate::scenario::countries;
use crate::scenario::diagnostic::{Diagnostic, Diagnostics};
use crate::scenario::model::{BillingTypeName, CatalogFile, CategoryName, FrequencyName, LimitKindName, OfferSection, SegmentName, TermName};
use crate::scenario::node_de::Located;
use crate::scenario::source::{parse_mapping, read_text};
use crate::scenario::yaml::{Node, NodeValue};

/// The default license quantity bounds (BUY-QUANTITY).
pub const DEFAULT_QUANTITY: (i64, i64) = (1, 10_000);
/// The largest quantity bound a catalog may set: keeps every amount inside `i64` cents.
pub const MAX_QUANTITY: i64 = 1_000_000_000;

/// Loads a catalog file.
pub fn load_catalog_file(path: &Path) -> Result<Catalog, Diagnostics> {
    let text = read_text(path)?;
    let (root, findings) = parse_mapping(path, &text, "a catalog", "`currency` and `offers`")?;
    let mut builder = Builder::new(path, &text);
    builder.report_all(findings);
    let catalog = decode_catalog(&mut builder, &root);
    builder.finish(catalog)
}

/// Decodes and checks a catalog node (a file's root, or inline in a scenario).
pub fn decode_catalog(builder: &mut Builder, node: &Node) -> Option<Catalog> {
    let offers_node = node.get("offers");
    let head = with_placeholders(node, &[("offers", NodeValue::Sequence(Vec::new()))]);
    let head: Option<CatalogFile> = builder.decode_recovering(&head);
    let mut sections = Vec::new();
    let mut complete = true;
    // Offers whose entry has errors: references to them are not reported again as unknown.
    let mut reported: Vec<String> = Vec::new();
    match offers_node.map(|n| &n.value) {
        Some(NodeValue::Sequence(items)) => {
            for item in items {
                // Read past its mistakes, so that all of them are reported (a bad `billing`
                // must not hide a price finer than cents); an offer with mistakes makes no
                // catalog, and references to it are not reported again.
                let errors_before = builder.diagnostics.len();
                let section = builder.decode_recovering::<Located<OfferSection>>(item);
                if builder.diagnostics.len() > errors_before {
                    complete = false;
                    if let Some(NodeValue::Text(id)) = item.get("id").map(|id| &id.value) {
                        reported.push(id.clone());
                    }
                }
                sections.extend(section);
            }
        }
        Some(_) => {
            let node = offers_node.expect("matched above");
            builder.report(Diagnostic::new(builder.file, node.position, format!("found {} for `offers`", node.describe())).expected("a list of offers"));
            complete = false;
        }
        None => {}
    }
    let head = head?;
    let currency = &head.currency;
    let smallest_amount = match crate::scenario::currencies::decimals(&currency.value) {
        None => {
            builder.unknown_term(currency, "currency code", crate::scenario::currencies::codes(), "of ISO 4217");
            Money::from_cents(1)
        }
        Some(decimals @ 3..) => {
            builder.error_at(
                currency,
                format!("{} has {decimals} decimals; amounts are kept in hundredths of a unit, so it cannot be simulated exactly", currency.value),
                "a currency with two decimals or none (USD, EUR, JPY...)",
            );
            Money::from_cents(1)
        }
        Some(2) => Money::from_cents(1),
        Some(_) => Money::from_cents(100),
    };
    let catalog = build_offers(builder, &sections, &reported);
    if smallest_amount.cents() > 1 {
        for section in &sections {
            if Money::parse(&section.price.value.0).is_ok_and(|price| price.cents() % smallest_amount.cents() != 0) {
                builder.error_at(&section.price, format!("{} has no minor unit: prices are whole amounts", currency.value), "a whole amount, e.g. 1500");
            }
        }
    }
    complete.then_some(Catalog { currency: currency.value.clone(), smallest_amount, offers: catalog? })
}

fn build_offers(builder: &mut Builder, sections: &[Located<OfferSection>], reported: &[String]) -> Option<Vec<Offer>> {
    let before = builder.diagnostics.len();
    let mut ids: BTreeMap<&str, (OfferId, u32)> = BTreeMap::new();
    for (index, section) in sections.iter().enumerate() {
        let id = &section.id;
        if id.value.trim().is_empty() {
            builder.error_at(id, "an offer id is empty", "the offer's id, such as `m365-e3`");
        }
        builder.refuse_control_characters(id, "an offer id");
        if let Some((_, line)) = ids.get(id.value.as_str()) {
            builder.error_at(id, format!("offer `{}` is defined twice (first at line {line})", id.value), "each offer id once");
        } else {
            ids.insert(&id.value, (OfferId(index as u32), id.position.line));
        }
    }
    let known: Vec<&str> = ids.keys().copied().collect();
    let lookup = |builder: &mut Builder, name: &Located<String>| -> Option<OfferId> {
        match ids.get(name.value.as_str()) {
            Some((id, _)) => Some(*id),
            None if reported.contains(&name.value) => None,
            None => {
                builder.unknown_name(name, "offer", known.iter().copied());
                None
            }
        }
    };
    let mut offers = Vec::with_capacity(sections.len());
    for section in sections {
        let offer = build_offer(builder, section, &lookup);
        offers.push(offer);
    }
    // Cross-offer checks need every offer built.
    for (section, offer) in sections.iter().zip(&offers) {
        for (addon_name, addon) in section.addons.iter().flatten().zip(&offer.addons) {
            let target = &offers[addon.0 as usize];
            if !target.is_addon {
                builder.error_at(
                    addon_name,
                    format!("`{}` is listed as an add-on but is not marked `addon: true`", addon_name.value),
                    "an offer with `addon: true`",
                );
            }
        }
        if let (Some(name), Some(paid)) = (section.trial.as_ref().and_then(|t| t.converts_to.as_ref()), offer.trial.as_ref().and_then(|t| t.converts_to)) {
            let target = &offers[paid.0 as usize];
            // A trial of an add-on is a valid catalog entry that can never be bought
            // (TRIAL-MS-ELIGIBLE: "none for add-ons"); a trial of a trial means nothing.
            if target.category == Category::Trial {
                builder.error_at(name, format!("a trial cannot convert to `{}`, another trial", name.value), "a paid offer");
            }
        }
    }
    (builder.diagnostics.len() == before).then_some(offers)
}

fn build_offer(builder: &mut Builder, section: &Located<OfferSection>, lookup: &dyn Fn(&mut Builder, &Located<String>) -> Option<OfferId>) -> Offer {
    let isv_publisher = match section.publisher.value.as_str() {
        "microsoft" => None,
        "" => {
            builder.error_at(&section.publisher, "the publisher is empty", "`microsoft` or an ISV publisher id");
            None
        }
        other => Some(other.to_string()),
    };
    let billing = billing_type(section.billing.value);
    let category = section.category.as_ref().map_or(Category::Enterprise, |c| category(c.value));
    let segments = match &section.segments {
        None => Segment::ALL.to_vec(),
        Some(list) => list.iter().map(|s| segment(s.value)).collect(),
    };
    let price = match Money::parse(&section.price.value.0) {
        Ok(price) if price.is_negative() => {
            builder.error_at(&section.price, "a price cannot be negative", "an amount of zero or more");
            Money::ZERO
        }
        Ok(price) => price,
        Err(message) => {
            builder.error_at(&section.price, message, "an amount with at most two decimals, e.g. 32.00");
            Money::ZERO
        }
    };
    let frequencies: Vec<Frequency> = match (&section.frequencies, billing) {
        (Some(list), BillingType::Usage) => {
            if let Some(first) = list.first() {
                builder.error_at(first, "usage offers are billed in arrears and have no billing frequencies", "no `frequencies` on a usage offer");
            }
            Vec::new()
        }
        (Some(list), BillingType::License) => {
            if list.is_empty() {
                builder.report(Diagnostic::new(builder.file, section.position, "`frequencies` is empty").expected("monthly, annual or both"));
            }
            let mut frequencies: Vec<Frequency> = list.iter().map(|f| frequency(f.value)).collect();
            frequencies.dedup();
            frequencies
        }
        (None, BillingType::License) => vec![Frequency::Monthly],
        (None, BillingType::Usage) => Vec::new(),
    };
    let term = section.term.as_ref().map(|t| match t.value {
        TermName::P1M => Term::OneMonth,
        TermName::P1Y => Term::OneYear,
    });
    if let (Some(located), Some(Term::OneMonth)) = (&section.term, term)
        && frequencies.contains(&Frequency::Annual)
    {
        builder.error_at(located, "a one-month term cannot be billed annually", "P1Y, or only monthly billing");
    }
    if let (Some(located), Some(Term::OneMonth)) = (&section.term, term)
        && isv_publisher.is_none()
        && billing == BillingType::License
    {
        builder.error_at(located, "Microsoft license offers have a 12-month term (RULES.md section 2)", "P1Y, or no `term`");
    }
    let limit = section.limit.as_ref().map(|limit| {
        if limit.count.value == 0 {
            builder.error_at(&limit.count, "a purchase limit of 0 makes the offer unbuyable", "a count of 1 or more");
        }
        Limit {
            count: limit.count.value,
            kind: match limit.kind.value {
                LimitKindName::Concurrent => LimitKind::Concurrent,
                LimitKindName::Lifetime => LimitKind::Lifetime,
            },
        }
    });
    let (mut quantity_min, mut quantity_max) = DEFAULT_QUANTITY;
    if let Some(bounds) = &section.quantity {
        for bound in [&bounds.min, &bounds.max].into_iter().flatten() {
            if bound.value < 1 || bound.value > MAX_QUANTITY {
                builder.error_at(bound, format!("{} is outside the supported quantity bounds", bound.value), format!("1 to {MAX_QUANTITY}"));
            }
        }
        quantity_min = bounds.min.as_ref().map_or(quantity_min, |m| m.value);
        quantity_max = bounds.max.as_ref().map_or(quantity_max, |m| m.value);
        if quantity_min > quantity_max {
            builder.report(
                Diagnostic::new(builder.file, bounds.position, format!("the quantity minimum {quantity_min} is above the maximum {quantity_max}"))
                    .expected("min <= max"),
            );
        }
    }
    let addons: Vec<OfferId> = section.addons.iter().flatten().filter_map(|name| lookup(builder, name)).collect();
    let is_addon = section.addon.as_ref().is_some_and(|a| a.value);
    if is_addon && !addons.is_empty() {
        builder.report(Diagnostic::new(builder.file, section.position, "an add-on cannot have add-ons of its own").expected("`addons` only on base offers"));
    }
    if is_addon && billing == BillingType::Usage {
        builder.error_at(
            &section.billing,
            "an add-on cannot be usage-based: it is billed by license with its base (ADDON-ALIGN)",
            "`billing: license` on an add-on",
        );
    }
    if billing == BillingType::Usage && !addons.is_empty() {
        builder.report(Diagnostic::new(builder.file, section.position, "a usage offer cannot have add-ons").expected("`addons` only on license offers"));
    }
    let addon_countries = section.countries.as_ref().map(|list| countries_of(builder, list));
    if section.countries.is_some() && !is_addon {
        builder.report(
            Diagnostic::new(builder.file, section.position, "`countries` at the top of an offer is for add-ons")
                .expected("ISV offers list their countries under `isv: {countries: [...]}`"),
        );
    }
    let trial = section.trial.as_ref().map(|trial| {
        if trial.days.as_ref().is_some_and(|d| d.value == 0 || d.value > MAX_TRIAL_DAYS) {
            builder.error_at(trial.days.as_ref().expect("checked"), format!("a trial must last 1 to {MAX_TRIAL_DAYS} days"), "a number of days");
        }
        if let Some(licenses) = &trial.licenses
            && i64::from(licenses.value) > MAX_QUANTITY
        {
            builder.error_at(licenses, "too many trial licenses", format!("at most {MAX_QUANTITY}"));
        }
        TrialSpec {
            days: trial.days.as_ref().map(|d| d.value),
            licenses: trial.licenses.as_ref().map(|l| l.value),
            converts_to: trial.converts_to.as_ref().and_then(|name| lookup(builder, name)),
        }
    });
    let trial = match (trial, category, isv_publisher.is_none()) {
        (None, Category::Trial, true) => Some(TrialSpec { days: None, licenses: None, converts_to: None }),
        (trial, _, _) => trial,
    };
    if let Some(located) = &section.trial
        && isv_publisher.is_none()
        && category != Category::Trial
    {
        builder.report(
            Diagnostic::new(builder.file, located.position, "a Microsoft offer with a trial must have `category: trial`")
                .expected("a separate Microsoft trial offer (category trial) that converts to the paid offer"),
        );
    }
    let isv = match (&section.isv, &isv_publisher) {
        (Some(isv), None) => {
            builder
                .report(Diagnostic::new(builder.file, isv.position, "`isv` is for offers of ISV publishers").expected("no `isv` section on a Microsoft offer"));
            None
        }
        (Some(isv), Some(_)) => Some(IsvTerms {
            countries: isv.countries.as_ref().map(|list| countries_of(builder, list)),
            sold_through_csp: isv.csp.as_ref().is_none_or(|c| c.value),
            exclusive_to: isv.exclusive_to.as_ref().map(|list| list.iter().map(|p| p.value.clone()).collect()),
            transactable: isv.transactable.as_ref().is_none_or(|t| t.value),
            setup_url: isv.setup_url.as_ref().map(|u| u.value.clone()),
        }),
        (None, Some(_)) => Some(IsvTerms { countries: None, sold_through_csp: true, exclusive_to: None, transactable: true, setup_url: None }),
        (None, None) => None,
    };
    Offer {
        id: section.id.value.clone(),
        name: section.name.clone().unwrap_or_else(|| section.id.value.clone()),
        isv_publisher,
        billing,
        category,
        segments,
        price,
        frequencies,
        term,
        limit,
        quantity_min,
        quantity_max,
        addons,
        is_addon,
        addon_countries,
        trial,
        isv,
    }
}

pub fn segment(name: SegmentName) -> Segment {
    match name {
        SegmentName::Commercial => Segment::Commercial,
        SegmentName::Education => Segment::Education,
        SegmentName::Government => Segment::Government,
        SegmentName::Nonprofit => Segment::Nonprofit,
    }
}

pub fn billing_type(name: BillingTypeName) -> BillingType {
    match name {
        BillingTypeName::License => BillingType::License,
        BillingTypeName::Usage => BillingType::Usage,
    }
}

pub fn category(name: CategoryName) -> Category {
    match name {
        CategoryName::Enterprise => Category::Enterprise,
        CategoryName::SmallBusiness => Category::SmallBusiness,
        CategoryName::Trial => Category::Trial,
    }
}

pub fn frequency(name: FrequencyName) -> Frequency {
    match name {
        FrequencyName::Monthly => Frequency::Monthly,
        FrequencyName::Annual => Frequency::Annual,
    }
}

/// A billing country, checked against ISO 3166-1.
pub fn country(builder: &mut Builder, code: &Located<String>) -> Country {
    if !countries::is_code(&code.value) {
        let diagnostic = Diagnostic::new(builder.file, code.position, format!("`{}` is not an ISO 3166-1 alpha-2 country code", code.value))
            .expected("a two-letter code such as US, GB or DE")
            .suggest(countries::suggestion(&code.value))
            .width(code.width as usize);
        builder.report(diagnostic);
        return Country(*b"??");
    }
    let bytes = code.value.as_bytes();
    Country([bytes[0], bytes[1]])
}

fn countries_of(builder: &mut Builder, list: &[Located<String>]) -> Vec<Country> {
    list.iter().map(|code| country(builder, code)).collect()
}
