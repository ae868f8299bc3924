//! A deterministic quantile sketch (Munro–Paterson / Manku–Rajagopalan–Lindsay merge-and-reduce) for numeric
//! columns too long to keep exactly.
//!
//! Values enter level 0; a level holding `2k` values is sorted and every other value moves up one level with
//! twice the weight. Compacting a level-`h` buffer moves any rank by at most `2^h`, so the sum of `2^h` over all
//! compactions bounds the rank error of every query. The sketch keeps that sum, so the report states a proven
//! bound, not an estimate: `rank_error() / count()` is the largest possible error of any CDF value, hence of the
//! KS statistic (per side), and times the value range, of the Wasserstein distance.
//! With `k = 8192` the bound is about `log2(n / 16384) / 16384` (≤ 0.1 % up to 10^9 values).

/// Values per level before it is compacted is `2 * K`.
pub const K: usize = 8192;

/// A sketch's figures besides its values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SketchMeta {
    pub count: u64,
    pub rank_error: f64,
    pub min: f64,
    pub max: f64,
    pub flip: bool,
}

#[derive(Debug, Clone)]
pub struct Sketch {
    levels: Vec<Vec<f64>>,
    count: u64,
    rank_error: f64,
    min: f64,
    max: f64,
    /// Alternates which half a compaction keeps, so that errors do not all lean one way.
    flip: bool,
}

impl Default for Sketch {
    fn default() -> Self {
        Sketch {
            levels: vec![Vec::with_capacity(2 * K)],
            count: 0,
            rank_error: 0.0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
            flip: false,
        }
    }
}

impl Sketch {
    pub fn insert(&mut self, x: f64) {
        self.count += 1;
        self.min = self.min.min(x);
        self.max = self.max.max(x);
        self.levels[0].push(x);
        if self.levels[0].len() >= 2 * K {
            self.compact(0);
        }
    }

    fn compact(&mut self, h: usize) {
        if self.levels.len() == h + 1 {
            self.levels.push(Vec::with_capacity(2 * K));
        }
        let mut buf = std::mem::take(&mut self.levels[h]);
        buf.sort_by(f64::total_cmp);
        // A merge can leave an odd count: the largest value stays at this level, so that no weight is lost
        // (inserts alone always compact exactly `2k`).
        let odd = (buf.len() % 2 == 1).then(|| buf.pop()).flatten();
        let start = usize::from(self.flip);
        self.flip = !self.flip;
        let kept = buf.iter().skip(start).step_by(2).copied();
        self.levels[h + 1].extend(kept);
        buf.clear();
        buf.extend(odd);
        self.levels[h] = buf;
        self.rank_error += 2f64.powi(h as i32);
        if self.levels[h + 1].len() >= 2 * K {
            self.compact(h + 1);
        }
    }

    /// Adds `other`'s values: level by level, each level then compacted while it holds `2k` or more. The union of
    /// the two sets of retained values misplaces any rank by at most the sum of the two bounds, and each further
    /// compaction at level `h` by at most `2^h` more, so the bound stays proven: it is their sum.
    pub fn merge(&mut self, other: &Sketch) {
        self.count += other.count;
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
        self.rank_error += other.rank_error;
        for (h, lvl) in other.levels.iter().enumerate() {
            if self.levels.len() <= h {
                self.levels.push(Vec::with_capacity(2 * K));
            }
            self.levels[h].extend_from_slice(lvl);
        }
        let mut h = 0;
        while h < self.levels.len() {
            if self.levels[h].len() >= 2 * K {
                self.compact(h);
            }
            h += 1;
        }
    }

    /// The retained values level by level, and what else a sharded check writes of the sketch.
    pub fn parts(&self) -> (&[Vec<f64>], SketchMeta) {
        (
            &self.levels,
            SketchMeta {
                count: self.count,
                rank_error: self.rank_error,
                min: self.min,
                max: self.max,
                flip: self.flip,
            },
        )
    }

    /// The sketch [`Sketch::parts`] described.
    pub fn from_parts(levels: Vec<Vec<f64>>, meta: SketchMeta) -> Sketch {
        let mut levels = levels;
        if levels.is_empty() {
            levels.push(Vec::with_capacity(2 * K));
        }
        Sketch {
            levels,
            count: meta.count,
            rank_error: meta.rank_error,
            min: meta.min,
            max: meta.max,
            flip: meta.flip,
        }
    }

    pub fn count(&self) -> u64 {
        self.count
    }

    /// The proven bound on the absolute rank error of any query, in values.
    pub fn rank_error(&self) -> f64 {
        self.rank_error
    }

    /// The bound as a fraction of the count: the largest possible error of an empirical CDF value.
    pub fn relative_error(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.rank_error / self.count as f64
        }
    }

    pub fn min(&self) -> f64 {
        self.min
    }

    pub fn max(&self) -> f64 {
        self.max
    }

    /// The retained values, sorted, with their weights (weights sum to the count, up to the dropped halves of odd
    /// buffers, which the rank error accounts for).
    pub fn weighted(&self) -> (Vec<f64>, Vec<f64>) {
        let mut items: Vec<(f64, f64)> = vec![];
        for (h, lvl) in self.levels.iter().enumerate() {
            let w = 2f64.powi(h as i32);
            items.extend(lvl.iter().map(|&v| (v, w)));
        }
        items.sort_by(|a, b| a.0.total_cmp(&b.0));
        items.into_iter().unzip()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The largest difference between the sketch's rank of a value and its true rank, over every value of
    /// `0..n` (each value once).
    fn worst_rank_error(s: &Sketch, n: u64) -> f64 {
        let (v, w) = s.weighted();
        let mut worst: f64 = 0.0;
        let mut est = 0.0;
        let mut i = 0;
        for q in 0..n {
            while i < v.len() && v[i] <= q as f64 {
                est += w[i];
                i += 1;
            }
            worst = worst.max((est - (q + 1) as f64).abs());
        }
        worst
    }

    #[test]
    fn merged_sketches_stay_within_the_summed_bound() {
        let n = 200_000u64;
        // Shares of a permutation of 0..n, of unequal sizes (odd ones too), as shards would have them.
        let cuts = [0u64, 1, 40_001, 40_002, 123_457, n];
        let mut merged = Sketch::default();
        let mut bounds = 0.0;
        for w in cuts.windows(2) {
            let mut s = Sketch::default();
            for i in w[0]..w[1] {
                s.insert(((i * 7919) % n) as f64);
            }
            bounds += s.rank_error();
            merged.merge(&s);
        }
        assert_eq!(merged.count(), n);
        assert!(merged.rank_error() >= bounds);
        let (_, w) = merged.weighted();
        assert_eq!(w.iter().sum::<f64>(), n as f64, "no weight is lost");
        let worst = worst_rank_error(&merged, n);
        assert!(
            worst <= merged.rank_error(),
            "worst {worst} > bound {}",
            merged.rank_error()
        );
        assert!(
            merged.relative_error() < 0.002,
            "{}",
            merged.relative_error()
        );
        assert_eq!((merged.min(), merged.max()), (0.0, (n - 1) as f64));
    }

    #[test]
    fn a_sketch_rebuilt_from_its_parts_is_the_same() {
        let mut s = Sketch::default();
        for i in 0..50_000u64 {
            s.insert((i % 977) as f64);
        }
        let (levels, meta) = s.parts();
        let back = Sketch::from_parts(levels.to_vec(), meta);
        assert_eq!(back.weighted(), s.weighted());
        assert_eq!(back.parts().1, meta);
    }

    #[test]
    fn cdf_error_stays_within_the_bound() {
        let mut s = Sketch::default();
        let n = 300_000u64;
        // A deterministic permutation of 0..n.
        for i in 0..n {
            s.insert(((i * 7919) % n) as f64);
        }
        let (v, w) = s.weighted();
        let total: f64 = w.iter().sum();
        let bound = s.rank_error();
        assert!(s.relative_error() < 0.002, "{}", s.relative_error());
        // The estimated rank of q against the true rank q+1 (values 0..n, side='right').
        for q in [0.0, 1000.0, 150_000.0, 299_999.0] {
            let est: f64 = v
                .iter()
                .zip(&w)
                .filter(|(x, _)| **x <= q)
                .map(|(_, w)| w)
                .sum();
            let est = est * n as f64 / total;
            assert!(
                (est - (q + 1.0)).abs() <= bound + 1.0,
                "q={q} est={est} bound={bound}"
            );
        }
        assert_eq!(s.min(), 0.0);
        assert_eq!(s.max(), (n - 1) as f64);
    }
}
