//! HyperLogLog family: PFADD, PFCOUNT, PFMERGE, PFDEBUG and PFSELFTEST over string records.
//!
//! An HLL is a plain string holding exactly the bytes Redis 7.0 keeps for it, so GET, SETRANGE, APPEND, COPY…
//! see and change the same value in both servers: a 16-byte header (`HYLL`, the encoding byte, three unused
//! bytes, the cached cardinality as a little-endian u64 whose top bit marks it stale), then 16384 six-bit
//! registers, either dense (12288 bytes, register `i` in bits `6i..6i+6` counted from the low bit of each byte)
//! or sparse (run-length opcodes: `00xxxxxx` ZERO, `01xxxxxx yyyyyyyy` XZERO, `1vvvvvll` VAL). The algorithms
//! follow Redis' hyperloglog.c step for step — the sparse edit with its opcode split and merge, the promotion to
//! dense past `hll-sparse-max-bytes`, Ertl's estimator — because the bytes they leave are observable.
//!
//! Corrupted values are client data: every read is bounds-checked, and the byte just past a value reads as
//! Redis' C string terminator would (see [`Hll::term`]), so a broken encoding gives Redis' error, never a panic.

use super::string::{count_lookup, lookup_read, string_body};
use super::{Args, CmdError, CmdResult, Ctx, Handler};
use crate::notify::{self, notify};
use crate::storage::encoding::{encode_string_as, MetaView, StrOrigin};
use crate::storage::{Existing, Txn};

pub const HANDLERS: &[(&str, Handler)] =
    &[("pfadd", pfadd), ("pfcount", pfcount), ("pfdebug", pfdebug), ("pfmerge", pfmerge), ("pfselftest", pfselftest)];

/// Header bytes before the registers.
const HDR_SIZE: usize = 16;
/// Index bits of the hash: 2^14 registers.
const P: u32 = 14;
const REGISTERS: usize = 1 << P;
/// Hash bits left for the run of zeros.
const Q: usize = 64 - P as usize;
const REGISTER_MAX: u32 = 63;
const DENSE_SIZE: usize = HDR_SIZE + (REGISTERS * 6).div_ceil(8);
const DENSE: u8 = 0;
const SPARSE: u8 = 1;
const SPARSE_VAL_MAX_VALUE: u8 = 32;
const SPARSE_VAL_MAX_LEN: u32 = 4;
const SPARSE_ZERO_MAX_LEN: i64 = 64;
const SPARSE_XZERO_MAX_LEN: usize = 16384;
/// 0.5 / ln 2.
const ALPHA_INF: f64 = 0.721_347_520_444_481_7;
/// Seed of the element hash.
const HASH_SEED: u64 = 0xadc8_3b19;

fn not_hll() -> CmdError {
    CmdError::Prefixed("WRONGTYPE", "Key is not a valid HyperLogLog string value.".into())
}

fn corrupted() -> CmdError {
    CmdError::Prefixed("INVALIDOBJ", "Corrupted HLL object detected".into())
}

/// MurmurHash2, 64-bit version (`MurmurHash64A`), reading blocks little-endian as Redis does on every platform.
pub fn murmurhash64a(key: &[u8], seed: u64) -> u64 {
    const M: u64 = 0xc6a4_a793_5bd1_e995;
    const R: u32 = 47;
    let mut h = seed ^ (key.len() as u64).wrapping_mul(M);
    let mut blocks = key.chunks_exact(8);
    for block in &mut blocks {
        let mut word = [0u8; 8];
        word.copy_from_slice(block);
        let mut k = u64::from_le_bytes(word).wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h ^= k;
        h = h.wrapping_mul(M);
    }
    let tail = blocks.remainder();
    if !tail.is_empty() {
        for (i, &b) in tail.iter().enumerate() {
            h ^= (b as u64) << (8 * i);
        }
        h = h.wrapping_mul(M);
    }
    h ^= h >> R;
    h = h.wrapping_mul(M);
    h ^ (h >> R)
}

/// The register an element lands in and the length of its `0…01` pattern (1 ..= 51).
fn pattern(element: &[u8]) -> (usize, u8) {
    let hash = murmurhash64a(element, HASH_SEED);
    let index = (hash & (REGISTERS as u64 - 1)) as usize;
    // The extra bit bounds the count at Q + 1.
    let rest = (hash >> P) | (1u64 << Q);
    (index, rest.trailing_zeros() as u8 + 1)
}

/// Dense register `i` of `regs` (a byte past the end reads as zero; it never reaches the six bits anyway).
fn get_register(regs: &[u8], i: usize) -> u8 {
    let (byte, fb) = (i * 6 / 8, (i * 6) & 7);
    let b0 = regs.get(byte).copied().unwrap_or(0) as u32;
    let b1 = regs.get(byte + 1).copied().unwrap_or(0) as u32;
    (((b0 >> fb) | (b1 << (8 - fb))) & REGISTER_MAX) as u8
}

fn set_register(regs: &mut [u8], i: usize, value: u8) {
    let (byte, fb) = (i * 6 / 8, (i * 6) & 7);
    let v = value as u32;
    if let Some(b) = regs.get_mut(byte) {
        *b = (*b & !(REGISTER_MAX << fb) as u8) | (v << fb) as u8;
    }
    if let Some(b) = regs.get_mut(byte + 1) {
        *b = (*b & !(REGISTER_MAX >> (8 - fb)) as u8) | (v >> (8 - fb)) as u8;
    }
}

/// Raises dense register `i` to `count`: true when it was lower.
fn dense_set(regs: &mut [u8], i: usize, count: u8) -> bool {
    if count > get_register(regs, i) {
        set_register(regs, i, count);
        true
    } else {
        false
    }
}

/// One sparse opcode: a run of zero registers (ZERO up to 64, XZERO up to 16384) or of registers holding 1..=32.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Op {
    Zero(u32),
    XZero(u32),
    Val { value: u8, len: u32 },
}

impl Op {
    /// Registers covered.
    fn len(self) -> u32 {
        match self {
            Op::Zero(n) | Op::XZero(n) => n,
            Op::Val { len, .. } => len,
        }
    }
}

fn is_zero(b: u8) -> bool {
    b & 0xc0 == 0
}

fn is_xzero(b: u8) -> bool {
    b & 0xc0 == 0x40
}

fn is_val(b: u8) -> bool {
    b & 0x80 != 0
}

fn val_op(value: u8, len: u32) -> u8 {
    (value.wrapping_sub(1) << 2) | (len.wrapping_sub(1) as u8 & 3) | 0x80
}

fn val_value(b: u8) -> u8 {
    ((b >> 2) & 0x1f) + 1
}

fn val_len(b: u8) -> u32 {
    (b & 3) as u32 + 1
}

/// Appends the opcode for `len` (1 ..= 16384) zero registers: ZERO when it fits, else XZERO.
fn push_zeros(seq: &mut Vec<u8>, len: i64) {
    let l = len - 1;
    if len > SPARSE_ZERO_MAX_LEN {
        seq.push(((l >> 8) as u8 & 0x3f) | 0x40);
        seq.push(l as u8);
    } else {
        seq.push(l as u8);
    }
}

/// The byte at `i` of a value whose terminator (the byte at its length) is `term`; further out, zero.
fn byte_at(bytes: &[u8], term: u8, i: usize) -> u8 {
    bytes.get(i).copied().unwrap_or(if i == bytes.len() { term } else { 0 })
}

/// The opcode at `p` (< the value's length) and its size in bytes.
fn op_at(bytes: &[u8], term: u8, p: usize) -> (Op, usize) {
    let b = byte_at(bytes, term, p);
    if is_zero(b) {
        (Op::Zero((b & 0x3f) as u32 + 1), 1)
    } else if is_xzero(b) {
        let low = byte_at(bytes, term, p + 1) as u32;
        (Op::XZero((((b & 0x3f) as u32) << 8 | low) + 1), 2)
    } else {
        (Op::Val { value: val_value(b), len: val_len(b) }, 1)
    }
}

/// The opcodes of a sparse value, in order. A truncated XZERO at the end reads the terminator as its second byte.
struct Ops<'a> {
    bytes: &'a [u8],
    term: u8,
    p: usize,
}

impl Iterator for Ops<'_> {
    type Item = Op;

    fn next(&mut self) -> Option<Op> {
        if self.p >= self.bytes.len() {
            return None;
        }
        let (op, size) = op_at(self.bytes, self.term, self.p);
        self.p += size;
        Some(op)
    }
}

fn ops(bytes: &[u8], term: u8) -> Ops<'_> {
    Ops { bytes, term, p: HDR_SIZE }
}

/// Walks the registers a sparse value sets, calling `set(index, value)` for each non-zero one. False (and the
/// walk stops) as soon as an opcode would run past the last register; else true when the opcodes cover exactly
/// the 16384 registers. (Redis 7.0.15 as shipped with the CVE-2025-32023 fix, which refuses any overflowing run;
/// the unpatched code only stopped at a VAL run and let zero runs wrap a C `int`.)
fn sparse_registers(bytes: &[u8], term: u8, mut set: impl FnMut(usize, u8)) -> bool {
    let mut idx = 0usize;
    for op in ops(bytes, term) {
        let len = op.len() as usize;
        if idx + len > REGISTERS {
            return false;
        }
        if let Op::Val { value, .. } = op {
            for i in idx..idx + len {
                set(i, value);
            }
        }
        idx += len;
    }
    idx == REGISTERS
}

/// How many registers hold each value (`hist[v]`).
type Histogram = [i64; 64];

/// The histogram of a sparse value, and whether its opcodes cover exactly the 16384 registers.
fn sparse_histogram(bytes: &[u8], term: u8) -> (Histogram, bool) {
    let mut hist = [0i64; 64];
    let valid = sparse_registers(bytes, term, |_, v| hist[v as usize] += 1);
    hist[0] = REGISTERS as i64 - hist[1..].iter().sum::<i64>();
    (hist, valid)
}

/// The histogram of registers given one value per byte (PFCOUNT of several keys), or as dense six-bit fields.
fn histogram_of(regs: impl Iterator<Item = u8>) -> Histogram {
    let mut hist = [0i64; 64];
    for v in regs {
        hist[(v & 63) as usize] += 1;
    }
    hist
}

fn dense_histogram(regs: &[u8]) -> Histogram {
    histogram_of((0..REGISTERS).map(|i| get_register(regs, i)))
}

/// Ertl's σ ("New cardinality estimation algorithms for HyperLogLog sketches", arXiv:1702.01284).
fn sigma(mut x: f64) -> f64 {
    if x == 1.0 {
        return f64::INFINITY;
    }
    let (mut y, mut z) = (1.0, x);
    loop {
        x *= x;
        let before = z;
        z += x * y;
        y += y;
        if before == z {
            return z;
        }
    }
}

/// Ertl's τ (same paper).
fn tau(mut x: f64) -> f64 {
    if x == 0.0 || x == 1.0 {
        return 0.0;
    }
    let (mut y, mut z) = (1.0, 1.0 - x);
    loop {
        x = x.sqrt();
        let before = z;
        y *= 0.5;
        z -= (1.0 - x) * (1.0 - x) * y;
        if before == z {
            return z / 3.0;
        }
    }
}

/// The estimated cardinality of a register histogram, as Redis' `hllCount` computes it. An estimate that does
/// not fit (only crafted registers give one) comes out as C's `llroundl` overflow, 2^63, as in Redis.
fn estimate(hist: &Histogram) -> u64 {
    let m = REGISTERS as f64;
    let mut z = m * tau((m - hist[Q + 1] as f64) / m);
    for j in (1..=Q).rev() {
        z += hist[j] as f64;
        z *= 0.5;
    }
    z += m * sigma(hist[0] as f64 / m);
    let e = (ALPHA_INF * m * m / z).round();
    if (0.0..(1u64 << 63) as f64).contains(&e) {
        e as u64
    } else {
        1 << 63
    }
}

/// Redis' `isHLLObjectOrReply` on a string's bytes: the header, the magic, a known encoding, and a dense value of
/// exactly the dense size.
fn is_hll(value: &[u8]) -> bool {
    value.len() >= HDR_SIZE
        && value.starts_with(b"HYLL")
        && value[4] <= SPARSE
        && (value[4] != DENSE || value.len() == DENSE_SIZE)
}

/// The HLL bytes of a live record: WRONGTYPE for another type, Redis' HLL WRONGTYPE for a string that is not one.
fn hll_value<'a>(m: &MetaView<'a>) -> CmdResult<&'a [u8]> {
    let value = string_body(m)?;
    if !is_hll(value) {
        return Err(not_hll());
    }
    Ok(value)
}

/// Folds an HLL value into `max` (one register per byte): `max[i] = max(max[i], register i)`.
fn merge_into(value: &[u8], max: &mut [u8]) -> CmdResult {
    if value.get(4) == Some(&DENSE) {
        let regs = value.get(HDR_SIZE..).unwrap_or_default();
        for (i, m) in max.iter_mut().enumerate() {
            *m = (*m).max(get_register(regs, i));
        }
        return Ok(());
    }
    let valid = sparse_registers(value, 0, |i, v| {
        if let Some(m) = max.get_mut(i) {
            *m = (*m).max(v);
        }
    });
    if valid {
        Ok(())
    } else {
        Err(corrupted())
    }
}

/// An HLL being changed, as Redis' in-place edits of the string leave it.
#[derive(Debug, Clone, PartialEq)]
pub struct Hll {
    /// The string's bytes; always passes [`is_hll`]'s checks on header and length.
    bytes: Vec<u8>,
    /// The byte just past the end. Redis' strings end with a zero byte its sparse code may read as the second
    /// byte of a truncated XZERO, and an edit of such an opcode can leave a register byte there for later reads
    /// in the same command; a value loaded from storage always starts with zero.
    term: u8,
}

impl Hll {
    /// An empty HLL, as Redis creates one: sparse, every register in XZERO runs, cached cardinality 0.
    pub fn new() -> Hll {
        let mut bytes = b"HYLL".to_vec();
        bytes.extend_from_slice(&[SPARSE, 0, 0, 0]);
        bytes.extend_from_slice(&[0; 8]);
        let mut left = REGISTERS;
        while left > 0 {
            let run = left.min(SPARSE_XZERO_MAX_LEN);
            push_zeros(&mut bytes, run as i64);
            left -= run;
        }
        Hll { bytes, term: 0 }
    }

    /// The HLL held by a string, or `None` when the string is not one.
    pub fn parse(value: &[u8]) -> Option<Hll> {
        is_hll(value).then(|| Hll { bytes: value.to_vec(), term: 0 })
    }

    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    fn is_dense(&self) -> bool {
        self.bytes[4] == DENSE
    }

    fn invalidate_cache(&mut self) {
        self.bytes[15] |= 0x80;
    }

    /// The cached cardinality, when it is valid.
    fn cached(&self) -> Option<u64> {
        let mut card = [0u8; 8];
        card.copy_from_slice(&self.bytes[8..HDR_SIZE]);
        (card[7] & 0x80 == 0).then(|| u64::from_le_bytes(card))
    }

    fn set_cached(&mut self, card: u64) {
        self.bytes[8..HDR_SIZE].copy_from_slice(&card.to_le_bytes());
    }

    /// The registers' histogram, and whether the encoding is sound (a sparse one must cover every register).
    fn histogram(&self) -> (Histogram, bool) {
        if self.is_dense() {
            (dense_histogram(&self.bytes[HDR_SIZE..]), true)
        } else {
            sparse_histogram(&self.bytes, self.term)
        }
    }

    /// The estimated cardinality, or INVALIDOBJ for a sparse encoding that does not cover the registers.
    fn count(&self) -> CmdResult<u64> {
        match self.histogram() {
            (hist, true) => Ok(estimate(&hist)),
            _ => Err(corrupted()),
        }
    }

    /// Converts a sparse HLL to dense (header and cached cardinality kept): true when it was sparse.
    fn densify(&mut self) -> CmdResult<bool> {
        if self.is_dense() {
            return Ok(false);
        }
        let mut dense = vec![0u8; DENSE_SIZE];
        dense[..HDR_SIZE].copy_from_slice(&self.bytes[..HDR_SIZE]);
        dense[4] = DENSE;
        let regs = &mut dense[HDR_SIZE..];
        if !sparse_registers(&self.bytes, self.term, |i, v| set_register(regs, i, v)) {
            return Err(corrupted());
        }
        self.bytes = dense;
        self.term = 0;
        Ok(true)
    }

    /// Adds one element: true when a register changed.
    fn add(&mut self, element: &[u8], max_sparse: u64) -> CmdResult<bool> {
        let (index, count) = pattern(element);
        self.set(index, count, max_sparse)
    }

    /// Raises register `index` to `count`: true when it was lower.
    fn set(&mut self, index: usize, count: u8, max_sparse: u64) -> CmdResult<bool> {
        if self.is_dense() {
            Ok(dense_set(&mut self.bytes[HDR_SIZE..], index, count))
        } else {
            self.sparse_set(index, count, max_sparse)
        }
    }

    /// Redis' `hllSparseSet`: finds the opcode covering `index`, and when its value is lower rewrites it (a VAL
    /// or ZERO of one register in place, anything longer split into up to three opcodes), merges equal VAL
    /// neighbours, and invalidates the cache. A value the sparse encoding cannot hold (> 32) or a split that
    /// would grow the string past `max_sparse` bytes promotes it to dense first.
    fn sparse_set(&mut self, index: usize, count: u8, max_sparse: u64) -> CmdResult<bool> {
        if count > SPARSE_VAL_MAX_VALUE {
            return self.promote(index, count);
        }
        let end = self.bytes.len();
        let (mut p, mut first, mut span) = (HDR_SIZE, 0i64, 0i64);
        let mut prev = None;
        while p < end {
            let (op, size) = op_at(&self.bytes, self.term, p);
            span = op.len() as i64;
            if (index as i64) < first + span {
                break;
            }
            prev = Some(p);
            p += size;
            first += span;
        }
        if span == 0 || p >= end {
            return Err(corrupted());
        }
        let (op, size) = op_at(&self.bytes, self.term, p);
        match op {
            Op::Val { value, .. } if value >= count => return Ok(false),
            Op::Val { len: 1, .. } | Op::Zero(1) => {
                self.bytes[p] = val_op(count, 1);
                self.merge_vals(prev.unwrap_or(HDR_SIZE));
                return Ok(true);
            }
            _ => {}
        }
        let (idx, last) = (index as i64, first + span - 1);
        let mut seq = Vec::with_capacity(5);
        match op {
            Op::Val { value, .. } => {
                if idx != first {
                    seq.push(val_op(value, (idx - first) as u32));
                }
                seq.push(val_op(count, 1));
                if idx != last {
                    seq.push(val_op(value, (last - idx) as u32));
                }
            }
            _ => {
                if idx != first {
                    push_zeros(&mut seq, idx - first);
                }
                seq.push(val_op(count, 1));
                if idx != last {
                    push_zeros(&mut seq, last - idx);
                }
            }
        }
        let delta = seq.len() as i64 - size as i64;
        if delta > 0 && (end as i64 + delta) as u64 > max_sparse {
            return self.promote(index, count);
        }
        // The new opcodes replace the old one. When that one was a truncated XZERO (its second byte was the
        // terminator), Redis' string grows by `delta` from its old length, so its last new byte lands on the
        // terminator.
        let new_len = (end as i64 + delta) as usize;
        let mut edited = Vec::with_capacity(end + seq.len());
        edited.extend_from_slice(&self.bytes[..p]);
        edited.extend_from_slice(&seq);
        edited.extend_from_slice(self.bytes.get(p + size..).unwrap_or_default());
        self.term = edited.get(new_len).copied().unwrap_or(0);
        edited.truncate(new_len);
        self.bytes = edited;
        self.merge_vals(prev.unwrap_or(HDR_SIZE));
        Ok(true)
    }

    /// After an edit: merges adjacent VAL opcodes of equal value whose runs fit one opcode, scanning at most five
    /// opcodes from `from` (the opcode before the edited one), then invalidates the cache.
    fn merge_vals(&mut self, from: usize) {
        let mut p = from;
        let mut scan = 5;
        while p < self.bytes.len() && scan > 0 {
            scan -= 1;
            let b = self.bytes[p];
            if is_xzero(b) {
                p += 2;
                continue;
            }
            if is_zero(b) {
                p += 1;
                continue;
            }
            if let Some(&next) = self.bytes.get(p + 1) {
                let len = val_len(b) + val_len(next);
                if is_val(next) && val_value(b) == val_value(next) && len <= SPARSE_VAL_MAX_LEN {
                    self.bytes[p + 1] = val_op(val_value(b), len);
                    self.bytes.remove(p);
                    self.term = 0;
                    continue;
                }
            }
            p += 1;
        }
        self.invalidate_cache();
    }

    /// Converts to dense and sets the register there (which, by how promotion is reached, always changes it).
    fn promote(&mut self, index: usize, count: u8) -> CmdResult<bool> {
        self.densify()?;
        dense_set(&mut self.bytes[HDR_SIZE..], index, count);
        Ok(true)
    }

    /// The registers, one per byte (PFDEBUG GETREG, on a dense HLL).
    fn registers(&self) -> Vec<u8> {
        let regs = self.bytes.get(HDR_SIZE..).unwrap_or_default();
        (0..REGISTERS).map(|i| get_register(regs, i)).collect()
    }

    /// PFDEBUG DECODE's text of a sparse HLL: `z:len`, `Z:len` and `v:value,len` separated by spaces.
    fn decode(&self) -> String {
        let words: Vec<String> = ops(&self.bytes, self.term)
            .map(|op| match op {
                Op::Zero(n) => format!("z:{n}"),
                Op::XZero(n) => format!("Z:{n}"),
                Op::Val { value, len } => format!("v:{value},{len}"),
            })
            .collect();
        words.join(" ")
    }
}

impl Default for Hll {
    fn default() -> Self {
        Hll::new()
    }
}

/// `hll-sparse-max-bytes`, read when a command runs.
fn max_sparse(ctx: &Ctx) -> u64 {
    ctx.server.config.read().int("hll-sparse-max-bytes").max(0) as u64
}

/// How a command changed the HLL it was given, which decides how it is written back.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Change {
    /// Not at all.
    None,
    /// Changed without Redis signalling the key as modified (PFDEBUG's conversion to dense, the registers an
    /// aborted PFADD already set): not a modification for WATCH.
    Quiet,
    /// Modified: WATCH sees it.
    Modified,
}

/// A key's record loaded under its lock, with the HLL it holds.
struct Slot {
    old: Option<Existing>,
    hll: Option<Hll>,
    expire_at: u64,
    /// The value was not built as a raw string: Redis unshares it (`dbUnshareStringValue`) before changing it,
    /// so OBJECT ENCODING says `raw` from then on even when nothing else changes.
    reencode: bool,
}

impl Slot {
    /// The slot of a record a writer loaded; refuses a value that is not an HLL.
    fn new(old: Option<Existing>) -> CmdResult<Slot> {
        let (hll, expire_at, reencode) = match old.as_ref().and_then(|o| o.live()) {
            Some(m) => {
                let hll = Hll::parse(hll_value(&m)?).ok_or_else(not_hll)?;
                (Some(hll), m.expire_at(), m.string_origin() != StrOrigin::Raw)
            }
            None => (None, 0, false),
        };
        Ok(Slot { old, hll, expire_at, reencode })
    }
}

/// Stages the write of a slot's HLL as a raw string, keeping its TTL: announced to WATCH only for
/// [`Change::Modified`]; an unshared value is rewritten even when unchanged.
fn store(txn: &mut Txn, db: u16, key: &[u8], slot: &Slot, change: Change) {
    let Some(hll) = &slot.hll else { return };
    let raw = || encode_string_as(slot.expire_at, &hll.bytes, StrOrigin::Raw);
    match change {
        Change::Modified => txn.put(db, key, slot.old.as_ref(), raw()),
        Change::Quiet => txn.put_quiet(db, key, slot.old.as_ref(), raw()),
        Change::None if slot.reencode => txn.put_quiet(db, key, slot.old.as_ref(), raw()),
        Change::None => {}
    }
}

/// The single-key commands (PFADD, PFCOUNT of one key, PFDEBUG): under the key's lock, `f` gets the key's HLL
/// (`None` when missing; a value that is not an HLL was refused) and says how it changed it and what to reply.
/// Whatever it changed is written back, its error too (Redis edits in place and keeps what was done).
fn with_hll<T>(
    ctx: &Ctx,
    key: &[u8],
    count_read: bool,
    f: impl FnOnce(&mut Option<Hll>) -> (Change, CmdResult<T>),
) -> CmdResult<T> {
    let _guard = ctx.store.locks.lock(&[key]);
    let db = ctx.db();
    let mut txn = ctx.store.txn();
    let old = txn.load(db, key)?;
    if count_read {
        count_lookup(ctx, key, old.as_ref().is_some_and(|o| o.live().is_some()));
    }
    let mut slot = Slot::new(old)?;
    let (change, result) = f(&mut slot.hll);
    store(&mut txn, db, key, &slot, change);
    txn.commit()?;
    result
}

fn pfadd(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let elements = args.rest();
    let max = max_sparse(ctx);
    let updated = with_hll(ctx, key, false, |slot| {
        let mut updated = slot.is_none();
        let hll = slot.get_or_insert_with(Hll::new);
        for e in elements {
            match hll.add(e, max) {
                Ok(changed) => updated |= changed,
                Err(e) => return (if updated { Change::Quiet } else { Change::None }, Err(e)),
            }
        }
        if !updated {
            return (Change::None, Ok(false));
        }
        hll.invalidate_cache();
        (Change::Modified, Ok(true))
    })?;
    if updated {
        notify(ctx, notify::STRING, "pfadd", key);
    }
    ctx.out.int(updated as i64);
    Ok(())
}

fn pfcount(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let keys = args.rest();
    if keys.len() > 1 {
        return pfcount_union(ctx, keys);
    }
    let key = args.next_bytes()?;
    // A stale cache is refreshed in the value: a modification, though no keyspace event announces it.
    let card = with_hll(ctx, key, true, |slot| {
        let Some(hll) = slot else { return (Change::None, Ok(0)) };
        if let Some(card) = hll.cached() {
            return (Change::None, Ok(card));
        }
        match hll.count() {
            Ok(card) => {
                hll.set_cached(card);
                (Change::Modified, Ok(card))
            }
            Err(e) => (Change::None, Err(e)),
        }
    })?;
    ctx.out.int(card as i64);
    Ok(())
}

/// PFCOUNT of several keys: the cardinality of their union, computed in a scratch HLL (no cache written).
fn pfcount_union(ctx: &mut Ctx, keys: &[bytes::Bytes]) -> CmdResult {
    let _guard = ctx.store.locks.lock(keys);
    let mut max = vec![0u8; REGISTERS];
    for key in keys {
        if let Some(rec) = lookup_read(ctx, key)? {
            merge_into(hll_value(&rec.view())?, &mut max)?;
        }
    }
    ctx.out.int(estimate(&histogram_of(max.into_iter())) as i64);
    Ok(())
}

fn pfmerge(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let keys = args.rest();
    let dest = args.next_bytes()?;
    let _guard = ctx.store.locks.lock(keys);
    // Every key, the destination first, is read as a source; the result is dense if any source is.
    let mut max = vec![0u8; REGISTERS];
    let mut use_dense = false;
    for key in keys {
        if let Some(rec) = lookup_read(ctx, key)? {
            let value = hll_value(&rec.view())?;
            use_dense |= value[4] == DENSE;
            merge_into(value, &mut max)?;
        }
    }
    let max_bytes = max_sparse(ctx);
    let db = ctx.db();
    let mut txn = ctx.store.txn();
    // Redis' `lookupKeyWrite`: no hit or miss counted.
    let mut slot = Slot::new(txn.load(db, dest)?)?;
    let hll = slot.hll.get_or_insert_with(Hll::new);
    if use_dense {
        hll.densify()?;
    }
    for (i, &v) in max.iter().enumerate() {
        if v != 0 {
            // The destination was checked as a source: a sparse edit cannot find it corrupted.
            let _ = hll.set(i, v, max_bytes);
        }
    }
    hll.invalidate_cache();
    store(&mut txn, db, dest, &slot, Change::Modified);
    txn.commit()?;
    // Redis announces a merge as a mass PFADD, whether or not a register changed.
    notify(ctx, notify::STRING, "pfadd", dest);
    ctx.out.ok();
    Ok(())
}

/// What PFDEBUG replies.
enum DebugReply {
    Registers(Vec<u8>),
    Text(String),
    Status(&'static str),
    Int(i64),
}

fn pfdebug(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let sub = args.next_bytes()?;
    let key = args.next_bytes()?;
    // Redis compares the subcommand as a C string, so it ends at a NUL byte.
    let name = sub.split(|&b| b == 0).next().unwrap_or_default().to_ascii_lowercase();
    // The key is looked up, checked and unshared before the subcommand is.
    let reply = with_hll(ctx, key, false, |slot| {
        let Some(hll) = slot else { return (Change::None, Err(CmdError::err("The specified key does not exist"))) };
        let conversion = |hll: &mut Hll| match hll.densify() {
            Ok(converted) => (if converted { Change::Quiet } else { Change::None }, Ok(converted)),
            Err(e) => (Change::None, Err(e)),
        };
        match name.as_slice() {
            b"getreg" => match conversion(hll) {
                (change, Ok(_)) => (change, Ok(DebugReply::Registers(hll.registers()))),
                (change, Err(e)) => (change, Err(e)),
            },
            b"todense" => match conversion(hll) {
                (change, Ok(converted)) => (change, Ok(DebugReply::Int(converted as i64))),
                (change, Err(e)) => (change, Err(e)),
            },
            b"decode" if hll.is_dense() => (Change::None, Err(CmdError::err("HLL encoding is not sparse"))),
            b"decode" => (Change::None, Ok(DebugReply::Text(hll.decode()))),
            b"encoding" => (Change::None, Ok(DebugReply::Status(if hll.is_dense() { "dense" } else { "sparse" }))),
            _ => (
                Change::None,
                Err(CmdError::err(format!("Unknown PFDEBUG subcommand '{}'", crate::util::arg_text(sub)))),
            ),
        }
    })?;
    match reply {
        DebugReply::Registers(regs) => {
            ctx.out.array(regs.len());
            for r in regs {
                ctx.out.int(r as i64);
            }
        }
        DebugReply::Text(text) => ctx.out.bulk(text.as_bytes()),
        DebugReply::Status(s) => ctx.out.simple(s),
        DebugReply::Int(n) => ctx.out.int(n),
    }
    Ok(())
}

fn pfselftest(ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    selftest(max_sparse(ctx), crate::util::random_u64())?;
    ctx.out.ok();
    Ok(())
}

/// A small xorshift generator: the self test's stand-in for C's `rand()`.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
}

/// Redis' PFSELFTEST: (1) random values written to every dense register read back unchanged, a thousand times;
/// (2) ten million distinct elements added to a dense and to a sparse HLL, which must stay sparse while small,
/// agree on the estimate, and stay within six standard errors of the truth at every power of ten.
fn selftest(max_sparse: u64, seed: u64) -> CmdResult {
    let failed = |msg: String| CmdError::err(format!("TESTFAILED {msg}"));
    let mut rng = XorShift(seed | 1);
    let mut regs = vec![0u8; DENSE_SIZE - HDR_SIZE];
    let mut expected = vec![0u8; REGISTERS];
    for _ in 0..1000 {
        for (i, e) in expected.iter_mut().enumerate() {
            *e = (rng.next() & REGISTER_MAX as u64) as u8;
            set_register(&mut regs, i, *e);
        }
        for (i, &e) in expected.iter().enumerate() {
            let got = get_register(&regs, i);
            if got != e {
                return Err(failed(format!("Register {i} should be {e} but is {got}")));
            }
        }
    }
    regs.fill(0);
    let mut sparse = Hll::new();
    let rel_err = 1.04 / (REGISTERS as f64).sqrt();
    let base = rng.next();
    let mut checkpoint: u64 = 1;
    for j in 1..=10_000_000u64 {
        let element = (j ^ base).to_le_bytes();
        let (index, count) = pattern(&element);
        dense_set(&mut regs, index, count);
        let _ = sparse.add(&element, max_sparse);
        if j != checkpoint {
            continue;
        }
        if j < max_sparse / 2 && sparse.is_dense() {
            return Err(failed("sparse encoding not used".into()));
        }
        let dense_card = estimate(&dense_histogram(&regs));
        if dense_card != estimate(&sparse.histogram().0) {
            return Err(failed("dense/sparse disagree".into()));
        }
        let abs_err = checkpoint.abs_diff(dense_card);
        // At 10 elements one collision is likely enough to allow for.
        let max_err = if j == 10 { 1 } else { (rel_err * 6.0 * checkpoint as f64).ceil() as u64 };
        if abs_err > max_err {
            return Err(failed(format!("Too big error. card:{checkpoint} abserr:{abs_err}")));
        }
        checkpoint *= 10;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `PFADD` of `elements` into a fresh HLL.
    fn hll_of(elements: &[&[u8]], max_sparse: u64) -> Hll {
        let mut h = Hll::new();
        for e in elements {
            h.add(e, max_sparse).unwrap();
        }
        h
    }

    #[test]
    fn murmurhash64a_vectors() {
        // Checked against a direct port of Redis' C function.
        assert_eq!(murmurhash64a(b"", HASH_SEED), 0xd8df_ea65_85bc_9732);
        assert_eq!(murmurhash64a(b"a", HASH_SEED), 0x53d2_470a_9b43_b1a7);
        assert_eq!(murmurhash64a(b"hello world", HASH_SEED), 0xa919_bc30_51f6_24b7);
        assert_eq!(murmurhash64a(b"0123456789abcdef", 0), 0x93a9_2d1a_91a2_4bc7);
    }

    #[test]
    fn patterns_match_redis_registers() {
        // PFADD h <e> then PFDEBUG GETREG h on redis-server 7.0.15: the one non-zero register and its value.
        assert_eq!(pattern(b"a"), (12711, 2));
        assert_eq!(pattern(b"b"), (15780, 1));
        assert_eq!(pattern(b"c"), (8436, 1));
        assert_eq!(pattern(b"hello"), (9216, 1));
        assert_eq!(pattern(b""), (5938, 2));
        assert_eq!(pattern(b"0123456789abcdefXYZ"), (8222, 1));
    }

    #[test]
    fn new_hll_is_redis_empty_sparse() {
        let h = Hll::new();
        assert_eq!(h.bytes(), b"HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x7f\xff");
        assert_eq!(h.decode(), "Z:16384");
        assert_eq!(h.count(), Ok(0));
    }

    #[test]
    fn sparse_edits_match_redis_bytes() {
        // redis-server 7.0.15: PFADD h a b c, then GET h.
        let h = hll_of(&[b"a", b"b", b"c"], 3000);
        let mut want = b"HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80".to_vec();
        want.extend_from_slice(b"`\xf3\x80P\xb1\x84K\xfb\x80BZ");
        assert_eq!(h.bytes(), &want[..]);
        assert_eq!(h.decode(), "Z:8436 v:1,1 Z:4274 v:2,1 Z:3068 v:1,1 Z:603");
        assert_eq!(h.count(), Ok(3));
    }

    #[test]
    fn adjacent_values_merge() {
        let mut h = Hll::new();
        for i in [10, 11, 12] {
            h.set(i, 3, 3000).unwrap();
        }
        assert_eq!(h.decode(), "z:10 v:3,3 Z:16371");
        h.set(13, 3, 3000).unwrap();
        assert_eq!(h.decode(), "z:10 v:3,4 Z:16370");
        // A fifth register does not fit one VAL opcode.
        h.set(14, 3, 3000).unwrap();
        assert_eq!(h.decode(), "z:10 v:3,4 v:3,1 Z:16369");
        assert_eq!(h.set(12, 2, 3000), Ok(false));
        // Split in three; the right part then merges with its neighbour.
        h.set(12, 5, 3000).unwrap();
        assert_eq!(h.decode(), "z:10 v:3,2 v:5,1 v:3,2 Z:16369");
    }

    #[test]
    fn sparse_and_dense_agree() {
        let elements: Vec<Vec<u8>> = (0..2000).map(|i| format!("e{i}").into_bytes()).collect();
        let mut sparse = Hll::new();
        let mut dense = Hll::new();
        dense.densify().unwrap();
        for (n, e) in elements.iter().enumerate() {
            sparse.add(e, 1 << 30).unwrap();
            dense.add(e, 1 << 30).unwrap();
            if n % 97 == 0 {
                assert_eq!(sparse.count(), dense.count());
                let mut converted = sparse.clone();
                assert_eq!(converted.densify(), Ok(true));
                assert_eq!(converted.registers(), dense.registers());
            }
        }
        assert!(!sparse.is_dense());
        let mut max = vec![0u8; REGISTERS];
        merge_into(sparse.bytes(), &mut max).unwrap();
        assert_eq!(max, dense.registers());
    }

    #[test]
    fn promotes_past_max_bytes_and_values_over_32() {
        let mut h = hll_of(&[b"a", b"b", b"c"], 3000);
        assert!(!h.is_dense());
        h.add(b"d", 27).unwrap();
        assert!(h.is_dense());
        assert_eq!(h.bytes().len(), DENSE_SIZE);
        assert_eq!(h.count(), Ok(4));
        let mut big = Hll::new();
        assert_eq!(big.set(5, 33, 3000), Ok(true));
        assert!(big.is_dense());
        assert_eq!(big.registers()[5], 33);
    }

    #[test]
    fn estimates_match_redis() {
        // PFCOUNT on redis-server 7.0.15 after PFADD of e0..e(n-1).
        for (n, want) in [(1, 1), (10, 10), (100, 100), (1000, 1008), (10_000, 9973)] {
            let elements: Vec<Vec<u8>> = (0..n).map(|i| format!("e{i}").into_bytes()).collect();
            let mut h = Hll::new();
            for e in &elements {
                h.add(e, 3000).unwrap();
            }
            assert_eq!(h.count(), Ok(want), "{n}");
        }
        // Every register at 63 (a crafted dense value): Redis' llroundl overflow.
        let mut hist = [0i64; 64];
        hist[63] = REGISTERS as i64;
        assert_eq!(estimate(&hist), 1 << 63);
        let mut hist = [0i64; 64];
        hist[1] = REGISTERS as i64;
        assert_eq!(estimate(&hist), 23637);
    }

    #[test]
    fn corrupted_values_are_errors_not_panics() {
        assert!(Hll::parse(b"HYLL\x01\x00\x00").is_none());
        assert!(Hll::parse(b"HYLL\x02\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x7f\xff").is_none());
        assert!(Hll::parse(b"HYLL\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x7f\xff").is_none());
        let header = b"HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80";
        for tail in [&b""[..], b"\x7f", b"\x7f\xff\x7f\xff", b"\x7f\xfe", b"\xff\xff\xff", b"\x7f\xfc\x83"] {
            let value = [&header[..], tail].concat();
            let mut h = Hll::parse(&value).unwrap();
            assert_eq!(h.count(), Err(corrupted()), "{tail:?}");
            let mut max = vec![0u8; REGISTERS];
            assert_eq!(merge_into(&value, &mut max), Err(corrupted()));
            assert_eq!(h.clone().densify(), Err(corrupted()));
            let _ = h.add(b"a", 3000);
            let _ = h.set(16383, 40, 3000);
            let _ = h.decode();
        }
        // A run of registers far past the end, in many XZERO opcodes.
        let mut huge = header.to_vec();
        for _ in 0..200_000 {
            huge.extend_from_slice(b"\x7f\xff");
        }
        huge.push(0x83);
        let h = Hll::parse(&huge).unwrap();
        assert_eq!(h.count(), Err(corrupted()));
        assert_eq!(h.clone().densify(), Err(corrupted()));
    }

    #[test]
    fn truncated_xzero_reads_the_terminator() {
        // Z:16383 then a lone XZERO byte: with the terminator as its second byte it covers one register.
        let mut value = b"HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80\x7f\xfe\x40".to_vec();
        let h = Hll::parse(&value).unwrap();
        assert_eq!(h.decode(), "Z:16383 Z:1");
        assert_eq!(h.count(), Ok(0));
        // Setting that register replaces the 2-byte opcode by a 1-byte VAL in a string one byte shorter: the
        // VAL lands on the terminator, where the next edit still reads it.
        let mut h = Hll::parse(&value).unwrap();
        assert_eq!(h.set(16383, 2, 3000), Ok(true));
        value.pop();
        value[15] = 0x80;
        assert_eq!(h.bytes(), &value[..]);
        assert_eq!(h.term, val_op(2, 1));
    }

    #[test]
    fn dense_registers_round_trip() {
        selftest_registers_only();
    }

    fn selftest_registers_only() {
        let mut rng = XorShift(42);
        let mut regs = vec![0u8; DENSE_SIZE - HDR_SIZE];
        let values: Vec<u8> = (0..REGISTERS).map(|_| (rng.next() & 63) as u8).collect();
        for (i, &v) in values.iter().enumerate() {
            set_register(&mut regs, i, v);
        }
        assert!(values.iter().enumerate().all(|(i, &v)| get_register(&regs, i) == v));
    }

    #[test]
    fn self_test_passes() {
        assert_eq!(selftest(3000, 7), Ok(()));
    }
}
