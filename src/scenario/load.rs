//! Loading a scenario: the file decoded piece by piece, then every reference, instant and
//! value checked, and everything turned into the engine's [`Script`] plus the expectations
//! the run is judged by. Every problem of the file is reported, not only the first.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{Datelike, NaiveDate};

use crate::engine::catalog::{BillingType, Catalog, Country, Frequency, OfferId, Segment};
use crate::engine::money::{Decimal, Money};
use crate::engine::observe::LineKind;
use crate::engine::rules::{Code, Rule};
use crate::engine::script::{
    Action, CartLine, CartRef, Cloud, Customer, CustomerId, HandleId, Licenses, Partner, Program, PublisherFilter, Script, Step, SubscriptionRef,
    SuspendReason, User, UserId,
};
use crate::engine::time::{Duration, Instant, parse_date, parse_instant};
use crate::expect::{Check, CheckKind, Expectation, LineExpectation, StepExpectations, subscription_fields};
use crate::policy::{ParameterValue, Policy, Role};
use crate::population::{PopulationSpec, PurchaseMix, Rates};
use crate::scenario::builder::{Builder, with_key, with_placeholders};
use crate::scenario::builtin_policies as builtin;
use crate::scenario::catalog_file::{self, decode_catalog, load_catalog_file};
use crate::scenario::diagnostic::{Diagnostic, Diagnostics, Position};
use crate::scenario::model::*;
use crate::scenario::node_de::{self, Located};
use crate::scenario::policy_file::load_policy_file;
use crate::scenario::source::{parse_mapping, read_text};
use crate::scenario::yaml::{Node, NodeValue};
use crate::suggest::nearest;

/// A scenario ready to run.
#[derive(Clone, Debug)]
pub struct LoadedScenario {
    pub path: PathBuf,
    /// The path relative to the run's root, with `/` (the `scenario` column of reports).
    pub display: String,
    pub title: String,
    pub description: Option<String>,
    pub tags: Vec<String>,
    /// The rules the scenario says it exercises (`rules:`), with the line of each entry.
    pub rules: Vec<(Rule, u32)>,
    pub script: Script,
    pub expectations: Vec<StepExpectations>,
    /// A seeded customer base to simulate besides the hand-written customers (what-if runs).
    pub population: Option<PopulationSpec>,
    /// The scenario's own `policy_overrides`, as applied to its policy.
    pub policy_overrides: Vec<(String, ParameterValue)>,
    /// The line of `until:` (0 without one): where a run stopped after the last step is
    /// reported.
    pub until_line: u32,
}

impl LoadedScenario {
    pub fn step_lines(&self) -> Vec<u32> {
        self.expectations.iter().map(|e| e.line).collect()
    }
    pub fn checkpoints(&self) -> BTreeSet<usize> {
        self.expectations.iter().enumerate().filter(|(_, e)| !e.checks.is_empty()).map(|(i, _)| i).collect()
    }

    /// The same scenario under another policy: `policy`, then the scenario's own overrides,
    /// then `sweep`, as if it had been loaded with those [`LoadOptions`].
    pub fn under_policy(&self, policy: &Policy, sweep: &[(String, ParameterValue)]) -> LoadedScenario {
        let mut policy = policy.clone();
        apply_checked(&mut policy, &self.policy_overrides, "override");
        apply_checked(&mut policy, sweep, "sweep");
        let mut scenario = self.clone();
        scenario.script.policy = Arc::new(policy);
        scenario
    }
}

/// Applies parameter values that were checked before (when the file was loaded, or the sweep
/// parsed): a failure here is a bug.
fn apply_checked(policy: &mut Policy, values: &[(String, ParameterValue)], what: &str) {
    for (name, value) in values {
        policy.set(name, value).unwrap_or_else(|message| panic!("{what} {name}: {message}"));
    }
}

/// How a scenario is loaded: optionally under another policy than its own (what-if runs).
#[derive(Clone, Debug, Default)]
pub struct LoadOptions {
    pub policy: Option<Policy>,
    /// Parameter values applied after the scenario's own overrides (a what-if sweep).
    pub sweep: Vec<(String, ParameterValue)>,
}

pub fn load_scenario(path: &Path, display: &str, options: &LoadOptions) -> Result<LoadedScenario, Diagnostics> {
    let text = read_text(path)?;
    load_scenario_text(path, display, &text, options)
}

/// A population's size and horizon (the JSON Schema says the same).
pub const MAX_POPULATION_CUSTOMERS: i64 = 100_000_000;
pub const MAX_POPULATION_MONTHS: i64 = 1200;

const TOP_KEYS: &str = "`scenario`, `start`, `partner`, `catalog` and `steps`";

pub fn load_scenario_text(path: &Path, display: &str, text: &str, options: &LoadOptions) -> Result<LoadedScenario, Diagnostics> {
    let (root, findings) = parse_mapping(path, text, "a scenario", TOP_KEYS)?;
    let mut builder = Builder::new(path, text);
    // A catalog or a policy given where a scenario was meant: one message that says so,
    // rather than every scenario key it lacks.
    let has = |key: &str| root.get(key).is_some();
    if !has("scenario") && !has("steps") {
        let other_kind = match () {
            _ if has("offers") && has("currency") => Some(("a catalog", "`catalog:`")),
            _ if has("policy") && has("parameters") => Some(("a policy", "`policy:`")),
            _ => None,
        };
        if let Some((kind, key)) = other_kind {
            builder.report(
                Diagnostic::new(path, root.position, format!("this is {kind} file, not a scenario"))
                    .expected(format!("a scenario (with {TOP_KEYS}), which names this file in its {key}")),
            );
            return Err(builder.diagnostics.finish());
        }
    }
    builder.report_all(findings);

    // Steps, customers and the catalog are decoded one by one so that each bad one is
    // reported; the rest of the file is decoded with placeholders in their place.
    let head = with_placeholders(
        &root,
        &[("steps", NodeValue::Sequence(Vec::new())), ("customers", NodeValue::Mapping(Vec::new())), ("catalog", NodeValue::Text(String::new()))],
    );
    // Without a catalog the rest of the file is still checked (its offers cannot be). A
    // misspelt `catalog:` is reported as an unknown key with the right name suggested.
    let head = match root.get("catalog") {
        Some(_) => head,
        None => {
            if misspelt(&root, "catalog").is_none() {
                builder.report(
                    Diagnostic::new(builder.file, root.position, "missing required key `catalog`")
                        .expected("a `catalog:` entry: a catalog file's path relative to this file, or the catalog inline"),
                );
            }
            with_key(&head, "catalog", NodeValue::Text(String::new()))
        }
    };
    let head: Option<ScenarioFile> = builder.decode_recovering(&head);
    // A misspelt `steps:`, `customers:` or `catalog:` (reported as an unknown key) is still
    // read as what it was meant to be, so that the references to it are not all reported too.
    let steps = decode_steps(&mut builder, root.get("steps").or_else(|| misspelt(&root, "steps")));
    let customers_decoded = decode_customers(&mut builder, root.get("customers").or_else(|| misspelt(&root, "customers")));
    let catalog = match root.get("catalog").or_else(|| misspelt(&root, "catalog")) {
        Some(node) => load_catalog(&mut builder, node, path),
        None => None,
    };
    let Some(head) = head else {
        return Err(builder.diagnostics.finish());
    };
    let catalog_loaded = catalog.is_some();
    let catalog = catalog.unwrap_or_else(|| Catalog { currency: String::new(), smallest_amount: Money::from_cents(1), offers: Vec::new() });
    if head.scenario.value.trim().is_empty() {
        builder.error_at(&head.scenario, "the scenario has no title", "a title that says what the scenario shows");
    }
    builder.refuse_control_characters(&head.scenario, "the title");
    let mut context = Context::new(&mut builder, path, &head, &catalog, options);
    context.catalog_loaded = catalog_loaded;
    let customers = context.customers(&customers_decoded);
    let steps_built = context.steps(&steps);
    let until = head.until.as_ref().and_then(|until| context.instant(until));
    if let Some(until) = until
        && until < context.start
    {
        let located = head.until.as_ref().expect("parsed above");
        context.builder.error_at(located, format!("`until` ({until}) is before the start ({})", context.start), "an instant at or after the start");
    }
    if let (Some(until), Some(last)) = (until, steps_built.last())
        && until < last.0.at
    {
        let located = head.until.as_ref().expect("parsed above");
        context.builder.error_at(located, format!("`until` ({until}) is before the last step ({})", last.0.at), "an instant at or after the last step");
    }
    let rules = context.rules(head.rules.as_deref().unwrap_or_default());
    let population = head.population.as_ref().and_then(|section| context.population(section));
    // One horizon per file: the hand-written part of a file with a population runs as long as
    // the population does, so that both are compared over the same months.
    let mut until = until;
    if let (Some(population), Some(section)) = (&population, &head.population) {
        let horizon = population.horizon(context.start);
        match (&head.until, until) {
            (Some(located), Some(given)) if given != horizon => context.builder.error_at(
                located,
                format!("`until` ({given}) is not where the population ends ({horizon}: `months` {} after the start)", population.months),
                "no `until` in a file with a population (it runs for the population's months)",
            ),
            _ => until = Some(horizon),
        }
        // The first step past the horizon, at its own line.
        if let Some((step, expectations)) = steps_built.iter().find(|(step, _)| step.at > horizon) {
            let at = if expectations.line > 0 { Position::new(expectations.line, 1) } else { section.position };
            context.builder.report(
                Diagnostic::new(context.builder.file, at, format!("a step at {} is after the population's end ({horizon})", step.at))
                    .expected("hand-written steps within the population's `months`"),
            );
        }
        for (name, _) in &customers_decoded.0 {
            if crate::population::is_generated_handle(&name.value) {
                context.builder.error_at(
                    name,
                    format!("`{}` is the name of a generated customer of the population", name.value),
                    "another name for a hand-written customer (customer-NNNNNNN names the population's)",
                );
            }
        }
    }
    let Context { policy, policy_overrides, partner, start, handles, .. } = context;
    if !steps.complete || !customers.1 {
        // Bad steps or customers were reported; nothing runs.
        return Err(builder.diagnostics.finish());
    }
    let (steps, expectations): (Vec<Step>, Vec<StepExpectations>) = steps_built.into_iter().unzip();
    let script =
        Script { policy: Arc::new(policy), catalog: Arc::new(catalog), partner: Arc::new(partner), customers: customers.0, start, until, steps, handles };
    let loaded = LoadedScenario {
        path: path.to_path_buf(),
        display: display.to_string(),
        title: head.scenario.value.trim().to_string(),
        description: head.description.as_ref().map(|d| d.trim().to_string()),
        tags: head.tags.iter().flatten().map(|t| t.value.clone()).collect(),
        rules,
        script,
        expectations,
        population,
        policy_overrides,
        until_line: head.until.as_ref().map_or(0, |until| until.position.line),
    };
    builder.finish(Some(loaded))
}

/// The top-level keys of a scenario file.
const SCENARIO_KEYS: &[&str] =
    &["scenario", "description", "tags", "rules", "policy", "policy_overrides", "start", "until", "partner", "catalog", "customers", "population", "steps"];

/// The value of a top-level key that is not a scenario key but a misspelling of `key`.
fn misspelt<'n>(root: &'n Node, key: &str) -> Option<&'n Node> {
    let NodeValue::Mapping(entries) = &root.value else { return None };
    entries
        .iter()
        .find(|(name, _)| name.scalar_text().is_some_and(|name| !SCENARIO_KEYS.contains(&name) && nearest(name, SCENARIO_KEYS.iter().copied()) == Some(key)))
        .map(|(_, value)| value)
}

struct DecodedSteps {
    steps: Vec<Located<StepSection>>,
    /// Subscription and cart names that steps which failed to decode would have defined, so
    /// that they are not reported again as undefined.
    salvaged_names: BTreeSet<String>,
    complete: bool,
    /// Steps decoded with errors reported (by their index in `steps`).
    with_errors: BTreeSet<usize>,
}

fn decode_steps(builder: &mut Builder, node: Option<&Node>) -> DecodedSteps {
    let mut decoded = DecodedSteps { steps: Vec::new(), salvaged_names: BTreeSet::new(), complete: true, with_errors: BTreeSet::new() };
    let Some(node) = node else { return decoded };
    match &node.value {
        NodeValue::Sequence(items) => {
            for item in items {
                let errors_before = builder.diagnostics.len();
                let decoded_step = decode_step(builder, item);
                let action_failed = decoded_step.as_ref().is_none_or(|(_, failed)| *failed);
                if let Some((step, _)) = decoded_step {
                    // Decoded past a mistake (an unknown key may be a misspelt action):
                    // the checks that the mistake could explain are left out for it.
                    if builder.diagnostics.len() > errors_before {
                        decoded.with_errors.insert(decoded.steps.len());
                        // A part left out for its mistake (a cart line) may have named a
                        // subscription: later references to it are not mistakes of their own.
                        salvage_names(item, &mut decoded.salvaged_names);
                    }
                    decoded.steps.push(step);
                }
                if action_failed {
                    decoded.complete = false;
                    salvage_names(item, &mut decoded.salvaged_names);
                }
            }
        }
        NodeValue::Null => {}
        _ => {
            builder.report(Diagnostic::new(builder.file, node.position, format!("found {} for `steps`", node.describe())).expected("a list of steps"));
            decoded.complete = false;
        }
    }
    decoded
}

/// The subscription and cart names a step's text gives, whether or not it decoded.
fn salvage_names(item: &Node, names: &mut BTreeSet<String>) {
    item.walk(&mut |node| {
        if let NodeValue::Mapping(entries) = &node.value {
            for (key, value) in entries {
                if matches!(key.scalar_text(), Some("name" | "cart"))
                    && let Some(text) = value.scalar_text()
                {
                    names.insert(text.to_string());
                }
            }
        }
    });
}

/// A step, with its `expect` and `check` decoded on their own: a mistake in what a step
/// expects must not hide the mistakes of its action (an undefined subscription, say), nor a
/// mistake in its action those of its `by` and `check`. The flag says the step stands
/// without its action, which had errors.
fn decode_step(builder: &mut Builder, item: &Node) -> Option<(Located<StepSection>, bool)> {
    const EXPECTATIONS: [&str; 2] = ["expect", "check"];
    let without = |keys: &[&str]| {
        let mut copy = item.clone();
        if let NodeValue::Mapping(entries) = &mut copy.value {
            entries.retain(|(key, _)| !key.scalar_text().is_some_and(|key| keys.contains(&key)));
        }
        copy
    };
    let mut action_part = without(&EXPECTATIONS);
    // `view_invoices:` with nothing after it is the action with nothing to say, as `{}` is.
    if let NodeValue::Mapping(entries) = &mut action_part.value {
        for (key, value) in entries.iter_mut() {
            if key.scalar_text() == Some("view_invoices") && value.value == NodeValue::Null {
                value.value = NodeValue::Mapping(Vec::new());
            }
        }
    }
    let (mut step, action_failed) = match builder.decode_recovering::<Located<StepSection>>(&action_part) {
        Some(step) => (step, false),
        None => {
            // The rest of the step, its action left out, for the checks of its other parts;
            // the errors already reported are not reported twice.
            let mut keys: Vec<&str> = ACTION_KEYS.to_vec();
            keys.extend(EXPECTATIONS);
            let (step, errors) = node_de::decode_recovering::<Located<StepSection>>(&without(&keys));
            builder.report_decode_errors_once(errors);
            (step?, true)
        }
    };
    let present = |key: &str| item.get(key).filter(|node| node.value != NodeValue::Null);
    if let Some(node) = present("expect") {
        step.value.expect = builder.decode_recovering(node);
    }
    if let Some(node) = present("check") {
        step.value.check = builder.decode_recovering(node);
    }
    Some((step, action_failed))
}

/// The keys of a step that are its action (one of them at most).
const ACTION_KEYS: [&str; 14] = [
    "browse",
    "add_to_cart",
    "checkout",
    "buy",
    "buy_addon",
    "set_quantity",
    "suspend",
    "reactivate",
    "cancel",
    "set_auto_renew",
    "convert_trial",
    "record_usage",
    "set_price",
    "view_invoices",
];

type DecodedCustomers = (Vec<(Located<String>, Option<Located<CustomerSection>>)>, bool);

fn decode_customers(builder: &mut Builder, node: Option<&Node>) -> DecodedCustomers {
    let mut customers = Vec::new();
    let mut complete = true;
    let Some(node) = node else { return (customers, complete) };
    match &node.value {
        NodeValue::Mapping(entries) => {
            for (key, value) in entries {
                let name = Located { value: key.scalar_text().unwrap_or_default().to_string(), position: key.position, width: key.width() as u32 };
                let section = builder.decode_recovering::<Located<CustomerSection>>(value);
                complete &= section.is_some();
                customers.push((name, section));
            }
        }
        NodeValue::Null => {}
        _ => {
            builder.report(
                Diagnostic::new(builder.file, node.position, format!("found {} for `customers`", node.describe())).expected("a mapping of customer handles"),
            );
            complete = false;
        }
    }
    (customers, complete)
}

fn load_catalog(builder: &mut Builder, node: &Node, scenario: &Path) -> Option<Catalog> {
    match &node.value {
        NodeValue::Text(relative) if !relative.trim().is_empty() => {
            let path = scenario.parent().unwrap_or(Path::new(".")).join(relative);
            match load_catalog_file(&path) {
                Ok(catalog) => Some(catalog),
                Err(diagnostics) => {
                    let reference = Located { value: relative.clone(), position: node.position, width: node.width() as u32 };
                    builder.referenced_file_failed(&reference, "catalog", &path, "a catalog file", diagnostics);
                    None
                }
            }
        }
        NodeValue::Mapping(_) => decode_catalog(builder, node),
        _ => {
            builder.report(
                Diagnostic::new(builder.file, node.position, format!("found {} for `catalog`", node.describe()))
                    .expected("a catalog file path relative to this file, or the catalog inline")
                    .width(node.width()),
            );
            None
        }
    }
}

/// A subscription handle as defined in the file.
struct HandleInfo {
    id: HandleId,
    step: usize,
    line: u32,
}

/// Resolution state while steps are checked in order.
struct Context<'b, 'a> {
    builder: &'b mut Builder<'a>,
    catalog: &'b Catalog,
    /// False when the catalog is missing or did not load: unknown offers are not reported.
    catalog_loaded: bool,
    policy: Policy,
    policy_overrides: Vec<(String, ParameterValue)>,
    partner: Partner,
    /// False when the partner's billing day was out of range (and a stand-in is used).
    billing_day_valid: bool,
    start: Instant,
    /// False when `start` was a mistake: every step's instant is then a guess.
    start_known: bool,
    users: BTreeMap<String, UserId>,
    customers: BTreeMap<String, CustomerId>,
    handles: Vec<String>,
    defined: BTreeMap<String, HandleInfo>,
    /// Every name any step defines, with its line (to say "defined later, at line N").
    all_names: BTreeMap<String, u32>,
    salvaged: BTreeSet<String>,
    carts: BTreeSet<(CustomerId, Option<String>)>,
    /// How many subscriptions the steps so far could have created (ids are handed out in
    /// order), or `None` when a population creates others: a generated id beyond it names
    /// nothing.
    subscriptions_possible: Option<u32>,
}

impl<'b, 'a> Context<'b, 'a> {
    fn new(builder: &'b mut Builder<'a>, scenario: &'b Path, head: &ScenarioFile, catalog: &'b Catalog, options: &LoadOptions) -> Self {
        // The file's own policy is resolved even when the command line names another, so
        // that a mistake in it is reported whichever policy the run uses.
        let own = resolve_policy(builder, scenario, head.policy.as_ref());
        let policy = match &options.policy {
            Some(policy) => Some(policy.clone()),
            None => own,
        };
        let mut policy = policy.unwrap_or_else(Policy::base);
        let policy_overrides = match &head.policy_overrides {
            Some(overrides) => builder.apply_parameters(&mut policy, overrides.iter()),
            None => Vec::new(),
        };
        apply_checked(&mut policy, &options.sweep, "sweep");
        let (start, start_known) = match parse_instant(&head.start.value) {
            Ok(start) => (start, true),
            Err(message) => {
                builder.error_at(&head.start, message, "a UTC instant such as 2020-07-22T09:00:00Z, or a date");
                (Instant::at_midnight(NaiveDate::from_ymd_opt(2000, 1, 1).expect("valid")), false)
            }
        };
        let billing_day_valid = BILLING_DAYS.contains(&head.partner.billing_day.value);
        let partner = build_partner(builder, &head.partner);
        let users = partner.users.iter().enumerate().map(|(i, u)| (u.handle.clone(), UserId(i as u32))).collect();
        Context {
            builder,
            catalog,
            policy,
            policy_overrides,
            partner,
            billing_day_valid,
            start,
            start_known,
            users,
            catalog_loaded: true,
            customers: BTreeMap::new(),
            handles: Vec::new(),
            defined: BTreeMap::new(),
            all_names: BTreeMap::new(),
            salvaged: BTreeSet::new(),
            subscriptions_possible: head.population.is_none().then_some(0),
            carts: BTreeSet::new(),
        }
    }

    fn customers(&mut self, decoded: &DecodedCustomers) -> (Vec<Customer>, bool) {
        let mut customers = Vec::new();
        for (name, section) in &decoded.0 {
            if name.value.trim().is_empty() {
                self.builder.error_at(name, "a customer needs a name", "a handle such as wingtip, used by the steps");
            }
            self.builder.refuse_control_characters(name, "a customer handle");
            let id = CustomerId(customers.len() as u32);
            self.customers.insert(name.value.clone(), id);
            let Some(section) = section else {
                // Reported already; a stand-in keeps the next customers' ids in step (the file
                // does not run).
                customers.push(Customer { handle: name.value.clone(), country: Country(*b"US"), segment: Segment::Commercial, opened: self.start.date() });
                continue;
            };
            let country = catalog_file::country(self.builder, &section.country);
            let segment = section.segment.as_ref().map_or(crate::engine::catalog::Segment::Commercial, |s| catalog_file::segment(s.value));
            let opened = match &section.opened {
                None => self.start.date(),
                Some(opened) => match parse_date(&opened.value) {
                    Ok(date) if date > self.start.date() => {
                        let message =
                            format!("`{}` opens the account after the scenario starts ({})", opened.value, crate::engine::time::format_date(self.start.date()));
                        self.builder.error_at(opened, message, "an opening date on or before the start: every customer exists from the start");
                        self.start.date()
                    }
                    Ok(date) => date,
                    Err(message) => {
                        self.builder.error_at(opened, message, "a date, YYYY-MM-DD");
                        self.start.date()
                    }
                },
            };
            customers.push(Customer { handle: name.value.clone(), country, segment, opened });
        }
        (customers, decoded.1)
    }

    fn instant(&mut self, text: &Located<String>) -> Option<Instant> {
        match parse_instant(&text.value) {
            Ok(instant) => Some(instant),
            Err(message) => {
                self.builder.error_at(text, message, "a UTC instant such as 2020-07-22T09:00:00Z, or a date");
                None
            }
        }
    }

    /// A population section, checked: weights, offers, quantities, rates, the acting user.
    fn population(&mut self, section: &Located<PopulationSection>) -> Option<PopulationSpec> {
        let mut ok = true;
        if !(1..=MAX_POPULATION_CUSTOMERS).contains(&section.customers.value) {
            self.builder.error_at(
                &section.customers,
                format!("{} customers is out of range", section.customers.value),
                format!("1 to {MAX_POPULATION_CUSTOMERS} customers"),
            );
            ok = false;
        }
        if !(1..=MAX_POPULATION_MONTHS).contains(&section.months.value) {
            self.builder.error_at(&section.months, format!("{} months is out of range", section.months.value), format!("1 to {MAX_POPULATION_MONTHS} months"));
            ok = false;
        }
        let mut countries = Vec::new();
        for (code, weight) in section.countries.iter().flatten() {
            countries.push((catalog_file::country(self.builder, code), weight.value));
        }
        if countries.is_empty() {
            countries.push((crate::engine::catalog::Country(*b"US"), 1));
        }
        let mut segments: Vec<(crate::engine::catalog::Segment, u32)> =
            section.segments.iter().flatten().map(|(s, w)| (catalog_file::segment(s.value), w.value)).collect();
        if segments.is_empty() {
            segments.push((crate::engine::catalog::Segment::Commercial, 1));
        }
        // Each sum is reported at its first entry: the list it is about.
        let first_country = section.countries.iter().flatten().map(|(code, _)| code.position).min_by_key(|p| (p.line, p.column));
        let first_segment = section.segments.iter().flatten().map(|(segment, _)| segment.position).min_by_key(|p| (p.line, p.column));
        let first_purchase = section.purchases.first().map(|purchase| purchase.position);
        for (what, total, at) in [
            ("countries", countries.iter().map(|(_, w)| u64::from(*w)).sum::<u64>(), first_country.unwrap_or(section.position)),
            ("segments", segments.iter().map(|(_, w)| u64::from(*w)).sum::<u64>(), first_segment.unwrap_or(section.position)),
            ("purchases", section.purchases.iter().map(|p| u64::from(p.weight.value)).sum::<u64>(), first_purchase.unwrap_or(section.position)),
        ] {
            // No purchases at all is said once, below.
            if total == 0 && !(what == "purchases" && section.purchases.is_empty()) {
                self.builder.report(
                    Diagnostic::new(self.builder.file, at, format!("the weights of the population's {what} add up to 0"))
                        .expected("at least one weight above 0"),
                );
                ok = false;
            }
        }
        let mut purchases = Vec::new();
        for purchase in &section.purchases {
            let Some(offer) = self.offer(&purchase.offer) else {
                ok = false;
                continue;
            };
            let catalog_offer = self.catalog.offer(offer);
            if catalog_offer.billing != BillingType::License {
                self.builder.error_at(&purchase.offer, format!("`{}` is usage-based; populations buy license offers", purchase.offer.value), "a license offer");
                ok = false;
                continue;
            }
            if let Some(never) = self.never_sold_to_population(catalog_offer, &countries, &segments) {
                // Every purchase would be refused whatever the policy: a mistake, not a what-if.
                self.builder.error_at(
                    &purchase.offer,
                    format!("no customer of this population can buy `{}`: {never}", purchase.offer.value),
                    "an offer its customers can buy",
                );
                ok = false;
            }
            // A Microsoft trial comes with its own licenses (TRIAL-MS): the catalog's, or the
            // policy's default, which a what-if variant may change; left out, the purchase asks
            // for none and gets them.
            let microsoft_trial = catalog_offer.is_microsoft_trial();
            let trial_licenses = purchase.quantity.is_none() && microsoft_trial;
            let fixed_by_catalog = catalog_offer.trial.as_ref().and_then(|t| t.licenses).filter(|_| microsoft_trial).map(i64::from);
            let (min, max) = match &purchase.quantity {
                Some(q) => (q.min.as_ref().map_or(1, |m| m.value), q.max.as_ref().map_or(1, |m| m.value)),
                None => (1, 1),
            };
            if let Some(licenses) = fixed_by_catalog
                && !trial_licenses
                && (min, max) != (licenses, licenses)
            {
                self.builder.report(
                    Diagnostic::new(
                        self.builder.file,
                        purchase.quantity.as_ref().map_or(purchase.position, |q| q.position),
                        format!("`{}` is a Microsoft trial of exactly {licenses} licenses (TRIAL-MS): every other quantity is refused", purchase.offer.value),
                    )
                    .expected(format!("no `quantity`, or {{min: {licenses}, max: {licenses}}}")),
                );
                ok = false;
            } else if min < 1 || max < min || max > catalog_file::MAX_QUANTITY {
                self.builder.report(
                    Diagnostic::new(self.builder.file, purchase.position, format!("the quantity range {min}..={max} is not valid")).expected("1 <= min <= max"),
                );
                ok = false;
            } else if !trial_licenses && (min < catalog_offer.quantity_min || max > catalog_offer.quantity_max) {
                // Every purchase outside the offer's bounds would be refused: a mistake, not a what-if.
                self.builder.report(
                    Diagnostic::new(
                        self.builder.file,
                        purchase.position,
                        format!(
                            "the quantity range {min}..={max} is outside {}'s {}..={}",
                            purchase.offer.value, catalog_offer.quantity_min, catalog_offer.quantity_max
                        ),
                    )
                    .expected("a range the offer can be bought in"),
                );
                ok = false;
            }
            let annual_percent = purchase.annual_percent.as_ref().map_or(0, |a| a.value);
            if annual_percent > 100 {
                let located = purchase.annual_percent.as_ref().expect("present");
                self.builder.error_at(located, format!("{annual_percent} is not a percentage"), "0 to 100");
                ok = false;
            }
            for (frequency, wanted) in [(Frequency::Annual, annual_percent > 0), (Frequency::Monthly, annual_percent < 100)] {
                if wanted && annual_percent <= 100 && !catalog_offer.frequencies.contains(&frequency) {
                    let at = purchase.annual_percent.as_ref().map_or(purchase.position, |a| a.position);
                    self.builder.report(
                        Diagnostic::new(
                            self.builder.file,
                            at,
                            format!("{} is not billed {}, but {annual_percent}% of its purchases are annual", purchase.offer.value, frequency.adverb()),
                        )
                        .expected(if frequency == Frequency::Annual {
                            "annual_percent: 0 for this offer"
                        } else {
                            "annual_percent: 100 for this offer"
                        }),
                    );
                    ok = false;
                }
            }
            purchases.push(PurchaseMix { offer, weight: purchase.weight.value, quantity_min: min, quantity_max: max, trial_licenses, annual_percent });
        }
        if section.purchases.is_empty() {
            self.builder
                .report(Diagnostic::new(self.builder.file, section.position, "the population buys nothing").expected("at least one entry in `purchases`"));
            ok = false;
        }
        let mut rate = |value: &Option<Located<DecimalText>>| -> u32 {
            let Some(value) = value else { return 0 };
            match Decimal::parse(&value.value.0) {
                Ok(decimal) if !decimal.is_negative() && decimal.scale <= 2 => {
                    let basis_points = decimal.mantissa * 10_i128.pow(2 - decimal.scale);
                    if basis_points <= 10_000 {
                        return basis_points as u32;
                    }
                    self.builder.error_at(value, format!("{} percent is more than 100", value.value.0), "a monthly rate from 0 to 100 percent");
                    ok = false;
                    0
                }
                Ok(decimal) if decimal.is_negative() => {
                    self.builder.error_at(value, format!("{} percent is negative", value.value.0), "a monthly rate from 0 to 100 percent");
                    ok = false;
                    0
                }
                _ => {
                    self.builder.error_at(
                        value,
                        format!("`{}` is not a percentage with at most two decimals", value.value.0),
                        "a monthly rate such as 2.5 (percent)",
                    );
                    ok = false;
                    0
                }
            }
        };
        let rates = match &section.monthly_rates {
            None => Rates::default(),
            Some(rates) => Rates {
                quantity_change: rate(&rates.quantity_change),
                suspend: rate(&rates.suspend),
                reactivate: rate(&rates.reactivate),
                cancel: rate(&rates.cancel),
                auto_renew_off: rate(&rates.auto_renew_off),
            },
        };
        let actor = self.user(&section.acting_user);
        let spec = PopulationSpec {
            customers: u64::try_from(section.customers.value).ok()?,
            seed: section.seed.value,
            months: u32::try_from(section.months.value).ok()?,
            countries,
            segments,
            purchases,
            rates,
            actor: actor?,
        };
        ok.then_some(spec)
    }

    /// Why no generated customer could ever buy `offer`, whatever the policy: none of the
    /// population's segments or countries is sold to, or the ISV does not sell it here.
    fn never_sold_to_population(
        &self,
        offer: &crate::engine::catalog::Offer,
        countries: &[(crate::engine::catalog::Country, u32)],
        segments: &[(Segment, u32)],
    ) -> Option<String> {
        if !segments.iter().any(|(segment, weight)| *weight > 0 && offer.segments.contains(segment)) {
            return Some("it is not sold to any of the population's segments (CAT-SEGMENT)".to_string());
        }
        if offer.is_addon && offer.trial.is_some() {
            return Some("an add-on has no trial (TRIAL-MS-ELIGIBLE)".to_string());
        }
        if offer.is_microsoft_trial() && !segments.iter().any(|(segment, weight)| *weight > 0 && !matches!(segment, Segment::Government | Segment::Education)) {
            return Some("Microsoft trials are not for the government or education segments (TRIAL-MS-ELIGIBLE)".to_string());
        }
        let isv = offer.isv.as_ref()?;
        if !isv.sold_through_csp {
            return Some("it is not sold through CSP (AVAIL-ISV-NOT-CSP)".to_string());
        }
        if !isv.transactable {
            return Some("it is not transactable in Partner Center (AVAIL-NOT-TRANSACTABLE)".to_string());
        }
        if isv.exclusive_to.as_ref().is_some_and(|partners| !partners.contains(&self.partner.id)) {
            return Some(format!("it is exclusive to other partners than {} (AVAIL-ISV-EXCLUSIVE)", self.partner.id));
        }
        if let Some(sold_in) = &isv.countries
            && !countries.iter().any(|(country, weight)| *weight > 0 && sold_in.contains(country))
        {
            return Some("it is not sold in any of the population's countries (AVAIL-ISV-COUNTRY)".to_string());
        }
        None
    }

    fn rules(&mut self, rules: &[Located<String>]) -> Vec<(Rule, u32)> {
        rules.iter().filter_map(|rule| Some((self.rule(rule)?, rule.position.line))).collect()
    }

    fn rule(&mut self, id: &Located<String>) -> Option<Rule> {
        let rule = Rule::from_id(&id.value);
        if rule.is_none() {
            self.builder.unknown_term(id, "rule ID", Rule::ALL.iter().map(|r| r.id()), "of RULES.md");
        }
        rule
    }

    fn steps(&mut self, decoded: &DecodedSteps) -> Vec<(Step, StepExpectations)> {
        self.salvaged = decoded.salvaged_names.clone();
        for step in &decoded.steps {
            for name in defined_names(step) {
                self.all_names.entry(name.value.clone()).or_insert(name.position.line);
            }
        }
        let mut previous = self.start;
        let mut previous_line = 0;
        // After a step whose `at` was a mistake, the instants of the steps relative to it are
        // guesses too, until an absolute instant sets the clock again.
        let mut time_known = self.start_known;
        let mut built = Vec::with_capacity(decoded.steps.len());
        for (index, step) in decoded.steps.iter().enumerate() {
            let (at, known) = match self.step_time(step, previous, previous_line) {
                Some(at) => {
                    // The step that set the clock, for the next step's "before the previous".
                    previous_line = step.position.line;
                    (at, time_known || step.at.as_ref().is_some_and(|at| !at.value.starts_with('+')))
                }
                None => (previous, false),
            };
            time_known = known;
            previous = at;
            // Each cart line and add-on may create a subscription (a trial's conversion keeps
            // its id); the step's own check may name them.
            let creations = step.add_to_cart.iter().count() + step.buy.iter().map(|buy| buy.items.len()).sum::<usize>() + step.buy_addon.iter().count();
            self.subscriptions_possible = self.subscriptions_possible.map(|possible| possible.saturating_add(creations as u32));
            // A step read past a mistake may have lost cart lines: no bound can be known after
            // it. Nor is one wanted where the step expects the id not to be found.
            let expects_not_found = matches!(&step.expect, Some(expect) if matches!(&expect.value, ExpectSection::Detailed(detail) if detail.rejected.as_ref().is_some_and(|code| code.value == Code::SubscriptionNotFound.name())));
            if decoded.with_errors.contains(&index) {
                self.subscriptions_possible = None;
            }
            let bound = self.subscriptions_possible;
            if expects_not_found {
                self.subscriptions_possible = None;
            }
            built.push(self.step(index, step, StepTime { at, known }, decoded.with_errors.contains(&index)));
            self.subscriptions_possible = bound;
        }
        built
    }

    /// The step's instant; `None` when its `at` is a reported mistake.
    fn step_time(&mut self, step: &Located<StepSection>, previous: Instant, previous_line: u32) -> Option<Instant> {
        let Some(at) = &step.at else { return Some(previous) };
        if at.value.starts_with('-') {
            self.builder.error_at(
                at,
                format!("`{}` would go back in time: steps only move forward", at.value),
                "+DURATION (such as +3d) or an absolute instant",
            );
            return None;
        }
        if let Some(relative) = at.value.strip_prefix('+') {
            return match Duration::parse(relative) {
                Ok(duration) => match previous.checked_add(duration).filter(|t| *t <= crate::engine::time::LATEST) {
                    Some(instant) => Some(instant),
                    None => {
                        self.builder.error_at(at, "this step would be later than the supported range", "a shorter duration");
                        None
                    }
                },
                Err(message) => {
                    self.builder.error_at(at, message, "+DURATION such as +30m, +24h, +13d or +1d12h");
                    None
                }
            };
        }
        let instant = self.instant(at)?;
        if instant < previous {
            let after =
                if previous_line == 0 { format!("the scenario's start ({previous})") } else { format!("the previous step ({previous}, line {previous_line})") };
            self.builder.error_at(at, format!("time goes backwards: {instant} is before {after}"), "an instant at or after the previous step, or +DURATION");
            return None;
        }
        Some(instant)
    }

    /// `had_errors`: the step was decoded past a reported mistake, which may be a misspelt
    /// action; the checks that mistake explains are left out.
    fn step(&mut self, index: usize, step: &Located<StepSection>, time: StepTime, had_errors: bool) -> (Step, StepExpectations) {
        let at = time.at;
        let actions = present_actions(step);
        if actions.len() > 1 {
            let names: Vec<&str> = actions.iter().map(|(name, _)| *name).collect();
            self.builder.report(
                Diagnostic::new(self.builder.file, actions[1].1, format!("a step has at most one action; this one has {}", names.join(" and ")))
                    .expected("one action per step (split it into several steps)"),
            );
        }
        let action = self.action(index, step);
        let partner_action = action.as_ref().is_some_and(|a| a.is_partner_action());
        let actor = match (&step.by, &action) {
            (Some(by), Some(_)) if partner_action => self.user(by),
            (Some(by), Some(action)) => {
                self.builder.error_at(
                    by,
                    format!("`{}` is not taken by a partner user; remove `by`", action.name()),
                    "no `by` on set_price and record_usage steps",
                );
                None
            }
            (Some(by), None) if actions.is_empty() && !had_errors => {
                self.builder.error_at(by, "a step without an action takes no `by`", "an action (buy, suspend, ...) or no `by`");
                None
            }
            (Some(by), None) => {
                // The action had errors of its own; a misspelt user is still worth reporting now.
                if !actions.iter().any(|(name, _)| matches!(*name, "set_price" | "record_usage")) {
                    let _ = self.user(by);
                }
                None
            }
            (None, Some(action)) if partner_action => {
                self.builder.report(
                    Diagnostic::new(self.builder.file, step.position, format!("`{}` needs `by`: the partner user taking the action", action.name()))
                        .expected(format!("`by:` one of {}", self.users.keys().cloned().collect::<Vec<_>>().join(", "))),
                );
                None
            }
            _ => None,
        };
        let mut expectations = StepExpectations { line: step.position.line, ..StepExpectations::default() };
        if let Some(expect) = &step.expect {
            expectations.expect = self.expectation(expect, action.as_ref(), !actions.is_empty(), had_errors);
        }
        if let Some(check) = &step.check {
            expectations.checks = self.checks(check, time);
        }
        (Step { at, actor, action }, expectations)
    }

    fn user(&mut self, by: &Located<String>) -> Option<UserId> {
        self.builder.lookup_name(&self.users, by, "partner user")
    }

    fn customer(&mut self, name: &Located<String>) -> Option<CustomerId> {
        self.builder.lookup_name(&self.customers, name, "customer")
    }

    fn offer(&mut self, name: &Located<String>) -> Option<OfferId> {
        match self.catalog.find(&name.value) {
            Some(id) => Some(id),
            // The catalog is missing or did not load (reported): offers cannot be checked.
            None if !self.catalog_loaded => None,
            None => {
                let catalog = self.catalog;
                self.builder.unknown_name(name, "offer", catalog.offers.iter().map(|o| o.id.as_str()));
                None
            }
        }
    }

    /// A subscription reference: a name defined by an earlier step (or this one, for
    /// checks), or a generated id such as `sub-0003`.
    fn subscription(&mut self, name: &Located<String>) -> Option<SubscriptionRef> {
        if let Some(info) = self.defined.get(&name.value) {
            return Some(SubscriptionRef::Handle(info.id));
        }
        // Generated ids as the outcome spells them: sub-0001, sub-12345.
        if let Some(digits) = name.value.strip_prefix("sub-").filter(|d| d.len() >= 4 && d.bytes().all(|b| b.is_ascii_digit()))
            && let Ok(number) = digits.parse::<u32>()
            && number > 0
        {
            if let Some(possible) = self.subscriptions_possible
                && number > possible
            {
                let (message, expected) = match possible {
                    0 => (
                        format!("no step up to here buys anything, so `{}` cannot exist yet", name.value),
                        "a subscription bought by an earlier step (buy, checkout or buy_addon)".to_string(),
                    ),
                    _ => (
                        format!("no step up to here can have created `{}`: they create at most {possible} subscriptions", name.value),
                        format!("a generated id from sub-0001 to sub-{possible:04}, or a name given by an earlier step's `name:`"),
                    ),
                };
                self.builder.error_at(name, message, expected);
                return None;
            }
            return Some(SubscriptionRef::Generated(number));
        }
        if self.salvaged.contains(&name.value) {
            return None; // defined by a step that was already reported as invalid
        }
        if let Some(line) = self.all_names.get(&name.value) {
            self.builder.error_at(
                name,
                format!("subscription `{}` is used before it is defined (at line {line})", name.value),
                "a name defined by an earlier step",
            );
            return None;
        }
        let known: Vec<String> = self.defined.keys().cloned().collect();
        let short_id = name.value.strip_prefix("sub-").and_then(|d| d.parse::<u32>().ok()).filter(|n| *n > 0).map(|n| format!("sub-{n:04}"));
        let suggestion = short_id.or_else(|| nearest(&name.value, known.iter().map(String::as_str)).map(str::to_string));
        let expected = if known.is_empty() {
            "a name given by an earlier step's `name:`, or a generated id such as sub-0001".to_string()
        } else {
            format!("a name defined by an earlier step ({}), or a generated id such as sub-0001", known.join(", "))
        };
        self.builder.report(
            Diagnostic::new(self.builder.file, name.position, format!("unknown subscription `{}`", name.value))
                .expected(expected)
                .suggest(suggestion)
                .width(name.width as usize),
        );
        None
    }

    fn define(&mut self, name: &Option<Located<String>>, index: usize) -> Option<HandleId> {
        let name = name.as_ref()?;
        if !self.builder.refuse_control_characters(name, "a subscription name") {
            return None;
        }
        if let Some(info) = self.defined.get(&name.value) {
            let message = format!("`{}` already names a subscription (step {}, line {})", name.value, info.step + 1, info.line);
            self.builder.error_at(name, message, "a name used once");
            return None;
        }
        if name.value.starts_with("sub-") || name.value.is_empty() {
            self.builder.error_at(
                name,
                format!("`{}` cannot be a subscription name", name.value),
                "a name that is not empty and does not look like a generated id (sub-0001)",
            );
            return None;
        }
        let id = HandleId(self.handles.len() as u32);
        self.handles.push(name.value.clone());
        self.defined.insert(name.value.clone(), HandleInfo { id, step: index, line: name.position.line });
        Some(id)
    }

    fn cart_line(
        &mut self,
        index: usize,
        offer: &Located<String>,
        quantity: &Option<Located<DecimalText>>,
        billing: &Option<Located<FrequencyName>>,
        name: &Option<Located<String>>,
    ) -> Option<CartLine> {
        let offer = self.offer(offer);
        let name = self.define(name, index);
        let quantity = self.optional_licenses(quantity)?;
        Some(CartLine { offer: offer?, quantity, billing: billing.as_ref().map(|b| catalog_file::frequency(b.value)), name })
    }

    /// A license count as written. A fraction is not a mistake in the file but a purchase
    /// the engine refuses (BUY-QUANTITY); a count that is not a number, or does not fit, is.
    fn licenses(&mut self, text: &Located<DecimalText>) -> Option<Licenses> {
        match Decimal::parse(&text.value.0) {
            Ok(decimal) if decimal.scale == 0 && Licenses(decimal).whole().is_none() => {
                self.builder.error_at(
                    text,
                    format!("the number {} is out of range", text.value.0),
                    "a whole number of at most 18 digits (the offer's quantity bounds are checked when it is bought: BUY-QUANTITY)",
                );
                None
            }
            Ok(decimal) => Some(Licenses(decimal)),
            Err(_) => {
                self.builder.error_at(text, format!("`{}` is not a number of licenses", text.value.0), "a whole number of licenses, e.g. 10");
                None
            }
        }
    }

    /// [`Self::licenses`] of an optional count: `None` when the count is a mistake.
    fn optional_licenses(&mut self, text: &Option<Located<DecimalText>>) -> Option<Option<Licenses>> {
        match text {
            None => Some(None),
            Some(text) => self.licenses(text).map(Some),
        }
    }

    fn action(&mut self, index: usize, step: &StepSection) -> Option<Action> {
        if let Some(browse) = &step.browse {
            let customer = self.customer(&browse.customer)?;
            return Some(Action::Browse {
                customer,
                publisher: browse.publisher.as_ref().map(|p| match p.value {
                    PublisherName::Microsoft => PublisherFilter::Microsoft,
                    PublisherName::Partner => PublisherFilter::Partner,
                }),
                billing: browse.billing.as_ref().map(|b| catalog_file::billing_type(b.value)),
                category: browse.category.as_ref().map(|c| catalog_file::category(c.value)),
            });
        }
        if let Some(add) = &step.add_to_cart {
            let customer = self.customer(&add.customer);
            let line = self.cart_line(index, &add.offer, &add.quantity, &add.billing, &add.name);
            let customer = customer?;
            let cart = add.cart.as_ref().map(|c| c.value.clone());
            self.carts.insert((customer, cart.clone()));
            return Some(Action::AddToCart { customer, cart: cart.map_or(CartRef::Current, CartRef::Named), line: line? });
        }
        if let Some(checkout) = &step.checkout {
            let customer = self.customer(&checkout.customer)?;
            let cart = checkout.cart.as_ref().map(|c| c.value.clone());
            if !self.carts.contains(&(customer, cart.clone())) {
                let salvaged = cart.as_ref().is_some_and(|c| self.salvaged.contains(c));
                if !salvaged {
                    let what = match &cart {
                        Some(name) => format!("cart `{name}`"),
                        None => "a cart".to_string(),
                    };
                    let at = checkout.cart.as_ref().map_or(checkout.position, |c| c.position);
                    self.builder.report(
                        Diagnostic::new(
                            self.builder.file,
                            at,
                            format!("checkout of {what} that no earlier add_to_cart filled for `{}`", checkout.customer.value),
                        )
                        .expected("an add_to_cart step for this customer and cart before the checkout"),
                    );
                }
                return None;
            }
            return Some(Action::Checkout { customer, cart: cart.map_or(CartRef::Current, CartRef::Named) });
        }
        if let Some(buy) = &step.buy {
            let customer = self.customer(&buy.customer);
            if buy.items.is_empty() {
                self.builder.report(
                    Diagnostic::new(self.builder.file, buy.position, "`buy` has no items").expected("at least one item: {offer, quantity?, billing?, name?}"),
                );
            }
            let lines: Vec<Option<CartLine>> =
                buy.items.iter().map(|item| self.cart_line(index, &item.offer, &item.quantity, &item.billing, &item.name)).collect();
            let lines: Option<Vec<CartLine>> = lines.into_iter().collect();
            return Some(Action::Buy { customer: customer?, lines: lines? });
        }
        if let Some(addon) = &step.buy_addon {
            let base = self.subscription(&addon.base);
            let offer = self.offer(&addon.offer);
            let name = self.define(&addon.name, index);
            let quantity = self.optional_licenses(&addon.quantity)?;
            return Some(Action::BuyAddon { base: base?, offer: offer?, quantity, name });
        }
        if let Some(set) = &step.set_quantity {
            let subscription = self.subscription(&set.subscription)?;
            let quantity = self.licenses(&set.quantity);
            return Some(Action::SetQuantity { subscription, quantity: quantity? });
        }
        if let Some(suspend) = &step.suspend {
            let (name, reason) = match &suspend.value {
                NameOr::Name(name) => (Located { value: name.clone(), position: suspend.position, width: suspend.width }, None),
                NameOr::Full(full) => (full.subscription.clone(), full.reason.as_ref().map(|r| r.value)),
            };
            let subscription = self.subscription(&name)?;
            let reason = match reason {
                None | Some(ReasonName::CustomerRequest) => SuspendReason::CustomerRequest,
                Some(ReasonName::Nonpayment) => SuspendReason::Nonpayment,
                Some(ReasonName::Fraud) => SuspendReason::Fraud,
            };
            return Some(Action::Suspend { subscription, reason });
        }
        let named = |action: &Located<NameOr<SubscriptionAction>>| match &action.value {
            NameOr::Name(name) => Located { value: name.clone(), position: action.position, width: action.width },
            NameOr::Full(full) => full.subscription.clone(),
        };
        if let Some(reactivate) = &step.reactivate {
            return Some(Action::Reactivate { subscription: self.subscription(&named(reactivate))? });
        }
        if let Some(cancel) = &step.cancel {
            return Some(Action::Cancel { subscription: self.subscription(&named(cancel))? });
        }
        if let Some(set) = &step.set_auto_renew {
            return Some(Action::SetAutoRenew { subscription: self.subscription(&set.subscription)?, enabled: set.enabled.value });
        }
        if let Some(convert) = &step.convert_trial {
            let (name, quantity, billing) = match &convert.value {
                NameOr::Name(name) => (Located { value: name.clone(), position: convert.position, width: convert.width }, None, None),
                NameOr::Full(full) => {
                    (full.subscription.clone(), self.optional_licenses(&full.quantity)?, full.billing.as_ref().map(|b| catalog_file::frequency(b.value)))
                }
            };
            return Some(Action::ConvertTrial { subscription: self.subscription(&name)?, quantity, billing });
        }
        if let Some(usage) = &step.record_usage {
            let subscription = self.subscription(&usage.subscription);
            let units = match Decimal::parse(&usage.units.value.0) {
                Ok(units) if units.is_negative() => {
                    self.builder.error_at(&usage.units, "usage cannot be negative", "zero or more units");
                    None
                }
                Ok(units) => Some(units),
                Err(message) => {
                    self.builder.error_at(&usage.units, message, "a number of units, e.g. 120 or 12.5");
                    None
                }
            };
            return Some(Action::RecordUsage { subscription: subscription?, units: units? });
        }
        if let Some(set) = &step.set_price {
            let offer = self.offer(&set.offer);
            let price = self.money(&set.price, false);
            return Some(Action::SetPrice { offer: offer?, price: price? });
        }
        if step.view_invoices.is_some() {
            return Some(Action::ViewInvoices);
        }
        None
    }

    fn money(&mut self, text: &Located<MoneyText>, allow_negative: bool) -> Option<Money> {
        match Money::parse(&text.value.0) {
            Ok(amount) if amount.is_negative() && !allow_negative => {
                self.builder.error_at(text, "a price cannot be negative", "an amount of zero or more");
                None
            }
            Ok(amount) if amount.cents() % self.catalog.smallest_amount.cents().max(1) != 0 => {
                self.builder.error_at(text, format!("{} has no minor unit: amounts are whole", self.catalog.currency), "a whole amount, e.g. 1500");
                None
            }
            Ok(amount) => Some(amount),
            Err(message) => {
                self.builder.error_at(text, message, "an amount with at most two decimals, e.g. 12.50");
                None
            }
        }
    }

    fn code(&mut self, text: &Located<String>) -> Option<Code> {
        // Partner Center's number stands for its code (`rejected: 27006`), as users read
        // refusals in Partner Center's own messages.
        if let Ok(number) = text.value.trim().parse::<u32>() {
            let codes: Vec<Code> = Code::ALL.iter().copied().filter(|code| code.partner_center_number() == Some(number)).collect();
            if let [code] = codes[..] {
                return Some(code);
            }
            let numbered: Vec<String> = Code::ALL.iter().filter_map(|code| code.partner_center_number().map(|n| format!("{n} ({})", code.name()))).collect();
            self.builder.error_at(
                text,
                format!("no refusal has Partner Center number {number}"),
                format!("a refusal code, or one of the numbers {}", numbered.join(", ")),
            );
            return None;
        }
        let code = Code::from_name(&text.value);
        if code.is_none() {
            self.builder.unknown_term(text, "refusal code", Code::ALL.iter().map(|c| c.name()), "(docs/REFERENCE.md lists them)");
        }
        code
    }

    fn expectation(&mut self, expect: &Located<ExpectSection>, action: Option<&Action>, has_action: bool, had_errors: bool) -> Option<(Position, Expectation)> {
        // A step with a reported mistake may have a misspelt action: not a second error.
        if !has_action && had_errors {
            return None;
        }
        if !has_action {
            self.builder.report(
                Diagnostic::new(self.builder.file, expect.position, "`expect` on a step without an action")
                    .expected("`expect` only with an action; use `check` for state"),
            );
            return None;
        }
        let expectation = match &expect.value {
            ExpectSection::Ok => Expectation::Ok,
            ExpectSection::Detailed(detail) => {
                let is_browse = matches!(action, Some(Action::Browse { .. }));
                let browse_parts = detail.available.is_some() || detail.unavailable.is_some() || detail.hidden.is_some();
                match (&detail.rejected, &detail.available, &detail.unavailable) {
                    (Some(code), _, _) if !browse_parts => Expectation::Rejected(self.code(code)?),
                    (None, available, unavailable) if browse_parts => {
                        if !is_browse && action.is_some() {
                            self.builder.report(
                                Diagnostic::new(self.builder.file, expect.position, "`available` and `unavailable` are for browse steps")
                                    .expected("`ok` or `{rejected: CODE}`"),
                            );
                            return None;
                        }
                        let available: Vec<Option<(Position, OfferId)>> =
                            available.iter().flatten().map(|o| self.offer(o).map(|id| (o.position, id))).collect();
                        let mut pairs = Vec::new();
                        for (offer, code) in unavailable.iter().flatten() {
                            let position = offer.position;
                            let offer = self.offer(offer);
                            let code = self.code(code);
                            pairs.push(offer.zip(code).map(|(offer, code)| (position, offer, code)));
                        }
                        let hidden: Vec<Option<(Position, OfferId)>> =
                            detail.hidden.iter().flatten().map(|o| self.offer(o).map(|id| (o.position, id))).collect();
                        Expectation::Browse {
                            available: available.into_iter().collect::<Option<_>>()?,
                            unavailable: pairs.into_iter().collect::<Option<_>>()?,
                            hidden: hidden.into_iter().collect::<Option<_>>()?,
                        }
                    }
                    _ => {
                        self.builder.report(
                            Diagnostic::new(
                                self.builder.file,
                                expect.position,
                                "`expect` must say either `rejected` or, for browse, `available`/`unavailable`/`hidden`",
                            )
                            .expected("`ok`, `{rejected: CODE}` or `{available: [...], unavailable: {offer: CODE}, hidden: [...]}`"),
                        );
                        return None;
                    }
                }
            }
        };
        Some((expect.position, expectation))
    }

    fn checks(&mut self, check: &Located<CheckSection>, time: StepTime) -> Vec<Check> {
        let at = time.at;
        let mut checks = Vec::new();
        for (name, fields) in check.subscriptions.iter().flatten() {
            let subscription = self.subscription(name);
            for (field, value) in fields {
                let Some(known) = subscription_fields().iter().find(|f| **f == field.value) else {
                    self.builder.unknown_term(field, "subscription field", subscription_fields().iter().copied(), "(the columns of subscriptions.csv)");
                    continue;
                };
                let Some(expected) = self.field_value(known, value) else { continue };
                if let Some(subscription) = subscription {
                    checks.push(Check { position: value.position, kind: CheckKind::Field { subscription, label: name.value.clone(), field: known, expected } });
                }
            }
        }
        for invoice in check.invoices.iter().flatten() {
            let date = match parse_date(&invoice.date.value) {
                Ok(date) => Some(date),
                Err(message) => {
                    self.builder.error_at(&invoice.date, message, "the invoice's date, YYYY-MM-DD");
                    None
                }
            };
            // An invoice is issued at 00:00 of its date: one dated after the step's instant, or
            // before the start, can never be on the list the check looks at.
            if let Some(date) = date
                && time.known
                && (date > at.date() || date < self.start.date())
            {
                let when = if date > at.date() { format!("after this step ({at})") } else { format!("before the scenario starts ({})", self.start) };
                self.builder.error_at(
                    &invoice.date,
                    format!("the invoice of {} is {when}: it is not issued yet", invoice.date.value),
                    "the date of an invoice issued by this step's instant",
                );
            }
            if let Some(date) = date
                && self.billing_day_valid
                && date.day() != self.partner.billing_day
            {
                self.builder.error_at(
                    &invoice.date,
                    format!(
                        "{} is not a billing date: this partner's invoices are issued on day {} of each month",
                        invoice.date.value, self.partner.billing_day
                    ),
                    format!("a date on day {} (BILL-DATE)", self.partner.billing_day),
                );
            }
            let total_position = invoice.total.as_ref().map(|t| t.position);
            let total = invoice.total.as_ref().map(|t| self.money(t, true));
            let mut lines = Vec::new();
            let mut complete = true;
            for line in invoice.lines.iter().flatten() {
                match self.line_expectation(line) {
                    Some(line) => lines.push(line),
                    None => complete = false,
                }
            }
            if let (Some(date), true) = (date, complete) {
                let total = match total {
                    Some(None) => continue,
                    Some(Some(total)) => Some((total_position.expect("a total has a place"), total)),
                    None => None,
                };
                checks.push(Check { position: invoice.position, kind: CheckKind::Invoice { date, total, lines } });
            }
        }
        checks
    }

    fn line_expectation(&mut self, line: &Located<LineCheck>) -> Option<LineExpectation> {
        let subscription = self.subscription(&line.subscription);
        let kind = line.kind.as_ref().map(|kind| {
            LineKind::from_name(&kind.value).or_else(|| {
                self.builder.unknown_term(kind, "line kind", LineKind::ALL.iter().map(|k| k.name()), "");
                None
            })
        });
        let mut date = |text: &Option<Located<String>>| {
            text.as_ref().map(|text| match parse_date(&text.value) {
                Ok(date) => Some(date),
                Err(message) => {
                    self.builder.error_at(text, message, "a date, YYYY-MM-DD");
                    None
                }
            })
        };
        let from = date(&line.from);
        let to = date(&line.to);
        if let (Some(Some(first)), Some(Some(last)), Some(located)) = (from, to, &line.to)
            && first > last
        {
            self.builder.error_at(
                located,
                format!("the line's period ends ({last}) before it starts ({first})"),
                "`to` on or after `from` (both days are in the period)",
            );
        }
        let quantity = line.quantity.as_ref().map(|q| match Decimal::parse(&q.value.0) {
            Ok(quantity) => Some(quantity),
            Err(message) => {
                self.builder.error_at(q, message, "a quantity");
                None
            }
        });
        let unit_price = line.unit_price.as_ref().map(|p| self.money(p, true));
        let rule = line.rule.as_ref().map(|r| self.rule(r));
        let amount = self.money(&line.amount, true);
        fn flip<T>(value: Option<Option<T>>) -> Option<Option<T>> {
            match value {
                None => Some(None),
                Some(None) => None,
                Some(Some(v)) => Some(Some(v)),
            }
        }
        Some(LineExpectation {
            position: line.position,
            subscription: subscription?,
            label: line.subscription.value.clone(),
            kind: flip(kind)?,
            from: flip(from)?,
            to: flip(to)?,
            quantity: flip(quantity)?,
            unit_price: flip(unit_price)?,
            days: line.days.as_ref().map(|d| d.value),
            rule: flip(rule)?,
            amount: amount?,
        })
    }

    /// Normalizes an expected field value to the text `subscriptions.csv` would show.
    fn field_value(&mut self, field: &str, value: &Located<ScalarText>) -> Option<String> {
        let text = value.value.0.trim();
        let choice = |builder: &mut Builder, names: &[&str]| -> Option<String> {
            if text.is_empty() || names.contains(&text) {
                return Some(text.to_string());
            }
            let located = Located { value: text.to_string(), position: value.position, width: value.width };
            builder.unknown_term(&located, &format!("{field} value"), names.iter().copied(), "");
            None
        };
        match field {
            "status" => choice(self.builder, crate::engine::state::Status::NAMES),
            "billing" => choice(self.builder, &["monthly", "annual"]),
            "access" => choice(self.builder, &["full", "admins-only", "none"]),
            "auto_renew" | "cancel_scheduled" => choice(self.builder, &["true", "false"]),
            "quantity" => match text.parse::<i64>() {
                Ok(n) => Some(n.to_string()),
                Err(_) if text.is_empty() => Some(String::new()),
                Err(_) => {
                    self.builder.error_at(value, format!("`{text}` is not a quantity"), "a whole number");
                    None
                }
            },
            "term_start" | "term_end" | "trial_end" | "deletion_date" => {
                if text.is_empty() {
                    return Some(String::new());
                }
                match parse_date(text) {
                    Ok(date) => Some(crate::engine::time::format_date(date)),
                    Err(message) => {
                        self.builder.error_at(value, message, "a date, YYYY-MM-DD");
                        None
                    }
                }
            }
            "suspended_at" | "ordered_at" => {
                if text.is_empty() {
                    return Some(String::new());
                }
                match parse_instant(text) {
                    Ok(instant) => Some(instant.to_string()),
                    Err(message) => {
                        self.builder.error_at(value, message, "a UTC instant such as 2021-05-10T12:00:00Z");
                        None
                    }
                }
            }
            "offer" => {
                if !text.is_empty() && self.catalog.find(text).is_none() {
                    let located = Located { value: text.to_string(), position: value.position, width: value.width };
                    self.offer(&located);
                    return None;
                }
                Some(text.to_string())
            }
            "customer" => {
                if !text.is_empty() && !self.customers.contains_key(text) {
                    let located = Located { value: text.to_string(), position: value.position, width: value.width };
                    self.customer(&located);
                    return None;
                }
                Some(text.to_string())
            }
            // A parent is a subscription: a name defined earlier, or a generated id.
            "parent" if !text.is_empty() => {
                let located = Located { value: text.to_string(), position: value.position, width: value.width };
                self.subscription(&located)?;
                Some(text.to_string())
            }
            _ => Some(text.to_string()),
        }
    }
}

/// The names a step defines (`name:` of its purchases).
fn defined_names(step: &StepSection) -> Vec<&Located<String>> {
    let mut names = Vec::new();
    if let Some(add) = &step.add_to_cart {
        names.extend(add.name.as_ref());
    }
    if let Some(buy) = &step.buy {
        names.extend(buy.items.iter().filter_map(|i| i.name.as_ref()));
    }
    if let Some(addon) = &step.buy_addon {
        names.extend(addon.name.as_ref());
    }
    names
}

fn present_actions(step: &StepSection) -> Vec<(&'static str, Position)> {
    let mut present = Vec::new();
    let mut add = |name: &'static str, position: Option<Position>| {
        if let Some(position) = position {
            present.push((name, position));
        }
    };
    add("browse", step.browse.as_ref().map(|a| a.position));
    add("add_to_cart", step.add_to_cart.as_ref().map(|a| a.position));
    add("checkout", step.checkout.as_ref().map(|a| a.position));
    add("buy", step.buy.as_ref().map(|a| a.position));
    add("buy_addon", step.buy_addon.as_ref().map(|a| a.position));
    add("set_quantity", step.set_quantity.as_ref().map(|a| a.position));
    add("suspend", step.suspend.as_ref().map(|a| a.position));
    add("reactivate", step.reactivate.as_ref().map(|a| a.position));
    add("cancel", step.cancel.as_ref().map(|a| a.position));
    add("set_auto_renew", step.set_auto_renew.as_ref().map(|a| a.position));
    add("convert_trial", step.convert_trial.as_ref().map(|a| a.position));
    add("record_usage", step.record_usage.as_ref().map(|a| a.position));
    add("set_price", step.set_price.as_ref().map(|a| a.position));
    add("view_invoices", step.view_invoices.as_ref().map(|a| a.position));
    present
}

fn resolve_policy(builder: &mut Builder, scenario: &Path, name: Option<&Located<String>>) -> Option<Policy> {
    let Some(name) = name else { return builtin::find("csp-2020") };
    if let Some(policy) = builtin::find(&name.value) {
        return Some(policy);
    }
    let looks_like_path = name.value.contains('/') || name.value.ends_with(".yaml") || name.value.ends_with(".yml");
    if !looks_like_path {
        builder.unknown_term(name, "built-in policy", builtin::names(), "");
        return None;
    }
    let path = scenario.parent().unwrap_or(Path::new(".")).join(&name.value);
    match load_policy_file(&path) {
        Ok(policy) => Some(policy),
        Err(diagnostics) => {
            builder.referenced_file_failed(name, "policy file", &path, "a built-in policy name or a policy file", diagnostics);
            None
        }
    }
}

fn build_partner(builder: &mut Builder, section: &PartnerSection) -> Partner {
    let program = match section.program.value {
        ProgramName::DirectBill => Program::DirectBill,
        ProgramName::IndirectProvider => Program::IndirectProvider,
        ProgramName::IndirectReseller => Program::IndirectReseller,
    };
    let cloud = match section.cloud.as_ref().map(|c| c.value) {
        None | Some(CloudName::Commercial) => Cloud::Commercial,
        Some(CloudName::UsGovernment) => Cloud::UsGovernment,
    };
    if cloud == Cloud::UsGovernment && program != Program::DirectBill {
        builder.error_at(
            &section.program,
            format!("the US Government cloud has no indirect model: an {} partner cannot be in it (PARTNER-PROGRAM)", program.name()),
            "program: direct-bill with cloud: us-government",
        );
    }
    let billing_day = section.billing_day.value;
    if !BILLING_DAYS.contains(&billing_day) {
        builder.error_at(&section.billing_day, format!("billing day {billing_day} is out of range"), "a day of month from 1 to 28");
    }
    if section.id.value.trim().is_empty() {
        builder.error_at(&section.id, "the partner id is empty", "the partner's id, e.g. contoso");
    }
    for handle in section.users.keys() {
        if handle.value.trim().is_empty() {
            builder.error_at(handle, "a user needs a name", "a handle such as ana, used by the steps' `by`");
        }
        builder.refuse_control_characters(handle, "a user handle");
    }
    builder.refuse_control_characters(&section.id, "the partner id");
    for roles in section.users.values().filter(|roles| roles.value.0.is_empty()) {
        builder.error_at(roles, "a user with no roles can do nothing (ROLE-MATRIX: a user holds one or more roles)", "a role, or a list of roles");
    }
    let users = section
        .users
        .iter()
        .map(|(handle, roles)| User {
            handle: handle.value.clone(),
            roles: roles
                .value
                .0
                .iter()
                .map(|role| match role {
                    RoleName::GlobalAdmin => Role::GlobalAdmin,
                    RoleName::AdminAgent => Role::AdminAgent,
                    RoleName::SalesAgent => Role::SalesAgent,
                    RoleName::HelpdeskAgent => Role::HelpdeskAgent,
                    RoleName::BillingAdmin => Role::BillingAdmin,
                })
                .collect(),
        })
        .collect();
    Partner { id: section.id.value.clone(), program, cloud, billing_day: billing_day.clamp(*BILLING_DAYS.start(), *BILLING_DAYS.end()), users }
}

/// The days of the month a partner's billing day may be (BILL-DATE): days every month has.
const BILLING_DAYS: std::ops::RangeInclusive<u32> = 1..=28;

/// When a step happens, and whether that is known: a step whose `at` is a reported mistake
/// (or is relative to one) stands in at the previous instant, and its checks that depend on
/// the instant are left out.
#[derive(Clone, Copy)]
struct StepTime {
    at: Instant,
    known: bool,
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_action_keys_are_the_steps_fields_but_its_time_actor_and_expectations() {
        let schema: serde_json::Value = serde_json::from_str(&crate::scenario::model::schema_json(crate::scenario::model::SchemaKind::Scenario)).unwrap();
        let mut fields: Vec<&str> = schema["$defs"]["StepSection"]["properties"].as_object().unwrap().keys().map(String::as_str).collect();
        fields.retain(|field| !["at", "by", "expect", "check"].contains(field));
        let mut listed = super::ACTION_KEYS.to_vec();
        fields.sort_unstable();
        listed.sort_unstable();
        assert_eq!(fields, listed);
    }

    #[test]
    fn the_scenario_keys_are_those_of_the_file_model() {
        let schema: serde_json::Value = serde_json::from_str(&crate::scenario::model::schema_json(crate::scenario::model::SchemaKind::Scenario)).unwrap();
        let mut keys: Vec<&str> = schema["properties"].as_object().unwrap().keys().map(String::as_str).collect();
        let mut listed = super::SCENARIO_KEYS.to_vec();
        keys.sort_unstable();
        listed.sort_unstable();
        assert_eq!(keys, listed);
    }
}
