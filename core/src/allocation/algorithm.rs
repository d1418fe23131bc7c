//! The eight CME Globex algorithms as sequences of steps, and their names `cme:A` … `cme:T`.
//!
//! Source: the algorithm matrix of "CME Globex Matching Algorithm Steps"
//! (<https://cmegroupclientsite.atlassian.net/wiki/spaces/EPICSANDBOX/pages/457218521>),
//! which lists, per letter, the steps run in order: A = TOP, Pro Rata, FIFO; C = Pro Rata,
//! FIFO; F = FIFO; K = TOP, LMM, Split, FIFO, Pro Rata, Leveling (optional), FIFO;
//! O = TOP, Pro Rata, FIFO (with parameters); Q = TOP, LMM, Pro Rata, FIFO; S = TOP, LMM,
//! FIFO; T = LMM, FIFO. A and O share their steps; they differ only in the parameters an
//! instrument gives them (the page calls O "with parameters": TOP minimum and maximum).
//! The FIFO exception (an aggressor taking the whole level) is not a listed step: it
//! applies before any algorithm, in [`super::allocate`].

use std::fmt;
use std::str::FromStr;

/// One allocation step. `Split` appears as [`Step::SplitFifo`] (the FIFO share of the
/// split) followed by [`Step::ProRata`] (run on what the FIFO share left).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// The TOP order is filled first (see `top.rs`).
    Top,
    /// Each Lead Market Maker takes its percentage (see `lmm.rs`).
    Lmm,
    /// The FIFO percentage of a split, allocated in time order (see `split.rs`).
    SplitFifo,
    /// Proportional allocation, rounded down, with a minimum (see `pro_rata.rs`).
    ProRata,
    /// One lot each to orders left open after pro rata, when enabled (see `leveling.rs`).
    Leveling,
    /// Time priority for whatever is left (see `fifo.rs`).
    Fifo,
}

/// A CME Globex matching algorithm, by its letter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// A: "Allocation" (pro rata with TOP): TOP, Pro Rata, FIFO.
    A,
    /// C: pro rata without TOP: Pro Rata, FIFO.
    C,
    /// F: FIFO.
    F,
    /// K: configurable split FIFO / pro rata with LMM: TOP, LMM, Split (FIFO %, Pro Rata %),
    /// Leveling (optional), FIFO.
    K,
    /// O: threshold pro rata (TOP with minimum / maximum): TOP, Pro Rata, FIFO.
    O,
    /// Q: threshold pro rata with LMM: TOP, LMM, Pro Rata, FIFO.
    Q,
    /// S: LMM with TOP: TOP, LMM, FIFO.
    S,
    /// T: LMM without TOP: LMM, FIFO.
    T,
}

impl Algorithm {
    /// Every algorithm, in letter order.
    pub const ALL: [Algorithm; 8] = [
        Algorithm::A,
        Algorithm::C,
        Algorithm::F,
        Algorithm::K,
        Algorithm::O,
        Algorithm::Q,
        Algorithm::S,
        Algorithm::T,
    ];

    /// The steps run, in order.
    pub const fn steps(self) -> &'static [Step] {
        use Step::*;
        match self {
            Algorithm::A | Algorithm::O => &[Top, ProRata, Fifo],
            Algorithm::C => &[ProRata, Fifo],
            Algorithm::F => &[Fifo],
            Algorithm::K => &[Top, Lmm, SplitFifo, ProRata, Leveling, Fifo],
            Algorithm::Q => &[Top, Lmm, ProRata, Fifo],
            Algorithm::S => &[Top, Lmm, Fifo],
            Algorithm::T => &[Lmm, Fifo],
        }
    }

    /// The letter CME uses (tag 1142 MatchAlgorithm).
    pub const fn letter(self) -> char {
        match self {
            Algorithm::A => 'A',
            Algorithm::C => 'C',
            Algorithm::F => 'F',
            Algorithm::K => 'K',
            Algorithm::O => 'O',
            Algorithm::Q => 'Q',
            Algorithm::S => 'S',
            Algorithm::T => 'T',
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cme:{}", self.letter())
    }
}

/// A name that is not one of `cme:A`, `cme:C`, `cme:F`, `cme:K`, `cme:O`, `cme:Q`,
/// `cme:S`, `cme:T`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseAlgorithmError {
    /// The text that was given.
    pub given: String,
}

impl fmt::Display for ParseAlgorithmError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "algorithm: {:?} is not one of cme:A, cme:C, cme:F, cme:K, cme:O, cme:Q, cme:S, cme:T",
            self.given
        )
    }
}

impl std::error::Error for ParseAlgorithmError {}

impl FromStr for Algorithm {
    type Err = ParseAlgorithmError;

    /// Parses `cme:<letter>`; the letter is case-sensitive (CME's letters are capitals).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let letter = s.strip_prefix("cme:").unwrap_or("");
        Algorithm::ALL
            .into_iter()
            .find(|a| letter.len() == 1 && letter.starts_with(a.letter()))
            .ok_or_else(|| ParseAlgorithmError {
                given: s.to_string(),
            })
    }
}
