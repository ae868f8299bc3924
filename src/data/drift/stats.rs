//! Pure statistics, ported from SciPy 1.17 and Evidently 0.7.23 so that every number and every decision equals
//! theirs (golden values in `tests/fixtures/drift/golden.json`, made by `make_golden.py`).
//!
//! Inputs are plain slices: sorted `f64` samples without NaN/±inf, or category counts aligned on one key list.

use statrs::function::erf::erfc;
use statrs::function::gamma::{gamma_ur, ln_gamma};

/// Two-sample Kolmogorov–Smirnov statistic of two sorted samples, as `scipy.stats.ks_2samp` computes it
/// (`searchsorted(side='right') / n` on both sides, the larger of the two one-sided maxima).
pub fn ks_statistic(a: &[f64], b: &[f64]) -> f64 {
    let (n1, n2) = (a.len() as f64, b.len() as f64);
    let (mut i, mut j) = (0usize, 0usize);
    let (mut max_s, mut min_s) = (f64::NEG_INFINITY, f64::INFINITY);
    while i < a.len() || j < b.len() {
        // The next distinct value; both cdfs are taken after every copy of it (side='right').
        let v = match (a.get(i), b.get(j)) {
            (Some(&x), Some(&y)) => x.min(y),
            (Some(&x), None) => x,
            (None, Some(&y)) => y,
            (None, None) => break,
        };
        while i < a.len() && a[i] <= v {
            i += 1;
        }
        while j < b.len() && b[j] <= v {
            j += 1;
        }
        let diff = i as f64 / n1 - j as f64 / n2;
        max_s = max_s.max(diff);
        min_s = min_s.min(diff);
    }
    let min_s = (-min_s).clamp(0.0, 1.0);
    if min_s > max_s {
        min_s
    } else {
        max_s
    }
}

/// The KS statistic over weighted sorted samples (the sketch's items carry weights); `None` weighs every value 1.
pub fn ks_statistic_weighted(a: &[f64], aw: Option<&[f64]>, b: &[f64], bw: Option<&[f64]>) -> f64 {
    if aw.is_none() && bw.is_none() {
        return ks_statistic(a, b);
    }
    let total = |w: Option<&[f64]>, n: usize| w.map_or(n as f64, |w| w.iter().sum());
    let (n1, n2) = (total(aw, a.len()), total(bw, b.len()));
    let (mut i, mut j) = (0usize, 0usize);
    let (mut ca, mut cb) = (0.0f64, 0.0f64);
    let mut d: f64 = 0.0;
    while i < a.len() || j < b.len() {
        let v = match (a.get(i), b.get(j)) {
            (Some(&x), Some(&y)) => x.min(y),
            (Some(&x), None) => x,
            (None, Some(&y)) => y,
            (None, None) => break,
        };
        while i < a.len() && a[i] <= v {
            ca += aw.map_or(1.0, |w| w[i]);
            i += 1;
        }
        while j < b.len() && b[j] <= v {
            cb += bw.map_or(1.0, |w| w[j]);
            j += 1;
        }
        d = d.max((ca / n1 - cb / n2).abs());
    }
    d
}

/// Which KS p-value was computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KsMethod {
    Exact,
    Asymptotic,
}

/// `scipy.stats.ks_2samp(a, b)` (two-sided, method='auto'): statistic, p-value and the method used.
/// Exact when both samples have at most 10 000 values (SciPy's `MAX_AUTO_N`), else `kstwo.sf(d, round(en))`.
pub fn ks_2samp(a: &[f64], b: &[f64]) -> (f64, f64, KsMethod) {
    let d = ks_statistic(a, b);
    ks_pvalue(d, a.len() as u64, b.len() as u64)
}

/// The p-value of a KS statistic `d` for samples of sizes `n1`, `n2`, as `ks_2samp` chooses it.
pub fn ks_pvalue(d: f64, n1: u64, n2: u64) -> (f64, f64, KsMethod) {
    if n1.max(n2) <= 10_000 {
        if let Some((d, p)) = ks_exact(n1, n2, d) {
            return (d, p.clamp(0.0, 1.0), KsMethod::Exact);
        }
    }
    let (m, n) = if n1 >= n2 {
        (n1 as f64, n2 as f64)
    } else {
        (n2 as f64, n1 as f64)
    };
    let en = (m * n / (m + n)).round_ties_even();
    let p = kolmogn_sf(en as u64, d);
    (d, p.clamp(0.0, 1.0), KsMethod::Asymptotic)
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// SciPy's `_attempt_exact_2kssamp` (two-sided): `None` when the computation leaves [0, 1] or overflows.
fn ks_exact(n1: u64, n2: u64, d: f64) -> Option<(f64, f64)> {
    let g = gcd(n1, n2);
    let lcm = (n1 / g) * n2;
    let h = (d * lcm as f64).round_ties_even() as u64;
    let d = h as f64 / lcm as f64;
    if h == 0 {
        return Some((d, 1.0));
    }
    let p = if n1 == n2 {
        prob_outside_square(n1, h)
    } else {
        outer_prob_inside(n1, n2, g, h)
    };
    if !p.is_finite() || !(0.0..=1.0).contains(&p) {
        return None;
    }
    Some((d, p))
}

/// SciPy's `_compute_prob_outside_square(n, h)`: Pr(D_{n,n} >= h/n), Horner-like to avoid cancellation.
fn prob_outside_square(n: u64, h: u64) -> f64 {
    let (n, h) = (n as f64, h as f64);
    let mut p = 0.0;
    let mut k = (n / h).floor();
    while k >= 0.0 {
        let mut p1 = 1.0;
        let mut j = 0.0;
        while j < h {
            p1 = (n - k * h - j) * p1 / (n + k * h + j + 1.0);
            j += 1.0;
        }
        p = p1 * (1.0 - p);
        k -= 1.0;
    }
    2.0 * p
}

/// SciPy's `_compute_outer_prob_inside_method(m, n, g, h)` (Hodges' inside method with Viehmann's recursion,
/// which yields 1 - (proportion of paths inside) directly).
fn outer_prob_inside(m: u64, n: u64, g: u64, h: u64) -> f64 {
    let (m, n) = if m < n { (n, m) } else { (m, n) };
    let (mg, ng) = ((m / g) as i64, (n / g) as i64);
    let (m, n, h) = (m as i64, n as i64, h as i64);
    let mut minj: i64 = 0;
    let mut maxj: i64 = ((h as f64 / mg as f64).ceil() as i64).min(n + 1);
    let mut curlen = maxj - minj;
    let len_a = (2 * maxj + 2).min(n + 1) as usize;
    let mut a = vec![1.0f64; len_a];
    for x in a.iter_mut().take(maxj as usize).skip(minj as usize) {
        *x = 0.0;
    }
    for i in 1..=m {
        let (lastminj, lastlen) = (minj, curlen);
        minj = ((((ng * i - h) as f64) / mg as f64).floor() as i64 + 1).max(0);
        minj = minj.min(n);
        maxj = ((((ng * i + h) as f64) / mg as f64).ceil() as i64).min(n + 1);
        if maxj <= minj {
            return 1.0;
        }
        let mut val = if minj == 0 { 0.0 } else { 1.0 };
        for jj in 0..(maxj - minj) {
            let j = (jj + minj) as f64;
            let idx = (jj + minj - lastminj) as usize;
            let prev = a.get(idx).copied().unwrap_or(1.0);
            val = (prev * i as f64 + val * j) / (i as f64 + j);
            a[jj as usize] = val;
        }
        curlen = maxj - minj;
        if lastlen > curlen {
            let start = (maxj - minj) as usize;
            let end = (start + (lastlen - curlen) as usize).min(len_a);
            for x in &mut a[start..end] {
                *x = 1.0;
            }
        }
    }
    a[(maxj - minj - 1) as usize]
}

// ---- kstwo.sf: SciPy's `_kolmogn(n, x, cdf=False)` (Simard & L'Ecuyer's selection of methods) ----

const E128: i32 = 128;
const MIN_LOG: f64 = -708.0;

fn ep128() -> f64 {
    2f64.powi(E128)
}

fn em128() -> f64 {
    2f64.powi(-E128)
}

fn ldexp(x: f64, e: i32) -> f64 {
    // Split the exponent so that 2^e itself never overflows or underflows.
    let mut x = x;
    let mut e = e;
    while e > 1000 {
        x *= 2f64.powi(1000);
        e -= 1000;
    }
    while e < -1000 {
        x *= 2f64.powi(-1000);
        e += 1000;
    }
    x * 2f64.powi(e)
}

// SciPy's constants as SciPy writes them, so that the port can be read against the source.
#[allow(clippy::excessive_precision)]
const STIRLING: [f64; 8] = [
    -2.955065359477124183e-2,
    6.4102564102564102564e-3,
    -1.9175269175269175269e-3,
    8.4175084175084175084e-4,
    -5.952380952380952381e-4,
    7.9365079365079365079e-4,
    -2.7777777777777777778e-3,
    8.3333333333333333333e-2,
];

fn log_nfactorial_div_n_pow_n(n: f64) -> f64 {
    let rn = 1.0 / n;
    let x = rn / n;
    let poly = STIRLING.iter().fold(0.0, |acc, c| acc * x + c);
    n.ln() / 2.0 - n + (2.0 * std::f64::consts::PI).ln() / 2.0 + rn * poly
}

/// `scipy.stats.kstwo.sf(x, n)`: Pr(D_n > x) for the two-sided one-sample KS statistic.
pub fn kolmogn_sf(n: u64, x: f64) -> f64 {
    if n == 0 || x.is_nan() {
        return f64::NAN;
    }
    if x >= 1.0 {
        return 0.0;
    }
    if x <= 0.0 {
        return 1.0;
    }
    let nf = n as f64;
    let t = nf * x;
    if t <= 1.0 {
        if t <= 0.5 {
            return 1.0;
        }
        let prob = if n <= 140 {
            (1..=n).fold(1.0, |acc, i| {
                acc * (i as f64 * (1.0 / nf) * (2.0 * t - 1.0))
            })
        } else {
            (log_nfactorial_div_n_pow_n(nf) + nf * (2.0 * t - 1.0).ln()).exp()
        };
        return (1.0 - prob).clamp(0.0, 1.0);
    }
    if t >= nf - 1.0 {
        let prob = 2.0 * (1.0 - x).powf(nf);
        return prob.clamp(0.0, 1.0);
    }
    if x >= 0.5 {
        return (2.0 * smirnov(n, x)).clamp(0.0, 1.0);
    }
    let nxsquared = t * x;
    if n <= 140 {
        if nxsquared <= 0.754693 {
            return (1.0 - kolmogn_dmtw(n, x)).clamp(0.0, 1.0);
        }
        if nxsquared <= 4.0 {
            return (1.0 - kolmogn_pomeranz(n, x)).clamp(0.0, 1.0);
        }
        return (2.0 * smirnov(n, x)).clamp(0.0, 1.0);
    }
    if nxsquared >= 370.0 {
        return 0.0;
    }
    if nxsquared >= 2.2 {
        return (2.0 * smirnov(n, x)).clamp(0.0, 1.0);
    }
    let cdf = if nxsquared >= 18.0 {
        1.0
    } else if n <= 100_000 && nf * x.powf(1.5) <= 1.4 {
        kolmogn_dmtw(n, x)
    } else {
        kolmogn_pelz_good(n, x)
    };
    (1.0 - cdf).clamp(0.0, 1.0)
}

fn matmul(a: &[f64], b: &[f64], m: usize) -> Vec<f64> {
    let mut c = vec![0.0; m * m];
    for i in 0..m {
        for k in 0..m {
            let aik = a[i * m + k];
            if aik == 0.0 {
                continue;
            }
            for j in 0..m {
                c[i * m + j] += aik * b[k * m + j];
            }
        }
    }
    c
}

/// Durbin's matrix algorithm as Marsaglia, Tsang and Wang compute it (SciPy's `_kolmogn_DMTW`): the CDF.
fn kolmogn_dmtw(n: u64, d: f64) -> f64 {
    if d >= 1.0 {
        return 1.0;
    }
    let nd = n as f64 * d;
    if nd <= 0.5 {
        return 0.0;
    }
    let k = nd.ceil() as usize;
    let h = k as f64 - nd;
    let m = 2 * k - 1;
    let mut hm = vec![0.0; m * m];
    let mut v: Vec<f64> = (1..=m).map(|i| 1.0 - h.powi(i as i32)).collect();
    let mut w = vec![0.0; m];
    let mut fac = 1.0;
    for j in 1..=m {
        w[j - 1] = fac;
        fac /= j as f64;
        v[j - 1] *= fac;
    }
    let tt = (2.0 * h - 1.0).max(0.0).powi(m as i32) - 2.0 * h.powi(m as i32);
    v[m - 1] = (1.0 + tt) * fac;
    for i in 1..m {
        // H[i-1:, i] = w[:m-i+1]
        for (r, wv) in (i - 1..m).zip(w.iter()) {
            hm[r * m + i] = *wv;
        }
    }
    for r in 0..m {
        hm[r * m] = v[r];
    }
    for c in 0..m {
        hm[(m - 1) * m + c] = v[m - 1 - c];
    }
    let mut hpwr = vec![0.0; m * m];
    for i in 0..m {
        hpwr[i * m + i] = 1.0;
    }
    let mut nn = n;
    let mut expnt: i32 = 0;
    let mut hexpnt: i32 = 0;
    while nn > 0 {
        if nn % 2 == 1 {
            hpwr = matmul(&hpwr, &hm, m);
            expnt += hexpnt;
        }
        hm = matmul(&hm, &hm, m);
        hexpnt *= 2;
        if hm[(k - 1) * m + (k - 1)].abs() > ep128() {
            for x in hm.iter_mut() {
                *x /= ep128();
            }
            hexpnt += E128;
        }
        nn /= 2;
    }
    let mut p = hpwr[(k - 1) * m + (k - 1)];
    for i in 1..=n {
        p = i as f64 * p / n as f64;
        if p.abs() < em128() {
            p *= ep128();
            expnt -= E128;
        }
    }
    if expnt != 0 {
        p = ldexp(p, expnt);
    }
    p.clamp(0.0, 1.0)
}

fn pomeranz_j1j2(i: i64, n: i64, ll: i64, ceilf: i64, roundf: i64) -> (i64, i64) {
    let (j1, j2) = if i == 0 {
        (-ll - ceilf - 1, ll + ceilf - 1)
    } else {
        let (ip1div2, ip1mod2) = ((i + 1) / 2, (i + 1) % 2);
        if ip1mod2 == 0 {
            if ip1div2 == n + 1 {
                (n - ll - ceilf - 1, n + ll + ceilf - 1)
            } else {
                (ip1div2 - 1 - ll - roundf - 1, ip1div2 + ll - 1 + ceilf - 1)
            }
        } else {
            (ip1div2 - 1 - ll - 1, ip1div2 + ll + roundf - 1)
        }
    };
    ((j1 + 2).max(0), j2.min(n))
}

/// Pomeranz's recursion (SciPy's `_kolmogn_Pomeranz`): the CDF.
fn kolmogn_pomeranz(n: u64, x: f64) -> f64 {
    let nf = n as f64;
    let n = n as i64;
    let t = nf * x;
    let ll = t.floor() as i64;
    let f = t - ll as f64;
    let g = f.min(1.0 - f);
    let ceilf = i64::from(f > 0.0);
    let roundf = i64::from(f > 0.5);
    let npwrs = (2 * (ll + 1)) as usize;
    let mut gpower = vec![0.0; npwrs];
    let mut twogpower = vec![0.0; npwrs];
    let mut onem2gpower = vec![0.0; npwrs];
    gpower[0] = 1.0;
    twogpower[0] = 1.0;
    onem2gpower[0] = 1.0;
    let mut expnt: i32 = 0;
    let (g_n, two_g_n, one_m2g_n) = (g / nf, 2.0 * g / nf, (1.0 - 2.0 * g) / nf);
    for m in 1..npwrs {
        gpower[m] = gpower[m - 1] * g_n / m as f64;
        twogpower[m] = twogpower[m - 1] * two_g_n / m as f64;
        onem2gpower[m] = onem2gpower[m - 1] * one_m2g_n / m as f64;
    }
    let mut v0 = vec![0.0; npwrs];
    let mut v1 = vec![0.0; npwrs];
    v1[0] = 1.0;
    let (mut v0s, mut v1s): (i64, i64) = (0, 0);
    let (mut j1, _) = pomeranz_j1j2(0, n, ll, ceilf, roundf);
    let mut j2;
    for i in 1..(2 * n + 2) {
        let k1 = j1;
        std::mem::swap(&mut v0, &mut v1);
        std::mem::swap(&mut v0s, &mut v1s);
        v1.iter_mut().for_each(|x| *x = 0.0);
        (j1, j2) = pomeranz_j1j2(i, n, ll, ceilf, roundf);
        let pwrs = if i == 1 || i == 2 * n + 1 {
            &gpower
        } else if i % 2 == 1 {
            &twogpower
        } else {
            &onem2gpower
        };
        let ln2 = j2 - k1 + 1;
        if ln2 > 0 {
            let start = (k1 - v0s) as usize;
            let ln2u = ln2 as usize;
            let seg: Vec<f64> = (0..ln2u)
                .map(|q| v0.get(start + q).copied().unwrap_or(0.0))
                .collect();
            let pw: Vec<f64> = (0..ln2u)
                .map(|q| pwrs.get(q).copied().unwrap_or(0.0))
                .collect();
            // Full convolution, as np.convolve computes it.
            let mut conv = vec![0.0; 2 * ln2u - 1];
            for (a, sa) in seg.iter().enumerate() {
                for (b, pb) in pw.iter().enumerate() {
                    conv[a + b] += sa * pb;
                }
            }
            let conv_start = (j1 - k1) as usize;
            let conv_len = (j2 - j1 + 1).max(0) as usize;
            for q in 0..conv_len {
                if q < v1.len() {
                    v1[q] = conv.get(conv_start + q).copied().unwrap_or(0.0);
                }
            }
            let vmax = v1.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            if 0.0 < vmax && vmax < em128() {
                v1.iter_mut().for_each(|x| *x *= ep128());
                expnt -= E128;
            }
            v1s = v0s + j1 - k1;
        }
    }
    let mut ans = v1.get((n - v1s) as usize).copied().unwrap_or(0.0);
    for m in 1..=n {
        if ans.abs() > ep128() {
            ans *= em128();
            expnt += E128;
        }
        ans *= m as f64;
    }
    if expnt != 0 {
        ans = ldexp(ans, expnt);
    }
    ans.clamp(0.0, 1.0)
}

/// Pelz and Good's asymptotic series (SciPy's `_kolmogn_PelzGood`): the CDF.
fn kolmogn_pelz_good(n: u64, x: f64) -> f64 {
    use std::f64::consts::PI;
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let nf = n as f64;
    let z = nf.sqrt() * x;
    let (zsq, zthree, zfour, zsix) = (z * z, z.powi(3), z.powi(4), z.powi(6));
    let qlog = -PI * PI / 8.0 / zsq;
    if qlog < MIN_LOG {
        return 0.0;
    }
    let q = qlog.exp();
    let pi2 = PI * PI;
    let pi4 = pi2 * pi2;
    let pi6 = pi4 * pi2;
    let sqrt2pi = (2.0 * PI).sqrt();
    let k1a = -zsq;
    let k1b = pi2 / 4.0;
    let k2a = 6.0 * zsix + 2.0 * zfour;
    let k2b = (2.0 * zfour - 5.0 * zsq) * pi2 / 4.0;
    let k2c = pi4 * (1.0 - 2.0 * zsq) / 16.0;
    let k3d = pi6 * (5.0 - 30.0 * zsq) / 64.0;
    let k3c = pi4 * (-60.0 * zsq + 212.0 * zfour) / 16.0;
    let k3b = pi2 * (135.0 * zfour - 96.0 * zsix) / 4.0;
    let k3a = -30.0 * zsix - 90.0 * z.powi(8);
    let mut kk = [0.0f64; 4];
    let maxk = (16.0 * z / PI).ceil() as i64;
    for k in (1..=maxk).rev() {
        let m = (2 * k - 1) as f64;
        let (msq, mfour, msix) = (m * m, m.powi(4), m.powi(6));
        let qpower = q.powf((8 * k) as f64);
        let coeffs = [
            1.0,
            k1a + k1b * msq,
            k2a + k2b * msq + k2c * mfour,
            k3a + k3b * msq + k3c * mfour + k3d * msix,
        ];
        for (v, c) in kk.iter_mut().zip(coeffs) {
            *v = *v * qpower + c;
        }
    }
    let div = [z, 6.0 * zfour, 72.0 * z.powi(7), 6480.0 * z.powi(10)];
    for (v, d) in kk.iter_mut().zip(div) {
        *v = *v * q * sqrt2pi / d;
    }
    let q2 = (-pi2 / 2.0 / zsq).exp();
    let sqrt3z = 3f64.sqrt() * z;
    let (mut k2extra, mut k3extra) = (0.0, 0.0);
    for k in (1..=maxk).rev() {
        let kf = k as f64;
        let ksq = kf * kf;
        let qp = q2.powf(ksq);
        let kspi = PI * kf;
        k2extra += ksq * qp;
        k3extra += (sqrt3z + kspi) * (sqrt3z - kspi) * ksq * qp;
    }
    kk[2] += k2extra * (pi2 * sqrt2pi / (-36.0 * zthree));
    kk[3] += k3extra * (pi2 * sqrt2pi / (216.0 * zsix));
    for (i, v) in kk.iter_mut().enumerate() {
        *v /= nf.powf(i as f64 / 2.0);
    }
    kk.iter().sum()
}

/// `scipy.special.smirnov(n, x)`: the one-sided KS survival function, by the Birnbaum–Tingey sum. SciPy sums in
/// double-double; summing the terms in log space in f64 keeps ~1e-12 relative accuracy, far inside 1e-6.
pub fn smirnov(n: u64, x: f64) -> f64 {
    if n == 0 || !(0.0..=1.0).contains(&x) {
        return f64::NAN;
    }
    let nf = n as f64;
    if n == 1 {
        return 1.0 - x;
    }
    if x == 0.0 {
        return 1.0;
    }
    if x == 1.0 {
        return 0.0;
    }
    let nx = nf * x;
    let nxfl = nx.floor();
    let alpha = nx - nxfl;
    if nxfl == 0.0 || (nxfl == 1.0 && alpha == 0.0) {
        let cdf = x * (1.0 + x).powf(nf - 1.0);
        return 1.0 - cdf;
    }
    // Cephes' MINLOG: below it the survival function underflows.
    if -2.0 * nf * x * x < -7.083_964_185_322_641e2 {
        return 0.0;
    }
    if nxfl >= nf - 1.0 {
        return (1.0 - x).powf(nf);
    }
    if n > 1_000_000 {
        let logp = -(6.0 * nf * x + 1.0).powi(2) / 18.0 / nf;
        return if logp < -std::f64::consts::LN_2 {
            logp.exp()
        } else {
            1.0 + (-logp.exp_m1() - 1.0)
        };
    }
    // Lower sum: sf = x * sum_{j=0}^{floor(n(1-x))} C(n,j) (1-x-j/n)^(n-j) (x+j/n)^(j-1).
    let mut last = (nf - nxfl) as i64 - i64::from(alpha != 0.0);
    if alpha == 0.0 {
        last -= 1;
    }
    let mut sum = 0.0;
    let mut log_c = 0.0; // ln C(n, j)
    for j in 0..=last {
        let jf = j as f64;
        if j > 0 {
            log_c += ((nf - jf + 1.0) / jf).ln();
        }
        let a = 1.0 - x - jf / nf;
        let b = x + jf / nf;
        if a <= 0.0 {
            break;
        }
        let lt = log_c + (nf - jf) * a.ln() + (jf - 1.0) * b.ln();
        let term = lt.exp();
        sum += term;
        if term != 0.0 && 4.0 * ((last - j) as f64) * term < f64::EPSILON * sum && j != last {
            break;
        }
        if term == 0.0 && jf > nf / 2.0 {
            break;
        }
    }
    (x * sum).clamp(0.0, 1.0)
}

/// `scipy.stats.chisquare(f_obs, f_exp)`: statistic and p-value (`chi2.sf(stat, k - 1)`).
/// An expected count of zero with a positive observed count gives an infinite statistic and p = 0, as SciPy does.
pub fn chisquare(obs: &[f64], exp: &[f64]) -> (f64, f64) {
    let stat: f64 = obs
        .iter()
        .zip(exp)
        .map(|(o, e)| {
            let d = o - e;
            d * d / e
        })
        .sum();
    let dof = obs.len() as f64 - 1.0;
    (stat, chi2_sf(stat, dof))
}

/// Survival function of the chi-square distribution (`scipy.stats.chi2.sf`): the regularised upper incomplete
/// gamma Q(dof/2, x/2).
pub fn chi2_sf(x: f64, dof: f64) -> f64 {
    if x.is_nan() || dof <= 0.0 || dof.is_nan() {
        return f64::NAN;
    }
    if x == f64::INFINITY {
        return 0.0;
    }
    if x <= 0.0 {
        return 1.0;
    }
    gamma_ur(dof / 2.0, x / 2.0)
}

/// Standard normal CDF, `scipy.stats.norm.cdf`.
pub fn norm_cdf(x: f64) -> f64 {
    0.5 * erfc(-x / std::f64::consts::SQRT_2)
}

/// Evidently's two-proportion z-test p-value (`proportions_diff_z_test(proportions_diff_z_stat_ind(...))`):
/// `k1` of `n1` reference values and `k2` of `n2` current values are "not the first key".
pub fn z_test(k1: f64, n1: f64, k2: f64, n2: f64) -> (f64, f64) {
    let p1 = k1 / n1;
    let p2 = k2 / n2;
    let p = (p1 * n1 + p2 * n2) / (n1 + n2);
    let z = (p1 - p2) / (p * (1.0 - p) * (1.0 / n1 + 1.0 / n2)).sqrt();
    (z, 2.0 * (1.0 - norm_cdf(z.abs())))
}

/// `scipy.stats.wasserstein_distance(u, v)` of two sorted samples (the L1 distance between their CDFs).
pub fn wasserstein(u: &[f64], v: &[f64]) -> f64 {
    wasserstein_weighted(u, None, v, None)
}

/// The same over weighted sorted samples (the sketch's items carry weights); `None` weighs every value 1.
pub fn wasserstein_weighted(u: &[f64], uw: Option<&[f64]>, v: &[f64], vw: Option<&[f64]>) -> f64 {
    let total = |w: Option<&[f64]>, n: usize| w.map_or(n as f64, |w| w.iter().sum());
    let (nu, nv) = (total(uw, u.len()), total(vw, v.len()));
    let (mut i, mut j) = (0usize, 0usize);
    let (mut cu, mut cv) = (0.0f64, 0.0f64);
    let mut prev: Option<f64> = None;
    let mut sum = 0.0;
    // Walk the merged values; between consecutive values both CDFs are constant (side='right').
    while i < u.len() || j < v.len() {
        let x = match (u.get(i), v.get(j)) {
            (Some(&a), Some(&b)) => a.min(b),
            (Some(&a), None) => a,
            (None, Some(&b)) => b,
            (None, None) => break,
        };
        if let Some(p) = prev {
            sum += (cu / nu - cv / nv).abs() * (x - p);
        }
        while i < u.len() && u[i] <= x {
            cu += uw.map_or(1.0, |w| w[i]);
            i += 1;
        }
        while j < v.len() && v[j] <= x {
            cv += vw.map_or(1.0, |w| w[j]);
            j += 1;
        }
        prev = Some(x);
    }
    sum
}

/// Population standard deviation (`np.std`, ddof = 0), two-pass as NumPy computes it.
pub fn std_pop(x: &[f64]) -> f64 {
    if x.is_empty() {
        return f64::NAN;
    }
    let n = x.len() as f64;
    let mean = x.iter().sum::<f64>() / n;
    (x.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n).sqrt()
}

/// `scipy.special.rel_entr`.
fn rel_entr(x: f64, y: f64) -> f64 {
    if x > 0.0 && y > 0.0 {
        x * (x / y).ln()
    } else if x == 0.0 && y >= 0.0 {
        0.0
    } else {
        f64::INFINITY
    }
}

/// `scipy.spatial.distance.jensenshannon(p, q)` (natural log): both are normalised first.
pub fn jensenshannon(p: &[f64], q: &[f64]) -> f64 {
    let (sp, sq) = (p.iter().sum::<f64>(), q.iter().sum::<f64>());
    let mut js = 0.0;
    let (mut left, mut right) = (0.0, 0.0);
    for (a, b) in p.iter().zip(q) {
        let (a, b) = (a / sp, b / sq);
        let m = (a + b) / 2.0;
        left += rel_entr(a, m);
        right += rel_entr(b, m);
    }
    js += left + right;
    (js / 2.0).sqrt()
}

/// `scipy.stats.entropy(p, q)`: the Kullback–Leibler divergence after normalising both.
pub fn kl_div(p: &[f64], q: &[f64]) -> f64 {
    let (sp, sq) = (p.iter().sum::<f64>(), q.iter().sum::<f64>());
    p.iter().zip(q).map(|(a, b)| rel_entr(a / sp, b / sq)).sum()
}

/// Evidently's PSI: `sum((ref - cur) * ln(ref / cur))` over the zero-filled percents.
pub fn psi(r: &[f64], c: &[f64]) -> f64 {
    r.iter().zip(c).map(|(a, b)| (a - b) * (a / b).ln()).sum()
}

/// TFDV's L-infinity distance: the largest difference between the two normalised frequencies.
pub fn l_infinity(r: &[f64], c: &[f64]) -> f64 {
    let (sr, sc) = (r.iter().sum::<f64>(), c.iter().sum::<f64>());
    r.iter()
        .zip(c)
        .map(|(a, b)| (a / sr - b / sc).abs())
        .fold(0.0, f64::max)
}

/// Evidently's `feel_zeroes`: zero shares become a small positive number so that logarithms stay finite.
pub fn fill_zeroes(x: &mut [f64]) {
    let min_nz = x
        .iter()
        .copied()
        .filter(|v| *v != 0.0)
        .fold(f64::INFINITY, f64::min);
    if !min_nz.is_finite() {
        return;
    }
    let fill = if min_nz <= 0.0001 {
        min_nz / 1e6
    } else {
        0.0001
    };
    for v in x.iter_mut() {
        if *v == 0.0 {
            *v = fill;
        }
    }
}

/// `np.histogram_bin_edges(combined, bins="sturges")` from the combined sample's size, minimum and maximum.
/// `integer` is true when the combined pandas column has an integer dtype (then the width is at least 1).
pub fn sturges_edges(n: usize, min: f64, max: f64, integer: bool) -> Vec<f64> {
    let (mut first, mut last) = (min, max);
    if first == last {
        first -= 0.5;
        last += 0.5;
    }
    // _hist_bin_sturges works on the data's ptp, not on the widened range.
    let mut width = (max - min) / ((n as f64).log2() + 1.0);
    let bins = if width != 0.0 {
        if integer && width < 1.0 {
            width = 1.0;
        }
        ((last - first) / width).ceil() as usize
    } else {
        1
    };
    linspace(first, last, bins + 1)
}

/// `np.linspace(start, stop, num)` with endpoint, computed as NumPy does (`i * step + start`, last = stop).
pub fn linspace(start: f64, stop: f64, num: usize) -> Vec<f64> {
    let div = (num - 1) as f64;
    let delta = stop - start;
    let step = delta / div;
    let mut out: Vec<f64> = (0..num)
        .map(|i| {
            if step == 0.0 {
                (i as f64 / div) * delta + start
            } else {
                i as f64 * step + start
            }
        })
        .collect();
    if let Some(l) = out.last_mut() {
        *l = stop;
    }
    out
}

/// The bin of `x` among uniform `edges`, as `np.histogram` finds it; `None` outside the range.
pub fn bin_index(x: f64, edges: &[f64]) -> Option<usize> {
    let nb = edges.len() - 1;
    let (first, last) = (edges[0], edges[nb]);
    if !(x >= first && x <= last) {
        return None;
    }
    let f = (x - first) / (last - first) * nb as f64;
    let mut i = f as usize;
    if i == nb {
        i -= 1;
    }
    if x < edges[i] {
        i = i.saturating_sub(1);
    } else if x >= edges[i + 1] && i != nb - 1 {
        i += 1;
    }
    Some(i)
}

/// Counts of sorted values per bin.
pub fn histogram(x: &[f64], edges: &[f64]) -> Vec<f64> {
    let mut out = vec![0.0; edges.len() - 1];
    for &v in x {
        if let Some(i) = bin_index(v, edges) {
            out[i] += 1.0;
        }
    }
    out
}

/// `ln Γ(x)`, re-exported for the sketch's error bound computations and tests.
pub fn lgamma(x: f64) -> f64 {
    ln_gamma(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol || (a.is_nan() && b.is_nan())
    }

    #[test]
    fn chi2_sf_matches_scipy() {
        // scipy.stats.chi2.sf(x, df)
        let cases = [
            (3.0, 2.0, 0.22313016014842982),
            (10.0, 4.0, 0.04042768199451279),
            (0.5, 1.0, 0.47950012218695337),
            (100.0, 50.0, 3.454931382984871e-05),
        ];
        for (x, df, want) in cases {
            let got = chi2_sf(x, df);
            assert!(
                close(got, want, 1e-9),
                "chi2.sf({x}, {df}) = {got}, want {want}"
            );
        }
    }

    #[test]
    fn norm_cdf_matches_scipy() {
        assert!(
            close(norm_cdf(1.96), 0.9750021048517795, 1e-9),
            "{}",
            norm_cdf(1.96)
        );
        assert!(
            close(norm_cdf(-3.0), 0.0013498980316300933, 1e-9),
            "{}",
            norm_cdf(-3.0)
        );
    }

    #[test]
    fn ks_exact_small() {
        // scipy.stats.ks_2samp([1,2,3,4,5], [3,4,5,6,7,8]) -> (0.5, 0.35714285714285715)
        let (d, p, m) = ks_2samp(&[1., 2., 3., 4., 5.], &[3., 4., 5., 6., 7., 8.]);
        assert_eq!(m, KsMethod::Exact);
        assert!(close(d, 0.5, 1e-12));
        assert!(close(p, 0.35714285714285715, 1e-9), "{p}");
        // Equal sizes: ks_2samp([1,2,3,4], [5,6,7,8]) -> (1.0, 0.02857142857142857)
        let (_, p, _) = ks_2samp(&[1., 2., 3., 4.], &[5., 6., 7., 8.]);
        assert!(close(p, 0.028571428571428577, 1e-12), "{p}");
    }

    #[test]
    fn kstwo_sf_matches_scipy_on_every_method() {
        // scipy.stats.kstwo.sf(d, n), chosen to reach each branch of _kolmogn: Durbin matrix, Pomeranz,
        // Pelz-Good, 2 * smirnov, and the Ruben-Gambino edges.
        let cases = [
            (387, 0.05, 0.27863170017122874),
            (100, 0.12, 0.1033037490181987),
            (100, 0.07, 0.6846706791645845),
            (200000, 0.002, 0.39995085369038097),
            (50000, 0.009, 0.0006033803687140785),
            (1000, 0.03, 0.3226902143914636),
            (120, 0.3, 4.488623458478932e-10),
            (5, 0.3, 0.664),
        ];
        for (n, d, want) in cases {
            let got = kolmogn_sf(n, d);
            assert!(
                (got - want).abs() <= 1e-9 * want.max(1e-3),
                "kstwo.sf({d}, {n}) = {got}, want {want}"
            );
        }
        // scipy.special.smirnov(387, 0.08)
        assert!((smirnov(387, 0.08) - 0.006662637430382145).abs() < 1e-12);
    }

    #[test]
    fn wasserstein_small() {
        // scipy.stats.wasserstein_distance([0,1,3], [5,6,8]) == 5.0
        assert!(close(wasserstein(&[0., 1., 3.], &[5., 6., 8.]), 5.0, 1e-12));
        // wasserstein_distance([0, 1], [0, 0, 2]) == 0.5
        assert!(close(wasserstein(&[0., 1.], &[0., 0., 2.]), 0.5, 1e-12));
    }

    #[test]
    fn jensenshannon_matches_scipy() {
        // distance.jensenshannon([1.0, 0.0], [0.5, 0.5]) -> 0.464501404022459
        assert!(close(
            jensenshannon(&[1.0, 0.0], &[0.5, 0.5]),
            0.464501404022459,
            1e-12
        ));
    }

    #[test]
    fn histogram_edges_follow_numpy() {
        let e = sturges_edges(8, 0.0, 7.0, false);
        // np.histogram_bin_edges(np.arange(8), 'sturges') -> 4 bins
        assert_eq!(e.len(), 5);
        assert_eq!(bin_index(7.0, &e), Some(3));
        assert_eq!(bin_index(0.0, &e), Some(0));
    }
}
