//! The rule IDs of RULES.md and the refusal codes, as data.
//!
//! Every decision the engine makes carries one [`Rule`]; every refusal carries a [`Code`]
//! (with the Partner Center REST error number where one exists). Both are plain enums so that
//! the hot path of a large simulation counts them without touching strings.

macro_rules! define_rules {
    ($($variant:ident => $id:literal, $section:literal, $summary:literal;)*) => {
        /// A rule of RULES.md, by its ID.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Rule { $($variant),* }

        impl Rule {
            /// Every rule, in the order of RULES.md.
            pub const ALL: &'static [Rule] = &[$(Rule::$variant),*];

            pub const fn id(self) -> &'static str {
                match self { $(Rule::$variant => $id),* }
            }

            /// The RULES.md section number the rule belongs to.
            pub const fn section(self) -> u8 {
                match self { $(Rule::$variant => $section),* }
            }

            pub const fn summary(self) -> &'static str {
                match self { $(Rule::$variant => $summary),* }
            }
        }
    };
}

define_rules! {
    RoleMatrix => "ROLE-MATRIX", 1, "what each partner role may do";
    PartnerProgram => "PARTNER-PROGRAM", 1, "the partner's program and cloud";
    CatFilter => "CAT-FILTER", 2, "catalog filters by publisher, billing type and category";
    CatSegment => "CAT-SEGMENT", 2, "a customer sees only offers sold to its segment";
    AvailIsvNotCsp => "AVAIL-ISV-NOT-CSP", 2, "ISV offers not sold through CSP are not listed";
    AvailLimit => "AVAIL-LIMIT", 2, "purchase limits per customer";
    AvailSuspended => "AVAIL-SUSPENDED", 2, "a suspended subscription blocks a limited purchase: reactivate it";
    AvailIsvCountry => "AVAIL-ISV-COUNTRY", 2, "ISV offers only for supported billing countries";
    AvailIsvExclusive => "AVAIL-ISV-EXCLUSIVE", 2, "exclusive ISV offers only for selected partners";
    AvailNotTransactable => "AVAIL-NOT-TRANSACTABLE", 2, "offers not transactable in Partner Center";
    AvailExplain => "AVAIL-EXPLAIN", 2, "browsing says why an offer is unavailable";
    BuyCart => "BUY-CART", 3, "cart, review, checkout";
    BuyQuantity => "BUY-QUANTITY", 3, "quantity bounds and billing frequencies";
    BuyAddonNotInCatalog => "BUY-ADDON-NOT-IN-CATALOG", 3, "add-ons are not bought from the catalog";
    BuyIsvLink => "BUY-ISV-LINK", 3, "ISV purchases return the publisher's setup link";
    BuyTerm => "BUY-TERM", 3, "a paid subscription's term starts at purchase";
    TrialIsvAuto => "TRIAL-ISV-AUTO", 4, "ISV free trials start and convert by themselves";
    TrialIsvCancel => "TRIAL-ISV-CANCEL", 4, "an ISV trial can be cancelled at no cost";
    TrialMs => "TRIAL-MS", 4, "Microsoft trials: 25 licenses, 30 days, then expire";
    TrialMsConvert => "TRIAL-MS-CONVERT", 4, "converting a Microsoft trial to paid";
    TrialMsEligible => "TRIAL-MS-ELIGIBLE", 4, "who may start a Microsoft trial";
    AddonActiveBase => "ADDON-ACTIVE-BASE", 5, "add-ons need an active base";
    AddonEligible => "ADDON-ELIGIBLE", 5, "the add-on must belong to the base and the region";
    AddonProgram => "ADDON-PROGRAM", 5, "only direct-bill partners and indirect providers buy add-ons";
    AddonAlign => "ADDON-ALIGN", 5, "an add-on follows its base's billing and term";
    AddonSuspendCascade => "ADDON-SUSPEND-CASCADE", 5, "suspending, reactivating or deleting a base carries its add-ons";
    QtyChange => "QTY-CHANGE", 6, "license quantity changes";
    QtySuspended => "QTY-SUSPENDED", 6, "no quantity change while suspended";
    QtyDeleted => "QTY-DELETED", 6, "no change to a deleted subscription";
    Suspend => "SUSPEND", 7, "suspending a subscription";
    SuspendRetention => "SUSPEND-RETENTION", 7, "a suspended subscription is deleted at its deletion date";
    SuspendNoBill => "SUSPEND-NO-BILL", 7, "no charges while suspended";
    SuspendCredit => "SUSPEND-CREDIT", 7, "suspending a license subscription earns a credit";
    SuspendAtTermEnd => "SUSPEND-AT-TERM-END", 7, "still suspended at term end: deleted";
    Reactivate => "REACTIVATE", 7, "reactivating a suspended subscription";
    CancelWindow => "CANCEL-WINDOW", 8, "the ISV cancellation window";
    CancelInWindow => "CANCEL-IN-WINDOW", 8, "cancelled inside the window: deleted with a full credit";
    CancelAfterWindow => "CANCEL-AFTER-WINDOW", 8, "cancelled after the window: ends at term end";
    CancelUsage => "CANCEL-USAGE", 8, "usage-based ISV services are de-provisioned, never refunded";
    CancelMicrosoft => "CANCEL-MICROSOFT", 8, "Microsoft subscriptions are suspended, not cancelled";
    RenewDefault => "RENEW-DEFAULT", 9, "subscriptions auto-renew by default";
    RenewToggle => "RENEW-TOGGLE", 9, "auto-renew can be switched only for marketplace subscriptions";
    RenewTerm => "RENEW-TERM", 9, "what happens at term end";
    BillDate => "BILL-DATE", 10, "one invoice per billing date";
    BillCalendar => "BILL-CALENDAR", 10, "service periods from the anniversary";
    BillAdvance => "BILL-ADVANCE", 10, "license subscriptions are billed in advance";
    BillProrate => "BILL-PRORATE", 10, "partial periods are charged by day";
    BillQtyChange => "BILL-QTY-CHANGE", 10, "a quantity change credits and rebills the period";
    BillSuspendCredit => "BILL-SUSPEND-CREDIT", 10, "the credit for a suspension";
    BillReactivate => "BILL-REACTIVATE", 10, "the charge for a reactivation";
    BillTrial => "BILL-TRIAL", 10, "a free trial is a zero-amount line";
    BillCancelCredit => "BILL-CANCEL-CREDIT", 10, "an in-window cancellation credits every charge";
    BillAddon => "BILL-ADDON", 10, "an add-on's first charge is aligned to its base";
    BillUsage => "BILL-USAGE", 10, "usage is billed in arrears";
    BillPriceLock => "BILL-PRICE-LOCK", 10, "a period's price is locked when it starts";
    OrderSameInstant => "ORDER-SAME-INSTANT", 11, "the order of things that happen at one instant";
}

impl Rule {
    pub fn from_id(id: &str) -> Option<Rule> {
        Rule::ALL.iter().copied().find(|rule| rule.id() == id)
    }

    pub const COUNT: usize = Rule::ALL.len();

    pub fn index(self) -> usize {
        self as usize
    }
}

macro_rules! define_codes {
    ($($variant:ident => $name:literal, $number:expr;)*) => {
        /// Why an action was refused: a stable code name and, where Partner Center has one,
        /// its REST API error number.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Code { $($variant),* }

        impl Code {
            pub const ALL: &'static [Code] = &[$(Code::$variant),*];

            pub const fn name(self) -> &'static str {
                match self { $(Code::$variant => $name),* }
            }

            /// The Partner Center REST API error number, where one exists.
            pub const fn partner_center_number(self) -> Option<u32> {
                match self { $(Code::$variant => $number),* }
            }
        }
    };
}

define_codes! {
    PermissionDenied => "PERMISSION_DENIED", None;
    OfferNotFound => "OFFER_NOT_FOUND", Some(800004);
    UseLimitExceeded => "USE_LIMIT_EXCEEDED", Some(27006);
    SubscriptionSuspendedReactivate => "SUBSCRIPTION_SUSPENDED_REACTIVATE", None;
    OfferNotAvailableInCountry => "OFFER_NOT_AVAILABLE_IN_COUNTRY", Some(800070);
    PartnerNotEligible => "PARTNER_NOT_ELIGIBLE", Some(800020);
    NotTransactableInPartnerCenter => "NOT_TRANSACTABLE_IN_PARTNER_CENTER", None;
    CartAlreadySubmitted => "CART_ALREADY_SUBMITTED", Some(800065);
    CartEmpty => "CART_EMPTY", None;
    QuantityOutOfRange => "QUANTITY_OUT_OF_RANGE", Some(2002);
    BillingFrequencyNotSupported => "BILLING_FREQUENCY_NOT_SUPPORTED", None;
    AddonNotPurchasableFromCatalog => "ADDON_NOT_PURCHASABLE_FROM_CATALOG", None;
    TrialQuantityFixed => "TRIAL_QUANTITY_FIXED", None;
    TrialAlreadyUsed => "TRIAL_ALREADY_USED", None;
    TrialOfferAlreadyOwned => "TRIAL_OFFER_ALREADY_OWNED", None;
    TrialNotAvailable => "TRIAL_NOT_AVAILABLE", None;
    TrialExpired => "TRIAL_EXPIRED", None;
    NotATrial => "NOT_A_TRIAL", None;
    TrialConvertsAutomatically => "TRIAL_CONVERTS_AUTOMATICALLY", None;
    ParentNotActive => "PARENT_NOT_ACTIVE", Some(27009);
    AddonNotRelatedToParent => "ADDON_NOT_RELATED_TO_PARENT", Some(800029);
    AddonNotAvailableInRegion => "ADDON_NOT_AVAILABLE_IN_REGION", None;
    AddonNotAllowedForProgram => "ADDON_NOT_ALLOWED_FOR_PROGRAM", None;
    SubscriptionSuspended => "SUBSCRIPTION_SUSPENDED", Some(800091);
    SubscriptionDeleted => "SUBSCRIPTION_DELETED", Some(2011);
    SubscriptionNotFound => "SUBSCRIPTION_NOT_FOUND", None;
    SubscriptionNotActive => "SUBSCRIPTION_NOT_ACTIVE", None;
    SubscriptionAlreadySuspended => "SUBSCRIPTION_ALREADY_SUSPENDED", None;
    SubscriptionNotSuspended => "SUBSCRIPTION_NOT_SUSPENDED", None;
    QuantityNotApplicable => "QUANTITY_NOT_APPLICABLE", None;
    QuantityDecreaseNotAllowed => "QUANTITY_DECREASE_NOT_ALLOWED", None;
    NotUsageBased => "NOT_USAGE_BASED", None;
    CancellationWindowPassed => "CANCELLATION_WINDOW_PASSED", Some(900117);
    CancellationAlreadyScheduled => "CANCELLATION_ALREADY_SCHEDULED", None;
    CancelNotSupportedUseSuspend => "CANCEL_NOT_SUPPORTED_USE_SUSPEND", Some(800063);
    AutoRenewNotSupported => "AUTO_RENEW_NOT_SUPPORTED", Some(800093);
}

impl Code {
    pub fn from_name(name: &str) -> Option<Code> {
        Code::ALL.iter().copied().find(|code| code.name() == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_ids_are_unique_and_round_trip() {
        let mut ids: Vec<&str> = Rule::ALL.iter().map(|rule| rule.id()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), Rule::ALL.len());
        for rule in Rule::ALL {
            assert_eq!(Rule::from_id(rule.id()), Some(*rule));
            assert_eq!(Rule::ALL[rule.index()], *rule);
        }
    }

    /// The specification, as shipped in `docs/spec/`.
    const RULES_MD: &str = include_str!("../../docs/spec/RULES.md");

    #[test]
    fn the_rules_are_exactly_those_of_rules_md() {
        // Every rule is introduced as `- **ID**:` in RULES.md.
        let specified: Vec<&str> =
            RULES_MD.lines().filter_map(|line| line.trim_start().strip_prefix("- **")).filter_map(|rest| rest.split_once("**:")).map(|(id, _)| id).collect();
        let defined: Vec<&str> = Rule::ALL.iter().map(|rule| rule.id()).collect();
        assert_eq!(defined, specified, "the engine's rules, in order, are RULES.md's");
        assert_eq!(specified.len(), 56);
    }

    #[test]
    fn every_code_of_rules_md_is_defined_with_its_partner_center_number() {
        // Codes are written `CODE` in RULES.md, with their number in parentheses after them.
        let mut seen = 0;
        for piece in RULES_MD.split('`').skip(1).step_by(2) {
            let is_code = piece.len() > 3 && piece.bytes().all(|b| b.is_ascii_uppercase() || b == b'_') && piece.contains('_');
            if !is_code {
                continue;
            }
            let code = Code::from_name(piece).unwrap_or_else(|| panic!("RULES.md names the code {piece}, which is not defined"));
            seen += 1;
            let after = RULES_MD.split(&format!("`{piece}`")).nth(1).unwrap_or_default();
            if let Some(number) = after.strip_prefix(" (").and_then(|rest| rest.split_once(')')).and_then(|(n, _)| n.parse::<u32>().ok()) {
                assert_eq!(code.partner_center_number(), Some(number), "{piece}");
            }
        }
        assert!(seen >= 20, "only {seen} codes found in RULES.md");
    }

    #[test]
    fn partner_center_numbers_match_the_rules() {
        assert_eq!(Code::UseLimitExceeded.partner_center_number(), Some(27006));
        assert_eq!(Code::SubscriptionDeleted.partner_center_number(), Some(2011));
        assert_eq!(Code::from_name("CANCELLATION_WINDOW_PASSED"), Some(Code::CancellationWindowPassed));
    }
}
