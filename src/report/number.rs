//! Numbers for people: the one way every text rendering (human, markdown, the PR comment, the job summary) and
//! every sentence a check writes shows a measured number. JSON keeps the full value in `figures` and `value`.
//!
//! The rule, and why:
//! - `|x| ≥ 1000`: the integer part whole, rounded (`90033.7667` → `90034`). Four significant digits would print
//!   `90030`, a different-looking measurement, and `9.003e4` is unfriendly; at that size the fraction rarely
//!   matters to a reader.
//! - `1e-3 ≤ |x| < 1000`: 4 significant digits, trailing zeros dropped (`0.934567` → `0.9346`, `12.3456` →
//!   `12.35`, `0.5` → `0.5`): enough to tell a metric's change, short enough to read.
//! - `|x| < 1e-3` (not 0) and `|x| ≥ 1e15`: 4 significant digits in exponent form (`1.235e-5`, `4e-4`): p-values
//!   and tiny differences stay distinguishable from 0 instead of printing a row of zeros.
//! - `NaN`, `inf`, `-inf` as such; `-0` as `0`.

/// `x` for people (see the module's rule).
pub fn people(x: f64) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf" } else { "-inf" }.into();
    }
    if x == 0.0 {
        return "0".into();
    }
    let a = x.abs();
    let s = if !(1e-3..1e15).contains(&a) {
        exponent(x)
    } else if a >= 1000.0 {
        format!("{x:.0}")
    } else {
        // Digits after the point for 4 significant ones: 3 at [1, 10), 6 at [0.001, 0.01).
        let decimals = (3 - a.log10().floor() as i32).clamp(0, 6) as usize;
        trim_zeros(&format!("{x:.decimals$}")).to_string()
    };
    if s == "-0" {
        "0".into()
    } else {
        s
    }
}

/// 4 significant digits in exponent form, the mantissa's trailing zeros dropped: `1.235e-5`, `4e-4`.
fn exponent(x: f64) -> String {
    let s = format!("{x:.3e}");
    match s.split_once('e') {
        Some((mantissa, exp)) => format!("{}e{exp}", trim_zeros(mantissa)),
        None => s,
    }
}

fn trim_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::people;

    #[test]
    fn big_numbers_keep_their_integer_part_whole() {
        assert_eq!(people(90033.76666666666), "90034");
        assert_eq!(people(1000.0), "1000");
        assert_eq!(people(-1234.5), "-1234");
        assert_eq!(people(407000.0), "407000");
        assert_eq!(people(123456789012.3), "123456789012");
    }

    #[test]
    fn fractions_get_four_significant_digits() {
        assert_eq!(people(0.934567), "0.9346");
        assert_eq!(people(12.3456), "12.35");
        assert_eq!(people(123.456), "123.5");
        assert_eq!(people(0.5), "0.5");
        assert_eq!(people(1.0), "1");
        assert_eq!(people(0.0012345), "0.001234");
        assert_eq!(people(-0.25), "-0.25");
        // Rounding up to the next power of ten stays short.
        assert_eq!(people(999.96), "1000");
    }

    #[test]
    fn tiny_and_huge_numbers_use_exponents() {
        assert_eq!(people(0.0004), "4e-4");
        assert_eq!(people(1.23456e-5), "1.235e-5");
        assert_eq!(people(-2.5e-7), "-2.5e-7");
        assert_eq!(people(3.0e20), "3e20");
    }

    #[test]
    fn zero_and_non_finite() {
        assert_eq!(people(0.0), "0");
        assert_eq!(people(-0.0), "0");
        assert_eq!(people(-0.00000), "0");
        assert_eq!(people(f64::NAN), "NaN");
        assert_eq!(people(f64::INFINITY), "inf");
        assert_eq!(people(f64::NEG_INFINITY), "-inf");
    }
}
