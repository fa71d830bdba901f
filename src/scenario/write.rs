//! Writing a script back out as a scenario file, with its catalog inline: how a generated
//! sequence (a shrunk property-test failure) becomes a file a person can run, read and edit,
//! with checks of what its steps should have left.

use std::fmt::Write as _;

use crate::engine::catalog::{Catalog, Frequency, Offer};
use crate::engine::script::{Action, CartLine, CartRef, PublisherFilter, Script, SubscriptionRef};
use crate::engine::time::format_date;
use crate::outcome::yaml_scalar;
use crate::scenario::builtin_policies as builtin;

/// What a step's `check` asserts of the subscriptions after it: by step index, each
/// subscription (as the outcome spells it, `sub-0001`) with its fields and values.
pub type StepChecks = std::collections::BTreeMap<usize, Vec<(String, Vec<(&'static str, String)>)>>;

pub fn script_to_yaml(script: &Script, title: &str) -> String {
    script_to_yaml_with_checks(script, title, &StepChecks::new())
}

/// A script as a scenario file whose steps also check what they should have left: a shrunk
/// property-test failure that `cspsim run` shows failing.
pub fn script_to_yaml_with_checks(script: &Script, title: &str, checks: &StepChecks) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "scenario: {}", yaml_scalar(title));
    let base = builtin::find(&script.policy.name);
    let _ = writeln!(out, "policy: {}", yaml_scalar(if base.is_some() { &script.policy.name } else { "csp-2020" }));
    let base = base.unwrap_or_else(|| builtin::find("csp-2020").expect("csp-2020 is built in"));
    let overrides: Vec<(&str, String)> = script.policy.differences_from(&base).into_iter().filter(|(name, _)| *name != "role_matrix").collect();
    if !overrides.is_empty() || base.role_matrix != script.policy.role_matrix {
        out.push_str("policy_overrides:\n");
        for (name, value) in overrides {
            let _ = writeln!(out, "  {name}: {}", yaml_scalar(&value));
        }
        if base.role_matrix != script.policy.role_matrix {
            out.push_str("  role_matrix:\n");
            for permission in crate::policy::Permission::ALL {
                let roles: Vec<&str> = script.policy.role_matrix.roles_for(permission).iter().map(|r| r.name()).collect();
                let _ = writeln!(out, "    {}: [{}]", permission.name(), roles.join(", "));
            }
        }
    }
    let _ = writeln!(out, "start: {}", script.start);
    if let Some(until) = script.until {
        let _ = writeln!(out, "until: {until}");
    }
    let partner = &script.partner;
    let _ = writeln!(
        out,
        "partner:\n  id: {}\n  program: {}\n  cloud: {}\n  billing_day: {}",
        yaml_scalar(&partner.id),
        partner.program.name(),
        partner.cloud.name(),
        partner.billing_day
    );
    out.push_str("  users:\n");
    for user in &partner.users {
        let roles: Vec<&str> = user.roles.iter().map(|r| r.name()).collect();
        let _ = writeln!(out, "    {}: [{}]", yaml_scalar(&user.handle), roles.join(", "));
    }
    write_catalog(&mut out, &script.catalog);
    out.push_str("customers:\n");
    for customer in &script.customers {
        let _ = writeln!(
            out,
            "  {}: {{country: {}, segment: {}, opened: {}}}",
            yaml_scalar(&customer.handle),
            customer.country.as_str(),
            customer.segment.name(),
            format_date(customer.opened)
        );
    }
    if script.steps.is_empty() {
        out.push_str("steps: []\n");
        return out;
    }
    out.push_str("steps:\n");
    for (index, step) in script.steps.iter().enumerate() {
        let mut cells = vec![format!("at: {}", step.at)];
        if let Some(actor) = step.actor {
            cells.push(format!("by: {}", yaml_scalar(&script.user(actor).handle)));
        }
        if let Some(action) = &step.action {
            cells.push(action_yaml(script, action));
        }
        if let Some(subscriptions) = checks.get(&index).filter(|subscriptions| !subscriptions.is_empty()) {
            let subscriptions: Vec<String> = subscriptions
                .iter()
                .map(|(id, fields)| {
                    let fields: Vec<String> = fields.iter().map(|(field, value)| format!("{field}: {}", yaml_scalar(value))).collect();
                    format!("{id}: {{{}}}", fields.join(", "))
                })
                .collect();
            cells.push(format!("check: {{subscriptions: {{{}}}}}", subscriptions.join(", ")));
        }
        let _ = writeln!(out, "  - {{{}}}", cells.join(", "));
    }
    out
}

fn subscription(script: &Script, reference: SubscriptionRef) -> String {
    match reference {
        SubscriptionRef::Handle(handle) => yaml_scalar(&script.handles[handle.0 as usize]),
        SubscriptionRef::Generated(number) => format!("sub-{number:04}"),
    }
}

fn line_yaml(script: &Script, line: &CartLine) -> String {
    let mut cells = vec![format!("offer: {}", yaml_scalar(&script.catalog.offer(line.offer).id))];
    if let Some(quantity) = line.quantity {
        cells.push(format!("quantity: {quantity}"));
    }
    if let Some(billing) = line.billing {
        cells.push(format!("billing: {}", billing.name()));
    }
    if let Some(name) = line.name {
        cells.push(format!("name: {}", yaml_scalar(&script.handles[name.0 as usize])));
    }
    format!("{{{}}}", cells.join(", "))
}

fn action_yaml(script: &Script, action: &Action) -> String {
    let customer = |id: crate::engine::script::CustomerId| yaml_scalar(&script.customer(id).handle);
    let cart = |cart: &CartRef| match cart {
        CartRef::Current => String::new(),
        CartRef::Named(name) => format!(", cart: {}", yaml_scalar(name)),
    };
    match action {
        Action::Browse { customer: c, publisher, billing, category } => {
            let mut cells = vec![format!("customer: {}", customer(*c))];
            if let Some(publisher) = publisher {
                cells.push(format!("publisher: {}", if *publisher == PublisherFilter::Microsoft { "microsoft" } else { "partner" }));
            }
            if let Some(billing) = billing {
                cells.push(format!("billing: {}", billing.name()));
            }
            if let Some(category) = category {
                cells.push(format!("category: {}", category.name()));
            }
            format!("browse: {{{}}}", cells.join(", "))
        }
        Action::AddToCart { customer: c, cart: name, line } => {
            let line = line_yaml(script, line);
            format!("add_to_cart: {{customer: {}{}, {}}}", customer(*c), cart(name), &line[1..line.len() - 1])
        }
        Action::Checkout { customer: c, cart: name } => format!("checkout: {{customer: {}{}}}", customer(*c), cart(name)),
        Action::Buy { customer: c, lines } => {
            let items: Vec<String> = lines.iter().map(|l| line_yaml(script, l)).collect();
            format!("buy: {{customer: {}, items: [{}]}}", customer(*c), items.join(", "))
        }
        Action::BuyAddon { base, offer, quantity, name } => {
            let mut cells = vec![format!("base: {}", subscription(script, *base)), format!("offer: {}", yaml_scalar(&script.catalog.offer(*offer).id))];
            if let Some(quantity) = quantity {
                cells.push(format!("quantity: {quantity}"));
            }
            if let Some(name) = name {
                cells.push(format!("name: {}", yaml_scalar(&script.handles[name.0 as usize])));
            }
            format!("buy_addon: {{{}}}", cells.join(", "))
        }
        Action::SetQuantity { subscription: s, quantity } => format!("set_quantity: {{subscription: {}, quantity: {quantity}}}", subscription(script, *s)),
        Action::Suspend { subscription: s, reason } => format!("suspend: {{subscription: {}, reason: {}}}", subscription(script, *s), reason.name()),
        Action::Reactivate { subscription: s } => format!("reactivate: {}", subscription(script, *s)),
        Action::Cancel { subscription: s } => format!("cancel: {}", subscription(script, *s)),
        Action::SetAutoRenew { subscription: s, enabled } => format!("set_auto_renew: {{subscription: {}, enabled: {enabled}}}", subscription(script, *s)),
        Action::ConvertTrial { subscription: s, quantity, billing } => {
            let mut cells = vec![format!("subscription: {}", subscription(script, *s))];
            if let Some(quantity) = quantity {
                cells.push(format!("quantity: {quantity}"));
            }
            if let Some(billing) = billing {
                cells.push(format!("billing: {}", billing.name()));
            }
            format!("convert_trial: {{{}}}", cells.join(", "))
        }
        Action::RecordUsage { subscription: s, units } => format!("record_usage: {{subscription: {}, units: {units}}}", subscription(script, *s)),
        Action::SetPrice { offer, price } => format!("set_price: {{offer: {}, price: {price}}}", yaml_scalar(&script.catalog.offer(*offer).id)),
        Action::ViewInvoices => "view_invoices: {}".to_string(),
    }
}

fn write_catalog(out: &mut String, catalog: &Catalog) {
    let _ = writeln!(out, "catalog:\n  currency: {}\n  offers:", yaml_scalar(&catalog.currency));
    if catalog.offers.is_empty() {
        out.truncate(out.len() - 1);
        out.push_str(" []\n");
        return;
    }
    for offer in &catalog.offers {
        let _ = writeln!(out, "    - {}", offer_yaml(catalog, offer));
    }
}

fn list(items: impl Iterator<Item = String>) -> String {
    format!("[{}]", items.collect::<Vec<_>>().join(", "))
}

fn offer_yaml(catalog: &Catalog, offer: &Offer) -> String {
    let mut cells = vec![
        format!("id: {}", yaml_scalar(&offer.id)),
        format!("name: {}", yaml_scalar(&offer.name)),
        format!("publisher: {}", yaml_scalar(offer.isv_publisher.as_deref().unwrap_or("microsoft"))),
        format!("billing: {}", offer.billing.name()),
        format!("category: {}", offer.category.name()),
        format!("segments: {}", list(offer.segments.iter().map(|s| s.name().to_string()))),
        format!("price: {}", offer.price),
    ];
    if !offer.frequencies.is_empty() {
        cells.push(format!("frequencies: {}", list(offer.frequencies.iter().map(|f: &Frequency| f.name().to_string()))));
    }
    if let Some(term) = offer.term {
        cells.push(format!("term: {}", term.name()));
    }
    if let Some(limit) = offer.limit {
        cells.push(format!("limit: {{count: {}, kind: {}}}", limit.count, limit.kind.name()));
    }
    cells.push(format!("quantity: {{min: {}, max: {}}}", offer.quantity_min, offer.quantity_max));
    if !offer.addons.is_empty() {
        cells.push(format!("addons: {}", list(offer.addons.iter().map(|a| yaml_scalar(&catalog.offer(*a).id)))));
    }
    if offer.is_addon {
        cells.push("addon: true".to_string());
    }
    if let Some(countries) = &offer.addon_countries {
        cells.push(format!("countries: {}", list(countries.iter().map(|c| c.as_str().to_string()))));
    }
    if let Some(trial) = &offer.trial {
        let mut parts = Vec::new();
        if let Some(days) = trial.days {
            parts.push(format!("days: {days}"));
        }
        if let Some(licenses) = trial.licenses {
            parts.push(format!("licenses: {licenses}"));
        }
        if let Some(paid) = trial.converts_to {
            parts.push(format!("converts_to: {}", yaml_scalar(&catalog.offer(paid).id)));
        }
        cells.push(format!("trial: {{{}}}", parts.join(", ")));
    }
    if let Some(isv) = &offer.isv {
        let mut parts = vec![format!("csp: {}", isv.sold_through_csp), format!("transactable: {}", isv.transactable)];
        if let Some(countries) = &isv.countries {
            parts.push(format!("countries: {}", list(countries.iter().map(|c| c.as_str().to_string()))));
        }
        if let Some(partners) = &isv.exclusive_to {
            parts.push(format!("exclusive_to: {}", list(partners.iter().map(|p| yaml_scalar(p)))));
        }
        if let Some(url) = &isv.setup_url {
            parts.push(format!("setup_url: {}", yaml_scalar(url)));
        }
        cells.push(format!("isv: {{{}}}", parts.join(", ")));
    }
    format!("{{{}}}", cells.join(", "))
}
