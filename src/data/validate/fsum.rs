//! Exact summation (Shewchuk's algorithm, as Python's `math.fsum`): the sum is kept as non-overlapping partials
//! and rounded once at the end. The mean of a field then does not depend on the order the values were added in,
//! so batches checked on several threads give the figure one thread gives, and it is the correctly rounded one.

#[derive(Debug, Default, Clone)]
pub(super) struct ExactSum {
    /// Non-overlapping partial sums, by increasing magnitude.
    partials: Vec<f64>,
    /// Infinities and NaNs (and a running sum that overflowed), added plainly.
    special: f64,
}

impl ExactSum {
    pub(super) fn add(&mut self, mut x: f64) {
        if !x.is_finite() {
            self.special += x;
            return;
        }
        let mut kept = 0;
        for j in 0..self.partials.len() {
            let mut y = self.partials[j];
            if x.abs() < y.abs() {
                std::mem::swap(&mut x, &mut y);
            }
            let hi = x + y;
            if !hi.is_finite() {
                self.special += hi;
                self.partials.clear();
                return;
            }
            let lo = y - (hi - x);
            if lo != 0.0 {
                self.partials[kept] = lo;
                kept += 1;
            }
            x = hi;
        }
        self.partials.truncate(kept);
        self.partials.push(x);
    }

    pub(super) fn absorb(&mut self, other: &ExactSum) {
        for &p in &other.partials {
            self.add(p);
        }
        self.special += other.special;
    }

    /// The exact state as bits (partials, special), for a shard's partial report: JSON has no NaN or infinity.
    #[cfg(feature = "full")]
    pub(super) fn to_bits(&self) -> (Vec<u64>, u64) {
        (
            self.partials.iter().map(|p| p.to_bits()).collect(),
            self.special.to_bits(),
        )
    }

    #[cfg(feature = "full")]
    pub(super) fn from_bits(partials: &[u64], special: u64) -> ExactSum {
        ExactSum {
            partials: partials.iter().map(|&p| f64::from_bits(p)).collect(),
            special: f64::from_bits(special),
        }
    }

    /// The correctly rounded sum (round half to even), as `math.fsum` returns it.
    pub(super) fn value(&self) -> f64 {
        if self.special != 0.0 || self.special.is_nan() {
            return self.special;
        }
        let p = &self.partials;
        let mut n = p.len();
        if n == 0 {
            return 0.0;
        }
        n -= 1;
        let mut hi = p[n];
        let mut lo = 0.0;
        while n > 0 {
            let x = hi;
            n -= 1;
            let y = p[n];
            hi = x + y;
            let yr = hi - x;
            lo = y - yr;
            if lo != 0.0 {
                break;
            }
        }
        // Half-way cases: the partials below decide which way to round.
        if n > 0 && ((lo < 0.0 && p[n - 1] < 0.0) || (lo > 0.0 && p[n - 1] > 0.0)) {
            let y = lo * 2.0;
            let x = hi + y;
            let yr = x - hi;
            if y == yr {
                hi = x;
            }
        }
        hi
    }
}

#[cfg(test)]
mod tests {
    use super::ExactSum;

    fn fsum(xs: &[f64]) -> f64 {
        let mut s = ExactSum::default();
        xs.iter().for_each(|&x| s.add(x));
        s.value()
    }

    #[test]
    fn matches_python_fsum() {
        // Values from Python's test_math.testFsum.
        assert_eq!(fsum(&[0.1; 10]), 1.0);
        assert_eq!(
            fsum(&[1e100, 1.0, -1e100, 1e-100, 1e50, -1.0, -1e50]),
            1e-100
        );
        assert_eq!(
            fsum(&[2.0f64.powi(53), -0.5, -(2.0f64.powi(-54))]),
            2.0f64.powi(53) - 1.0
        );
        assert_eq!(fsum(&[1.0, 1e-16, 1e-16]), 1.0000000000000002);
        assert_eq!(fsum(&[]), 0.0);
        assert!(fsum(&[f64::INFINITY, 1.0]).is_infinite());
        assert!(fsum(&[f64::INFINITY, f64::NEG_INFINITY]).is_nan());
    }

    #[test]
    fn the_order_of_the_values_does_not_matter() {
        let xs: Vec<f64> = (0..10_000)
            .map(|i| (i as f64 * 0.7310586).sin() * 1e3 / 7.0)
            .collect();
        let whole = fsum(&xs);
        let mut halves = ExactSum::default();
        for chunk in xs.chunks(333).rev() {
            let mut part = ExactSum::default();
            chunk.iter().for_each(|&x| part.add(x));
            halves.absorb(&part);
        }
        assert_eq!(halves.value(), whole);
    }
}
