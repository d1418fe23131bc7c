//! Numeric option values: a negative number given to a numeric option is a range error that
//! names the option, never clap's "unexpected argument '-5'".
//!
//! clap reads `-5` after an option as another flag unless the option allows negative
//! numbers, so every numeric option of the `flowmatch` commands sets
//! `allow_negative_numbers = true`. A signed or float option then receives `-5` and its
//! command's own range check refuses it by name. An unsigned option cannot hold `-5` (nor a
//! number past its type's maximum), so it parses with [`unsigned`]: a value the type holds
//! goes on to the command's range check as before, one the type cannot hold is refused here
//! with the option's accepted range, taken from the same constants that check uses.

use clap::builder::TypedValueParser;
use clap::error::ErrorKind;
use std::ffi::OsStr;
use std::fmt::Display;

/// Parses an unsigned integer option whose accepted values are `lo..=hi` (see the module
/// doc for which part of the range it checks).
#[derive(Clone, Copy, Debug)]
pub struct Unsigned<T> {
    lo: T,
    hi: T,
}

/// The value parser of an unsigned option accepting `lo..=hi`.
pub fn unsigned<T>(lo: T, hi: T) -> Unsigned<T> {
    Unsigned { lo, hi }
}

impl<T> TypedValueParser for Unsigned<T>
where
    T: TryFrom<i128> + Copy + Display + Send + Sync + Clone + 'static,
{
    type Value = T;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &OsStr,
    ) -> Result<T, clap::Error> {
        let text = value.to_string_lossy();
        let option = arg
            .and_then(|a| a.get_long())
            .map_or_else(|| "the value".to_string(), |l| format!("--{l}"));
        let out_of_range = || {
            clap::Error::raw(
                ErrorKind::ValueValidation,
                format!(
                    "{option} must be between {} and {}, got {text}\n",
                    self.lo, self.hi
                ),
            )
            .with_cmd(cmd)
        };
        match text.trim().parse::<i128>() {
            Ok(v) => T::try_from(v).map_err(|_| out_of_range()),
            // Wider than i128: certainly past the type's maximum.
            Err(_) if text.trim().bytes().all(|b| b.is_ascii_digit()) && !text.is_empty() => {
                Err(out_of_range())
            }
            Err(_) => Err(clap::Error::raw(
                ErrorKind::ValueValidation,
                format!(
                    "{option} must be a whole number between {} and {}, got {text:?}\n",
                    self.lo, self.hi
                ),
            )
            .with_cmd(cmd)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{Arg, Command};

    fn parse(args: &[&str]) -> Result<u8, String> {
        Command::new("t")
            .arg(
                Arg::new("n")
                    .long("n")
                    .allow_negative_numbers(true)
                    .value_parser(unsigned(1u8, 100u8)),
            )
            .try_get_matches_from(std::iter::once("t").chain(args.iter().copied()))
            .map(|m| *m.get_one::<u8>("n").unwrap())
            .map_err(|e| e.to_string())
    }

    #[test]
    fn values_the_type_holds_pass_through_to_the_commands_own_check() {
        assert_eq!(parse(&["--n", "7"]), Ok(7));
        // 0 and 200 are outside 1..=100 but fit a u8: the command's check decides.
        assert_eq!(parse(&["--n", "0"]), Ok(0));
        assert_eq!(parse(&["--n", "200"]), Ok(200));
    }

    #[test]
    fn values_the_type_cannot_hold_name_the_option_and_its_range() {
        for bad in [
            "-1",
            "-5",
            "256",
            "99999999999999999999999999999999999999999",
        ] {
            let e = parse(&["--n", bad]).unwrap_err();
            assert!(
                e.contains(&format!("--n must be between 1 and 100, got {bad}")),
                "{bad}: {e}"
            );
        }
        let e = parse(&["--n", "x1"]).unwrap_err();
        assert!(
            e.contains("--n must be a whole number between 1 and 100"),
            "{e}"
        );
    }
}
