//! Delta debugging (Zeller's ddmin) of a failing command stream: the smallest
//! subsequence it can find on which the failure still happens, so the reproducer a CI log
//! hands over is a handful of commands instead of a round of thousands.
//!
//! The failure is any predicate over a candidate stream (`stress` passes "this invariant
//! is violated when the stream is checked single-threaded"). Before ddmin proper the
//! stream is cut after the shortest failing prefix (binary search over prefix lengths is
//! not sound for a non-monotone predicate, so the prefix is found by halving only while
//! it still fails). ddmin then tries removing each chunk (testing the complement) at ever finer
//! granularity, and stops when no single command can be removed (1-minimal) or the
//! budget of predicate evaluations is spent.

/// The result of a shrink.
#[derive(Clone, Debug)]
pub struct Shrunk<T> {
    /// The smallest failing stream found.
    pub items: Vec<T>,
    /// Predicate evaluations made.
    pub tests: usize,
    /// Whether the result is 1-minimal (false: the budget ran out first).
    pub minimal: bool,
}

/// Shrinks `items` (on which `fails` must hold) to a smaller stream on which it still
/// holds, making at most `budget` evaluations of `fails`.
pub fn ddmin<T: Clone>(
    items: &[T],
    budget: usize,
    mut fails: impl FnMut(&[T]) -> bool,
) -> Shrunk<T> {
    let mut tests = 0;
    let mut cur: Vec<T> = items.to_vec();
    // Cut the tail: the failure usually shows at one point, and what follows is noise.
    let mut hi = cur.len();
    while hi > 1 && tests < budget {
        let half = hi / 2;
        tests += 1;
        if fails(&cur[..half]) {
            hi = half;
        } else {
            break;
        }
    }
    // Then the shortest failing prefix above the last half that failed: step the end
    // back one sixteenth at a time while it still fails.
    let mut step = (hi / 16).max(1);
    while step >= 1 && hi > 1 && tests < budget {
        tests += 1;
        if hi > step && fails(&cur[..hi - step]) {
            hi -= step;
        } else if step == 1 {
            break;
        } else {
            step /= 2;
        }
    }
    cur.truncate(hi);

    let mut n = 2usize;
    let mut minimal = false;
    while cur.len() >= 2 {
        if tests >= budget {
            return Shrunk {
                items: cur,
                tests,
                minimal,
            };
        }
        let chunk = cur.len().div_ceil(n);
        let mut reduced = false;
        // Try each complement (the stream without one chunk).
        let mut start = 0;
        while start < cur.len() && tests < budget {
            let end = (start + chunk).min(cur.len());
            let candidate: Vec<T> = cur[..start].iter().chain(&cur[end..]).cloned().collect();
            tests += 1;
            if fails(&candidate) {
                cur = candidate;
                n = (n - 1).max(2);
                reduced = true;
                break;
            }
            start = end;
        }
        if reduced {
            continue;
        }
        if n >= cur.len() {
            minimal = tests < budget;
            break;
        }
        n = (n * 2).min(cur.len());
    }
    if cur.len() < 2 {
        minimal = true;
    }
    Shrunk {
        items: cur,
        tests,
        minimal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fails when the stream holds 3 before 7 (an order-dependent failure).
    fn three_before_seven(s: &[u32]) -> bool {
        s.iter()
            .position(|&x| x == 3)
            .is_some_and(|i| s[i..].contains(&7))
    }

    #[test]
    fn finds_the_two_commands_that_matter() {
        let input: Vec<u32> = (0..1_000).map(|i| i % 11).collect();
        let r = ddmin(&input, 10_000, three_before_seven);
        assert_eq!(r.items, vec![3, 7]);
        assert!(r.minimal);
    }

    #[test]
    fn stops_at_the_budget() {
        let input: Vec<u32> = (0..1_000).map(|i| i % 11).collect();
        let r = ddmin(&input, 5, three_before_seven);
        assert!(r.tests <= 5);
        assert!(three_before_seven(&r.items));
        assert!(!r.minimal);
    }
}
