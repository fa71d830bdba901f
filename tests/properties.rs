//! Property tests over random sequences of partner actions and clock moves (RULES.md
//! invariants and billing identities). A failing case is shrunk and printed as a scenario file
//! that `cspsim explain` can run.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use chrono::NaiveDate;
use cspsim::engine::Limits;
use cspsim::engine::catalog::{Catalog, Country, Frequency, LimitKind, OfferId, Segment};
use cspsim::engine::money::{Decimal, Money};
use cspsim::engine::observe::{EventKind, EventResult, LineKind, Subject, SubscriptionId};
use cspsim::engine::script::{
    Action, CartLine, Cloud, Customer, CustomerId, Licenses, Partner, Program, Script, Step, SubscriptionRef, SuspendReason, User, UserId,
};
use cspsim::engine::state::Status;
use cspsim::engine::time::{Duration, Instant, parse_instant};
use cspsim::outcome::{Outcome, record};
use cspsim::policy::Role;
use cspsim::scenario::builtin_policies as builtin;
use cspsim::scenario::catalog_file::load_catalog_file;
use cspsim::scenario::write::{StepChecks, script_to_yaml, script_to_yaml_with_checks};
use proptest::prelude::*;

/// The standard catalog, read once for all cases.
fn catalog() -> Catalog {
    static STANDARD: std::sync::LazyLock<Catalog> = std::sync::LazyLock::new(|| {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/catalogs/standard.yaml");
        load_catalog_file(&path).expect("the standard catalog loads")
    });
    STANDARD.clone()
}

fn offer(catalog: &Catalog, id: &str) -> OfferId {
    catalog.find(id).unwrap_or_else(|| panic!("{id} is in the standard catalog"))
}

/// One generated partner action or clock move.
#[derive(Clone, Debug)]
enum Op {
    Wait {
        minutes: u32,
    },
    Buy {
        offer: usize,
        quantity: i64,
        annual: bool,
    },
    Addon {
        base: u32,
        quantity: i64,
    },
    /// `half`: ask for `quantity` and a half licenses, which BUY-QUANTITY refuses.
    SetQuantity {
        subscription: u32,
        quantity: i64,
        half: bool,
    },
    Suspend {
        subscription: u32,
    },
    Reactivate {
        subscription: u32,
    },
    Cancel {
        subscription: u32,
    },
    AutoRenew {
        subscription: u32,
        enabled: bool,
    },
    Convert {
        subscription: u32,
        quantity: Option<i64>,
    },
    SetPrice {
        offer: usize,
        cents: i64,
    },
}

fn op() -> impl Strategy<Value = Op> {
    let subscription = 1..7_u32;
    prop_oneof![
        4 => (0..(90 * 24 * 60_u32)).prop_map(|minutes| Op::Wait { minutes }),
        1 => (0..(3 * 24 * 60_u32)).prop_map(|minutes| Op::Wait { minutes }),
        3 => (0..9_usize, prop_oneof![Just(1_i64), 1..40_i64, Just(0_i64), Just(301_i64)], any::<bool>())
            .prop_map(|(offer, quantity, annual)| Op::Buy { offer, quantity, annual }),
        1 => (subscription.clone(), 1..20_i64).prop_map(|(base, quantity)| Op::Addon { base, quantity }),
        2 => (subscription.clone(), 0..60_i64, proptest::bool::weighted(0.1)).prop_map(|(subscription, quantity, half)| Op::SetQuantity { subscription, quantity, half }),
        2 => subscription.clone().prop_map(|subscription| Op::Suspend { subscription }),
        2 => subscription.clone().prop_map(|subscription| Op::Reactivate { subscription }),
        1 => subscription.clone().prop_map(|subscription| Op::Cancel { subscription }),
        1 => (subscription.clone(), any::<bool>()).prop_map(|(subscription, enabled)| Op::AutoRenew { subscription, enabled }),
        1 => (subscription, proptest::option::of(1..40_i64)).prop_map(|(subscription, quantity)| Op::Convert { subscription, quantity }),
        1 => (0..9_usize, 0..5000_i64).prop_map(|(offer, cents)| Op::SetPrice { offer, cents }),
    ]
}

const STARTS: [&str; 5] = ["2021-01-15T10:00:00Z", "2021-01-31T23:30:00Z", "2024-02-29T08:00:00Z", "2020-07-22T09:00:00Z", "2019-12-31T00:00:00Z"];

fn partner(billing_day: u32) -> Partner {
    Partner {
        id: "contoso".into(),
        program: Program::DirectBill,
        cloud: Cloud::Commercial,
        billing_day,
        users: vec![User { handle: "ana".into(), roles: vec![Role::GlobalAdmin] }],
    }
}

fn customer(start: Instant) -> Customer {
    Customer { handle: "wingtip".into(), country: Country(*b"US"), segment: Segment::Commercial, opened: start.date() }
}

const POLICIES: [&str; 4] = ["csp-2020", "nce-2022", "marketplace-72h", "sovereign-60d"];

fn build(catalog: &Catalog, start: &str, billing_day: u32, ops: &[Op]) -> Script {
    build_under(catalog, "csp-2020", start, billing_day, ops)
}

fn build_under(catalog: &Catalog, policy: &str, start: &str, billing_day: u32, ops: &[Op]) -> Script {
    let start = parse_instant(start).unwrap();
    let mut at = start;
    let mut steps = Vec::new();
    let actor = Some(UserId(0));
    let reference = SubscriptionRef::Generated;
    for op in ops {
        let action = match op {
            Op::Wait { minutes } => {
                at = at.checked_add(Duration::from_seconds(i64::from(*minutes) * 60)).unwrap();
                steps.push(Step { at, actor: None, action: None });
                continue;
            }
            Op::Buy { offer, quantity, annual } => {
                let offer = OfferId(*offer as u32 % catalog.offers.len() as u32);
                let billing = if *annual { Some(Frequency::Annual) } else { None };
                let quantity = if catalog.offer(offer).billing == cspsim::engine::catalog::BillingType::Usage { None } else { Some(*quantity) };
                Action::Buy { customer: CustomerId(0), lines: vec![CartLine { offer, quantity: quantity.map(Into::into), billing, name: None }] }
            }
            Op::Addon { base, quantity } => {
                Action::BuyAddon { base: reference(*base), offer: offer(catalog, "m365-compliance"), quantity: Some((*quantity).into()), name: None }
            }
            Op::SetQuantity { subscription, quantity, half } => {
                let licenses = if *half { Licenses(Decimal { mantissa: i128::from(*quantity) * 10 + 5, scale: 1 }) } else { (*quantity).into() };
                Action::SetQuantity { subscription: reference(*subscription), quantity: licenses }
            }
            Op::Suspend { subscription } => Action::Suspend { subscription: reference(*subscription), reason: SuspendReason::Nonpayment },
            Op::Reactivate { subscription } => Action::Reactivate { subscription: reference(*subscription) },
            Op::Cancel { subscription } => Action::Cancel { subscription: reference(*subscription) },
            Op::AutoRenew { subscription, enabled } => Action::SetAutoRenew { subscription: reference(*subscription), enabled: *enabled },
            Op::Convert { subscription, quantity } => {
                Action::ConvertTrial { subscription: reference(*subscription), quantity: quantity.map(Into::into), billing: None }
            }
            Op::SetPrice { offer, cents } => Action::SetPrice { offer: OfferId(*offer as u32 % catalog.offers.len() as u32), price: Money::from_cents(*cents) },
        };
        let actor = if matches!(action, Action::SetPrice { .. }) { None } else { actor };
        steps.push(Step { at, actor, action: Some(action) });
    }
    Script {
        policy: Arc::new(builtin::find(policy).unwrap()),
        catalog: Arc::new(catalog.clone()),
        partner: Arc::new(partner(billing_day)),
        customers: vec![customer(start)],
        start,
        // Long enough after the last step for every retention period to run out.
        until: Some(at.checked_add(Duration::from_days(400)).unwrap()),
        steps,
        handles: Vec::new(),
    }
}

fn run(script: &Script) -> Outcome {
    let every_step = (0..script.steps.len()).collect();
    let lines = vec![0; script.steps.len()];
    record("generated", script.clone(), &lines, every_step, Limits::default()).expect("generated scripts run")
}

fn states(outcome: &Outcome) -> Vec<(Instant, Vec<cspsim::engine::state::Subscription>)> {
    let mut states: Vec<_> = outcome.checkpoints.iter().map(|c| (outcome.steps[c.step].at, c.subscriptions.clone())).collect();
    states.push((outcome.end, outcome.subscriptions.clone()));
    states
}

fn scenario_text(script: &Script) -> String {
    format!(
        "\n--- the failing sequence as a scenario (save it and run `cspsim explain` on it) ---\n{}--- end of scenario ---\n",
        script_to_yaml(script, "shrunk property-test failure")
    )
}

/// The failing sequence as a scenario whose step `step` checks that the subscriptions are as
/// `expected` says: `cspsim run` on it fails where the property does.
fn scenario_checking(script: &Script, step: usize, expected: &[(SubscriptionId, Vec<(&'static str, String)>)]) -> String {
    if step >= script.steps.len() {
        return scenario_text(script); // after the last step: nothing to hang a check on
    }
    let mut checks = StepChecks::new();
    checks.insert(step, expected.iter().map(|(id, fields)| (id.display(), fields.clone())).collect());
    format!(
        "\n--- the failing sequence as a scenario (save it; `cspsim run` fails on its check, `cspsim explain` shows why) ---\n{}--- end of scenario ---\n",
        script_to_yaml_with_checks(script, "shrunk property-test failure", &checks)
    )
}

/// The fields a check compares for a subscription in `state`.
fn fields_of(subscription: &cspsim::engine::state::Subscription) -> Vec<(&'static str, String)> {
    vec![
        ("status", subscription.status.name().to_string()),
        ("quantity", subscription.quantity.to_string()),
        ("auto_renew", subscription.auto_renew.to_string()),
    ]
}

fn config(cases: u32) -> ProptestConfig {
    // Failures found anywhere are kept in tests/properties.proptest-regressions and replayed first.
    ProptestConfig { cases, max_shrink_iters: 2000, ..ProptestConfig::default() }
}

proptest! {
    #![proptest_config(config(1000))]

    #[test]
    fn lifecycle_invariants_hold(policy in 0..POLICIES.len(), start in 0..STARTS.len(), billing_day in 1..=28_u32, ops in proptest::collection::vec(op(), 1..24)) {
        let catalog = catalog();
        let script = build_under(&catalog, POLICIES[policy], STARTS[start], billing_day, &ops);
        let outcome = run(&script);
        let states = states(&outcome);

        // Replaying the same sequence gives the same outcome.
        prop_assert_eq!(outcome.to_yaml(), run(&script).to_yaml(), "{}", scenario_text(&script));

        for (index, (at, subscriptions)) in states.iter().enumerate() {
            for subscription in subscriptions {
                // A deleted subscription never changes again.
                if subscription.status == Status::Deleted {
                    for (later_step, (_, later)) in states.iter().enumerate().skip(index) {
                        prop_assert_eq!(&later[subscription.id.0 as usize], subscription, "{} changed after deletion{}", subscription.id.display(), scenario_checking(&script, later_step, &[(subscription.id, fields_of(subscription))]));
                    }
                }
                // An add-on is never active while its base is not, and goes with a deleted base.
                if let Some(parent) = subscription.parent {
                    let base = subscriptions[parent.0 as usize].status;
                    if subscription.status == Status::Active {
                        prop_assert_eq!(base, Status::Active, "add-on {} active without its base at {}{}", subscription.id.display(), at, scenario_checking(&script, index, &[(subscription.id, vec![("status", base.name().to_string())])]));
                    }
                    if base == Status::Deleted {
                        prop_assert_eq!(subscription.status, Status::Deleted, "add-on {} outlives its base at {}{}", subscription.id.display(), at, scenario_checking(&script, index, &[(subscription.id, vec![("status", "deleted".to_string())])]));
                    }
                }
            }
            // A limited offer never has more counting subscriptions than its limit.
            let mut counts: BTreeMap<OfferId, u32> = BTreeMap::new();
            for subscription in subscriptions {
                if let Some(limit) = catalog.offer(subscription.offer).limit {
                    let counts_now = match limit.kind { LimitKind::Concurrent => subscription.is_live(), LimitKind::Lifetime => true };
                    if counts_now { *counts.entry(subscription.offer).or_default() += 1; }
                }
            }
            for (offer, count) in counts {
                prop_assert!(count <= catalog.offer(offer).limit.unwrap().count, "{} over its limit{}", catalog.offer(offer).id, scenario_text(&script));
            }
        }

        // A suspended subscription is deleted on its deletion date unless reactivated before.
        for (index, (at, subscriptions)) in states.iter().enumerate() {
            for subscription in subscriptions.iter().filter(|s| s.status == Status::Suspended) {
                // nce-2022 keeps a suspended subscription until its term ends: no date to check.
                let Some(deletion) = subscription.deletion_at else { continue };
                let Some(later_index) = states[index..].iter().position(|(later_at, _)| *later_at >= deletion).map(|offset| index + offset) else { continue };
                let later = &states[later_index].1;
                let reactivated = outcome.events.iter().any(|(event, _)| {
                    event.subject == Subject::Subscription(subscription.id)
                        && event.at >= *at && event.at < deletion
                        && (event.kind == EventKind::Reactivated || (event.kind == EventKind::Action("reactivate") && event.result == EventResult::Ok))
                });
                if !reactivated {
                    let then = &later[subscription.id.0 as usize];
                    prop_assert_eq!(then.status, Status::Deleted, "{} not deleted on its deletion date{}", subscription.id.display(), scenario_checking(&script, later_index, &[(subscription.id, vec![("status", "deleted".to_string())])]));
                    prop_assert!(then.deleted_at.is_some_and(|d| d <= deletion), "{} deleted late{}", subscription.id.display(), scenario_text(&script));
                }
            }
        }

        // Invoice totals are the sum of their lines, and every amount has two decimals.
        for invoice in &outcome.invoices {
            let sum = invoice.lines.iter().fold(Money::ZERO, |sum, line| sum.checked_add(line.amount).unwrap());
            prop_assert_eq!(sum, invoice.total, "{}", scenario_text(&script));
            for amount in invoice.lines.iter().map(|l| l.amount).chain([invoice.total]) {
                let text = amount.to_string();
                let (_, cents) = text.split_once('.').expect("a decimal point");
                prop_assert_eq!(cents.len(), 2, "{}", text);
            }
        }
    }

    #[test]
    fn a_refused_action_leaves_the_state_as_it_was(policy in 0..POLICIES.len(), start in 0..STARTS.len(), ops in proptest::collection::vec(op(), 1..16)) {
        let catalog = catalog();
        let script = build_under(&catalog, POLICIES[policy], STARTS[start], 1, &ops);
        let outcome = run(&script);
        // Every wholly refused step (a cart with a line that went through is not one).
        let refused = outcome.steps.iter().enumerate().filter(|(_, step)| step.result.refusal.is_some() && step.result.lines.iter().all(|line| line.subscription.is_none()));
        for (refused, _) in refused {
            let mut without = script.clone();
            without.steps[refused].action = None;
            without.steps[refused].actor = None;
            let other = run(&without);
            let as_it_was: Vec<_> = states(&other)[refused].1.iter().map(|subscription| (subscription.id, fields_of(subscription))).collect();
            prop_assert_eq!(&outcome.subscriptions, &other.subscriptions, "step {} changed the state although it was refused{}", refused + 1, scenario_checking(&script, refused, &as_it_was));
            prop_assert_eq!(&outcome.invoices, &other.invoices, "step {} changed the ledger although it was refused{}", refused + 1, scenario_text(&script));
        }
    }
}

fn net_of(outcome: &Outcome, id: SubscriptionId) -> Money {
    outcome.invoices.iter().flat_map(|i| &i.lines).filter(|l| l.subscription == id).fold(Money::ZERO, |sum, l| sum.checked_add(l.amount).unwrap())
}

fn step(at: Instant, action: Action) -> Step {
    let actor = if matches!(action, Action::SetPrice { .. }) { None } else { Some(UserId(0)) };
    Step { at, actor, action: Some(action) }
}

fn script_of(catalog: &Catalog, start: Instant, billing_day: u32, steps: Vec<Step>, until: Instant) -> Script {
    Script {
        policy: Arc::new(builtin::find("csp-2020").unwrap()),
        catalog: Arc::new(catalog.clone()),
        partner: Arc::new(partner(billing_day)),
        customers: vec![customer(start)],
        start,
        until: Some(until),
        steps,
        handles: Vec::new(),
    }
}

fn any_start() -> impl Strategy<Value = Instant> {
    (0..(20 * 365_i64), 0..86_400_i64).prop_map(|(days, seconds)| {
        let date = NaiveDate::from_ymd_opt(2015, 1, 1).unwrap() + chrono::Days::new(days as u64);
        Instant::from_unix_seconds(Instant::at_midnight(date).unix_seconds() + seconds)
    })
}

proptest! {
    #![proptest_config(config(500))]

    /// BILL-CANCEL-CREDIT: an ISV purchase cancelled inside its window nets to zero, whatever
    /// quantity changes happened in between.
    #[test]
    fn a_purchase_cancelled_inside_its_window_nets_to_zero(
        start in any_start(), billing_day in 1..=28_u32, annual in any::<bool>(), quantity in 1..50_i64,
        changes in proptest::collection::vec((1..100_i64, 1..50_i64), 0..4), cancel_percent in 0..100_i64,
    ) {
        let catalog = catalog();
        let crm = offer(&catalog, "contoso-crm");
        let window = if annual { Duration::from_days(14) } else { Duration::from_hours(24) };
        let cancel_at = Instant::from_unix_seconds(start.unix_seconds() + window.seconds() * cancel_percent / 100);
        let billing = Some(if annual { Frequency::Annual } else { Frequency::Monthly });
        let mut steps = vec![step(start, Action::Buy { customer: CustomerId(0), lines: vec![CartLine { offer: crm, quantity: Some(quantity.into()), billing, name: None }] })];
        let mut changes = changes;
        changes.sort();
        for (percent, quantity) in changes {
            let at = Instant::from_unix_seconds(start.unix_seconds() + (cancel_at.unix_seconds() - start.unix_seconds()) * percent / 100);
            steps.push(step(at, Action::SetQuantity { subscription: SubscriptionRef::Generated(1), quantity: quantity.into() }));
        }
        steps.push(step(cancel_at, Action::Cancel { subscription: SubscriptionRef::Generated(1) }));
        let script = script_of(&catalog, start, billing_day, steps, cancel_at.checked_add(Duration::from_days(62)).unwrap());
        let outcome = run(&script);
        prop_assert_eq!(outcome.subscriptions[0].status, Status::Deleted, "{}", scenario_text(&script));
        prop_assert_eq!(net_of(&outcome, SubscriptionId(0)), Money::ZERO, "{}", scenario_text(&script));
    }

    /// BILL-SUSPEND-CREDIT: suspended less than 30 days after purchase and never reactivated,
    /// a subscription costs nothing in the end.
    #[test]
    fn a_subscription_suspended_within_30_days_and_never_reactivated_nets_to_zero(
        start in any_start(), billing_day in 1..=28_u32, annual in any::<bool>(), quantity in 1..50_i64,
        changes in proptest::collection::vec((0..29_i64, 1..50_i64), 0..3), suspend_day in 0..30_i64,
    ) {
        let catalog = catalog();
        let e3 = offer(&catalog, "m365-e3");
        let billing = Some(if annual { Frequency::Annual } else { Frequency::Monthly });
        let day = |n: i64| Instant::at_midnight(start.date() + chrono::Days::new(n as u64)).max(start);
        let mut steps = vec![step(start, Action::Buy { customer: CustomerId(0), lines: vec![CartLine { offer: e3, quantity: Some(quantity.into()), billing, name: None }] })];
        let mut changes: Vec<(i64, i64)> = changes.into_iter().filter(|(d, _)| *d <= suspend_day).collect();
        changes.sort();
        for (d, quantity) in changes {
            steps.push(step(day(d), Action::SetQuantity { subscription: SubscriptionRef::Generated(1), quantity: quantity.into() }));
        }
        let suspend_at = day(suspend_day);
        steps.push(step(suspend_at, Action::Suspend { subscription: SubscriptionRef::Generated(1), reason: SuspendReason::CustomerRequest }));
        let script = script_of(&catalog, start, billing_day, steps, suspend_at.checked_add(Duration::from_days(200)).unwrap());
        let outcome = run(&script);
        prop_assert_eq!(outcome.subscriptions[0].status, Status::Deleted, "{}", scenario_text(&script));
        prop_assert_eq!(net_of(&outcome, SubscriptionId(0)), Money::ZERO, "{}", scenario_text(&script));
    }

    /// BILL-PRORATE: a whole period charged by the day costs exactly the period price: a
    /// quantity change on a period's first day charges the new quantity for the full period.
    #[test]
    fn a_full_period_prorated_equals_the_period_price(
        start in any_start(), cents in 1..200_000_i64, quantity in 1..100_i64, new_quantity in 1..100_i64, period in 1..30_u32, annual in any::<bool>(),
    ) {
        prop_assume!(quantity != new_quantity, "an unchanged quantity bills nothing");
        let mut catalog = catalog();
        let e3 = offer(&catalog, "m365-e3");
        catalog.offers[e3.0 as usize].price = Money::from_cents(cents);
        let frequency = if annual { Frequency::Annual } else { Frequency::Monthly };
        let period = if annual { period % 3 + 1 } else { period };
        let first = cspsim::engine::calendar::Period::of(start.date(), frequency.months(), period).unwrap();
        let change_at = Instant::from_unix_seconds(Instant::at_midnight(first.first_day).unix_seconds() + 1);
        let steps = vec![
            step(start, Action::Buy { customer: CustomerId(0), lines: vec![CartLine { offer: e3, quantity: Some(quantity.into()), billing: Some(frequency), name: None }] }),
            step(change_at, Action::SetQuantity { subscription: SubscriptionRef::Generated(1), quantity: new_quantity.into() }),
        ];
        let script = script_of(&catalog, start, 1, steps, change_at.checked_add(Duration::from_days(40)).unwrap());
        let outcome = run(&script);
        let charge = outcome.invoices.iter().flat_map(|i| &i.lines)
            .find(|l| l.kind == LineKind::ProrateCharge && l.period_start == first.first_day && l.period_end == first.last_day)
            .unwrap_or_else(|| panic!("the rebill for the whole period exists{}", scenario_text(&script)));
        // An annual term divides by 365 days: only a 365-day term prorates to its price.
        if !annual || first.days() == 365 {
            let period_price = Money::from_cents(cents * i64::from(frequency.months()) * new_quantity);
            prop_assert_eq!(charge.amount, period_price, "{}", scenario_text(&script));
        }
    }
}

#[test]
fn generated_scenarios_round_trip_through_their_yaml() {
    // The failure printout must be a scenario that loads back into the same script.
    let catalog = catalog();
    let ops = vec![
        Op::Buy { offer: 0, quantity: 3, annual: false },
        Op::Wait { minutes: 60 * 24 * 3 },
        Op::Addon { base: 1, quantity: 2 },
        Op::SetPrice { offer: 0, cents: 3500 },
        Op::Suspend { subscription: 1 },
        Op::Convert { subscription: 2, quantity: Some(4) },
    ];
    let script = build(&catalog, STARTS[0], 5, &ops);
    let text = script_to_yaml(&script, "round trip");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("round-trip.yaml");
    std::fs::write(&path, &text).unwrap();
    let loaded = cspsim::scenario::load::load_scenario(&path, "round-trip.yaml", &Default::default()).unwrap_or_else(|d| panic!("{d}\n{text}"));
    assert_eq!(loaded.script.steps, script.steps, "{text}");
    assert_eq!(loaded.script.catalog, script.catalog, "{text}");
    assert_eq!(loaded.script.partner, script.partner);
    assert_eq!(loaded.script.customers, script.customers);
}
