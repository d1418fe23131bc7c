//! How an LMM is written in text (instrument table column `lmms`, `--lmm` of `flowmatch
//! replay`): `ACCOUNT:PERCENT`, several joined by `;` in the order the LMM step serves
//! them. Ranges are checked by [`AllocationParams::validate`]; this only reads numbers.

use super::{AllocationParams, Lmm};
use std::str::FromStr;

impl FromStr for Lmm {
    type Err = String;

    /// `ACCOUNT:PERCENT`, an account (`u32`) and a percentage (1..=50, checked later).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (a, p) = s
            .trim()
            .split_once(':')
            .ok_or_else(|| format!("{s:?} is not ACCOUNT:PERCENT"))?;
        let account = a
            .trim()
            .parse()
            .map_err(|_| format!("{s:?}: account {a:?} is not an integer 0..=4294967295"))?;
        let percent = p
            .trim()
            .parse()
            .map_err(|_| format!("{s:?}: percent {p:?} is not an integer 1..=50"))?;
        Ok(Lmm { account, percent })
    }
}

/// Append the `;`-separated LMMs of `s` (blank: none) to `params`.
pub fn push_lmm_list(s: &str, params: &mut AllocationParams) -> Result<(), String> {
    if s.trim().is_empty() {
        return Ok(());
    }
    for part in s.split(';') {
        let lmm: Lmm = part.parse()?;
        params.push_lmm(lmm).map_err(|e| e.to_string())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lmm_lists_read_and_bad_ones_are_named() {
        let mut p = AllocationParams::default();
        push_lmm_list(" 7:20; 9:10", &mut p).unwrap();
        assert_eq!(
            p.lmms(),
            &[
                Lmm {
                    account: 7,
                    percent: 20
                },
                Lmm {
                    account: 9,
                    percent: 10
                }
            ]
        );
        push_lmm_list("", &mut p).unwrap();
        assert_eq!(p.lmm_count, 2);
        assert!(push_lmm_list("7", &mut p)
            .unwrap_err()
            .contains("ACCOUNT:PERCENT"));
        assert!(push_lmm_list("x:5", &mut p)
            .unwrap_err()
            .contains("account"));
        assert!(push_lmm_list("1:300", &mut p)
            .unwrap_err()
            .contains("percent"));
        let mut full = AllocationParams::default();
        let nine = (1..=9)
            .map(|a| format!("{a}:1"))
            .collect::<Vec<_>>()
            .join(";");
        assert!(push_lmm_list(&nine, &mut full)
            .unwrap_err()
            .contains("lmm_count"));
    }
}
