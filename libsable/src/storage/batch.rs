//! The committer's write batch, encoded by us in RocksDB's `WriteBatch` format — a 12-byte header (sequence
//! number, record count, little-endian), then per key its type, its column family's id and the length-prefixed
//! key and value — and handed to RocksDB whole. Built through the C API it cost a call, a save point and string
//! appends per key on the committer, the serial stage of every write; here it is a few pushes into one buffer.
//!
//! Also the key order of such a batch: sorted on a 32-byte prefix held beside each key, so that most
//! comparisons touch no key at all (the overlays' keys are scattered over the workers' heaps).

use rocksdb::WriteBatch;

const HEADER: usize = 12;
/// Record types of RocksDB's `ValueType` (db/dbformat.h): in the default family, and in another one.
const TYPE_DELETION: u8 = 0x0;
const TYPE_VALUE: u8 = 0x1;
const TYPE_FAMILY_DELETION: u8 = 0x4;
const TYPE_FAMILY_VALUE: u8 = 0x5;

/// Builds one write batch record by record.
pub(crate) struct Encoder {
    rep: Vec<u8>,
    count: u32,
}

impl Encoder {
    /// `bytes`: about the size of the records to come, so the buffer is not copied as it grows.
    pub fn with_capacity(bytes: usize) -> Encoder {
        let mut rep = Vec::with_capacity(HEADER + bytes);
        rep.resize(HEADER, 0);
        Encoder { rep, count: 0 }
    }

    /// Adds a write of `key` in the family with id `family`: `value`, or a delete when None. RocksDB's lengths
    /// are 32-bit: a longer key or value is refused (nothing is added).
    pub fn add(&mut self, family: u32, key: &[u8], value: Option<&[u8]>) -> Result<(), String> {
        let too_long = |b: &[u8]| u32::try_from(b.len()).is_err();
        if too_long(key) || value.is_some_and(too_long) {
            return Err("a key or value of 4 GiB or more cannot be written".into());
        }
        let count = self.count.checked_add(1).ok_or("too many writes in one batch")?;
        let (plain, in_family) = match value {
            Some(_) => (TYPE_VALUE, TYPE_FAMILY_VALUE),
            None => (TYPE_DELETION, TYPE_FAMILY_DELETION),
        };
        if family == 0 {
            self.rep.push(plain);
        } else {
            self.rep.push(in_family);
            varint32(&mut self.rep, family);
        }
        self.length_prefixed(key);
        if let Some(v) = value {
            self.length_prefixed(v);
        }
        self.count = count;
        Ok(())
    }

    fn length_prefixed(&mut self, bytes: &[u8]) {
        varint32(&mut self.rep, bytes.len() as u32);
        self.rep.extend_from_slice(bytes);
    }

    pub fn finish(mut self) -> WriteBatch {
        self.rep[8..HEADER].copy_from_slice(&self.count.to_le_bytes());
        WriteBatch::from_data(&self.rep)
    }
}

fn varint32(out: &mut Vec<u8>, mut v: u32) {
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// The positions of `keys` in byte order; equal keys keep their order.
pub(crate) fn key_order(keys: &[&[u8]]) -> Vec<u32> {
    let mut order: Vec<([u128; 2], u32)> = keys.iter().zip(0..).map(|(k, i)| (prefix(k), i)).collect();
    // Prefixes compare as their keys do, but for keys that agree on their first 32 bytes (zero padding also
    // makes "ab" and "ab\0" equal): those are compared whole.
    order.sort_unstable_by(|a, b| {
        a.0.cmp(&b.0).then_with(|| keys[a.1 as usize].cmp(keys[b.1 as usize])).then(a.1.cmp(&b.1))
    });
    order.into_iter().map(|(_, i)| i).collect()
}

/// The first 32 bytes of `key` as two big-endian numbers, zero-padded.
fn prefix(key: &[u8]) -> [u128; 2] {
    let half = |from: usize| {
        let part = key.get(from..).unwrap_or_default();
        let n = part.len().min(16);
        let mut bytes = [0u8; 16];
        bytes[..n].copy_from_slice(&part[..n]);
        u128::from_be_bytes(bytes)
    };
    [half(0), half(16)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_order_is_byte_order_and_stable() {
        let keys: Vec<&[u8]> = vec![
            b"b",
            b"ab\0",
            b"ab",
            b"a-very-long-key-past-32-bytes-of-prefix-2",
            b"a-very-long-key-past-32-bytes-of-prefix-1",
            b"key:000000012345",
            b"key:000000012344",
            b"ab",
            b"",
            b"\xff",
        ];
        let order = key_order(&keys);
        let sorted: Vec<&[u8]> = order.iter().map(|&i| keys[i as usize]).collect();
        let mut expected = keys.clone();
        expected.sort();
        assert_eq!(sorted, expected);
        // The two "ab" keep their order.
        let ab: Vec<u32> = order.iter().copied().filter(|&i| keys[i as usize] == b"ab").collect();
        assert_eq!(ab, vec![2, 7]);
    }

    #[test]
    fn an_encoded_batch_reads_back_as_rocksdb_sees_it() {
        struct Seen(Vec<(u32, Vec<u8>, Option<Vec<u8>>)>);
        impl rocksdb::WriteBatchIteratorCf for Seen {
            fn put_cf(&mut self, cf: u32, key: &[u8], value: &[u8]) {
                self.0.push((cf, key.to_vec(), Some(value.to_vec())));
            }
            fn delete_cf(&mut self, cf: u32, key: &[u8]) {
                self.0.push((cf, key.to_vec(), None));
            }
            fn merge_cf(&mut self, _: u32, _: &[u8], _: &[u8]) {
                panic!("no merges are encoded");
            }
        }
        let long = vec![7u8; 300];
        let mut e = Encoder::with_capacity(0);
        e.add(0, b"k", Some(b"v")).unwrap();
        e.add(3, b"gone", None).unwrap();
        e.add(200, &long, Some(&long)).unwrap();
        e.add(0, b"", None).unwrap();
        let batch = e.finish();
        assert_eq!(batch.len(), 4);
        let mut seen = Seen(Vec::new());
        batch.iterate_cf(&mut seen);
        assert_eq!(
            seen.0,
            vec![
                (0, b"k".to_vec(), Some(b"v".to_vec())),
                (3, b"gone".to_vec(), None),
                (200, long.clone(), Some(long)),
                (0, Vec::new(), None),
            ]
        );
    }
}
