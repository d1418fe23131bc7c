//! Range checks for scenario fields: one wording for every table, so that each error names
//! the field, the range a real run can satisfy, and the value it got.
//!
//! Every check refuses NaN and the infinities (they fail every range), so a field checked
//! here can be used in arithmetic without further guards.

/// `(field, why)`: what [`check`](crate::retail::scenario::Scenario::validate)ing a table returns.
pub type FieldError = (&'static str, String);

/// `lo <= v <= hi`, finite.
pub fn f64_in(field: &'static str, v: f64, lo: f64, hi: f64, unit: &str) -> Result<(), FieldError> {
    if v.is_finite() && (lo..=hi).contains(&v) {
        Ok(())
    } else {
        Err((
            field,
            format!("must be within {lo}..={hi}{} (got {v})", unit_suffix(unit)),
        ))
    }
}

/// `lo <= v < hi`, finite (for a bound the process itself cannot reach, e.g. a branching
/// ratio of 1).
pub fn f64_below(
    field: &'static str,
    v: f64,
    lo: f64,
    hi: f64,
    unit: &str,
) -> Result<(), FieldError> {
    if v.is_finite() && v >= lo && v < hi {
        Ok(())
    } else {
        Err((
            field,
            format!(
                "must be within {lo}..{hi} (below {hi}){} (got {v})",
                unit_suffix(unit)
            ),
        ))
    }
}

/// `lo <= v <= hi` for an integer field.
pub fn int_in<T>(field: &'static str, v: T, lo: T, hi: T, unit: &str) -> Result<(), FieldError>
where
    T: PartialOrd + std::fmt::Display + Copy,
{
    if v >= lo && v <= hi {
        Ok(())
    } else {
        Err((
            field,
            format!("must be within {lo}..={hi}{} (got {v})", unit_suffix(unit)),
        ))
    }
}

fn unit_suffix(unit: &str) -> String {
    if unit.is_empty() {
        String::new()
    } else {
        format!(" {unit}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_are_inclusive_and_non_finite_values_fail() {
        assert!(f64_in("x", 1.0, 1.0, 2.0, "").is_ok());
        assert!(f64_in("x", 2.0, 1.0, 2.0, "").is_ok());
        for bad in [0.999, 2.001, f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            let (f, why) = f64_in("x", bad, 1.0, 2.0, "cents").unwrap_err();
            assert_eq!(f, "x");
            assert!(why.contains("1..=2 cents"), "{why}");
        }
        assert!(f64_below("x", 0.0, 0.0, 1.0, "").is_ok());
        assert!(f64_below("x", 1.0, 0.0, 1.0, "").is_err());
        assert!(int_in("n", 5u64, 1, 5, "").is_ok());
        assert_eq!(
            int_in("n", 6u64, 1, 5, "shares").unwrap_err().1,
            "must be within 1..=5 shares (got 6)"
        );
    }
}
