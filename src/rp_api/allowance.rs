//! A hospital's per-minute allowance of look-ups, counted in the ephemeral store that all
//! nodes share, so that parallel requests on any node cannot exceed it. A node takes its
//! share from the shared counter a lease at a time: a hospital allowed thousands of look-ups a
//! minute then costs one round trip to that store per lease, not per look-up. The counter
//! counts every unit leased, so the nodes together never admit more than the allowance; a
//! unit leased and not used by the end of the minute is lost, so the lease is at most a
//! thousandth of the allowance (and one look-up for any allowance under 2 000 a minute: the
//! default 600 is counted look-up by look-up).

use std::collections::HashMap;
use std::sync::Mutex;

use crate::clock::UnixTime;
use crate::store::{Ephemeral, StoreResult};

/// The most look-ups one lease holds.
pub const MAX_LEASE: i64 = 32;

/// How many look-ups a node leases at a time under `per_minute`.
pub fn lease_size(per_minute: i64) -> i64 {
    (per_minute / 1000).clamp(1, MAX_LEASE)
}

/// This node's leased look-ups: per client, the minute and how many are left.
#[derive(Default)]
pub struct Allowance {
    held: Mutex<HashMap<String, (i64, i64)>>,
}

impl Allowance {
    /// Take one look-up from what this node holds for `client_id` this minute.
    fn take_held(&self, client_id: &str, minute: i64) -> bool {
        let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        match held.get_mut(client_id) {
            Some((m, left)) if *m == minute && *left > 0 => {
                *left -= 1;
                true
            }
            _ => false,
        }
    }

    /// Keep `n` more look-ups for `client_id` this minute (a lease from the shared counter).
    fn hold(&self, client_id: &str, minute: i64, n: i64) {
        let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        // Last minute's leftovers are of no use; other clients' go with their minute.
        held.retain(|_, (m, _)| *m >= minute);
        let e = held.entry(client_id.to_string()).or_insert((minute, 0));
        if e.0 == minute {
            e.1 += n;
        } else {
            *e = (minute, n);
        }
    }

    /// Count a look-up against the client's allowance; `Err(seconds)` to wait when it is
    /// spent. Counted before any work.
    pub async fn admit(
        &self,
        eph: &dyn Ephemeral,
        client_id: &str,
        per_minute: i64,
        now: UnixTime,
    ) -> StoreResult<Result<(), i64>> {
        let minute = now.div_euclid(60);
        if self.take_held(client_id, minute) {
            return Ok(Ok(()));
        }
        let lease = lease_size(per_minute);
        let counted = eph
            .incr_by(&format!("ins-rate:{client_id}:{minute}"), lease, 120)
            .await?;
        // What is left of the allowance within this lease: all of it, part, or none.
        let granted = (per_minute - (counted - lease)).clamp(0, lease);
        if granted == 0 {
            return Ok(Err(60 - now.rem_euclid(60)));
        }
        if granted > 1 {
            self.hold(client_id, minute, granted - 1);
        }
        Ok(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::store::memory::MemoryStore;

    async fn admitted(
        a: &Allowance,
        eph: &MemoryStore,
        per_minute: i64,
        n: usize,
        at: i64,
    ) -> usize {
        let mut ok = 0;
        for _ in 0..n {
            if a.admit(eph, "h", per_minute, at).await.unwrap().is_ok() {
                ok += 1;
            }
        }
        ok
    }

    #[test]
    fn leases_are_a_thousandth_of_the_allowance_at_most_32() {
        assert_eq!(lease_size(3), 1);
        assert_eq!(lease_size(600), 1);
        assert_eq!(lease_size(1_999), 1);
        assert_eq!(lease_size(5_000), 5);
        assert_eq!(lease_size(100_000_000), MAX_LEASE);
    }

    #[tokio::test]
    async fn a_small_allowance_is_counted_look_up_by_look_up() {
        let eph = MemoryStore::new();
        let a = Allowance::default();
        assert_eq!(admitted(&a, &eph, 3, 10, 120).await, 3);
        assert_eq!(a.admit(&eph, "h", 3, 130).await.unwrap(), Err(50));
        assert_eq!(admitted(&a, &eph, 3, 10, 180).await, 3, "a new minute");
    }

    #[tokio::test]
    async fn one_round_trip_per_lease_and_never_more_than_the_allowance() {
        let eph = MemoryStore::new();
        let a = Allowance::default();
        assert_eq!(admitted(&a, &eph, 5_000, 101, 0).await, 101);
        let counted = eph.incr_by("ins-rate:h:0", 0, 120).await.unwrap();
        assert_eq!(counted, 105, "21 leases of 5, not 101 counts");
        assert_eq!(
            admitted(&a, &eph, 5_000, 6_000, 0).await,
            5_000 - 101,
            "the rest of the minute's allowance, not one more"
        );
        // What was left of the minute is not carried into the next.
        assert_eq!(admitted(&a, &eph, 5_000, 3, 60).await, 3);
        assert_eq!(eph.incr_by("ins-rate:h:1", 0, 120).await.unwrap(), 5);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn two_nodes_in_parallel_never_admit_more_than_the_allowance() {
        let eph = Arc::new(MemoryStore::new());
        let nodes = [
            Arc::new(Allowance::default()),
            Arc::new(Allowance::default()),
        ];
        let mut tasks = Vec::new();
        for i in 0..40 {
            let (eph, node) = (eph.clone(), nodes[i % 2].clone());
            tasks.push(tokio::spawn(async move {
                admitted(&node, &eph, 2_000, 100, 0).await
            }));
        }
        let mut total = 0;
        for t in tasks {
            total += t.await.unwrap();
        }
        // Leases of 2: each lease taken while the allowance ran out can strand one unit.
        assert!((1_960..=2_000).contains(&total), "{total}");
    }
}
