//! The row where each key was first seen, for the unique-field, primary-key and unique-key checks.
//!
//! Most keys are remembered as 16-byte fingerprints in a hash map. A key that is one integer field (an `id`
//! column, the commonest unique key there is) is remembered as the integer itself: exact, with no hashing, and
//! mostly in a directly addressed window of rows (`rows[value - base]`). Identifiers are usually dense, often
//! ascending, so the window is read and written in order instead of one cache miss per row in a large hash
//! table. Values the window cannot cover without wasting memory go to a hash map.

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use super::{Fingerprint, FpMap};

/// What a key check remembers of a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(super) enum Key {
    /// The value of a key that is one integer field.
    Int(i64),
    /// The fingerprint of any other key's values.
    Fp(Fingerprint),
}

/// First sightings of keys: the row of each key's first occurrence.
#[derive(Debug, Default, Clone)]
pub(super) struct SeenRows {
    fps: FpMap<u64>,
    ints: IntRows,
}

impl SeenRows {
    /// Remembers `key` first seen on `row`, or names the row where it was.
    pub(super) fn first_sighting(&mut self, key: Key, row: u64) -> Option<u64> {
        match key {
            Key::Int(v) => self.ints.first_sighting(v, row),
            Key::Fp(fp) => match self.fps.entry(fp) {
                Entry::Occupied(e) => Some(*e.get()),
                Entry::Vacant(e) => {
                    e.insert(row);
                    None
                }
            },
        }
    }
}

/// The smallest window, in slots: small enough to cost nothing, large enough that a dense column grows it
/// rarely.
const MIN_WINDOW: usize = 4096;

/// The window may hold this many slots per remembered value (plus [`MIN_WINDOW`]): 8 bytes a slot, so at
/// most 32 bytes per value, about what a hash map entry costs.
const SLOTS_PER_VALUE: usize = 4;

/// Integers and their first rows: a window `[base, base + rows.len())` addressed directly, and a hash map for
/// the values outside it.
#[derive(Debug, Default, Clone)]
struct IntRows {
    base: i64,
    /// `rows[v - base]` is 1 + the row where `v` was first seen, or 0 when it has not been.
    rows: Vec<u64>,
    outside: HashMap<i64, u64, BuildHasherDefault<IntHasher>>,
    /// Values remembered, in the window and outside it.
    count: usize,
}

impl IntRows {
    fn first_sighting(&mut self, v: i64, row: u64) -> Option<u64> {
        let slot = match self.slot(v) {
            Some(i) => Some(i),
            None if self.grow_to(v) => self.slot(v),
            None => None,
        };
        match slot {
            Some(i) => {
                let cell = &mut self.rows[i];
                if *cell != 0 {
                    return Some(*cell - 1);
                }
                *cell = row + 1;
            }
            None => match self.outside.entry(v) {
                Entry::Occupied(e) => return Some(*e.get()),
                Entry::Vacant(e) => {
                    e.insert(row);
                }
            },
        }
        self.count += 1;
        None
    }

    /// `v`'s index in the window, if the window holds it.
    fn slot(&self, v: i64) -> Option<usize> {
        let offset = i128::from(v) - i128::from(self.base);
        (offset >= 0 && offset < self.rows.len() as i128).then_some(offset as usize)
    }

    /// Widens the window to take `v` when the wider window stays within the memory budget: at least doubling,
    /// so a growing column is copied a logarithmic number of times. Values outside that the new window covers
    /// move into it. Returns whether the window now holds `v`.
    fn grow_to(&mut self, v: i64) -> bool {
        let budget = SLOTS_PER_VALUE
            .saturating_mul(self.count + 1)
            .saturating_add(MIN_WINDOW) as i128;
        let (v, base, len) = (
            i128::from(v),
            i128::from(self.base),
            self.rows.len() as i128,
        );
        let (lo, hi) = if len == 0 {
            (v, v + 1)
        } else {
            (base.min(v), (base + len).max(v + 1))
        };
        if hi - lo > budget {
            return false;
        }
        let new_len = (2 * len).max(MIN_WINDOW as i128).min(budget).max(hi - lo);
        // Grow away from the side that is already covered: downwards for a value below the window.
        let new_base = if len > 0 && v < base {
            hi - new_len
        } else {
            lo
        };
        let new_base = new_base
            .max(i128::from(i64::MIN))
            .min(i128::from(i64::MAX) + 1 - new_len);
        let mut rows = vec![0u64; new_len as usize];
        let shift = (base - new_base) as usize;
        if len > 0 {
            rows[shift..shift + self.rows.len()].copy_from_slice(&self.rows);
        }
        self.rows = rows;
        self.base = new_base as i64;
        let outside = std::mem::take(&mut self.outside);
        for (value, row) in outside {
            match self.slot(value) {
                Some(i) => self.rows[i] = row + 1,
                None => {
                    self.outside.insert(value, row);
                }
            }
        }
        true
    }
}

/// Hashes an integer by a folded 64×64→128-bit multiply: every input bit reaches the low bits (the bucket)
/// and the high bits (hashbrown's tag), which SipHash would give at several times the cost.
#[derive(Default, Clone, Copy)]
struct IntHasher(u64);

const MULTIPLIER: u64 = 0x9e37_79b9_7f4a_7c15;

impl Hasher for IntHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(self.0 ^ u64::from(b));
        }
    }
    fn write_u64(&mut self, x: u64) {
        let p = u128::from(x ^ self.0.rotate_left(32)) * u128::from(MULTIPLIER);
        self.0 = (p as u64) ^ ((p >> 64) as u64);
    }
    fn write_i64(&mut self, x: i64) {
        self.write_u64(x as u64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The obvious model: a map from each key to its first row.
    fn check_against_model(values: &[i64]) {
        let mut seen = SeenRows::default();
        let mut model: HashMap<i64, u64> = HashMap::new();
        for (i, &v) in values.iter().enumerate() {
            let row = i as u64 + 2;
            let want = match model.entry(v) {
                Entry::Occupied(e) => Some(*e.get()),
                Entry::Vacant(e) => {
                    e.insert(row);
                    None
                }
            };
            assert_eq!(
                seen.first_sighting(Key::Int(v), row),
                want,
                "value {v} at row {row}"
            );
        }
    }

    #[test]
    fn ascending_descending_and_scattered_integers_give_the_first_rows() {
        let ascending: Vec<i64> = (1..20_000).chain([5, 19_999, 1]).collect();
        check_against_model(&ascending);
        let descending: Vec<i64> = (0..20_000).rev().chain([7, 0, 19_999]).collect();
        check_against_model(&descending);
        // A scrambled permutation of a dense range, repeated: values start outside the window and move in.
        let scrambled: Vec<i64> = (0..30_000i64)
            .map(|i| (i * 7_919) % 30_000 - 15_000)
            .chain((0..30_000i64).map(|i| (i * 104_729) % 30_000 - 15_000))
            .collect();
        check_against_model(&scrambled);
        // Sparse values far apart, and the ends of the range.
        let sparse: Vec<i64> = (0..5_000i64)
            .map(|i| i.wrapping_mul(0x5851_f42d_4c95_7f2d))
            .chain([i64::MIN, i64::MAX, i64::MIN, i64::MAX, 0, -1, 0])
            .chain((0..5_000i64).map(|i| i.wrapping_mul(0x5851_f42d_4c95_7f2d)))
            .collect();
        check_against_model(&sparse);
    }

    #[test]
    fn the_window_ends_at_the_ends_of_the_integers() {
        check_against_model(&[
            i64::MAX,
            i64::MAX - 1,
            i64::MAX,
            i64::MIN,
            i64::MIN + 1,
            i64::MIN,
        ]);
        check_against_model(&[i64::MIN, i64::MIN + 5000, i64::MIN + 1, i64::MIN + 5000]);
    }

    #[test]
    fn fingerprints_and_integers_are_separate_keys() {
        let mut seen = SeenRows::default();
        assert_eq!(seen.first_sighting(Key::Fp(7), 2), None);
        assert_eq!(seen.first_sighting(Key::Int(7), 3), None);
        assert_eq!(seen.first_sighting(Key::Fp(7), 4), Some(2));
        assert_eq!(seen.first_sighting(Key::Int(7), 5), Some(3));
    }
}
