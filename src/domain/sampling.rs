//! Quality sampling: which decisions get a second look. A random N per reviewer, reproducible:
//! each decision's place in the draw is the SHA-256 of the seed and its id, so the same seed
//! over the same decisions draws the same sample, on any machine and either database.

use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// A decided application that may be drawn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub decision_id: i64,
    pub application_id: String,
    pub reviewer: String,
}

fn rank(seed: i64, decision_id: i64) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(seed.to_be_bytes());
    h.update(decision_id.to_be_bytes());
    h.finalize().into()
}

/// Up to `n` candidates per reviewer, ordered by reviewer then rank.
pub fn pick(candidates: &[Candidate], n: usize, seed: i64) -> Vec<Candidate> {
    let mut per: BTreeMap<&str, Vec<&Candidate>> = BTreeMap::new();
    for c in candidates {
        per.entry(c.reviewer.as_str()).or_default().push(c);
    }
    per.into_values()
        .flat_map(|mut list| {
            list.sort_by_key(|c| (rank(seed, c.decision_id), c.decision_id));
            list.into_iter().take(n).cloned()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool() -> Vec<Candidate> {
        (1..=40)
            .map(|i| Candidate {
                decision_id: i,
                application_id: format!("A{i}"),
                reviewer: if i % 3 == 0 { "r2" } else { "r1" }.into(),
            })
            .collect()
    }

    #[test]
    fn the_same_seed_draws_the_same_sample_and_n_per_reviewer() {
        let a = pick(&pool(), 3, 42);
        assert_eq!(a, pick(&pool(), 3, 42));
        let mut shuffled = pool();
        shuffled.reverse();
        assert_eq!(a, pick(&shuffled, 3, 42), "input order does not matter");
        assert_ne!(a, pick(&pool(), 3, 43));
        assert_eq!(a.iter().filter(|c| c.reviewer == "r1").count(), 3);
        assert_eq!(a.iter().filter(|c| c.reviewer == "r2").count(), 3);
        assert_eq!(pick(&pool(), 100, 1).len(), 40);
    }
}
