//! Exact money: amounts in minor units (cents), exact decimals for quantities of usage, and
//! every rounding rule of the billing ledger, each in one named function.
//!
//! Nothing on the money path uses binary floating point. Prices are read from text exactly as
//! written; a price finer than a cent is an input error, so every price is a whole number of
//! cents. Prorated amounts are computed as exact fractions in `i128` and rounded once, by the
//! policy's `amount_rounding`, to whole cents.

use std::fmt;

/// An amount of the catalog's currency in cents (credits are negative).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Money(i64);

/// How a fraction of a cent becomes a whole cent. Policy parameter `amount_rounding`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rounding {
    /// Halves away from zero, so that a credit is always the exact negative of its charge.
    HalfUp,
    /// Halves to the even neighbour (banker's rounding).
    HalfEven,
    /// Toward zero (truncation).
    Down,
    /// Away from zero.
    Up,
}

impl Rounding {
    pub const NAMES: &'static [&'static str] = &["half-up", "half-even", "down", "up"];

    pub fn from_name(name: &str) -> Option<Rounding> {
        Some(match name {
            "half-up" => Rounding::HalfUp,
            "half-even" => Rounding::HalfEven,
            "down" => Rounding::Down,
            "up" => Rounding::Up,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Rounding::HalfUp => "half-up",
            Rounding::HalfEven => "half-even",
            Rounding::Down => "down",
            Rounding::Up => "up",
        }
    }
}

/// Divides `numerator / denominator` (denominator > 0) to a whole number with `rounding`.
/// The one place where a fraction becomes an integer; both named rounding rules call it.
pub fn divide_rounded(numerator: i128, denominator: i128, rounding: Rounding) -> i128 {
    assert!(denominator > 0, "denominators are positive day counts or powers of ten");
    let quotient = numerator / denominator; // truncates toward zero
    let remainder = numerator % denominator;
    if remainder == 0 {
        return quotient;
    }
    let away_from_zero = if numerator < 0 { quotient - 1 } else { quotient + 1 };
    let twice_remainder = remainder.abs() * 2;
    match rounding {
        Rounding::Down => quotient,
        Rounding::Up => away_from_zero,
        Rounding::HalfUp => {
            if twice_remainder >= denominator {
                away_from_zero
            } else {
                quotient
            }
        }
        Rounding::HalfEven => {
            if twice_remainder > denominator || (twice_remainder == denominator && quotient % 2 != 0) {
                away_from_zero
            } else {
                quotient
            }
        }
    }
}

/// BILL-PRORATE, `amount_rounding`: an exact amount of `numerator / denominator` cents becomes
/// the line's amount in whole cents, or in whole multiples of `smallest` cents for a
/// currency without cents. Applied once per ledger line.
pub fn round_line_amount(numerator: i128, denominator: i128, rounding: Rounding, smallest: Money) -> Option<Money> {
    let step = i128::from(smallest.0.max(1));
    let steps = divide_rounded(numerator, denominator.checked_mul(step)?, rounding);
    i64::try_from(steps.checked_mul(step)?).ok().map(Money)
}

/// BILL-PRORATE, `daily_rate_decimals`: the daily rate `period_price / period_days` rounded to
/// `decimals` decimal places of the currency unit, half-up (the way published billing
/// examples print a daily rate). Returns the rate in units of 10^-decimals.
pub fn round_daily_rate(period_price: Money, period_days: i64, decimals: u32) -> i128 {
    // price is in cents: rate in 10^-decimals units = cents * 10^decimals / (100 * days)
    let scale = 10_i128.pow(decimals);
    divide_rounded(i128::from(period_price.0) * scale, 100 * i128::from(period_days), Rounding::HalfUp)
}

impl Money {
    pub const ZERO: Money = Money(0);

    pub const fn from_cents(cents: i64) -> Self {
        Money(cents)
    }
    pub const fn cents(self) -> i64 {
        self.0
    }
    pub fn checked_add(self, other: Money) -> Option<Money> {
        self.0.checked_add(other.0).map(Money)
    }
    pub fn checked_mul(self, factor: i64) -> Option<Money> {
        self.0.checked_mul(factor).map(Money)
    }
    pub fn checked_neg(self) -> Option<Money> {
        self.0.checked_neg().map(Money)
    }
    pub fn is_negative(self) -> bool {
        self.0 < 0
    }

    /// Reads an amount exactly as written: `12`, `12.5`, `-0.05`, `1200.00`. More than two
    /// decimals is an error (prices finer than the currency's cents), unless the extra
    /// digits are zeros.
    pub fn parse(text: &str) -> Result<Money, String> {
        let decimal = Decimal::parse(text)?;
        decimal.to_money().ok_or_else(|| {
            if decimal.scale > 2 {
                format!("`{text}` is finer than the currency's cents; write at most two decimals")
            } else {
                format!("`{text}` is too large an amount")
            }
        })
    }
}

impl fmt::Display for Money {
    /// Always exactly two decimals: `1200.00`, `-320.00`, `0.05`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_cents(i128::from(self.0)))
    }
}

/// An amount of cents as money text, for totals too large for one [`Money`] (sums of many
/// runs): exactly two decimals, credits negative.
pub fn format_cents(cents: i128) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let magnitude = cents.unsigned_abs();
    format!("{sign}{}.{:02}", magnitude / 100, magnitude % 100)
}

/// An exact decimal number (`mantissa * 10^-scale`), for usage units and daily rates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Decimal {
    pub mantissa: i128,
    pub scale: u32,
}

impl Decimal {
    pub const MAX_SCALE: u32 = 12;

    pub fn from_integer(value: i64) -> Decimal {
        Decimal { mantissa: i128::from(value), scale: 0 }
    }

    /// Reads a plain decimal: optional sign, digits, optional fraction. No exponents, no
    /// thousands separators: what is written is what is meant.
    pub fn parse(text: &str) -> Result<Decimal, String> {
        let expected = "expected a decimal number such as 12, 12.50 or -3.5";
        let trimmed = text.trim();
        let (negative, body) = match trimmed.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, trimmed.strip_prefix('+').unwrap_or(trimmed)),
        };
        let (whole, fraction) = body.split_once('.').unwrap_or((body, ""));
        let all_digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() || !all_digits(whole) || !all_digits(fraction) || (body.contains('.') && fraction.is_empty()) {
            let with_exponent = body.split_once(['e', 'E']).is_some_and(|(mantissa, exponent)| {
                !mantissa.is_empty()
                    && mantissa.bytes().all(|b| b.is_ascii_digit() || b == b'.')
                    && exponent.trim_start_matches(['+', '-']).bytes().all(|b| b.is_ascii_digit())
            });
            if with_exponent {
                return Err(format!("`{text}` is written with an exponent; write the number out in full (money is read exactly as written)"));
            }
            return Err(format!("`{text}` is not a number; {expected}"));
        }
        // Trailing zeros of the fraction carry no value; dropping them lets `10.00` be cents.
        let fraction = fraction.trim_end_matches('0');
        if fraction.len() as u32 > Decimal::MAX_SCALE {
            return Err(format!("`{text}` has more than {} decimals", Decimal::MAX_SCALE));
        }
        let digits = format!("{whole}{fraction}");
        let magnitude: i128 = if digits.len() > 30 {
            return Err(format!("`{text}` is too large a number"));
        } else {
            digits.parse().map_err(|_| format!("`{text}` is not a number; {expected}"))?
        };
        Ok(Decimal { mantissa: if negative { -magnitude } else { magnitude }, scale: fraction.len() as u32 })
    }

    /// The value in cents, if it has at most two decimals and fits.
    pub fn to_money(self) -> Option<Money> {
        if self.scale > 2 {
            return None;
        }
        let cents = self.mantissa.checked_mul(10_i128.pow(2 - self.scale))?;
        i64::try_from(cents).ok().map(Money)
    }

    pub fn is_negative(self) -> bool {
        self.mantissa < 0
    }
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.scale == 0 {
            return write!(f, "{}", self.mantissa);
        }
        let sign = if self.mantissa < 0 { "-" } else { "" };
        let magnitude = self.mantissa.unsigned_abs();
        let divisor = 10_u128.pow(self.scale);
        write!(f, "{sign}{}.{:0width$}", magnitude / divisor, magnitude % divisor, width = self.scale as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_reads_exactly_as_written() {
        assert_eq!(Money::parse("32.00").unwrap(), Money::from_cents(3200));
        assert_eq!(Money::parse("0.1").unwrap(), Money::from_cents(10));
        assert_eq!(Money::parse("-1200").unwrap(), Money::from_cents(-120_000));
        assert_eq!(Money::parse("5.000").unwrap(), Money::from_cents(500));
        assert!(Money::parse("0.105").unwrap_err().contains("finer than the currency's cents"));
        assert!(Money::parse("1e3").is_err());
        assert!(Money::parse("12.").is_err());
        assert!(Money::parse("99999999999999999999").is_err());
    }

    #[test]
    fn money_prints_two_decimals() {
        assert_eq!(Money::from_cents(-5).to_string(), "-0.05");
        assert_eq!(Money::from_cents(120_000).to_string(), "1200.00");
        assert_eq!(Money::ZERO.to_string(), "0.00");
    }

    #[test]
    fn rounding_modes_on_hand_worked_halves() {
        // 2.5 and -2.5 cents, 2.25 cents
        assert_eq!(divide_rounded(5, 2, Rounding::HalfUp), 3);
        assert_eq!(divide_rounded(-5, 2, Rounding::HalfUp), -3);
        assert_eq!(divide_rounded(5, 2, Rounding::HalfEven), 2);
        assert_eq!(divide_rounded(7, 2, Rounding::HalfEven), 4);
        assert_eq!(divide_rounded(9, 4, Rounding::HalfUp), 2);
        assert_eq!(divide_rounded(9, 4, Rounding::Up), 3);
        assert_eq!(divide_rounded(-9, 4, Rounding::Down), -2);
    }

    #[test]
    fn daily_rate_rounds_to_the_asked_decimals() {
        // 10.00 a month over 31 days = 0.32258... a day
        assert_eq!(round_daily_rate(Money::from_cents(1000), 31, 4), 3226);
        assert_eq!(round_daily_rate(Money::from_cents(1000), 31, 2), 32);
        // 4.00 over 31 days = 0.129032...
        assert_eq!(round_daily_rate(Money::from_cents(400), 31, 3), 129);
    }

    #[test]
    fn decimals_round_trip() {
        assert_eq!(Decimal::parse("12.50").unwrap().to_string(), "12.5");
        assert_eq!(Decimal::parse("-0.001").unwrap().to_string(), "-0.001");
        assert_eq!(Decimal::parse("7").unwrap().to_string(), "7");
    }
}
