//! The file model: scenario, catalog and policy documents as they are written (format v1).
//!
//! These types are the single description of the format. The loader decodes files into
//! them (through `node_de`, which keeps locations), and `cspsim schema` derives the JSON
//! Schema from them with schemars, so the schema cannot drift from what the loader accepts.
//! Values that need checking beyond their YAML type (instants, durations, money, names) are
//! kept as located text here and checked by `scenario::build`, which reports every problem
//! with its position.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, de::value::MapAccessDeserializer, de::value::SeqAccessDeserializer};

use crate::scenario::node_de::Located;

/// A cspsim scenario (format v1): partner actions over simulated time, with expectations.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "cspsim scenario (v1)")]
pub struct ScenarioFile {
    /// A title for the scenario.
    pub scenario: Located<String>,
    /// What the scenario shows, in sentences.
    pub description: Option<String>,
    /// Labels for filtering runs (`--tag`).
    pub tags: Option<Vec<Located<String>>>,
    /// Rule IDs of RULES.md this scenario is meant to exercise; a run warns when one was not.
    pub rules: Option<Vec<Located<String>>>,
    /// A built-in policy name (`cspsim policies`) or a policy file path relative to this file.
    /// Default `csp-2020`.
    pub policy: Option<Located<String>>,
    /// Policy parameters to change for this scenario (`cspsim policies` lists them).
    #[serde(default)]
    #[schemars(schema_with = "policy_parameters_schema")]
    pub policy_overrides: Option<BTreeMap<Located<String>, Located<ParameterNode>>>,
    /// When the simulated clock starts: a UTC instant (`2020-07-22T09:00:00Z`) or a date
    /// (00:00Z).
    #[schemars(with = "InstantText")]
    pub start: Located<String>,
    /// Run the clock to this instant after the last step (every scheduled event up to it).
    #[schemars(with = "Option<InstantText>")]
    pub until: Option<Located<String>>,
    pub partner: PartnerSection,
    /// A catalog file path relative to this file, or the catalog inline.
    pub catalog: Located<CatalogRef>,
    /// The partner's customers, by handle.
    pub customers: Option<BTreeMap<Located<String>, Located<CustomerSection>>>,
    /// A seeded customer base generated instead of (or besides) hand-written customers.
    pub population: Option<Located<PopulationSection>>,
    /// Partner actions and checks, in time order.
    pub steps: Option<Vec<Located<StepSection>>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PartnerSection {
    /// The partner's id (exclusive ISV offers name partner ids).
    pub id: Located<String>,
    pub program: Located<ProgramName>,
    /// Default `commercial`.
    pub cloud: Option<Located<CloudName>>,
    /// The day of month invoices are issued, 1 to 28.
    pub billing_day: Located<u32>,
    /// Partner users by handle: a role or a list of roles.
    pub users: BTreeMap<Located<String>, Located<OneOrMany<RoleName>>>,
}

#[derive(Clone, Copy, Debug, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum ProgramName {
    DirectBill,
    IndirectProvider,
    IndirectReseller,
}

#[derive(Clone, Copy, Debug, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum CloudName {
    Commercial,
    UsGovernment,
}

#[derive(Clone, Copy, Debug, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum RoleName {
    GlobalAdmin,
    AdminAgent,
    SalesAgent,
    HelpdeskAgent,
    BillingAdmin,
}

#[derive(Clone, Copy, Debug, Deserialize, JsonSchema, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "kebab-case")]
pub enum SegmentName {
    Commercial,
    Education,
    Government,
    Nonprofit,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomerSection {
    /// ISO 3166-1 alpha-2 billing country, e.g. US.
    pub country: Located<String>,
    /// Default `commercial`.
    pub segment: Option<Located<SegmentName>>,
    /// The account opening date (YYYY-MM-DD); default: the scenario's start date.
    #[schemars(with = "Option<DateText>")]
    pub opened: Option<Located<String>>,
}

/// One step: when, who, at most one action, and what must hold afterwards.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StepSection {
    /// An absolute instant or date, or `+DURATION` after the previous step (30m, 24h, 13d,
    /// 1d12h). Default `+0`.
    #[schemars(with = "Option<StepTimeText>")]
    pub at: Option<Located<String>>,
    /// The partner user taking the action.
    pub by: Option<Located<String>>,
    pub browse: Option<Located<BrowseAction>>,
    pub add_to_cart: Option<Located<AddToCartAction>>,
    pub checkout: Option<Located<CheckoutAction>>,
    pub buy: Option<Located<BuyAction>>,
    pub buy_addon: Option<Located<BuyAddonAction>>,
    pub set_quantity: Option<Located<SetQuantityAction>>,
    /// A subscription name, or `{subscription, reason}`.
    pub suspend: Option<Located<NameOr<SuspendAction>>>,
    /// A subscription name, or `{subscription}`.
    pub reactivate: Option<Located<NameOr<SubscriptionAction>>>,
    /// A subscription name, or `{subscription}` (ISV SaaS subscriptions).
    pub cancel: Option<Located<NameOr<SubscriptionAction>>>,
    pub set_auto_renew: Option<Located<SetAutoRenewAction>>,
    /// A subscription name, or `{subscription, quantity, billing}`.
    pub convert_trial: Option<Located<NameOr<ConvertTrialAction>>>,
    /// Usage against a usage-based subscription (no `by`).
    pub record_usage: Option<Located<RecordUsageAction>>,
    /// A catalog price change from this instant (no `by`).
    pub set_price: Option<Located<SetPriceAction>>,
    /// The acting user looks at the partner's invoices (ROLE-MATRIX).
    pub view_invoices: Option<Located<ViewInvoicesAction>>,
    /// What the action's result must be: `ok`, `{rejected: CODE}`, or for `browse`
    /// `{available: [...], unavailable: {offer: CODE}, hidden: [...]}`.
    pub expect: Option<Located<ExpectSection>>,
    /// What must hold after the step.
    pub check: Option<Located<CheckSection>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BrowseAction {
    pub customer: Located<String>,
    pub publisher: Option<Located<PublisherName>>,
    pub billing: Option<Located<BillingTypeName>>,
    pub category: Option<Located<CategoryName>>,
}

#[derive(Clone, Copy, Debug, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum PublisherName {
    Microsoft,
    Partner,
}

#[derive(Clone, Copy, Debug, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum BillingTypeName {
    License,
    Usage,
}

#[derive(Clone, Copy, Debug, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum CategoryName {
    Enterprise,
    SmallBusiness,
    Trial,
}

#[derive(Clone, Copy, Debug, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum FrequencyName {
    Monthly,
    Annual,
}

#[derive(Clone, Copy, Debug, Deserialize, JsonSchema, PartialEq, Eq)]
pub enum TermName {
    P1M,
    P1Y,
}

#[derive(Clone, Copy, Debug, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum ReasonName {
    CustomerRequest,
    Nonpayment,
    Fraud,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AddToCartAction {
    pub customer: Located<String>,
    /// A cart name; default: the customer's current cart.
    pub cart: Option<Located<String>>,
    pub offer: Located<String>,
    /// Licenses (BUY-QUANTITY refuses a fraction, as it refuses a count out of bounds).
    pub quantity: Option<Located<DecimalText>>,
    pub billing: Option<Located<FrequencyName>>,
    /// A handle for the subscription the line creates.
    pub name: Option<Located<String>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckoutAction {
    pub customer: Located<String>,
    pub cart: Option<Located<String>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BuyAction {
    pub customer: Located<String>,
    pub items: Vec<Located<BuyItem>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BuyItem {
    pub offer: Located<String>,
    /// Licenses (BUY-QUANTITY refuses a fraction, as it refuses a count out of bounds).
    pub quantity: Option<Located<DecimalText>>,
    pub billing: Option<Located<FrequencyName>>,
    pub name: Option<Located<String>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BuyAddonAction {
    /// The base subscription.
    pub base: Located<String>,
    pub offer: Located<String>,
    /// Licenses (BUY-QUANTITY refuses a fraction, as it refuses a count out of bounds).
    pub quantity: Option<Located<DecimalText>>,
    pub name: Option<Located<String>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SetQuantityAction {
    pub subscription: Located<String>,
    pub quantity: Located<DecimalText>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SuspendAction {
    pub subscription: Located<String>,
    /// Default `customer-request`.
    pub reason: Option<Located<ReasonName>>,
}

/// An action that names only its subscription, written as a mapping like the others.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionAction {
    pub subscription: Located<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SetAutoRenewAction {
    pub subscription: Located<String>,
    pub enabled: Located<bool>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConvertTrialAction {
    pub subscription: Located<String>,
    /// Paid licenses; default the trial's (25).
    pub quantity: Option<Located<DecimalText>>,
    pub billing: Option<Located<FrequencyName>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordUsageAction {
    pub subscription: Located<String>,
    /// Units used (a decimal number, zero or more).
    pub units: Located<DecimalText>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SetPriceAction {
    pub offer: Located<String>,
    /// The new price per license per month (per unit for usage offers).
    pub price: Located<MoneyText>,
}

#[derive(Debug, Deserialize, JsonSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct ViewInvoicesAction {}

/// `ok`, or a mapping.
#[derive(Debug)]
pub enum ExpectSection {
    Ok,
    Detailed(ExpectDetail),
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExpectDetail {
    /// The refusal code the action must get (or Partner Center's number for it).
    #[schemars(with = "Option<RefusalText>")]
    pub rejected: Option<Located<String>>,
    /// `browse`: offers that must be listed as available.
    pub available: Option<Vec<Located<String>>>,
    /// `browse`: offers that must be listed as unavailable, with their code.
    #[schemars(with = "Option<BTreeMap<String, RefusalText>>")]
    pub unavailable: Option<BTreeMap<Located<String>, Located<String>>>,
    /// `browse`: offers that must not be listed at all (filtered out, not sold to the
    /// customer's segment, or not sold through CSP).
    pub hidden: Option<Vec<Located<String>>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckSection {
    /// Subscription name to the fields it must have (only the named fields are compared).
    pub subscriptions: Option<SubscriptionChecks>,
    /// Invoices already issued, by date; the named lines must all be on the invoice.
    pub invoices: Option<Vec<Located<InvoiceCheck>>>,
}

/// Subscription name to field name to expected value.
pub type SubscriptionChecks = BTreeMap<Located<String>, BTreeMap<Located<String>, Located<ScalarText>>>;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InvoiceCheck {
    #[schemars(with = "DateText")]
    pub date: Located<String>,
    pub total: Option<Located<MoneyText>>,
    pub lines: Option<Vec<Located<LineCheck>>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LineCheck {
    pub subscription: Located<String>,
    pub kind: Option<Located<String>>,
    #[schemars(with = "Option<DateText>")]
    pub from: Option<Located<String>>,
    #[schemars(with = "Option<DateText>")]
    pub to: Option<Located<String>>,
    pub quantity: Option<Located<DecimalText>>,
    pub unit_price: Option<Located<MoneyText>>,
    pub days: Option<Located<u32>>,
    pub rule: Option<Located<String>>,
    pub amount: Located<MoneyText>,
}

/// A catalog file: the offers a scenario can buy.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "cspsim catalog (v1)")]
pub struct CatalogFile {
    /// ISO 4217 currency code; amounts have two decimals.
    pub currency: Located<String>,
    pub offers: Vec<Located<OfferSection>>,
}

/// A catalog path or an inline catalog.
#[derive(Debug)]
pub enum CatalogRef {
    Path(String),
    Inline(Box<CatalogFile>),
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OfferSection {
    pub id: Located<String>,
    pub name: Option<String>,
    /// `microsoft`, or an ISV publisher id.
    pub publisher: Located<String>,
    pub billing: Located<BillingTypeName>,
    /// Default `enterprise`.
    pub category: Option<Located<CategoryName>>,
    /// Default: every segment.
    pub segments: Option<Vec<Located<SegmentName>>>,
    /// Per license per month (per unit for usage offers), at most two decimals.
    pub price: Located<MoneyText>,
    /// Default `[monthly]`.
    pub frequencies: Option<Vec<Located<FrequencyName>>>,
    /// Default: P1Y for Microsoft, the billing frequency for ISVs.
    pub term: Option<Located<TermName>>,
    pub limit: Option<Located<LimitSection>>,
    /// Default 1..=10000.
    pub quantity: Option<Located<QuantitySection>>,
    /// Offer ids of this offer's add-ons.
    pub addons: Option<Vec<Located<String>>>,
    /// This offer is an add-on (bought onto a base, not from the catalog).
    pub addon: Option<Located<bool>>,
    /// Add-ons: where they are available; default everywhere.
    pub countries: Option<Vec<Located<String>>>,
    pub trial: Option<Located<TrialSection>>,
    pub isv: Option<Located<IsvSection>>,
}

#[derive(Clone, Copy, Debug, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum LimitKindName {
    Concurrent,
    Lifetime,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LimitSection {
    pub count: Located<u32>,
    pub kind: Located<LimitKindName>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct QuantitySection {
    pub min: Option<Located<i64>>,
    pub max: Option<Located<i64>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TrialSection {
    /// Default 30.
    pub days: Option<Located<u32>>,
    /// Microsoft trials: default 25.
    pub licenses: Option<Located<u32>>,
    /// Microsoft trials: the paid offer a conversion turns the trial into.
    pub converts_to: Option<Located<String>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IsvSection {
    /// Supported billing countries; default every country.
    pub countries: Option<Vec<Located<String>>>,
    /// Sold through CSP; default true.
    pub csp: Option<Located<bool>>,
    /// The only partners that may buy it.
    pub exclusive_to: Option<Vec<Located<String>>>,
    /// Default true; false for containers and VM offers.
    pub transactable: Option<Located<bool>>,
    pub setup_url: Option<Located<String>>,
}

/// A policy document: a built-in or a user's file.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "cspsim policy (v1)")]
pub struct PolicyFile {
    /// The policy's name.
    pub policy: Located<String>,
    pub description: Option<String>,
    /// A built-in policy this one starts from; default csp-2020's values.
    pub extends: Option<Located<String>>,
    /// Parameter values (`cspsim policies` lists them).
    #[serde(default)]
    #[schemars(schema_with = "policy_parameters_schema")]
    pub parameters: Option<BTreeMap<Located<String>, Located<ParameterNode>>>,
}

/// A seeded customer base (what-if analysis at scale).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PopulationSection {
    /// How many customers.
    #[schemars(range(min = 1, max = crate::scenario::load::MAX_POPULATION_CUSTOMERS))]
    pub customers: Located<i64>,
    /// The seed of the generator: the same seed gives the same customers and actions.
    pub seed: Located<u64>,
    /// How long to simulate after `start`, e.g. 36 (months).
    #[schemars(range(min = 1, max = crate::scenario::load::MAX_POPULATION_MONTHS))]
    pub months: Located<i64>,
    /// Billing countries with weights, e.g. `{US: 70, GB: 30}`; default US.
    #[schemars(extend("propertyNames" = {"pattern": "^[A-Z]{2}$"}))]
    pub countries: Option<BTreeMap<Located<String>, Located<u32>>>,
    /// Segments with weights; default commercial.
    pub segments: Option<BTreeMap<Located<SegmentName>, Located<u32>>>,
    /// What customers buy at the start (each customer picks one mix by weight).
    pub purchases: Vec<Located<PopulationPurchase>>,
    /// Monthly rates of partner actions per subscription, in percent (e.g. 2.5).
    pub monthly_rates: Option<Located<PopulationRates>>,
    /// Who acts for the partner (a user handle of `partner.users`).
    pub acting_user: Located<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PopulationPurchase {
    pub offer: Located<String>,
    /// Relative weight among `purchases`.
    pub weight: Located<u32>,
    /// Licenses: from min to max, uniformly.
    pub quantity: Option<Located<QuantitySection>>,
    /// Share of annual billing in percent; the rest is monthly. Default 0.
    #[schemars(range(max = 100))]
    pub annual_percent: Option<Located<u32>>,
}

#[derive(Debug, Deserialize, JsonSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct PopulationRates {
    pub quantity_change: Option<Located<DecimalText>>,
    pub suspend: Option<Located<DecimalText>>,
    pub reactivate: Option<Located<DecimalText>>,
    pub cancel: Option<Located<DecimalText>>,
    pub auto_renew_off: Option<Located<DecimalText>>,
}

// ---------------------------------------------------------------------------------------
// Scalar texts and small "this or that" shapes, with their own JSON Schemas.

/// Money as written: a YAML number or a string, read exactly (never as a binary float).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MoneyText(pub String);

/// A decimal number as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecimalText(pub String);

/// Any scalar, as text (`~` is empty).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScalarText(pub String);

/// A refusal code, or Partner Center's number for it, for the schema only.
pub struct RefusalText;
/// Text for instants, for the schema only.
pub struct InstantText;
/// Text for dates, for the schema only.
pub struct DateText;
/// Text for step times, for the schema only.
pub struct StepTimeText;

/// A policy parameter's value: a scalar, a list, or a mapping (the role matrix).
#[derive(Clone, Debug, PartialEq)]
pub enum ParameterNode {
    Text(String),
    List(Vec<String>),
    Map(Vec<(String, ParameterNode)>),
}

/// A name, or the full form of an action.
#[derive(Debug)]
pub enum NameOr<T> {
    Name(String),
    Full(T),
}

/// One value or a list of values.
#[derive(Debug)]
pub struct OneOrMany<T>(pub Vec<T>);

struct TextVisitor(&'static str);

impl Visitor<'_> for TextVisitor {
    type Value = String;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(self.0)
    }
    fn visit_str<E: de::Error>(self, value: &str) -> Result<String, E> {
        Ok(value.to_string())
    }
    fn visit_i64<E: de::Error>(self, value: i64) -> Result<String, E> {
        Ok(value.to_string())
    }
    fn visit_u64<E: de::Error>(self, value: u64) -> Result<String, E> {
        Ok(value.to_string())
    }
    fn visit_f64<E: de::Error>(self, value: f64) -> Result<String, E> {
        // Only other deserializers get here (ours hands numbers over by their spelling).
        Ok(value.to_string())
    }
}

impl<'de> Deserialize<'de> for MoneyText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(TextVisitor("an amount such as 12.50")).map(MoneyText)
    }
}

impl<'de> Deserialize<'de> for DecimalText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(TextVisitor("a decimal number")).map(DecimalText)
    }
}

impl<'de> Deserialize<'de> for ScalarText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ScalarVisitor;
        impl Visitor<'_> for ScalarVisitor {
            type Value = ScalarText;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a single value (text, number, date, true or false)")
            }
            fn visit_unit<E: de::Error>(self) -> Result<ScalarText, E> {
                Ok(ScalarText(String::new()))
            }
            fn visit_str<E: de::Error>(self, value: &str) -> Result<ScalarText, E> {
                Ok(ScalarText(value.to_string()))
            }
            fn visit_bool<E: de::Error>(self, value: bool) -> Result<ScalarText, E> {
                Ok(ScalarText(value.to_string()))
            }
            fn visit_i64<E: de::Error>(self, value: i64) -> Result<ScalarText, E> {
                Ok(ScalarText(value.to_string()))
            }
            fn visit_u64<E: de::Error>(self, value: u64) -> Result<ScalarText, E> {
                Ok(ScalarText(value.to_string()))
            }
            fn visit_i128<E: de::Error>(self, value: i128) -> Result<ScalarText, E> {
                Ok(ScalarText(value.to_string()))
            }
        }
        deserializer.deserialize_any(ScalarVisitor)
    }
}

impl<'de> Deserialize<'de> for ParameterNode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ParameterVisitor;
        impl<'de> Visitor<'de> for ParameterVisitor {
            type Value = ParameterNode;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a value, a list of values, or a mapping")
            }
            fn visit_unit<E: de::Error>(self) -> Result<ParameterNode, E> {
                Ok(ParameterNode::Text(String::new()))
            }
            fn visit_str<E: de::Error>(self, value: &str) -> Result<ParameterNode, E> {
                Ok(ParameterNode::Text(value.to_string()))
            }
            fn visit_bool<E: de::Error>(self, value: bool) -> Result<ParameterNode, E> {
                Ok(ParameterNode::Text(value.to_string()))
            }
            fn visit_i64<E: de::Error>(self, value: i64) -> Result<ParameterNode, E> {
                Ok(ParameterNode::Text(value.to_string()))
            }
            fn visit_u64<E: de::Error>(self, value: u64) -> Result<ParameterNode, E> {
                Ok(ParameterNode::Text(value.to_string()))
            }
            fn visit_i128<E: de::Error>(self, value: i128) -> Result<ParameterNode, E> {
                Ok(ParameterNode::Text(value.to_string()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut access: A) -> Result<ParameterNode, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = access.next_element::<String>()? {
                    items.push(item);
                }
                Ok(ParameterNode::List(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<ParameterNode, A::Error> {
                let mut entries = Vec::new();
                while let Some((key, value)) = access.next_entry::<String, ParameterNode>()? {
                    entries.push((key, value));
                }
                Ok(ParameterNode::Map(entries))
            }
        }
        deserializer.deserialize_any(ParameterVisitor)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for NameOr<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct NameOrVisitor<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for NameOrVisitor<T> {
            type Value = NameOr<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a subscription name or a mapping")
            }
            fn visit_str<E: de::Error>(self, value: &str) -> Result<NameOr<T>, E> {
                Ok(NameOr::Name(value.to_string()))
            }
            fn visit_i64<E: de::Error>(self, value: i64) -> Result<NameOr<T>, E> {
                Ok(NameOr::Name(value.to_string()))
            }
            fn visit_map<A: MapAccess<'de>>(self, access: A) -> Result<NameOr<T>, A::Error> {
                T::deserialize(MapAccessDeserializer::new(access)).map(NameOr::Full)
            }
        }
        deserializer.deserialize_any(NameOrVisitor(std::marker::PhantomData))
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for OneOrMany<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct OneOrManyVisitor<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for OneOrManyVisitor<T> {
            type Value = OneOrMany<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a value or a list of values")
            }
            fn visit_str<E: de::Error>(self, value: &str) -> Result<OneOrMany<T>, E> {
                T::deserialize(de::value::StrDeserializer::<E>::new(value)).map(|one| OneOrMany(vec![one]))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, access: A) -> Result<OneOrMany<T>, A::Error> {
                Vec::<T>::deserialize(SeqAccessDeserializer::new(access)).map(OneOrMany)
            }
            fn visit_newtype_struct<D: Deserializer<'de>>(self, deserializer: D) -> Result<OneOrMany<T>, D::Error> {
                deserializer.deserialize_any(self)
            }
        }
        // The file loader decodes one value as a list of one (see `ONE_OR_MANY_MARKER`);
        // other deserializers see a newtype and take the value or the list as it comes.
        deserializer.deserialize_newtype_struct(crate::scenario::node_de::ONE_OR_MANY_MARKER, OneOrManyVisitor(std::marker::PhantomData))
    }
}

impl<'de> Deserialize<'de> for ExpectSection {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ExpectVisitor;
        impl<'de> Visitor<'de> for ExpectVisitor {
            type Value = ExpectSection;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("`ok`, `{rejected: CODE}`, or for browse `{available: [...], unavailable: {...}}`")
            }
            fn visit_str<E: de::Error>(self, value: &str) -> Result<ExpectSection, E> {
                if value == "ok" {
                    Ok(ExpectSection::Ok)
                } else {
                    Err(E::invalid_value(de::Unexpected::Str(value), &"`ok`, or a mapping such as {rejected: CODE}"))
                }
            }
            fn visit_map<A: MapAccess<'de>>(self, access: A) -> Result<ExpectSection, A::Error> {
                ExpectDetail::deserialize(MapAccessDeserializer::new(access)).map(ExpectSection::Detailed)
            }
        }
        deserializer.deserialize_any(ExpectVisitor)
    }
}

impl<'de> Deserialize<'de> for CatalogRef {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct CatalogVisitor;
        impl<'de> Visitor<'de> for CatalogVisitor {
            type Value = CatalogRef;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a catalog file path, or the catalog inline")
            }
            fn visit_str<E: de::Error>(self, value: &str) -> Result<CatalogRef, E> {
                Ok(CatalogRef::Path(value.to_string()))
            }
            fn visit_map<A: MapAccess<'de>>(self, access: A) -> Result<CatalogRef, A::Error> {
                CatalogFile::deserialize(MapAccessDeserializer::new(access)).map(|catalog| CatalogRef::Inline(Box::new(catalog)))
            }
        }
        deserializer.deserialize_any(CatalogVisitor)
    }
}

const INSTANT_PATTERN: &str = r"^\d{4}-\d{2}-\d{2}([Tt ]\d{2}:\d{2}(:\d{2})?([Zz]|\+00:00))?$";
const DATE_PATTERN: &str = r"^\d{4}-\d{2}-\d{2}$";
const DURATION_PATTERN: &str = r"^\+(\d+w)?(\d+d)?(\d+h)?(\d+m)?(\d+s)?$";

impl JsonSchema for MoneyText {
    fn schema_name() -> Cow<'static, str> {
        "Money".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "An amount with at most two decimals, as a number or a string (read exactly as written).",
            "anyOf": [{ "type": "number" }, { "type": "string", "pattern": r"^[+-]?\d+(\.\d+)?$" }]
        })
    }
}

impl JsonSchema for DecimalText {
    fn schema_name() -> Cow<'static, str> {
        "Decimal".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "anyOf": [{ "type": "number" }, { "type": "string", "pattern": r"^[+-]?\d+(\.\d+)?$" }] })
    }
}

impl JsonSchema for ScalarText {
    fn schema_name() -> Cow<'static, str> {
        "Scalar".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": ["string", "number", "boolean", "null"] })
    }
}

impl JsonSchema for RefusalText {
    fn schema_name() -> Cow<'static, str> {
        "Refusal".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let names: Vec<&str> = crate::engine::rules::Code::ALL.iter().map(|code| code.name()).collect();
        let numbers: Vec<u32> = crate::engine::rules::Code::ALL.iter().filter_map(|code| code.partner_center_number()).collect();
        json_schema!({
            "description": "A refusal code (docs/REFERENCE.md), or Partner Center's number for it.",
            "anyOf": [{ "type": "string", "enum": names }, { "type": "integer", "enum": numbers }]
        })
    }
}

impl JsonSchema for InstantText {
    fn schema_name() -> Cow<'static, str> {
        "Instant".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A UTC instant (2020-07-22T09:00:00Z) or a date (00:00Z).",
            "type": "string",
            "pattern": INSTANT_PATTERN
        })
    }
}

impl JsonSchema for DateText {
    fn schema_name() -> Cow<'static, str> {
        "Date".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "description": "A date, YYYY-MM-DD.", "type": "string", "pattern": DATE_PATTERN })
    }
}

impl JsonSchema for StepTimeText {
    fn schema_name() -> Cow<'static, str> {
        "StepTime".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "An absolute instant or date, or +DURATION after the previous step (30m, 24h, 13d, 1d12h).",
            "type": "string",
            "anyOf": [{ "pattern": INSTANT_PATTERN }, { "pattern": DURATION_PATTERN }]
        })
    }
}

/// The policy parameters by name, from the same table the loader applies them with, so an
/// editor completes their names and flags a misspelt one.
fn policy_parameters_schema(generator: &mut SchemaGenerator) -> Schema {
    let value = generator.subschema_for::<ParameterNode>();
    let properties: serde_json::Map<String, serde_json::Value> = crate::policy::PARAMETERS
        .iter()
        .map(|parameter| {
            let mut schema = value.clone();
            schema.insert("description".into(), format!("{}. Expected: {}.", parameter.doc, parameter.expected).into());
            (parameter.name.to_string(), schema.to_value())
        })
        .collect();
    json_schema!({ "type": "object", "properties": properties, "additionalProperties": false })
}

impl JsonSchema for ParameterNode {
    fn schema_name() -> Cow<'static, str> {
        "ParameterValue".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A policy parameter value: a duration, number, name, true/false, none, or for role_matrix a mapping of action to roles.",
            "anyOf": [
                { "type": ["string", "number", "boolean", "null"] },
                { "type": "array", "items": { "type": "string" } },
                { "type": "object", "additionalProperties": { "type": "array", "items": { "type": "string" } } }
            ]
        })
    }
}

impl<T: JsonSchema> JsonSchema for NameOr<T> {
    fn schema_name() -> Cow<'static, str> {
        format!("NameOr{}", T::schema_name()).into()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        json_schema!({ "anyOf": [{ "type": "string", "description": "a subscription name" }, generator.subschema_for::<T>()] })
    }
}

impl<T: JsonSchema> JsonSchema for OneOrMany<T> {
    fn schema_name() -> Cow<'static, str> {
        format!("OneOrMany{}", T::schema_name()).into()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        json_schema!({ "anyOf": [generator.subschema_for::<T>(), { "type": "array", "items": generator.subschema_for::<T>() }] })
    }
}

impl JsonSchema for ExpectSection {
    fn schema_name() -> Cow<'static, str> {
        "Expect".into()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        json_schema!({ "anyOf": [{ "const": "ok" }, generator.subschema_for::<ExpectDetail>()] })
    }
}

impl JsonSchema for CatalogRef {
    fn schema_name() -> Cow<'static, str> {
        "CatalogRef".into()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        json_schema!({ "anyOf": [{ "type": "string", "description": "a catalog file path relative to the scenario" }, generator.subschema_for::<CatalogFile>()] })
    }
}

/// The JSON Schema of a file kind, pretty-printed, from the same types the loader uses.
pub fn schema_json(kind: SchemaKind) -> String {
    let generator = SchemaGenerator::default();
    let schema = match kind {
        SchemaKind::Scenario => generator.into_root_schema_for::<ScenarioFile>(),
        SchemaKind::Catalog => generator.into_root_schema_for::<CatalogFile>(),
        SchemaKind::Policy => generator.into_root_schema_for::<PolicyFile>(),
    };
    serde_json::to_string_pretty(&schema).expect("schemas serialize") + "\n"
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SchemaKind {
    Scenario,
    Catalog,
    Policy,
}
