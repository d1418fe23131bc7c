//! The instrument table's optional CME allocation columns (`docs/ALLOCATION.md`): after
//! the eight standard fields, a header may add exactly
//! `top_min,top_max,pro_rata_min,lmms,split_fifo_percent,leveling`, and every row then has
//! fourteen fields. An empty CME field takes the core's default (`AllocationParams::
//! default`); `lmms` is `ACCOUNT:PERCENT` joined by `;`; `leveling` is `on` or `off`. A row
//! whose `policy` is `cme:A` … `cme:T` gets a [`CmePolicy`] with these parameters; any
//! other policy must leave the six fields empty. A table with the eight-field header reads
//! exactly as before (a `cme:*` policy then has the default parameters).

use super::table::CsvError;
use crate::allocation::{push_lmm_list, Algorithm, AllocationParams, CmePolicy};
use crate::types::MatchPolicy;

/// The optional CME columns, in header order.
pub const CSV_CME_FIELDS: [&str; 6] = [
    "top_min",
    "top_max",
    "pro_rata_min",
    "lmms",
    "split_fifo_percent",
    "leveling",
];

/// The policy of a row: `policy` is the row's policy field, `cme` its six CME fields
/// (empty when the table has no CME columns).
pub(super) fn row_policy(
    policy: &str,
    cme: &[&str],
    line: usize,
) -> Result<Option<MatchPolicy>, CsvError> {
    let Ok(algorithm) = policy.parse::<Algorithm>() else {
        if let Some(i) = cme.iter().position(|f| !f.is_empty()) {
            return Err(CsvError {
                line,
                field: CSV_CME_FIELDS[i],
                message: format!("CME parameters need a cme:* policy, not `{policy}`"),
            });
        }
        return Ok(None);
    };
    let err = |i: usize, message: String| CsvError {
        line,
        field: CSV_CME_FIELDS[i],
        message,
    };
    let mut p = AllocationParams::default();
    for (i, &f) in cme.iter().enumerate() {
        if f.is_empty() {
            continue;
        }
        let num = || {
            f.parse::<u64>()
                .map_err(|_| err(i, format!("expected an unsigned integer, got `{f}`")))
        };
        match i {
            0 => p.top_min = num()?,
            1 => p.top_max = num()?,
            2 => p.pro_rata_min = num()?,
            3 => push_lmm_list(f, &mut p).map_err(|m| err(i, m))?,
            4 => {
                p.split_fifo_percent = u8::try_from(num()?)
                    .map_err(|_| err(i, format!("expected 0..=100, got `{f}`")))?
            }
            _ => {
                p.leveling = match f {
                    "on" => true,
                    "off" => false,
                    _ => return Err(err(i, format!("expected on or off, got `{f}`"))),
                }
            }
        }
    }
    let cme = CmePolicy::new(algorithm, p).map_err(|e| {
        let i = CSV_CME_FIELDS
            .iter()
            .position(|c| e.field.starts_with(c))
            .unwrap_or(3);
        err(i, e.to_string())
    })?;
    Ok(Some(MatchPolicy::Cme(cme)))
}

#[cfg(test)]
mod tests {
    use super::super::table::InstrumentTable;
    use super::*;

    const HEADER: &str = "symbol,tick,lot,min_price,max_price,max_order_qty,policy,replace_priority,top_min,top_max,pro_rata_min,lmms,split_fifo_percent,leveling\n";

    #[test]
    fn cme_columns_give_each_row_its_parameters() {
        let t = InstrumentTable::from_csv(&format!(
            "{HEADER}GE,1,1,1,1000,100,cme:A,keep-if-reduced,,,2,,,\nZN,1,1,1,1000,100,cme:K,keep-if-reduced,5,10,1,7:20;9:10,40,on\nAAPL,1,1,1,1000,100,price-time,keep-if-reduced,,,,,,\n"
        ))
        .unwrap();
        let specs = t.specs();
        let mut a = AllocationParams {
            pro_rata_min: 2,
            ..AllocationParams::default()
        };
        assert_eq!(
            specs[0].policy,
            MatchPolicy::Cme(CmePolicy::new(Algorithm::A, a).unwrap())
        );
        a = AllocationParams {
            top_min: 5,
            top_max: 10,
            split_fifo_percent: 40,
            leveling: true,
            ..AllocationParams::default()
        };
        push_lmm_list("7:20;9:10", &mut a).unwrap();
        assert_eq!(
            specs[1].policy,
            MatchPolicy::Cme(CmePolicy::new(Algorithm::K, a).unwrap())
        );
        assert_eq!(specs[2].policy, MatchPolicy::PriceTime);
        // The eight-field header still reads, and cme:* there has the defaults.
        let t = InstrumentTable::from_csv(
            "symbol,tick,lot,min_price,max_price,max_order_qty,policy,replace_priority\nGE,1,1,1,1000,100,cme:Q,keep-if-reduced\n",
        )
        .unwrap();
        assert_eq!(
            t.specs()[0].policy,
            MatchPolicy::Cme(CmePolicy::with_defaults(Algorithm::Q))
        );
    }

    #[test]
    fn bad_cme_fields_name_line_and_field() {
        let cases = [
            (
                "X,1,1,1,100,10,price-time,keep-if-reduced,1,,,,,",
                "top_min",
            ),
            ("X,1,1,1,100,10,cme:A,keep-if-reduced,x,,,,,", "top_min"),
            (
                "X,1,1,1,100,10,cme:A,keep-if-reduced,,2000000000,,,,",
                "top_max",
            ),
            (
                "X,1,1,1,100,10,cme:A,keep-if-reduced,,,0,,,",
                "pro_rata_min",
            ),
            ("X,1,1,1,100,10,cme:Q,keep-if-reduced,,,,7:60,,", "lmms"),
            (
                "X,1,1,1,100,10,cme:Q,keep-if-reduced,,,,7:30;7:10,,",
                "lmms",
            ),
            ("X,1,1,1,100,10,cme:Q,keep-if-reduced,,,,7,,", "lmms"),
            (
                "X,1,1,1,100,10,cme:K,keep-if-reduced,,,,,101,",
                "split_fifo_percent",
            ),
            (
                "X,1,1,1,100,10,cme:K,keep-if-reduced,,,,,300,",
                "split_fifo_percent",
            ),
            ("X,1,1,1,100,10,cme:K,keep-if-reduced,,,,,,yes", "leveling"),
            ("X,1,1,1,100,10,cme:Z,keep-if-reduced,,,,,,", "policy"),
            ("X,1,1,1,100,10,cme:A,keep-if-reduced", "top_min"),
        ];
        for (row, field) in cases {
            let e = InstrumentTable::from_csv(&format!("{HEADER}{row}\n")).unwrap_err();
            assert_eq!((e.line, e.field), (2, field), "{row}: {e}");
        }
    }
}
