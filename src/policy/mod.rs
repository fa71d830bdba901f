//! Policies as data: every parameter RULES.md names, the built-in policy documents, and
//! overrides.
//!
//! A [`Policy`] is a plain set of parameter values the engine reads; it knows nothing of
//! YAML. Policy documents (the built-ins embedded in the binary, or a user's file) and a
//! scenario's `policy_overrides` are read by `crate::scenario` into [`ParameterValue`]s and
//! applied here by name through one table ([`PARAMETERS`]), so a parameter is declared once:
//! its name, its kind, how to parse it and how to print it.

use std::collections::BTreeMap;

use crate::engine::catalog::MAX_TRIAL_DAYS;
use crate::engine::money::Rounding;
use crate::engine::time::Duration;

/// A partner user's role (ROLE-MATRIX).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    GlobalAdmin,
    AdminAgent,
    SalesAgent,
    HelpdeskAgent,
    BillingAdmin,
}

impl Role {
    pub const ALL: [Role; 5] = [Role::GlobalAdmin, Role::AdminAgent, Role::SalesAgent, Role::HelpdeskAgent, Role::BillingAdmin];
    pub const NAMES: &'static [&'static str] = &["global-admin", "admin-agent", "sales-agent", "helpdesk-agent", "billing-admin"];

    pub fn name(self) -> &'static str {
        Role::NAMES[self as usize]
    }
    pub fn from_name(name: &str) -> Option<Role> {
        Role::NAMES.iter().position(|n| *n == name).map(|index| Role::ALL[index])
    }
    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

/// The partner actions the role matrix governs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Permission {
    Browse,
    Buy,
    BuyAddon,
    ChangeQuantity,
    SuspendReactivate,
    Cancel,
    SetAutoRenew,
    ConvertTrial,
    ViewInvoices,
}

impl Permission {
    pub const ALL: [Permission; 9] = [
        Permission::Browse,
        Permission::Buy,
        Permission::BuyAddon,
        Permission::ChangeQuantity,
        Permission::SuspendReactivate,
        Permission::Cancel,
        Permission::SetAutoRenew,
        Permission::ConvertTrial,
        Permission::ViewInvoices,
    ];
    pub const NAMES: &'static [&'static str] =
        &["browse", "buy", "buy_addon", "change_quantity", "suspend_reactivate", "cancel", "set_auto_renew", "convert_trial", "view_invoices"];

    pub fn name(self) -> &'static str {
        Permission::NAMES[self as usize]
    }
    pub fn from_name(name: &str) -> Option<Permission> {
        Permission::NAMES.iter().position(|n| *n == name).map(|index| Permission::ALL[index])
    }
}

/// Which roles may take each action: one bit per role, one entry per permission.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RoleMatrix([u8; Permission::ALL.len()]);

impl RoleMatrix {
    pub fn allows(&self, roles: &[Role], permission: Permission) -> bool {
        roles.iter().any(|role| self.0[permission as usize] & role.bit() != 0)
    }
    pub fn roles_for(&self, permission: Permission) -> Vec<Role> {
        Role::ALL.into_iter().filter(|role| self.0[permission as usize] & role.bit() != 0).collect()
    }
    fn set(&mut self, permission: Permission, roles: &[Role]) {
        self.0[permission as usize] = roles.iter().fold(0, |bits, role| bits | role.bit());
    }
}

/// A parameter whose value is one of a few names. The names are declared once, beside the
/// enum, by [`choice_names!`]; parsing and printing both read them.
pub trait Choice: Copy + PartialEq + 'static {
    const ALL: &'static [Self];
    const NAMES: &'static [&'static str];

    fn name(self) -> &'static str {
        let index = Self::ALL.iter().position(|choice| *choice == self).expect("every variant is in ALL");
        Self::NAMES[index]
    }
}

macro_rules! choice_names {
    ($type:ident { $($variant:ident => $name:literal),+ $(,)? }) => {
        impl Choice for $type {
            const ALL: &'static [Self] = &[$($type::$variant),+];
            const NAMES: &'static [&'static str] = &[$($name),+];
        }
    };
}

/// What happens to an ISV cancellation after its window (CANCEL-AFTER-WINDOW).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PostWindowCancel {
    ScheduleAtRenewal,
    Reject,
}

/// How the retention period's gap G is measured (SUSPEND-RETENTION).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RetentionGap {
    AccountOpeningToFirstBilling,
    None,
}

/// How a refund inside the cancellation window is computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CancelRefund {
    /// csp-2020 (BILL-CANCEL-CREDIT): every charge is credited in full.
    Full,
    /// nce-2022: the unused days are refunded, prorated by day.
    Prorated,
}

/// Which subscriptions `cancel` applies to (CANCEL-MICROSOFT).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CancelScope {
    /// csp-2020: ISV (commercial marketplace) subscriptions only; Microsoft ones are suspended.
    Marketplace,
    /// nce-2022: every subscription, inside its window.
    All,
}

/// When a subscription's cancellation window opens (CANCEL-WINDOW).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WindowStart {
    /// At the order.
    Order,
    /// At the order, and again at each renewal and each seat addition (nce-2022).
    LatestChange,
}

/// What happens to a subscription at term end while suspended (SUSPEND-AT-TERM-END).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SuspendedAtTermEnd {
    Delete,
    /// Disabled, then deleted `suspended_disabled_days` later (nce-2022).
    Disable,
}

/// What happens at the end of a term that does not renew (RENEW-TERM).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotRenewedAtTermEnd {
    Delete,
    /// Expired for `expired_days`, then disabled for `disabled_days`, then deleted (nce-2022).
    Expire,
}

choice_names!(PostWindowCancel { ScheduleAtRenewal => "schedule-at-renewal", Reject => "reject" });
choice_names!(RetentionGap { AccountOpeningToFirstBilling => "account-opening-to-first-billing", None => "none" });
choice_names!(CancelRefund { Full => "full", Prorated => "prorated" });
choice_names!(CancelScope { Marketplace => "marketplace", All => "all" });
choice_names!(WindowStart { Order => "order", LatestChange => "latest-change" });
choice_names!(SuspendedAtTermEnd { Delete => "delete", Disable => "disable" });
choice_names!(NotRenewedAtTermEnd { Delete => "delete", Expire => "expire" });

/// Every parameter of a policy. The engine reads these and nothing else.
#[derive(Clone, Debug, PartialEq)]
pub struct Policy {
    pub name: String,
    pub description: String,
    pub cancel_window_monthly: Duration,
    pub cancel_window_annual: Duration,
    pub post_window_cancel: PostWindowCancel,
    pub cancel_refund: CancelRefund,
    /// `None`: a suspended subscription is never deleted for retention (nce-2022 holds it to
    /// term end).
    pub retention_days: Option<u32>,
    pub retention_cap_days: Option<u32>,
    pub retention_gap: RetentionGap,
    pub addon_reactivate_with_base: bool,
    pub daily_rate_decimals: Option<u32>,
    pub amount_rounding: Rounding,
    pub annual_rate_days: u32,
    pub suspend_full_credit_days: u32,
    pub isv_trial_days: u32,
    pub microsoft_trial_days: u32,
    pub microsoft_trial_licenses: u32,
    pub isv_usage_transactable: bool,
    pub role_matrix: RoleMatrix,
    // Parameters that differ in the later policies (RULES.md, "Later policies").
    pub cancel_scope: CancelScope,
    pub cancel_window_from: WindowStart,
    /// Seat reductions only inside the cancellation window (nce-2022).
    pub reductions_only_in_window: bool,
    pub auto_renew_for_all: bool,
    pub bill_while_suspended: bool,
    pub suspension_credit: bool,
    pub suspend_disables_auto_renew: bool,
    pub term_end_suspended: SuspendedAtTermEnd,
    pub suspended_disabled_days: u32,
    pub term_end_not_renewed: NotRenewedAtTermEnd,
    pub expired_days: u32,
    pub disabled_days: u32,
    pub microsoft_trials_convert: bool,
    pub addons_own_terms: bool,
}

/// A parameter value as written in a policy document or an override, before parsing.
#[derive(Clone, Debug, PartialEq)]
pub enum ParameterValue {
    Text(String),
    List(Vec<String>),
    Map(Vec<(String, ParameterValue)>),
}

impl ParameterValue {
    fn text(&self) -> Result<&str, String> {
        match self {
            // An empty YAML value (`cancel_refund:` or `~`) gives no value to read.
            ParameterValue::Text(text) if text.is_empty() => Err("no value is given".to_string()),
            ParameterValue::Text(text) => Ok(text),
            _ => Err("expected a single value".to_string()),
        }
    }
}

/// One row of the parameter table.
pub struct Parameter {
    pub name: &'static str,
    pub doc: &'static str,
    pub expected: &'static str,
    apply: fn(&mut Policy, &ParameterValue) -> Result<(), String>,
    show: fn(&Policy) -> String,
}

/// A whole number of days written `90` or `90d`, within `range`; `None` otherwise.
fn days_within(written: &str, range: std::ops::RangeInclusive<u32>) -> Option<u32> {
    written.strip_suffix('d').unwrap_or(written).parse::<u32>().ok().filter(|days| range.contains(days))
}

fn parse_days(value: &ParameterValue) -> Result<u32, String> {
    let written = value.text()?;
    days_within(written, 0..=100_000)
        .ok_or_else(|| format!("`{written}` is not a number of days (0 to 100000, written 90 or 90d: this parameter counts whole days)"))
}

/// A trial lasts at least a day, as an offer's own `trial: {days}` must (catalog rule).
fn parse_trial_days(value: &ParameterValue) -> Result<u32, String> {
    let written = value.text()?;
    days_within(written, 1..=MAX_TRIAL_DAYS)
        .ok_or_else(|| format!("`{written}` is not a trial's length: a trial lasts 1 to {MAX_TRIAL_DAYS} days (written 30 or 30d)"))
}

fn parse_licenses(value: &ParameterValue) -> Result<u32, String> {
    let text = value.text()?;
    text.parse::<u32>().ok().filter(|count| (1..=10_000).contains(count)).ok_or_else(|| format!("`{text}` is not a number of licenses (1 to 10000)"))
}

fn parse_bool(value: &ParameterValue) -> Result<bool, String> {
    match value.text()? {
        "true" => Ok(true),
        "false" => Ok(false),
        other => Err(format!("`{other}` is not true or false")),
    }
}

fn parse_duration(value: &ParameterValue) -> Result<Duration, String> {
    Duration::parse(value.text()?)
}

fn parse_choice<'a>(value: &ParameterValue, names: &'a [&'a str]) -> Result<&'a str, String> {
    let text = value.text()?;
    names.iter().copied().find(|name| *name == text).ok_or_else(|| {
        let suggestion = crate::suggest::nearest(text, names.iter().copied()).map(|near| format!("; did you mean `{near}`?")).unwrap_or_default();
        format!("`{text}` is not one of {}{suggestion}", names.join(", "))
    })
}

fn parse_named<T: Choice>(value: &ParameterValue) -> Result<T, String> {
    let name = parse_choice(value, T::NAMES)?;
    Ok(T::ALL[T::NAMES.iter().position(|n| *n == name).expect("checked by parse_choice")])
}

fn none_or<T>(value: &ParameterValue, parse: impl Fn(&ParameterValue) -> Result<T, String>) -> Result<Option<T>, String> {
    match value {
        // `none`, or nothing at all, clears an optional parameter.
        ParameterValue::Text(text) if text == "none" || text.is_empty() => Ok(None),
        _ => parse(value).map(Some),
    }
}

fn apply_role_matrix(policy: &mut Policy, value: &ParameterValue) -> Result<(), String> {
    let ParameterValue::Map(entries) = value else {
        return Err("expected a mapping of action to roles, e.g. `cancel: [global-admin, admin-agent]`".to_string());
    };
    for (action, roles) in entries {
        let permission = Permission::from_name(action).ok_or_else(|| {
            let suggestion =
                crate::suggest::nearest(action, Permission::NAMES.iter().copied()).map(|near| format!("; did you mean `{near}`?")).unwrap_or_default();
            format!("`{action}` is not an action of the role matrix ({}){suggestion}", Permission::NAMES.join(", "))
        })?;
        let names: Vec<&str> = match roles {
            ParameterValue::List(list) => list.iter().map(String::as_str).collect(),
            ParameterValue::Text(one) if one.is_empty() => {
                return Err(format!("no roles are given for `{action}`: list them, or write [] for none"));
            }
            ParameterValue::Text(one) => vec![one.as_str()],
            ParameterValue::Map(_) => return Err(format!("the roles for `{action}` must be a list")),
        };
        let mut parsed = Vec::new();
        for name in names {
            parsed.push(Role::from_name(name).ok_or_else(|| {
                let suggestion = crate::suggest::nearest(name, Role::NAMES.iter().copied()).map(|near| format!("; did you mean `{near}`?")).unwrap_or_default();
                format!("`{name}` is not a role ({}){suggestion}", Role::NAMES.join(", "))
            })?);
        }
        policy.role_matrix.set(permission, &parsed);
    }
    Ok(())
}

fn show_role_matrix(policy: &Policy) -> String {
    Permission::ALL
        .iter()
        .map(|permission| {
            let roles: Vec<&str> = policy.role_matrix.roles_for(*permission).iter().map(|r| r.name()).collect();
            format!("{}=[{}]", permission.name(), roles.join(" "))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn show_optional(value: Option<u32>) -> String {
    value.map_or_else(|| "none".to_string(), |v| v.to_string())
}

/// Every policy parameter, in the order `cspsim policies` prints them.
pub static PARAMETERS: &[Parameter] = &[
    Parameter {
        name: "cancel_window_monthly",
        doc: "the cancellation window for monthly billing (CANCEL-WINDOW)",
        expected: "a duration such as 24h or 72h",
        apply: |p, v| {
            p.cancel_window_monthly = parse_duration(v)?;
            Ok(())
        },
        show: |p| p.cancel_window_monthly.to_string(),
    },
    Parameter {
        name: "cancel_window_annual",
        doc: "the cancellation window for annual billing (CANCEL-WINDOW)",
        expected: "a duration such as 14d",
        apply: |p, v| {
            p.cancel_window_annual = parse_duration(v)?;
            Ok(())
        },
        show: |p| p.cancel_window_annual.to_string(),
    },
    Parameter {
        name: "post_window_cancel",
        doc: "a cancellation after the window: scheduled for term end, or refused (CANCEL-AFTER-WINDOW)",
        expected: "schedule-at-renewal or reject",
        apply: |p, v| {
            p.post_window_cancel = parse_named(v)?;
            Ok(())
        },
        show: |p| p.post_window_cancel.name().into(),
    },
    Parameter {
        name: "cancel_refund",
        doc: "refund for a cancellation inside the window: every charge in full, or the unused days (BILL-CANCEL-CREDIT)",
        expected: "full or prorated",
        apply: |p, v| {
            p.cancel_refund = parse_named(v)?;
            Ok(())
        },
        show: |p| p.cancel_refund.name().into(),
    },
    Parameter {
        name: "retention_days",
        doc: "days a suspended subscription is kept before deletion, before the gap G, or none to keep it until term end (SUSPEND-RETENTION)",
        expected: "a number of days, or none",
        apply: |p, v| {
            p.retention_days = none_or(v, parse_days)?;
            Ok(())
        },
        show: |p| show_optional(p.retention_days),
    },
    Parameter {
        name: "retention_cap_days",
        doc: "the most days retention may last, or none (SUSPEND-RETENTION)",
        expected: "a number of days, or none",
        apply: |p, v| {
            p.retention_cap_days = none_or(v, parse_days)?;
            Ok(())
        },
        show: |p| show_optional(p.retention_cap_days),
    },
    Parameter {
        name: "retention_gap",
        doc: "the gap G added to retention (SUSPEND-RETENTION)",
        expected: "account-opening-to-first-billing or none",
        apply: |p, v| {
            p.retention_gap = parse_named(v)?;
            Ok(())
        },
        show: |p| p.retention_gap.name().into(),
    },
    Parameter {
        name: "addon_reactivate_with_base",
        doc: "reactivating a base reactivates the add-ons its suspension suspended (ADDON-SUSPEND-CASCADE)",
        expected: "true or false",
        apply: |p, v| {
            p.addon_reactivate_with_base = parse_bool(v)?;
            Ok(())
        },
        show: |p| p.addon_reactivate_with_base.to_string(),
    },
    Parameter {
        name: "daily_rate_decimals",
        doc: "round the daily rate to this many decimals before multiplying, or none for an exact rate (BILL-PRORATE)",
        expected: "a number of decimals (0 to 10), or none",
        apply: |p, v| {
            p.daily_rate_decimals =
                none_or(v, |v| v.text()?.parse::<u32>().ok().filter(|d| *d <= 10).ok_or_else(|| "expected 0 to 10 decimals, or none".to_string()))?;
            Ok(())
        },
        show: |p| show_optional(p.daily_rate_decimals),
    },
    Parameter {
        name: "amount_rounding",
        doc: "how each line's amount is rounded to cents (BILL-PRORATE)",
        expected: "half-up, half-even, down or up",
        apply: |p, v| {
            p.amount_rounding = Rounding::from_name(parse_choice(v, Rounding::NAMES)?).expect("checked by parse_choice");
            Ok(())
        },
        show: |p| p.amount_rounding.name().to_string(),
    },
    Parameter {
        name: "annual_rate_days",
        doc: "the days an annual term's daily rate divides by (BILL-PRORATE)",
        expected: "a number of days",
        apply: |p, v| {
            let days = parse_days(v)?;
            if days == 0 {
                return Err("the annual rate needs at least one day".into());
            }
            p.annual_rate_days = days;
            Ok(())
        },
        show: |p| p.annual_rate_days.to_string(),
    },
    Parameter {
        name: "suspend_full_credit_days",
        doc: "a suspension less than this many days after the purchase date credits everything charged (BILL-SUSPEND-CREDIT)",
        expected: "a number of days",
        apply: |p, v| {
            p.suspend_full_credit_days = parse_days(v)?;
            Ok(())
        },
        show: |p| p.suspend_full_credit_days.to_string(),
    },
    Parameter {
        name: "isv_trial_days",
        doc: "length of an ISV free trial when the offer does not say (TRIAL-ISV-AUTO)",
        expected: "a number of days",
        apply: |p, v| {
            p.isv_trial_days = parse_trial_days(v)?;
            Ok(())
        },
        show: |p| p.isv_trial_days.to_string(),
    },
    Parameter {
        name: "microsoft_trial_days",
        doc: "length of a Microsoft trial when the offer does not say (TRIAL-MS)",
        expected: "a number of days",
        apply: |p, v| {
            p.microsoft_trial_days = parse_trial_days(v)?;
            Ok(())
        },
        show: |p| p.microsoft_trial_days.to_string(),
    },
    Parameter {
        name: "microsoft_trial_licenses",
        doc: "licenses of a Microsoft trial when the offer does not say (TRIAL-MS)",
        expected: "a number of licenses",
        apply: |p, v| {
            p.microsoft_trial_licenses = parse_licenses(v)?;
            Ok(())
        },
        show: |p| p.microsoft_trial_licenses.to_string(),
    },
    Parameter {
        name: "isv_usage_transactable",
        doc: "whether usage-based ISV offers can be bought in Partner Center (AVAIL-NOT-TRANSACTABLE)",
        expected: "true or false",
        apply: |p, v| {
            p.isv_usage_transactable = parse_bool(v)?;
            Ok(())
        },
        show: |p| p.isv_usage_transactable.to_string(),
    },
    Parameter {
        name: "cancel_scope",
        doc: "which subscriptions can be cancelled: marketplace (ISV) ones, or all inside their window (CANCEL-MICROSOFT)",
        expected: "marketplace or all",
        apply: |p, v| {
            p.cancel_scope = parse_named(v)?;
            Ok(())
        },
        show: |p| p.cancel_scope.name().into(),
    },
    Parameter {
        name: "cancel_window_from",
        doc: "when the cancellation window opens: at the order, or again at each renewal, seat addition and trial conversion (CANCEL-WINDOW)",
        expected: "order or latest-change",
        apply: |p, v| {
            p.cancel_window_from = parse_named(v)?;
            Ok(())
        },
        show: |p| p.cancel_window_from.name().into(),
    },
    Parameter {
        name: "reductions_only_in_window",
        doc: "seat reductions are allowed only inside the cancellation window (QTY-CHANGE)",
        expected: "true or false",
        apply: |p, v| {
            p.reductions_only_in_window = parse_bool(v)?;
            Ok(())
        },
        show: |p| p.reductions_only_in_window.to_string(),
    },
    Parameter {
        name: "auto_renew_for_all",
        doc: "auto-renew can be switched for every subscription, not only marketplace ones (RENEW-TOGGLE)",
        expected: "true or false",
        apply: |p, v| {
            p.auto_renew_for_all = parse_bool(v)?;
            Ok(())
        },
        show: |p| p.auto_renew_for_all.to_string(),
    },
    Parameter {
        name: "bill_while_suspended",
        doc: "suspended subscriptions keep being billed (SUSPEND-NO-BILL)",
        expected: "true or false",
        apply: |p, v| {
            p.bill_while_suspended = parse_bool(v)?;
            Ok(())
        },
        show: |p| p.bill_while_suspended.to_string(),
    },
    Parameter {
        name: "suspension_credit",
        doc: "suspending credits the unused charge (SUSPEND-CREDIT)",
        expected: "true or false",
        apply: |p, v| {
            p.suspension_credit = parse_bool(v)?;
            Ok(())
        },
        show: |p| p.suspension_credit.to_string(),
    },
    Parameter {
        name: "suspend_disables_auto_renew",
        doc: "suspending switches auto-renew off (SUSPEND)",
        expected: "true or false",
        apply: |p, v| {
            p.suspend_disables_auto_renew = parse_bool(v)?;
            Ok(())
        },
        show: |p| p.suspend_disables_auto_renew.to_string(),
    },
    Parameter {
        name: "term_end_suspended",
        doc: "a subscription still suspended at term end is deleted, or disabled and deleted later (SUSPEND-AT-TERM-END)",
        expected: "delete or disable",
        apply: |p, v| {
            p.term_end_suspended = parse_named(v)?;
            Ok(())
        },
        show: |p| p.term_end_suspended.name().into(),
    },
    Parameter {
        name: "suspended_disabled_days",
        doc: "days a subscription disabled at term end (while suspended) is kept before deletion",
        expected: "a number of days",
        apply: |p, v| {
            p.suspended_disabled_days = parse_days(v)?;
            Ok(())
        },
        show: |p| p.suspended_disabled_days.to_string(),
    },
    Parameter {
        name: "term_end_not_renewed",
        doc: "a term that does not renew ends in deletion, or in expired then disabled states (RENEW-TERM)",
        expected: "delete or expire",
        apply: |p, v| {
            p.term_end_not_renewed = parse_named(v)?;
            Ok(())
        },
        show: |p| p.term_end_not_renewed.name().into(),
    },
    Parameter {
        name: "expired_days",
        doc: "days an expired subscription stays expired before it is disabled",
        expected: "a number of days",
        apply: |p, v| {
            p.expired_days = parse_days(v)?;
            Ok(())
        },
        show: |p| p.expired_days.to_string(),
    },
    Parameter {
        name: "disabled_days",
        doc: "days a disabled subscription is kept before deletion",
        expected: "a number of days",
        apply: |p, v| {
            p.disabled_days = parse_days(v)?;
            Ok(())
        },
        show: |p| p.disabled_days.to_string(),
    },
    Parameter {
        name: "microsoft_trials_convert",
        doc: "Microsoft trials convert to paid by themselves at the end of the trial (TRIAL-MS)",
        expected: "true or false",
        apply: |p, v| {
            p.microsoft_trials_convert = parse_bool(v)?;
            Ok(())
        },
        show: |p| p.microsoft_trials_convert.to_string(),
    },
    Parameter {
        name: "addons_own_terms",
        doc: "add-ons keep their own terms and can be bought from the catalog (ADDON-ALIGN)",
        expected: "true or false",
        apply: |p, v| {
            p.addons_own_terms = parse_bool(v)?;
            Ok(())
        },
        show: |p| p.addons_own_terms.to_string(),
    },
    Parameter {
        name: "role_matrix",
        doc: "which roles may take each action; an override replaces the named actions only (ROLE-MATRIX)",
        expected: "a mapping of action to a list of roles",
        apply: apply_role_matrix,
        show: show_role_matrix,
    },
];

impl Parameter {
    /// Sets this parameter on `policy` from its written value.
    pub fn apply_to(&self, policy: &mut Policy, value: &ParameterValue) -> Result<(), String> {
        (self.apply)(policy, value)
    }
}

impl Policy {
    /// The parameter named `name`, or the nearest name for a misspelling.
    pub fn parameter(name: &str) -> Result<&'static Parameter, Option<&'static str>> {
        PARAMETERS.iter().find(|parameter| parameter.name == name).ok_or_else(|| crate::suggest::nearest(name, PARAMETERS.iter().map(|p| p.name)))
    }

    /// Sets one parameter from its written value.
    pub fn set(&mut self, name: &str, value: &ParameterValue) -> Result<(), String> {
        let parameter = Policy::parameter(name).map_err(|near| {
            let suggestion = near.map(|n| format!("; did you mean `{n}`?")).unwrap_or_default();
            format!("`{name}` is not a policy parameter{suggestion}")
        })?;
        (parameter.apply)(self, value).map_err(|message| format!("{message} (expected {})", parameter.expected))
    }

    /// Every parameter with its value as text, in table order.
    pub fn parameters(&self) -> BTreeMap<&'static str, String> {
        PARAMETERS.iter().map(|parameter| (parameter.name, (parameter.show)(self))).collect()
    }

    /// The parameters whose values differ from `other`'s, with this policy's values.
    pub fn differences_from(&self, other: &Policy) -> Vec<(&'static str, String)> {
        PARAMETERS.iter().filter(|p| (p.show)(self) != (p.show)(other)).map(|p| (p.name, (p.show)(self))).collect()
    }

    pub fn show(&self, name: &str) -> Option<String> {
        PARAMETERS.iter().find(|p| p.name == name).map(|p| (p.show)(self))
    }

    /// The starting point every policy document is applied to: csp-2020's values. The
    /// built-in `csp-2020` document states them all again, so this is only a base.
    pub(crate) fn base() -> Policy {
        let all = Role::ALL;
        let mut role_matrix = RoleMatrix([0; Permission::ALL.len()]);
        role_matrix.set(Permission::Browse, &all);
        role_matrix.set(Permission::Buy, &all[..3]);
        role_matrix.set(Permission::BuyAddon, &all[..3]);
        role_matrix.set(Permission::ChangeQuantity, &all[..4]);
        role_matrix.set(Permission::SuspendReactivate, &all[..4]);
        role_matrix.set(Permission::Cancel, &all[..2]);
        role_matrix.set(Permission::SetAutoRenew, &all[..2]);
        role_matrix.set(Permission::ConvertTrial, &all[..3]);
        role_matrix.set(Permission::ViewInvoices, &[Role::GlobalAdmin, Role::AdminAgent, Role::BillingAdmin]);
        Policy {
            name: "csp-2020".to_string(),
            description: String::new(),
            cancel_window_monthly: Duration::from_hours(24),
            cancel_window_annual: Duration::from_days(14),
            post_window_cancel: PostWindowCancel::ScheduleAtRenewal,
            cancel_refund: CancelRefund::Full,
            retention_days: Some(90),
            retention_cap_days: Some(120),
            retention_gap: RetentionGap::AccountOpeningToFirstBilling,
            addon_reactivate_with_base: true,
            daily_rate_decimals: None,
            amount_rounding: Rounding::HalfUp,
            annual_rate_days: 365,
            suspend_full_credit_days: 30,
            isv_trial_days: 30,
            microsoft_trial_days: 30,
            microsoft_trial_licenses: 25,
            isv_usage_transactable: false,
            role_matrix,
            cancel_scope: CancelScope::Marketplace,
            cancel_window_from: WindowStart::Order,
            reductions_only_in_window: false,
            auto_renew_for_all: false,
            bill_while_suspended: false,
            suspension_credit: true,
            suspend_disables_auto_renew: false,
            term_end_suspended: SuspendedAtTermEnd::Delete,
            suspended_disabled_days: 120,
            term_end_not_renewed: NotRenewedAtTermEnd::Delete,
            expired_days: 30,
            disabled_days: 90,
            microsoft_trials_convert: false,
            addons_own_terms: false,
        }
    }
}
