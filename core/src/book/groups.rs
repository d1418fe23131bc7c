//! Account groups: which accounts share one beneficial owner, so that self-trade prevention
//! can act on the owner (the group) rather than the single account (`docs/SEMANTICS.md`,
//! "Self-trade prevention", "Account groups").
//!
//! A table maps accounts to group ids; an account the table does not list is its own
//! owner. The table is a sorted vector searched by bisection: built once (before trading),
//! looked up without allocating, and only when an order with an STP mode meets a resting
//! order of a different account. An empty table means group STP is off and the books
//! compare single accounts exactly as before.

use crate::types::Account;

/// A beneficial-owner group id. Group ids and account ids are separate name spaces.
pub type Group = u32;

/// An account listed twice with two different groups (the table cannot decide).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GroupConflict {
    /// The account.
    pub account: Account,
    /// The group it was first given.
    pub first: Group,
    /// The other group it was given.
    pub second: Group,
}

/// Accounts and the group each belongs to. See the module docs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AccountGroups {
    /// Sorted by account, each account once.
    pairs: Vec<(Account, Group)>,
}

impl AccountGroups {
    /// An empty table: group STP off.
    pub fn new() -> Self {
        AccountGroups::default()
    }

    /// A table from `(account, group)` pairs, in any order. A pair repeated is accepted;
    /// an account given two groups is an error.
    pub fn from_pairs<I: IntoIterator<Item = (Account, Group)>>(
        pairs: I,
    ) -> Result<Self, GroupConflict> {
        let mut v: Vec<(Account, Group)> = pairs.into_iter().collect();
        v.sort_unstable();
        v.dedup();
        if let Some(w) = v.windows(2).find(|w| w[0].0 == w[1].0) {
            return Err(GroupConflict {
                account: w[0].0,
                first: w[0].1,
                second: w[1].1,
            });
        }
        Ok(AccountGroups { pairs: v })
    }

    /// True when no account is listed (group STP is then off).
    #[inline(always)]
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// Accounts listed.
    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    /// The group of `account`, if the table lists it.
    #[inline]
    pub fn group_of(&self, account: Account) -> Option<Group> {
        self.pairs
            .binary_search_by_key(&account, |p| p.0)
            .ok()
            .map(|i| self.pairs[i].1)
    }

    /// The owner key of `account`: its group when listed, else the account itself, in
    /// disjoint ranges of a `u64` (a group never equals an unlisted account).
    #[inline]
    pub fn owner(&self, account: Account) -> u64 {
        match self.group_of(account) {
            Some(g) => (1 << 32) | u64::from(g),
            None => u64::from(account),
        }
    }

    /// The `(account, group)` pairs, sorted by account.
    pub fn pairs(&self) -> &[(Account, Group)] {
        &self.pairs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unlisted_accounts_are_their_own_owner_and_never_a_groups() {
        let g = AccountGroups::from_pairs([(10, 1), (11, 1), (12, 2)]).unwrap();
        assert_eq!(g.group_of(11), Some(1));
        assert_eq!(g.group_of(13), None);
        assert_eq!(g.owner(10), g.owner(11));
        assert_ne!(g.owner(10), g.owner(12));
        // Account 1 unlisted, group 1 listed: different owners.
        assert_ne!(g.owner(1), g.owner(10));
    }

    #[test]
    fn an_account_in_two_groups_is_refused() {
        let e = AccountGroups::from_pairs([(5, 1), (5, 1), (5, 2)]).unwrap_err();
        assert_eq!(
            e,
            GroupConflict {
                account: 5,
                first: 1,
                second: 2
            }
        );
    }
}
