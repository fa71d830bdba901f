//! The catalog as the engine sees it: offers with ids as indices, and what makes an offer
//! visible and purchasable for a customer (section 2 of RULES.md).

use crate::engine::money::Money;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OfferId(pub u32);

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum BillingType {
    License,
    Usage,
}

impl BillingType {
    pub fn name(self) -> &'static str {
        match self {
            BillingType::License => "license",
            BillingType::Usage => "usage",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Category {
    Enterprise,
    SmallBusiness,
    Trial,
}

impl Category {
    pub fn name(self) -> &'static str {
        match self {
            Category::Enterprise => "enterprise",
            Category::SmallBusiness => "small-business",
            Category::Trial => "trial",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Segment {
    Commercial,
    Education,
    Government,
    Nonprofit,
}

impl Segment {
    pub const ALL: [Segment; 4] = [Segment::Commercial, Segment::Education, Segment::Government, Segment::Nonprofit];
    pub fn name(self) -> &'static str {
        match self {
            Segment::Commercial => "commercial",
            Segment::Education => "education",
            Segment::Government => "government",
            Segment::Nonprofit => "nonprofit",
        }
    }
}

/// Monthly or annual billing (license offers only; usage is billed in arrears).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Frequency {
    Monthly,
    Annual,
}

impl Frequency {
    pub fn name(self) -> &'static str {
        match self {
            Frequency::Monthly => "monthly",
            Frequency::Annual => "annual",
        }
    }
    /// "billed monthly", "billed annually".
    pub fn adverb(self) -> &'static str {
        match self {
            Frequency::Monthly => "monthly",
            Frequency::Annual => "annually",
        }
    }
    /// Months in one billed period.
    pub fn months(self) -> u32 {
        match self {
            Frequency::Monthly => 1,
            Frequency::Annual => 12,
        }
    }
}

/// A subscription term (BUY-TERM).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Term {
    OneMonth,
    OneYear,
}

impl Term {
    pub fn months(self) -> u32 {
        match self {
            Term::OneMonth => 1,
            Term::OneYear => 12,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Term::OneMonth => "P1M",
            Term::OneYear => "P1Y",
        }
    }
}

/// ISO 3166-1 alpha-2 billing country, upper case.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Country(pub [u8; 2]);

impl Country {
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("??")
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LimitKind {
    /// Counts active and suspended subscriptions.
    Concurrent,
    /// Counts every subscription ever created.
    Lifetime,
}

impl LimitKind {
    pub fn name(self) -> &'static str {
        match self {
            LimitKind::Concurrent => "concurrent",
            LimitKind::Lifetime => "lifetime",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limit {
    pub count: u32,
    pub kind: LimitKind,
}

/// The longest free trial an offer or a policy may give: ten years is already no trial.
pub const MAX_TRIAL_DAYS: u32 = 3650;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrialSpec {
    pub days: Option<u32>,
    pub licenses: Option<u32>,
    /// Microsoft trials: the paid offer a conversion turns the trial into.
    pub converts_to: Option<OfferId>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IsvTerms {
    /// `None`: every country.
    pub countries: Option<Vec<Country>>,
    pub sold_through_csp: bool,
    /// `None`: every partner.
    pub exclusive_to: Option<Vec<String>>,
    pub transactable: bool,
    pub setup_url: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Offer {
    pub id: String,
    pub name: String,
    /// `None` for Microsoft, the ISV publisher id otherwise.
    pub isv_publisher: Option<String>,
    pub billing: BillingType,
    pub category: Category,
    pub segments: Vec<Segment>,
    /// The catalog price when the scenario starts (`set_price` changes the running price).
    pub price: Money,
    pub frequencies: Vec<Frequency>,
    /// `None`: the default term (P1Y for Microsoft, the billing frequency for ISVs).
    pub term: Option<Term>,
    pub limit: Option<Limit>,
    pub quantity_min: i64,
    pub quantity_max: i64,
    pub addons: Vec<OfferId>,
    pub is_addon: bool,
    /// Where an add-on is available; `None`: everywhere.
    pub addon_countries: Option<Vec<Country>>,
    pub trial: Option<TrialSpec>,
    pub isv: Option<IsvTerms>,
}

impl Offer {
    pub fn is_microsoft(&self) -> bool {
        self.isv_publisher.is_none()
    }

    /// A Microsoft trial offer (category `trial`): converted by the partner or it expires.
    pub fn is_microsoft_trial(&self) -> bool {
        self.is_microsoft() && self.category == Category::Trial
    }

    /// An ISV offer with a free trial: every purchase starts in trial (TRIAL-ISV-AUTO).
    pub fn has_isv_trial(&self) -> bool {
        !self.is_microsoft() && self.trial.is_some()
    }

    pub fn term_for(&self, frequency: Frequency) -> Term {
        match (self.term, self.is_microsoft()) {
            (Some(term), _) => term,
            (None, true) => Term::OneYear,
            (None, false) => match frequency {
                Frequency::Monthly => Term::OneMonth,
                Frequency::Annual => Term::OneYear,
            },
        }
    }

    pub fn default_frequency(&self) -> Frequency {
        self.frequencies.first().copied().unwrap_or(Frequency::Monthly)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Catalog {
    pub currency: String,
    /// The currency's smallest amount: 0.01, or 1.00 for a currency without decimals (JPY).
    /// Every price is a multiple of it, and every computed amount is rounded to one.
    pub smallest_amount: crate::engine::money::Money,
    pub offers: Vec<Offer>,
}

impl Catalog {
    pub fn offer(&self, id: OfferId) -> &Offer {
        &self.offers[id.0 as usize]
    }
    pub fn find(&self, id: &str) -> Option<OfferId> {
        self.offers.iter().position(|offer| offer.id == id).map(|index| OfferId(index as u32))
    }
    pub fn ids(&self) -> impl Iterator<Item = OfferId> + '_ {
        (0..self.offers.len() as u32).map(OfferId)
    }
}
