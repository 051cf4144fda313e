//! Redis' `pqsort` (src/pqsort.c): NetBSD's Bentley–McIlroy quicksort that only finishes the partitions
//! overlapping the element positions `lrange..=rrange`. SORT (BY with LIMIT) and the GEO searches (COUNT) use it;
//! reproducing it exactly — median-of-three pivots, the fat partition around equal elements, and no fallback to
//! insertion sort after a pass without swaps (Redis' copy dropped it) — keeps Redis' order of elements that compare
//! equal.

use std::cmp::Ordering;

/// Sorts the part of `v` that positions `lrange..=rrange` need (the rest ends up partitioned around it).
pub fn pqsort<T>(v: &mut [T], cmp: &impl Fn(&T, &T) -> Ordering, lrange: i64, rrange: i64) {
    let n = v.len();
    partial_sort(v, 0, n, cmp, lrange, rrange);
}

fn med3<T>(v: &[T], a: usize, b: usize, c: usize, cmp: &impl Fn(&T, &T) -> Ordering) -> usize {
    let lt = |x: usize, y: usize| cmp(&v[x], &v[y]) == Ordering::Less;
    let gt = |x: usize, y: usize| cmp(&v[x], &v[y]) == Ordering::Greater;
    if lt(a, b) {
        if lt(b, c) {
            b
        } else if lt(a, c) {
            c
        } else {
            a
        }
    } else if gt(b, c) {
        b
    } else if lt(a, c) {
        a
    } else {
        c
    }
}

fn swap_runs<T>(v: &mut [T], a: usize, b: usize, n: usize) {
    for i in 0..n {
        v.swap(a + i, b + i);
    }
}

/// Sorts `v[a..a + n]` as `_pqsort` does, skipping partitions entirely outside `l..=r`.
fn partial_sort<T>(v: &mut [T], mut a: usize, mut n: usize, cmp: &impl Fn(&T, &T) -> Ordering, l: i64, r: i64) {
    // A partition of `len` elements from `lo` matters unless the range lies wholly before or after it.
    let wanted = |lo: usize, len: usize| {
        let (lo, hi) = (lo as i64, (lo + len) as i64);
        !((l < lo && r < lo) || (l >= hi && r >= hi))
    };
    loop {
        if n < 7 {
            for m in a + 1..a + n {
                let mut k = m;
                while k > a && cmp(&v[k - 1], &v[k]) == Ordering::Greater {
                    v.swap(k, k - 1);
                    k -= 1;
                }
            }
            return;
        }
        let mut pm = a + n / 2;
        if n > 7 {
            let (mut pl, mut pn) = (a, a + n - 1);
            if n > 40 {
                let d = n / 8;
                pl = med3(v, pl, pl + d, pl + 2 * d, cmp);
                pm = med3(v, pm - d, pm, pm + d, cmp);
                pn = med3(v, pn - 2 * d, pn - d, pn, cmp);
            }
            pm = med3(v, pl, pm, pn, cmp);
        }
        v.swap(a, pm);
        let (mut pa, mut pb) = (a + 1, a + 1);
        // `pc`/`pd` may step to just below `pb` (to `a` at the lowest): positions, never read there.
        let (mut pc, mut pd) = (a + n - 1, a + n - 1);
        loop {
            while pb <= pc {
                let c = cmp(&v[pb], &v[a]);
                if c == Ordering::Greater {
                    break;
                }
                if c == Ordering::Equal {
                    v.swap(pa, pb);
                    pa += 1;
                }
                pb += 1;
            }
            while pb <= pc {
                let c = cmp(&v[pc], &v[a]);
                if c == Ordering::Less {
                    break;
                }
                if c == Ordering::Equal {
                    v.swap(pc, pd);
                    pd -= 1;
                }
                pc -= 1;
            }
            if pb > pc {
                break;
            }
            v.swap(pb, pc);
            pb += 1;
            pc -= 1;
        }
        let pn = a + n;
        let k = (pa - a).min(pb - pa);
        swap_runs(v, a, pb - k, k);
        let k = (pd - pc).min(pn - pd - 1);
        swap_runs(v, pb, pn - k, k);
        let k = pb - pa;
        if k > 1 && wanted(a, k) {
            partial_sort(v, a, k, cmp, l, r);
        }
        let k = pd - pc;
        if k > 1 && wanted(pn - k, k) {
            a = pn - k;
            n = k;
            continue;
        }
        return;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_the_requested_range() {
        let mut seed = 12345u64;
        let mut next = || {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (seed >> 33) % 50
        };
        for n in [0usize, 1, 5, 7, 8, 40, 41, 200] {
            let v: Vec<u64> = (0..n).map(|_| next()).collect();
            let mut sorted = v.clone();
            sorted.sort();
            let mut all = v.clone();
            pqsort(&mut all, &|a, b| a.cmp(b), 0, n as i64 - 1);
            assert_eq!(all, sorted);
            if n > 10 {
                let mut part = v.clone();
                pqsort(&mut part, &|a, b| a.cmp(b), 3, 7);
                assert_eq!(part[3..=7], sorted[3..=7]);
            }
        }
    }

    #[test]
    fn sorts_a_wanted_prefix_and_orders_ties_as_redis() {
        for n in [1usize, 5, 7, 8, 40, 41, 100, 300] {
            let mut v: Vec<i32> = (0..n as i32).map(|i| (i * 7919) % 97).collect();
            let mut sorted = v.clone();
            sorted.sort();
            let k = n / 3;
            pqsort(&mut v, &|a, b| a.cmp(b), 0, k as i64);
            assert_eq!(v[..=k.min(n - 1)], sorted[..=k.min(n - 1)], "n={n}");
        }
        // Ties: each element is (value, input position), compared by value only; where equal values end up is
        // what Redis' own pqsort.c (compiled from 7.0.15's source, same inputs) left them as.
        // (values, lrange, rrange, the input positions in the order redis-server's pqsort.c leaves them)
        let cases: [(&[u8], i64, i64, &[usize]); 4] = [
            (
                &[
                    5, 2, 6, 0, 1, 8, 1, 5, 9, 0, 8, 3, 0, 1, 6, 6, 1, 3, 1, 8, 6, 0, 9, 1, 3, 9, 0, 9, 9, 6, 0, 3, 0,
                    8, 2, 4, 6, 2, 8, 1, 9, 4, 8, 2, 1, 9, 9, 3, 5,
                ],
                0,
                3,
                &[
                    3, 9, 30, 12, 32, 26, 21, 6, 4, 13, 16, 18, 23, 39, 44, 15, 48, 17, 45, 19, 20, 0, 22, 46, 24, 25,
                    5, 27, 28, 29, 2, 31, 1, 33, 34, 35, 36, 37, 38, 47, 40, 41, 42, 8, 10, 11, 7, 43, 14,
                ],
            ),
            (
                &[
                    1, 8, 1, 9, 0, 9, 3, 7, 8, 6, 5, 7, 9, 7, 5, 4, 3, 2, 3, 1, 9, 4, 8, 7, 5, 7, 4, 9, 1, 1, 8, 6, 2,
                    5, 2, 7, 6, 0, 1, 8, 9, 5, 5, 5, 9, 7, 9, 7, 1,
                ],
                0,
                48,
                &[
                    37, 4, 29, 0, 38, 28, 2, 19, 48, 17, 34, 32, 6, 16, 18, 26, 21, 15, 42, 10, 14, 24, 33, 41, 43, 9,
                    36, 31, 45, 13, 11, 35, 7, 47, 23, 25, 30, 22, 39, 8, 1, 12, 46, 27, 44, 20, 5, 40, 3,
                ],
            ),
            (
                &[
                    0, 2, 3, 0, 0, 2, 4, 3, 2, 3, 2, 0, 3, 2, 1, 4, 0, 3, 0, 1, 2, 1, 1, 3, 3, 3, 0, 1, 3, 3, 4, 2, 1,
                    3, 4, 2, 3, 2, 3, 1, 1, 0, 1, 1, 1, 1, 0, 3, 4, 1, 2, 2, 0, 1, 3, 4, 2, 4, 4, 2,
                ],
                10,
                20,
                &[
                    11, 52, 46, 3, 4, 41, 26, 18, 16, 0, 14, 19, 21, 22, 27, 32, 39, 40, 42, 43, 44, 45, 49, 53, 24,
                    25, 6, 50, 28, 29, 30, 31, 51, 33, 34, 35, 36, 37, 38, 1, 59, 5, 54, 55, 56, 57, 2, 10, 12, 13, 9,
                    15, 8, 17, 7, 47, 20, 48, 58, 23,
                ],
            ),
            (
                &[
                    0, 2, 2, 2, 2, 2, 2, 0, 1, 2, 2, 1, 1, 1, 1, 0, 1, 2, 1, 0, 0, 0, 0, 1, 0, 0, 1, 2, 0, 0, 0, 2, 0,
                    2, 0, 1, 2, 0, 0, 0, 2, 1, 0, 2, 1,
                ],
                30,
                44,
                &[
                    30, 8, 32, 11, 34, 35, 12, 37, 38, 39, 13, 41, 42, 14, 44, 15, 16, 7, 18, 19, 20, 21, 22, 23, 24,
                    25, 26, 0, 28, 29, 27, 1, 2, 3, 4, 5, 6, 9, 10, 17, 31, 33, 36, 40, 43,
                ],
            ),
        ];
        for (values, lrange, rrange, redis) in cases {
            let mut v: Vec<(u8, usize)> = values.iter().copied().zip(0..).collect();
            pqsort(&mut v, &|x, y| x.0.cmp(&y.0), lrange, rrange);
            assert_eq!(v.iter().map(|x| x.1).collect::<Vec<_>>(), redis, "{values:?} {lrange}..={rrange}");
        }
    }
}
