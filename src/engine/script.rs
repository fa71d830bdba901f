//! The engine's input: a validated script of partner actions over simulated time.
//!
//! `crate::scenario` turns a scenario file into a [`Script`]; populations (`crate::whatif`)
//! generate them. Every reference is already resolved to an index, every instant is absolute
//! and in order, so the engine never has to report an input mistake: what it refuses, it
//! refuses under a rule.

use std::sync::Arc;

use crate::engine::catalog::{BillingType, Catalog, Category, Country, Frequency, OfferId, Segment};
use crate::engine::money::{Decimal, Money};
use crate::engine::time::Instant;
use crate::policy::{Policy, Role};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CustomerId(pub u32);

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UserId(pub u32);

/// A subscription handle (`name:` in a scenario), by index into [`Script::handles`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HandleId(pub u32);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Program {
    DirectBill,
    IndirectProvider,
    IndirectReseller,
}

impl Program {
    pub fn name(self) -> &'static str {
        match self {
            Program::DirectBill => "direct-bill",
            Program::IndirectProvider => "indirect-provider",
            Program::IndirectReseller => "indirect-reseller",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cloud {
    Commercial,
    UsGovernment,
}

impl Cloud {
    pub fn name(self) -> &'static str {
        match self {
            Cloud::Commercial => "commercial",
            Cloud::UsGovernment => "us-government",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    pub handle: String,
    pub roles: Vec<Role>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Partner {
    pub id: String,
    pub program: Program,
    pub cloud: Cloud,
    /// 1..=28.
    pub billing_day: u32,
    pub users: Vec<User>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Customer {
    pub handle: String,
    pub country: Country,
    pub segment: Segment,
    pub opened: chrono::NaiveDate,
}

/// A subscription named in an action: by handle, or by generated id (`sub-0003` is 3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SubscriptionRef {
    Handle(HandleId),
    Generated(u32),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CartRef {
    /// The customer's current unnamed cart.
    Current,
    Named(String),
}

/// A license count as a scenario asks for it. BUY-QUANTITY wants a whole number within the
/// offer's bounds; a fraction is kept as written, so that the action is refused (not the
/// file) and the refusal can say what was asked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Licenses(pub Decimal);

impl Licenses {
    /// The count, if it is a whole number that fits.
    pub fn whole(self) -> Option<i64> {
        let unit = 10_i128.checked_pow(self.0.scale)?;
        (self.0.mantissa % unit == 0).then(|| i64::try_from(self.0.mantissa / unit).ok()).flatten()
    }

    /// BUY-QUANTITY: the count if it is whole and within `min..=max`, else why not.
    pub fn within(self, min: i64, max: i64) -> Result<i64, String> {
        match self.whole() {
            Some(count) if (min..=max).contains(&count) => Ok(count),
            Some(_) => Err(format!("{self} licenses is outside {min}..={max}")),
            None => Err(format!("{self} is not a whole number of licenses ({min}..={max})")),
        }
    }
}

impl From<i64> for Licenses {
    fn from(count: i64) -> Self {
        Licenses(Decimal::from_integer(count))
    }
}

impl std::fmt::Display for Licenses {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CartLine {
    pub offer: OfferId,
    pub quantity: Option<Licenses>,
    pub billing: Option<Frequency>,
    pub name: Option<HandleId>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PublisherFilter {
    Microsoft,
    Partner,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SuspendReason {
    CustomerRequest,
    Nonpayment,
    Fraud,
}

impl SuspendReason {
    pub fn name(self) -> &'static str {
        match self {
            SuspendReason::CustomerRequest => "customer-request",
            SuspendReason::Nonpayment => "nonpayment",
            SuspendReason::Fraud => "fraud",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    Browse { customer: CustomerId, publisher: Option<PublisherFilter>, billing: Option<BillingType>, category: Option<Category> },
    AddToCart { customer: CustomerId, cart: CartRef, line: CartLine },
    Checkout { customer: CustomerId, cart: CartRef },
    Buy { customer: CustomerId, lines: Vec<CartLine> },
    BuyAddon { base: SubscriptionRef, offer: OfferId, quantity: Option<Licenses>, name: Option<HandleId> },
    SetQuantity { subscription: SubscriptionRef, quantity: Licenses },
    Suspend { subscription: SubscriptionRef, reason: SuspendReason },
    Reactivate { subscription: SubscriptionRef },
    Cancel { subscription: SubscriptionRef },
    SetAutoRenew { subscription: SubscriptionRef, enabled: bool },
    ConvertTrial { subscription: SubscriptionRef, quantity: Option<Licenses>, billing: Option<Frequency> },
    RecordUsage { subscription: SubscriptionRef, units: Decimal },
    SetPrice { offer: OfferId, price: Money },
    ViewInvoices,
}

impl Action {
    /// The action's name as a scenario writes it (`set_quantity`).
    pub fn name(&self) -> &'static str {
        match self {
            Action::Browse { .. } => "browse",
            Action::AddToCart { .. } => "add_to_cart",
            Action::Checkout { .. } => "checkout",
            Action::Buy { .. } => "buy",
            Action::BuyAddon { .. } => "buy_addon",
            Action::SetQuantity { .. } => "set_quantity",
            Action::Suspend { .. } => "suspend",
            Action::Reactivate { .. } => "reactivate",
            Action::Cancel { .. } => "cancel",
            Action::SetAutoRenew { .. } => "set_auto_renew",
            Action::ConvertTrial { .. } => "convert_trial",
            Action::RecordUsage { .. } => "record_usage",
            Action::SetPrice { .. } => "set_price",
            Action::ViewInvoices => "view_invoices",
        }
    }

    /// Actions taken by the system rather than a partner user: they have no `by`.
    pub fn is_partner_action(&self) -> bool {
        !matches!(self, Action::SetPrice { .. } | Action::RecordUsage { .. })
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    pub at: Instant,
    pub actor: Option<UserId>,
    pub action: Option<Action>,
}

/// A script to run. The policy, catalog and partner are shared (`Arc`) so that the scripts of
/// a generated population's customers cost nothing to build.
#[derive(Clone, Debug, PartialEq)]
pub struct Script {
    pub policy: Arc<Policy>,
    pub catalog: Arc<Catalog>,
    pub partner: Arc<Partner>,
    pub customers: Vec<Customer>,
    pub start: Instant,
    /// Run the clock to here after the last step.
    pub until: Option<Instant>,
    pub steps: Vec<Step>,
    /// Subscription handles, by [`HandleId`].
    pub handles: Vec<String>,
}

impl Script {
    pub fn customer(&self, id: CustomerId) -> &Customer {
        &self.customers[id.0 as usize]
    }
    pub fn user(&self, id: UserId) -> &User {
        &self.partner.users[id.0 as usize]
    }
}
