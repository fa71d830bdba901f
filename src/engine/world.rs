//! The simulation loop: one logical clock, the queue of scheduled events, and the helpers
//! every workflow uses to refuse, record events, and resolve references.
//!
//! ORDER-SAME-INSTANT is the queue's total order: `(instant, kind rank, subscription creation
//! order)`. No two entries compare equal, so the order never depends on the container.
//! Entries are never removed when plans change; a popped entry is acted on only if the
//! subscription still expects that event at that instant.

use std::borrow::Cow;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::engine::EngineError;
use crate::engine::calendar::{first_billing_date_on_or_after, next_billing_date_after};
use crate::engine::catalog::{Offer, OfferId};
use crate::engine::money::Money;
use crate::engine::observe::{Event, EventKind, EventResult, Invoice, LedgerLine, Observer, Source, StepResult, Subject, SubscriptionId};
use crate::engine::rules::{Code, Rule};
use crate::engine::script::{Action, Script, Step, SubscriptionRef, UserId};
use crate::engine::state::{Cart, Status, Subscription};
use crate::engine::time::Instant;
use crate::policy::{Permission, Policy};

/// Scheduled event kinds, in their ORDER-SAME-INSTANT rank.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum DueKind {
    TrialEnd = 0,
    TermEnd = 1,
    RetentionDeletion = 2,
    PeriodStart = 3,
    Invoice = 4,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Due {
    at: Instant,
    kind: DueKind,
    /// Creation order; the partner's invoice uses `u32::MAX`.
    subscription: u32,
}

/// Limits that keep a run's cost bounded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The most events one run (one world) may produce.
    pub max_events: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_events: 20_000_000 }
    }
}

pub struct World<'s, O: Observer> {
    pub(crate) script: &'s Script,
    pub(crate) policy: &'s Policy,
    pub(crate) observer: O,
    pub(crate) now: Instant,
    /// The step being run (for events and error messages), `None` for scheduled events.
    pub(crate) step: Option<u32>,
    pub(crate) actor: Option<UserId>,
    pub(crate) prices: Vec<Money>,
    pub(crate) subscriptions: Vec<Subscription>,
    pub(crate) handles: Vec<Option<SubscriptionId>>,
    pub(crate) carts: Vec<Cart>,
    queue: BinaryHeap<Reverse<Due>>,
    pub(crate) pending_lines: Vec<LedgerLine>,
    next_invoice_at: Instant,
    events: u64,
    limits: Limits,
    pub(crate) rule_hits: Vec<u64>,
    last_scheduled_at: Option<Instant>,
}

/// What is left when a run ends.
pub struct FinalState<O> {
    pub observer: O,
    pub subscriptions: Vec<Subscription>,
    pub handles: Vec<Option<SubscriptionId>>,
    /// How often each rule (by `Rule::index`) made a decision.
    pub rule_hits: Vec<u64>,
    pub end: Instant,
    /// Ledger lines made after the last invoice: they go on the next one.
    pub not_invoiced: Vec<LedgerLine>,
}

/// Where a run's steps come from: a script's list, or a generator that decides each step when
/// the clock reaches it (a population's customer, who reacts to what happened before).
pub trait StepSource {
    /// The instant of the next step, or `None` when there are no more. Never earlier than the
    /// step before.
    fn next_at(&mut self) -> Option<Instant>;
    /// The step's actor and action (`None`: the step only moves the clock), decided at its
    /// instant `now`, once every scheduled event up to and including it has run.
    fn decide(&mut self, now: Instant, subscriptions: &[Subscription]) -> (Option<UserId>, Option<Cow<'_, Action>>);
    /// What the step's action came to.
    fn finished(&mut self, _result: &StepResult) {}
}

impl<S: StepSource + ?Sized> StepSource for &mut S {
    fn next_at(&mut self) -> Option<Instant> {
        (**self).next_at()
    }
    fn decide(&mut self, now: Instant, subscriptions: &[Subscription]) -> (Option<UserId>, Option<Cow<'_, Action>>) {
        (**self).decide(now, subscriptions)
    }
    fn finished(&mut self, result: &StepResult) {
        (**self).finished(result);
    }
}

/// A script's own steps, in order.
pub struct ScriptSteps<'s> {
    steps: &'s [Step],
    next: usize,
}

impl<'s> ScriptSteps<'s> {
    pub fn new(steps: &'s [Step]) -> Self {
        ScriptSteps { steps, next: 0 }
    }
}

impl StepSource for ScriptSteps<'_> {
    fn next_at(&mut self) -> Option<Instant> {
        self.steps.get(self.next).map(|step| step.at)
    }

    fn decide(&mut self, _now: Instant, _subscriptions: &[Subscription]) -> (Option<UserId>, Option<Cow<'_, Action>>) {
        let step = &self.steps[self.next];
        self.next += 1;
        (step.actor, step.action.as_ref().map(Cow::Borrowed))
    }
}

/// Runs a script to its end (its last step, or `until`).
pub fn run<O: Observer>(script: &Script, observer: O, limits: Limits) -> Result<FinalState<O>, EngineError> {
    run_steps(script, ScriptSteps::new(&script.steps), observer, limits)
}

/// Runs a script's setting (policy, catalog, partner, customers, `until`) with the steps a
/// source gives, to the last of them or `until`. The script's own steps are not used.
pub fn run_steps<O: Observer>(script: &Script, mut steps: impl StepSource, observer: O, limits: Limits) -> Result<FinalState<O>, EngineError> {
    let mut world = World::new(script, observer, limits);
    world.register_partner();
    let mut index = 0_u32;
    while let Some(at) = steps.next_at() {
        world.advance_to(at)?;
        world.step = Some(index);
        let (actor, action) = steps.decide(world.now, &world.subscriptions);
        world.actor = actor;
        let result = match action {
            Some(action) => {
                if world.last_scheduled_at == Some(world.now) {
                    world.hit(Rule::OrderSameInstant);
                }
                world.act(&action)?
            }
            None => StepResult::default(),
        };
        world.step = None;
        world.actor = None;
        steps.finished(&result);
        world.observer.step_finished(index as usize, world.now, result, &world.subscriptions);
        index = index.checked_add(1).ok_or_else(|| world.overflow("the number of steps"))?;
    }
    if let Some(until) = script.until {
        world.advance_to(until)?;
    }
    Ok(FinalState {
        observer: world.observer,
        subscriptions: world.subscriptions,
        handles: world.handles,
        rule_hits: world.rule_hits,
        end: world.now,
        not_invoiced: world.pending_lines,
    })
}

impl<'s, O: Observer> World<'s, O> {
    fn new(script: &'s Script, observer: O, limits: Limits) -> Self {
        let first_billing = first_billing_date_on_or_after(script.start.date(), script.partner.billing_day);
        let mut next_invoice_at = Instant::at_midnight(first_billing);
        if next_invoice_at < script.start {
            next_invoice_at = Instant::at_midnight(next_billing_date_after(first_billing, script.partner.billing_day));
        }
        let mut world = World {
            script,
            policy: &script.policy,
            observer,
            now: script.start,
            step: None,
            actor: None,
            prices: script.catalog.offers.iter().map(|offer| offer.price).collect(),
            subscriptions: Vec::new(),
            handles: vec![None; script.handles.len()],
            carts: Vec::new(),
            queue: BinaryHeap::new(),
            pending_lines: Vec::new(),
            next_invoice_at,
            events: 0,
            limits,
            rule_hits: vec![0; Rule::COUNT],
            last_scheduled_at: None,
        };
        world.schedule(next_invoice_at, DueKind::Invoice, u32::MAX);
        world
    }

    fn register_partner(&mut self) {
        let partner = &self.script.partner;
        let detail = || {
            format!(
                "{} is {} {} partner in the {} cloud, billed on day {}",
                partner.id,
                if partner.program.name().starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" },
                partner.program.name(),
                partner.cloud.name(),
                partner.billing_day
            )
        };
        let detail = if O::WANTS_DETAIL { detail() } else { String::new() };
        let event = Event {
            at: self.now,
            source: Source::Setup,
            actor: None,
            kind: EventKind::PartnerRegistered,
            subject: Subject::Partner,
            result: EventResult::Done,
            code: None,
            rule: Rule::PartnerProgram,
        };
        self.record(event, detail, true);
    }

    pub(crate) fn schedule(&mut self, at: Instant, kind: DueKind, subscription: u32) {
        self.queue.push(Reverse(Due { at, kind, subscription }));
    }

    /// Runs every scheduled event due up to and including `until`, then sets the clock there.
    pub(crate) fn advance_to(&mut self, until: Instant) -> Result<(), EngineError> {
        while let Some(Reverse(due)) = self.queue.peek().copied() {
            if due.at > until {
                break;
            }
            self.queue.pop();
            self.now = due.at;
            if self.run_due(due)? {
                if self.last_scheduled_at == Some(due.at) {
                    self.hit(Rule::OrderSameInstant);
                }
                self.last_scheduled_at = Some(due.at);
            }
            self.check_event_budget()?;
        }
        self.now = until;
        Ok(())
    }

    /// Returns whether the entry was still current (and so did something).
    fn run_due(&mut self, due: Due) -> Result<bool, EngineError> {
        if due.kind == DueKind::Invoice {
            self.issue_invoice()?;
            return Ok(true);
        }
        let id = SubscriptionId(due.subscription);
        let subscription = &self.subscriptions[id.0 as usize];
        if subscription.status == Status::Deleted {
            return Ok(false);
        }
        let current = match due.kind {
            DueKind::TrialEnd => subscription.trial.is_some_and(|t| !t.over && t.end == due.at),
            DueKind::TermEnd => subscription.schedule.is_some_and(|s| s.term_end_at == due.at),
            DueKind::RetentionDeletion => subscription.deletion_at == Some(due.at) || subscription.disabled_at == Some(due.at),
            DueKind::PeriodStart => subscription.schedule.is_some_and(|s| s.next_period_at == due.at),
            DueKind::Invoice => unreachable!("handled above"),
        };
        if !current {
            return Ok(false);
        }
        match due.kind {
            DueKind::TrialEnd => self.on_trial_end(id)?,
            DueKind::TermEnd => self.on_term_end(id)?,
            DueKind::RetentionDeletion => self.on_retention_deletion(id),
            DueKind::PeriodStart => self.begin_next_period(id)?,
            DueKind::Invoice => unreachable!("handled above"),
        }
        Ok(true)
    }

    fn issue_invoice(&mut self) -> Result<(), EngineError> {
        let date = self.now.date();
        let lines = std::mem::take(&mut self.pending_lines);
        let mut total = Money::ZERO;
        for line in &lines {
            total = total.checked_add(line.amount).ok_or_else(|| self.overflow("an invoice total"))?;
        }
        let count = lines.len();
        self.done(EventKind::InvoiceIssued, Subject::Invoice(date), Rule::BillDate, |_| {
            format!("invoice of {} with {count} line{}, total {total}", crate::engine::time::format_date(date), if count == 1 { "" } else { "s" })
        });
        self.observer.invoice(Invoice { date, lines, total });
        let next = next_billing_date_after(date, self.script.partner.billing_day);
        self.next_invoice_at = Instant::at_midnight(next);
        self.schedule(self.next_invoice_at, DueKind::Invoice, u32::MAX);
        Ok(())
    }

    pub(crate) fn hit(&mut self, rule: Rule) {
        self.rule_hits[rule.index()] += 1;
    }

    /// `counted`: the event is a decision of its rule for `rules.csv`; an event that repeats
    /// a decision already counted (an order's summary of its refused lines) is not.
    fn record(&mut self, event: Event, detail: String, counted: bool) {
        if counted {
            self.hit(event.rule);
        }
        self.events += 1;
        self.observer.event(event, detail);
    }

    /// Records an event of the current step (or a scheduled event when no step runs). The
    /// detail is formatted only for observers that want it.
    pub(crate) fn emit(
        &mut self,
        kind: EventKind,
        subject: Subject,
        result: EventResult,
        code: Option<Code>,
        rule: Rule,
        detail: impl FnOnce(&Self) -> String,
    ) {
        self.emit_event(kind, subject, result, code, rule, detail, true);
    }

    #[allow(clippy::too_many_arguments)]
    fn emit_event(
        &mut self,
        kind: EventKind,
        subject: Subject,
        result: EventResult,
        code: Option<Code>,
        rule: Rule,
        detail: impl FnOnce(&Self) -> String,
        counted: bool,
    ) {
        let source = match self.step {
            Some(step) => Source::Action { step },
            None => Source::Scheduled,
        };
        let detail = if O::WANTS_DETAIL { detail(self) } else { String::new() };
        let event = Event { at: self.now, source, actor: self.actor, kind, subject, result, code, rule };
        self.record(event, detail, counted);
    }

    /// The refusal of an action whose refusal was already decided and counted in its parts
    /// (an order whose lines were refused one by one).
    pub(crate) fn refuse_as_summary(&mut self, action: &'static str, subject: Subject, code: Code, rule: Rule, detail: impl FnOnce(&Self) -> String) {
        self.emit_event(EventKind::Action(action), subject, EventResult::Rejected, Some(code), rule, detail, false);
    }

    /// A consequence of the current action or scheduled event.
    pub(crate) fn done(&mut self, kind: EventKind, subject: Subject, rule: Rule, detail: impl FnOnce(&Self) -> String) {
        self.emit(kind, subject, EventResult::Done, None, rule, detail);
    }

    /// Refuses the current action: records the refusal and returns the step's result.
    pub(crate) fn refuse(&mut self, action: &'static str, subject: Subject, code: Code, rule: Rule, detail: impl FnOnce(&Self) -> String) -> StepResult {
        self.emit(EventKind::Action(action), subject, EventResult::Rejected, Some(code), rule, detail);
        StepResult { refusal: Some((code, rule)), ..StepResult::default() }
    }

    /// Accepts the current action.
    pub(crate) fn accept(&mut self, action: &'static str, subject: Subject, rule: Rule, detail: impl FnOnce(&Self) -> String) {
        self.emit(EventKind::Action(action), subject, EventResult::Ok, None, rule, detail);
    }

    /// The permission check every partner action starts with (ROLE-MATRIX).
    pub(crate) fn permitted(&mut self, permission: Permission) -> bool {
        let Some(actor) = self.actor else { return true };
        let roles = &self.script.user(actor).roles;
        let allowed = self.policy.role_matrix.allows(roles, permission);
        if allowed {
            self.hit(Rule::RoleMatrix);
        }
        allowed
    }

    pub(crate) fn deny(&mut self, action: &'static str, subject: Subject, permission: Permission) -> StepResult {
        self.refuse(action, subject, Code::PermissionDenied, Rule::RoleMatrix, |world| {
            let actor = world.actor.map(|id| world.script.user(id));
            let roles: Vec<&str> = actor.map(|user| user.roles.iter().map(|r| r.name()).collect()).unwrap_or_default();
            let allowed: Vec<&str> = world.policy.role_matrix.roles_for(permission).iter().map(|r| r.name()).collect();
            format!(
                "{} ({}) may not {}; allowed roles: {}",
                actor.map_or("?", |user| user.handle.as_str()),
                roles.join(", "),
                permission.name().replace('_', " "),
                allowed.join(", ")
            )
        })
    }

    /// The subscription a partner action targets, once the actor may take the action; or
    /// the step's refusal (PERMISSION_DENIED, SUBSCRIPTION_NOT_FOUND).
    pub(crate) fn target(&mut self, action: &'static str, permission: Permission, reference: SubscriptionRef) -> Result<SubscriptionId, StepResult> {
        if !self.permitted(permission) {
            return Err(self.deny(action, Subject::Partner, permission));
        }
        self.resolve(reference).ok_or_else(|| self.not_found(action, reference))
    }

    /// SUBSCRIPTION_DELETED: every action on a subscription past its retention deadline is
    /// refused the same way, under QTY-DELETED (the rule that says a deleted subscription
    /// cannot be changed).
    pub(crate) fn refuse_deleted(&mut self, action: &'static str, id: SubscriptionId) -> StepResult {
        self.refuse(action, Subject::Subscription(id), Code::SubscriptionDeleted, Rule::QtyDeleted, |w| format!("{} was deleted", w.label(id)))
    }

    /// SUBSCRIPTION_NOT_ACTIVE: an expired or disabled subscription (nce-2022) has left
    /// service, so actions that change it are refused under the rule of the action.
    pub(crate) fn refuse_not_live(&mut self, action: &'static str, id: SubscriptionId, rule: Rule) -> StepResult {
        self.refuse(action, Subject::Subscription(id), Code::SubscriptionNotActive, rule, |w| format!("{} {}", w.label(id), w.sub(id).status.phrase()))
    }

    /// The subscription an action names, if it was created.
    pub(crate) fn resolve(&self, reference: SubscriptionRef) -> Option<SubscriptionId> {
        match reference {
            SubscriptionRef::Handle(handle) => self.handles[handle.0 as usize],
            SubscriptionRef::Generated(number) => {
                let index = number.checked_sub(1)?;
                ((index as usize) < self.subscriptions.len()).then_some(SubscriptionId(index))
            }
        }
    }

    pub(crate) fn not_found(&mut self, action: &'static str, reference: SubscriptionRef) -> StepResult {
        self.refuse(action, Subject::Partner, Code::SubscriptionNotFound, Rule::BuyCart, |world| match reference {
            SubscriptionRef::Handle(handle) => {
                format!("no subscription is named `{}`: the purchase that would have created it did not happen", world.script.handles[handle.0 as usize])
            }
            SubscriptionRef::Generated(number) => format!("no subscription sub-{number:04} has been created"),
        })
    }

    pub(crate) fn sub(&self, id: SubscriptionId) -> &Subscription {
        &self.subscriptions[id.0 as usize]
    }
    pub(crate) fn sub_mut(&mut self, id: SubscriptionId) -> &mut Subscription {
        &mut self.subscriptions[id.0 as usize]
    }
    pub(crate) fn offer(&self, id: OfferId) -> &'s Offer {
        self.script.catalog.offer(id)
    }
    pub(crate) fn price(&self, id: OfferId) -> Money {
        self.prices[id.0 as usize]
    }

    /// `sub-0001 (crm)` for people.
    pub(crate) fn label(&self, id: SubscriptionId) -> String {
        match self.sub(id).handle {
            Some(handle) => format!("{} ({})", id.display(), self.script.handles[handle.0 as usize]),
            None => id.display(),
        }
    }

    /// A deadline `days` days from now (00:00 of that date), never before now: with a
    /// retention of 0 days, deletion happens at once rather than in the past.
    pub(crate) fn deadline_in_days(&self, days: u32, what: &str) -> Result<Instant, EngineError> {
        let at = self.now.midnight_days_after(i64::from(days)).ok_or_else(|| self.overflow(what))?;
        Ok(at.max(self.now))
    }

    pub(crate) fn overflow(&self, what: &str) -> EngineError {
        EngineError::Overflow { step: self.step.map(|s| s as usize), what: what.to_string(), at: self.now }
    }

    pub(crate) fn check_event_budget(&self) -> Result<(), EngineError> {
        let step = self.step.map(|s| s as usize);
        if self.events > self.limits.max_events {
            return Err(EngineError::TooManyEvents { limit: self.limits.max_events, at: self.now, step });
        }
        if let Some(bytes) = self.observer.recorded_bytes_over_budget() {
            return Err(EngineError::RecordTooLarge { bytes, events: self.events, at: self.now, step });
        }
        Ok(())
    }

    fn act(&mut self, action: &Action) -> Result<StepResult, EngineError> {
        let result = match action {
            Action::Browse { customer, publisher, billing, category } => self.browse(*customer, *publisher, *billing, *category),
            Action::AddToCart { customer, cart, line } => self.add_to_cart(*customer, cart, line),
            Action::Checkout { customer, cart } => self.checkout(*customer, cart)?,
            Action::Buy { customer, lines } => self.buy(*customer, lines)?,
            Action::BuyAddon { base, offer, quantity, name } => self.buy_addon(*base, *offer, *quantity, *name)?,
            Action::SetQuantity { subscription, quantity } => self.set_quantity(*subscription, *quantity)?,
            Action::Suspend { subscription, reason } => self.suspend(*subscription, *reason)?,
            Action::Reactivate { subscription } => self.reactivate(*subscription)?,
            Action::Cancel { subscription } => self.cancel(*subscription)?,
            Action::SetAutoRenew { subscription, enabled } => self.set_auto_renew(*subscription, *enabled),
            Action::ConvertTrial { subscription, quantity, billing } => self.convert_trial(*subscription, *quantity, *billing)?,
            Action::RecordUsage { subscription, units } => self.record_usage(*subscription, *units)?,
            Action::SetPrice { offer, price } => self.set_price(*offer, *price),
            Action::ViewInvoices => self.view_invoices(),
        };
        self.check_event_budget()?;
        Ok(result)
    }
}
