//! The CME allocation parameters of `flowmatch replay` for a single book (`--top-min`,
//! `--top-max`, `--pro-rata-min`, `--lmm`, `--split-fifo-percent`, `--leveling`), read
//! with `--policy cme:A` … `cme:T`; see `docs/ALLOCATION.md`. Ranges are the core's
//! (`AllocationParams::validate`), refused by the flag's name before any work.

use super::numeric::unsigned;
use flowmatch_core::allocation::{AllocationParams, Lmm, MAX_PARAM_QTY};
use flowmatch_core::Qty;

/// CME allocation parameters (each defaults to the core's default when not given).
#[derive(clap::Args, Debug, Default, Clone)]
pub struct CmeArgs {
    /// CME TOP: the TOP order gets priority only if its open quantity is at least N
    /// (0 = any), 0 to 1000000000.
    #[arg(long, value_name = "N", help_heading = "CME allocation (with --policy cme:*)",
          allow_negative_numbers = true, value_parser = unsigned(0, MAX_PARAM_QTY))]
    pub top_min: Option<Qty>,
    /// CME TOP: most the TOP step gives the TOP order (0 = no cap), 0 to 1000000000.
    #[arg(long, value_name = "N", help_heading = "CME allocation (with --policy cme:*)",
          allow_negative_numbers = true, value_parser = unsigned(0, MAX_PARAM_QTY))]
    pub top_max: Option<Qty>,
    /// CME Pro Rata: a share below N becomes zero, 1 to 1000000000 (default 1).
    #[arg(long, value_name = "N", help_heading = "CME allocation (with --policy cme:*)",
          allow_negative_numbers = true, value_parser = unsigned(1, MAX_PARAM_QTY))]
    pub pro_rata_min: Option<Qty>,
    /// CME LMM: a Lead Market Maker account and its percentage (1 to 50, total at most
    /// 50), as ACCOUNT:PERCENT; repeat for up to 8, served in the order given.
    #[arg(
        long,
        value_name = "ACCOUNT:PERCENT",
        help_heading = "CME allocation (with --policy cme:*)"
    )]
    pub lmm: Vec<Lmm>,
    /// CME Split (cme:K): the FIFO percentage of the split, 0 to 100 (default 0).
    #[arg(long, value_name = "PCT", help_heading = "CME allocation (with --policy cme:*)",
          allow_negative_numbers = true, value_parser = unsigned(0u8, 100u8))]
    pub split_fifo_percent: Option<u8>,
    /// CME Leveling (cme:K): on.
    #[arg(long, help_heading = "CME allocation (with --policy cme:*)")]
    pub leveling: bool,
}

impl CmeArgs {
    /// The parameters, or `None` when no CME flag was given. Range errors name the flag.
    pub fn params(&self) -> Result<Option<AllocationParams>, String> {
        let given = self.top_min.is_some()
            || self.top_max.is_some()
            || self.pro_rata_min.is_some()
            || !self.lmm.is_empty()
            || self.split_fifo_percent.is_some()
            || self.leveling;
        if !given {
            return Ok(None);
        }
        let mut p = AllocationParams::default();
        if let Some(v) = self.top_min {
            p.top_min = v;
        }
        if let Some(v) = self.top_max {
            p.top_max = v;
        }
        if let Some(v) = self.pro_rata_min {
            p.pro_rata_min = v;
        }
        if let Some(v) = self.split_fifo_percent {
            p.split_fifo_percent = v;
        }
        p.leveling = self.leveling;
        for &lmm in &self.lmm {
            p.push_lmm(lmm)
                .map_err(|_| "--lmm: at most 8 LMMs".to_string())?;
        }
        p.validate().map_err(|e| {
            let flag = match e.field {
                "top_min" => "--top-min",
                "top_max" => "--top-max",
                "pro_rata_min" => "--pro-rata-min",
                "split_fifo_percent" => "--split-fifo-percent",
                _ => "--lmm",
            };
            format!("{flag}: {e}")
        })?;
        Ok(Some(p))
    }
}
