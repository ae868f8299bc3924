//! Paired bootstrap of a metric's delta between a candidate and a baseline evaluated on the same rows: resample
//! the rows with replacement, recompute both metrics on the same resample, and take the 2.5th and 97.5th
//! percentiles of the deltas. Seeded and deterministic: the generator is SplitMix64, written here so that the
//! interval never changes with a dependency's version.

use serde::Serialize;

/// A closed interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Interval {
    pub low: f64,
    pub high: f64,
}

impl Interval {
    pub fn contains(&self, x: f64) -> bool {
        self.low <= x && x <= self.high
    }
}

/// SplitMix64 (Steele, Lea, Flood 2014): tiny, fast, and fixed forever.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` without modulo bias (Lemire's multiply-shift with rejection).
    pub fn below(&mut self, n: usize) -> usize {
        let n = n as u64;
        loop {
            let m = (self.next_u64() as u128) * (n as u128);
            let low = m as u64;
            if low >= n.wrapping_neg() % n.max(1) {
                return (m >> 64) as usize;
            }
        }
    }
}

/// The percentile of sorted data with linear interpolation (NumPy's default).
fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let pos = q * (sorted.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

/// The 95% interval of `metric(candidate) - metric(baseline)` over `resamples` paired resamples of `n` rows.
/// `metric(rows, which)` computes the metric of model `which` (0 candidate, 1 baseline) on the given row indices;
/// resamples where it is undefined (`None`) are left out. `None` when fewer than half give a value.
pub fn paired_bootstrap(
    n: usize,
    resamples: usize,
    seed: u64,
    mut metric: impl FnMut(&[usize], usize) -> Option<f64>,
) -> Option<Interval> {
    if n == 0 || resamples == 0 {
        return None;
    }
    let mut rng = SplitMix64::new(seed);
    let mut rows = vec![0usize; n];
    let mut deltas = Vec::with_capacity(resamples);
    for _ in 0..resamples {
        for r in rows.iter_mut() {
            *r = rng.below(n);
        }
        if let (Some(c), Some(b)) = (metric(&rows, 0), metric(&rows, 1)) {
            deltas.push(c - b);
        }
    }
    if deltas.len() * 2 < resamples {
        return None;
    }
    deltas.sort_by(f64::total_cmp);
    Some(Interval {
        low: percentile(&deltas, 0.025),
        high: percentile(&deltas, 0.975),
    })
}

/// [`paired_bootstrap`] for several metrics at once over the same resamples: `metrics(rows, which)` gives every
/// metric of model `which` on the rows. Interval `i` is for metric `i`; each follows the same rule as one metric
/// alone, and equals what [`paired_bootstrap`] gives for that metric with the same seed.
pub fn paired_bootstrap_many(
    n: usize,
    resamples: usize,
    seed: u64,
    count: usize,
    mut metrics: impl FnMut(&[usize], usize) -> Vec<Option<f64>>,
) -> Vec<Option<Interval>> {
    if n == 0 || resamples == 0 {
        return vec![None; count];
    }
    let mut rng = SplitMix64::new(seed);
    let mut rows = vec![0usize; n];
    let mut deltas: Vec<Vec<f64>> = vec![Vec::with_capacity(resamples); count];
    for _ in 0..resamples {
        for r in rows.iter_mut() {
            *r = rng.below(n);
        }
        let (c, b) = (metrics(&rows, 0), metrics(&rows, 1));
        for (i, d) in deltas.iter_mut().enumerate() {
            if let (Some(Some(c)), Some(Some(b))) = (c.get(i), b.get(i)) {
                d.push(c - b);
            }
        }
    }
    deltas
        .into_iter()
        .map(|mut d| {
            if d.len() * 2 < resamples {
                return None;
            }
            d.sort_by(f64::total_cmp);
            Some(Interval {
                low: percentile(&d, 0.025),
                high: percentile(&d, 0.975),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn many_metrics_match_one_at_a_time() {
        let cand: Vec<f64> = (0..50).map(|i| (i % 7) as f64).collect();
        let base: Vec<f64> = (0..50).map(|i| (i % 5) as f64).collect();
        let mean =
            |v: &[f64], rows: &[usize]| rows.iter().map(|&r| v[r]).sum::<f64>() / rows.len() as f64;
        let one = paired_bootstrap(50, 300, 9, |rows: &[usize], w| {
            Some(mean(if w == 0 { &cand } else { &base }, rows))
        });
        let many = paired_bootstrap_many(50, 300, 9, 2, |rows: &[usize], w| {
            let v = if w == 0 { &cand } else { &base };
            vec![Some(mean(v, rows)), None]
        });
        assert_eq!(many, vec![one, None]);
    }

    #[test]
    fn splitmix_is_the_published_sequence() {
        // First outputs for seed 1234567 from the reference implementation (Vigna's splitmix64.c).
        let mut r = SplitMix64::new(1234567);
        assert_eq!(r.next_u64(), 6457827717110365317);
        assert_eq!(r.next_u64(), 3203168211198807973);
    }

    #[test]
    fn percentile_interpolates_like_numpy() {
        assert_eq!(percentile(&[1.0, 2.0, 3.0, 4.0], 0.5), 2.5);
        assert_eq!(percentile(&[1.0, 2.0, 3.0, 4.0], 0.025), 1.075);
    }

    #[test]
    fn accuracy_delta_interval_is_deterministic_and_sensible() {
        // Candidate right on 90 of 100 rows, baseline on 80: the delta's interval lies above zero.
        let cand: Vec<bool> = (0..100).map(|i| i % 10 != 0).collect();
        let base: Vec<bool> = (0..100).map(|i| i % 5 != 0).collect();
        let acc = |rows: &[usize], which: usize| {
            let v = if which == 0 { &cand } else { &base };
            Some(rows.iter().filter(|&&r| v[r]).count() as f64 / rows.len() as f64)
        };
        let a = paired_bootstrap(100, 1000, 42, acc).unwrap();
        let b = paired_bootstrap(100, 1000, 42, acc).unwrap();
        assert_eq!(a, b);
        assert!(
            a.low > 0.0 && a.high < 0.25 && a.low < 0.1 && a.high > 0.1,
            "{a:?}"
        );
        // Identical models: the interval is exactly [0, 0].
        let same = paired_bootstrap(100, 200, 7, |rows: &[usize], _| {
            Some(rows.iter().filter(|&&r| cand[r]).count() as f64)
        })
        .unwrap();
        assert_eq!(
            same,
            Interval {
                low: 0.0,
                high: 0.0
            }
        );
    }
}
