//! A command's latency histogram, shaped exactly as Redis 7 keeps it: an HDR histogram of nanoseconds from 1 ns
//! to 1 s with two significant digits (`hdr_init(1, 1000000000, 2)`), fed with each call's duration in whole
//! microseconds times 1000. INFO latencystats reads percentiles from it and LATENCY HISTOGRAM its power-of-two
//! buckets, so both come out as redis-server computes them from the same durations.
//!
//! The 3072 counters (24 KiB) are atomics, so any worker thread records with one relaxed increment, and are
//! allocated by a command's first recorded call: commands never called cost a pointer.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

/// Values below 2^(this + 1) have unit resolution within a bucket (2 significant digits need 200 → 256).
const SUB_BUCKET_HALF_COUNT_MAGNITUDE: u32 = 7;
const SUB_BUCKET_HALF_COUNT: usize = 1 << SUB_BUCKET_HALF_COUNT_MAGNITUDE;
const SUB_BUCKET_COUNT: u64 = 2 << SUB_BUCKET_HALF_COUNT_MAGNITUDE;
/// Buckets needed until `256 << n` exceeds the highest trackable value, 1 s.
const BUCKET_COUNT: usize = 23;
const COUNTS_LEN: usize = (BUCKET_COUNT + 1) * SUB_BUCKET_HALF_COUNT;
const LOWEST_NS: u64 = 1;
const HIGHEST_NS: u64 = 1_000_000_000;

#[derive(Default)]
pub struct LatencyHistogram {
    counts: OnceLock<Box<[AtomicU64]>>,
}

impl LatencyHistogram {
    /// Counts one call of `usec` microseconds (clamped into 1 ns ..= 1 s as Redis clamps it).
    pub fn record(&self, usec: u64) {
        let ns = usec.saturating_mul(1000).clamp(LOWEST_NS, HIGHEST_NS);
        let counts = self.counts.get_or_init(|| (0..COUNTS_LEN).map(|_| AtomicU64::new(0)).collect());
        counts[index_of(ns)].fetch_add(1, Ordering::Relaxed);
    }

    /// CONFIG RESETSTAT.
    pub fn reset(&self) {
        if let Some(counts) = self.counts.get() {
            counts.iter().for_each(|c| c.store(0, Ordering::Relaxed));
        }
    }

    /// A snapshot of the counts; None when nothing is recorded (Redis then has no histogram for the command).
    pub fn snapshot(&self) -> Option<Snapshot> {
        let counts: Vec<u64> = self.counts.get()?.iter().map(|c| c.load(Ordering::Relaxed)).collect();
        let total = counts.iter().sum();
        (total > 0).then_some(Snapshot { counts, total })
    }
}

/// The counts of a [`LatencyHistogram`] at one moment.
pub struct Snapshot {
    counts: Vec<u64>,
    total: u64,
}

impl Snapshot {
    pub fn total(&self) -> u64 {
        self.total
    }

    /// `hdr_value_at_percentile`: the highest value (ns) equivalent to the one below which `percentile` percent
    /// of the calls fall (the lowest equivalent value for percentile 0).
    pub fn value_at_percentile(&self, percentile: f64) -> u64 {
        let wanted = ((percentile.min(100.0) / 100.0 * self.total as f64) + 0.5) as u64;
        let wanted = wanted.max(1);
        let mut seen = 0;
        let index = self
            .counts
            .iter()
            .position(|&n| {
                seen += n;
                seen >= wanted
            })
            .unwrap_or(0);
        let value = value_at_index(index);
        if percentile == 0.0 {
            lowest_equivalent(value)
        } else {
            lowest_equivalent(value) + equivalent_range(value) - 1
        }
    }

    /// The recorded values with their counts: the lowest value (ns) of each non-empty counter, ascending.
    pub fn values(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.counts.iter().enumerate().filter(|(_, &n)| n > 0).map(|(i, &n)| (value_at_index(i), n))
    }
}

fn bucket_of(ns: u64) -> u32 {
    let pow2ceiling = u64::BITS - (ns | (SUB_BUCKET_COUNT - 1)).leading_zeros();
    pow2ceiling - (SUB_BUCKET_HALF_COUNT_MAGNITUDE + 1)
}

fn index_of(ns: u64) -> usize {
    let bucket = bucket_of(ns);
    let sub_bucket = (ns >> bucket) as usize;
    ((bucket as usize + 1) << SUB_BUCKET_HALF_COUNT_MAGNITUDE) + sub_bucket - SUB_BUCKET_HALF_COUNT
}

fn value_at_index(index: usize) -> u64 {
    let bucket = (index >> SUB_BUCKET_HALF_COUNT_MAGNITUDE) as i64 - 1;
    let sub_bucket = (index & (SUB_BUCKET_HALF_COUNT - 1)) + SUB_BUCKET_HALF_COUNT;
    if bucket < 0 {
        (sub_bucket - SUB_BUCKET_HALF_COUNT) as u64
    } else {
        (sub_bucket as u64) << bucket
    }
}

fn lowest_equivalent(ns: u64) -> u64 {
    let bucket = bucket_of(ns);
    (ns >> bucket) << bucket
}

fn equivalent_range(ns: u64) -> u64 {
    let bucket = bucket_of(ns);
    let adjusted = if (ns >> bucket) >= SUB_BUCKET_COUNT { bucket + 1 } else { bucket };
    1 << adjusted
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hist(usecs: &[u64]) -> Snapshot {
        let h = LatencyHistogram::default();
        usecs.iter().for_each(|&u| h.record(u));
        h.snapshot().unwrap()
    }

    #[test]
    fn percentiles_are_redis_hdr_values() {
        // redis-server 7.0 after one SET that took 9 µs: latency_percentiles_usec_set:p50=9.023,p99=9.023,...
        let one = hist(&[9]);
        assert_eq!([0.0, 50.0, 99.9, 100.0].map(|p| one.value_at_percentile(p)), [8960, 9023, 9023, 9023]);
        // 0 µs is recorded as 1 ns; around 1 µs a counter spans 4 ns.
        assert_eq!(hist(&[0]).value_at_percentile(50.0), 1);
        assert_eq!(hist(&[1]).value_at_percentile(50.0), 1003);
        // Durations past 1 s are recorded as 1 s.
        assert_eq!(hist(&[5_000_000]).value_at_percentile(50.0), 1_002_438_655);
        let many = hist(&[1, 2, 2, 3, 100, 1000]);
        assert_eq!(many.total(), 6);
        assert_eq!(many.value_at_percentile(50.0), 2007);
        assert_eq!(many.value_at_percentile(99.0), 1_003_519);
        assert_eq!(many.value_at_percentile(0.0), 1000);
    }

    #[test]
    fn indexes_round_trip_and_stay_in_range() {
        for ns in [1, 2, 255, 256, 257, 1000, 9000, 65_535, 1_000_000, HIGHEST_NS] {
            let i = index_of(ns);
            assert!(i < COUNTS_LEN, "{ns}");
            assert_eq!(value_at_index(i), lowest_equivalent(ns), "{ns}");
            assert!(lowest_equivalent(ns) <= ns && ns < lowest_equivalent(ns) + equivalent_range(ns));
        }
    }

    #[test]
    fn reset_empties_and_values_list_what_was_recorded() {
        let h = LatencyHistogram::default();
        assert!(h.snapshot().is_none());
        h.record(3);
        h.record(3);
        assert_eq!(h.snapshot().unwrap().values().collect::<Vec<_>>(), vec![(2992, 2)], "3 µs lies in 2992..=3007 ns");
        h.reset();
        assert!(h.snapshot().is_none());
    }
}
