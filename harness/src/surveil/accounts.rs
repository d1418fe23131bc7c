//! The account table: which beneficial-owner group each account belongs to, read from a
//! CSV file (`flowmatch replay --accounts`, `flowmatch surveil --accounts`).
//!
//! ```text
//! # comment lines and blank lines are skipped; an optional header line `account,group`
//! account,group
//! 1001,327
//! 1002,327
//! 2001,5
//! ```
//!
//! Both fields are decimal integers in `0..=4294967295` (spaces and tabs around a field are
//! ignored). An account listed twice with the same group is accepted; with two groups it
//! is an error naming both lines. Every error names the line and the field.

use flowmatch_core::book::AccountGroups;
use std::collections::HashMap;
use std::path::Path;

/// Parse an account table. `Err` names the 1-based line and the field.
pub fn parse(text: &str) -> Result<AccountGroups, String> {
    let mut pairs = Vec::new();
    let mut first_line: HashMap<u32, (u32, usize)> = HashMap::new();
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        let line = raw.trim_matches([' ', '\t', '\r']);
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line
            .split(',')
            .map(|f| f.trim_matches([' ', '\t']))
            .collect();
        if fields.len() != 2 {
            return Err(format!(
                "line {n}: bad fields: {line:?} (expected account,group: 2 fields, got {})",
                fields.len()
            ));
        }
        if pairs.is_empty() && first_line.is_empty() && fields == ["account", "group"] {
            continue;
        }
        let num = |field: &str, text: &str| -> Result<u32, String> {
            if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
                return Err(format!(
                    "line {n}: bad {field}: {text:?} (expected an integer in 0..=4294967295)"
                ));
            }
            text.parse::<u32>().map_err(|_| {
                format!("line {n}: bad {field}: {text:?} (expected an integer in 0..=4294967295)")
            })
        };
        let account = num("account", fields[0])?;
        let group = num("group", fields[1])?;
        if let Some(&(g, at)) = first_line.get(&account) {
            if g != group {
                return Err(format!(
                    "line {n}: bad group: account {account} is given group {group}, \
                     but line {at} gave it group {g}"
                ));
            }
        } else {
            first_line.insert(account, (group, n));
        }
        pairs.push((account, group));
    }
    // Conflicts were refused above with their lines, so this cannot fail.
    AccountGroups::from_pairs(pairs).map_err(|c| {
        format!(
            "account {} is in groups {} and {}",
            c.account, c.first, c.second
        )
    })
}

/// Read and parse an account table file. Errors name the file, and the line and field.
pub fn load(path: &Path) -> Result<AccountGroups, String> {
    if path.is_dir() {
        return Err(format!(
            "--accounts {} is a directory; give the account table file",
            path.display()
        ));
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read --accounts {}: {e}", path.display()))?;
    parse(&text).map_err(|e| format!("--accounts {}: {e}", path.display()))
}

/// The table as text in the format [`parse`] reads (header line first).
pub fn to_text(groups: &AccountGroups) -> String {
    let mut s = String::from("account,group\n");
    for (a, g) in groups.pairs() {
        s.push_str(&format!("{a},{g}\n"));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_header_comments_and_pairs() {
        let g = parse("# firm\naccount,group\n1, 7\n\n2,7\n3,8\r\n").unwrap();
        assert_eq!(g.pairs(), &[(1, 7), (2, 7), (3, 8)]);
        assert_eq!(parse(&to_text(&g)).unwrap(), g);
    }

    #[test]
    fn errors_name_line_and_field() {
        assert_eq!(
            parse("1,7\n2,x\n").unwrap_err(),
            "line 2: bad group: \"x\" (expected an integer in 0..=4294967295)"
        );
        assert!(parse("1,7\n-3,7\n")
            .unwrap_err()
            .starts_with("line 2: bad account"));
        assert!(parse("4294967296,1")
            .unwrap_err()
            .starts_with("line 1: bad account"));
        assert!(parse("1,7,9")
            .unwrap_err()
            .starts_with("line 1: bad fields"));
        assert!(parse("1,7\n1,8")
            .unwrap_err()
            .starts_with("line 2: bad group: account 1"));
    }
}
