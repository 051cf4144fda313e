//! What a meta-cache entry's access field holds, as Redis' 24-bit `lru` field of an object: under an LFU
//! `maxmemory-policy` the access frequency — the last decrement time in minutes (16 bits) and Redis' logarithmic
//! 8-bit counter — and otherwise the time of the last access, in seconds. Like Redis, switching the policy at
//! run time reinterprets the fields already set ("LRU and LFU data will take some time to adjust").
//!
//! The counter follows Redis' `updateLFU`: an access first decays it by one per `lfu-decay-time` minutes since its
//! last decrement, then increments it with probability 1 / ((counter − 5) · `lfu-log-factor` + 1); a new key
//! starts at 5 (`LFU_INIT_VAL`). A key whose entry left the cache has no known field and starts again at 5.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

/// Redis' `LFU_INIT_VAL`.
pub const LFU_INIT_VAL: u8 = 5;

/// The policy and LFU parameters the fields follow (CONFIG SET applies them to the next access).
#[derive(Default)]
pub struct AccessClock {
    lfu: AtomicBool,
    log_factor: AtomicU32,
    decay_minutes: AtomicU32,
}

impl AccessClock {
    pub fn configure(&self, lfu: bool, log_factor: u32, decay_minutes: u32) {
        self.log_factor.store(log_factor, Ordering::Relaxed);
        self.decay_minutes.store(decay_minutes, Ordering::Relaxed);
        self.lfu.store(lfu, Ordering::Relaxed);
    }

    pub fn lfu(&self) -> bool {
        self.lfu.load(Ordering::Relaxed)
    }

    /// The field after a read of a key whose field is `old` (0: not known).
    pub fn read(&self, old: u32) -> u32 {
        if !self.lfu() {
            return super::cache::access_now();
        }
        let counter = if old == 0 { LFU_INIT_VAL } else { self.frequency(old) };
        with_counter(self.incremented(counter))
    }

    /// The field of a key just written at `at` (seconds), whose field was `old` (None: not cached). Under LFU a
    /// written key keeps its frequency, as Redis' overwrite keeps the object's `lru` (the write's own lookup of the
    /// key counted the access); a new one starts at [`LFU_INIT_VAL`].
    pub fn written(&self, old: Option<u32>, at: u32) -> u32 {
        if !self.lfu() {
            return at;
        }
        match old {
            Some(field) if field != 0 => field,
            _ => with_counter(LFU_INIT_VAL),
        }
    }

    /// Redis' `LFUDecrAndReturn`: the counter of `field` decayed to now (OBJECT FREQ).
    pub fn frequency(&self, field: u32) -> u8 {
        let counter = (field & 0xff) as u8;
        let decay = self.decay_minutes.load(Ordering::Relaxed);
        if decay == 0 {
            return counter;
        }
        let last = (field >> 8) as u16;
        let periods = minutes_since(last, now_minutes()) / decay;
        counter.saturating_sub(periods.min(255) as u8)
    }

    /// Redis' `LFULogIncr`.
    fn incremented(&self, counter: u8) -> u8 {
        if counter == u8::MAX {
            return counter;
        }
        let base = counter.saturating_sub(LFU_INIT_VAL) as f64;
        let p = 1.0 / (base * self.log_factor.load(Ordering::Relaxed) as f64 + 1.0);
        let r = (crate::util::random_u64() >> 11) as f64 / (1u64 << 53) as f64;
        if r < p {
            counter + 1
        } else {
            counter
        }
    }
}

/// The LFU field of `counter` decremented last now (RESTORE … FREQ sets one).
pub fn with_counter(counter: u8) -> u32 {
    (now_minutes() as u32) << 8 | counter as u32
}

/// Redis' `LFUGetTimeInMinutes`: minutes since the epoch, modulo 2^16.
fn now_minutes() -> u16 {
    ((crate::util::now_ms() / 60_000) & 0xffff) as u16
}

/// Redis' `LFUTimeElapsed`, which wraps with the 16-bit minutes.
fn minutes_since(last: u16, now: u16) -> u32 {
    if now >= last {
        (now - last) as u32
    } else {
        65535 - last as u32 + now as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lfu(log_factor: u32, decay: u32) -> AccessClock {
        let c = AccessClock::default();
        c.configure(true, log_factor, decay);
        c
    }

    #[test]
    fn without_lfu_the_field_is_the_access_time() {
        let c = AccessClock::default();
        assert_eq!(c.written(Some(77), 1234), 1234);
        assert_eq!(c.read(77), super::super::cache::access_now());
    }

    #[test]
    fn a_new_key_starts_at_five_and_each_access_counts_with_log_factor_zero() {
        let c = lfu(0, 1);
        let mut field = c.written(None, 0);
        assert_eq!(c.frequency(field), LFU_INIT_VAL);
        for n in 1..=3 {
            field = c.read(field);
            assert_eq!(c.frequency(field), LFU_INIT_VAL + n);
        }
        // A write keeps it; an unknown key read once is a new key read once.
        assert_eq!(c.frequency(c.written(Some(field), 0)), 8);
        assert_eq!(c.frequency(c.read(0)), 6);
        assert_eq!(c.frequency(c.read(with_counter(255))), 255);
    }

    #[test]
    fn the_counter_grows_logarithmically_and_decays_per_period() {
        let c = lfu(10, 1);
        let mut field = c.written(None, 0);
        for _ in 0..1000 {
            field = c.read(field);
        }
        // Redis' table for factor 10: ~18 after 1 000 hits; well below 255.
        let f = c.frequency(field);
        assert!((10..40).contains(&f), "{f}");
        // Decremented 3 periods ago: 3 less; long ago: 0.
        let now = now_minutes();
        assert_eq!(c.frequency((now.wrapping_sub(3) as u32) << 8 | 20), 17);
        assert_eq!(c.frequency((now.wrapping_sub(300) as u32) << 8 | 20), 0);
        assert_eq!(lfu(10, 0).frequency((now.wrapping_sub(300) as u32) << 8 | 20), 20);
        assert_eq!(minutes_since(65530, 4), 9);
    }
}
