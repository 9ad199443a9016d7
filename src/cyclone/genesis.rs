//! Genesis potential for models that only give monthly means: potential intensity (Bister &
//! Emanuel 2002) and the Emanuel–Nolan (2004) genesis potential index.
//!
//! # Potential intensity (BE02, as in Emanuel's `pcmin` and the `tcpyPI` package)
//! From a sounding (pressure `p`, temperature `T`, mixing ratio `r`, surface first), the sea
//! surface temperature and the sea-level pressure:
//! - `CAPE` of a parcel (Emanuel 1994, eq. 6.3.6): the parcel is lifted dry-adiabatically to
//!   its lifted condensation level `p_LCL = p₀ RH^{T₀/(1669 − 122 RH − T₀)}`, then along a
//!   reversible (default) or pseudo-adiabat found by iterating its saturated entropy
//!   `s = (c_pd + r_T c_l) ln T − R_d ln(p − e) + L_v r / T − r R_v ln RH` to the parcel's; the
//!   buoyancy is the density-temperature difference `T_ρ = T (1 + r/ε)/(1 + r_T)`, integrated
//!   in `ln p` up to the level of neutral buoyancy (whose temperature is the outflow
//!   temperature `T_o`); the sounding above 50 hPa is ignored.
//! - Three CAPEs at the radius of maximum wind, with the central pressure `p_m` found by
//!   iteration (`p_m = p_msl exp(−CAT/(R_d T̄_ρ))`): the environment's (`CAPE_a`, from the lowest
//!   level), the boundary-layer air brought to `p_m` at constant relative humidity (`CAPE_m`),
//!   and air saturated at the sea surface temperature (`CAPE*_m`).
//! - `V_max² = (C_k/C_D) (T_s/T_o) (CAPE*_m − CAPE_m)` (dissipative heating included; BE02
//!   eq. 3), reduced by 0.8 to a 10 m wind; the minimum pressure from BE02 eq. 4 with the eye
//!   profile exponent 2. Defaults `C_k/C_D = 0.9`.
//!
//! Constants as `tcpyPI` (c_pd 1005.7, c_pv 1870, c_l 2500 "modified", R_d 287.04, R_v 461.5,
//! L_v0 2.501e6 J kg⁻¹, `e_s = 6.112 exp(17.67 T_c/(243.5 + T_c))` hPa), so the two agree to the
//! rounding of their iterations.
//!
//! # Genesis potential index (Emanuel & Nolan 2004)
//! `GPI = |10⁵ η|^{3/2} (H/50)³ (V_pot/70)³ (1 + 0.1 V_shear)^{−2}` with `η` the absolute
//! vorticity at 850 hPa (s⁻¹), `H` the relative humidity at 600 hPa (%), `V_pot` the potential
//! intensity (m/s) and `V_shear = |V(200 hPa) − V(850 hPa)|` (m/s).
//!
//! # References
//! - Bister, M. & Emanuel, K. A. (2002), *Low frequency variability of tropical cyclone
//!   potential intensity 1*, J. Geophys. Res. 107, 4801.
//! - Emanuel, K. A. (1994), *Atmospheric Convection*, Oxford University Press.
//! - Emanuel, K. A. & Nolan, D. S. (2004), *Tropical cyclone activity and the global climate
//!   system*, 26th Conf. on Hurricanes and Tropical Meteorology, AMS.
//! - Gilford, D. M. (2021), *pyPI (v1.3): tropical cyclone potential intensity calculations in
//!   Python*, Geosci. Model Dev. 14, 2351–2369.

use serde::{Deserialize, Serialize};

const CPD: f64 = 1005.7;
const CPV: f64 = 1870.0;
const CL: f64 = 2500.0;
const RV: f64 = 461.5;
const RD: f64 = 287.04;
const EPS: f64 = RD / RV;
const ALV0: f64 = 2.501e6;
const LCL_A: f64 = 1669.0;
const LCL_B: f64 = 122.0;
/// Exponent of the eye's wind profile `V = V_m (r/r_m)^b`.
const EYE_EXPONENT: f64 = 2.0;

/// Saturation vapour pressure (hPa) over water at `tc` °C.
fn saturation_vapour_pressure(tc: f64) -> f64 {
    6.112 * (17.67 * tc / (243.5 + tc)).exp()
}

fn latent_heat(tc: f64) -> f64 {
    ALV0 + (CPV - CL) * tc
}

fn vapour_pressure(r: f64, p: f64) -> f64 {
    r * p / (EPS + r)
}

fn mixing_ratio(e: f64, p: f64) -> f64 {
    EPS * e / (p - e)
}

fn density_temperature(t: f64, r_total: f64, r_vapour: f64) -> f64 {
    t * (1.0 + r_vapour / EPS) / (1.0 + r_total)
}

/// Total entropy per unit mass of dry air (Emanuel 1994 eq. 4.5.9).
fn entropy(t: f64, r: f64, p: f64) -> f64 {
    let e = vapour_pressure(r, p);
    let rh = (e / saturation_vapour_pressure(t - 273.15)).min(1.0);
    (CPD + r * CL) * t.ln() - RD * (p - e).ln() + latent_heat(t - 273.15) * r / t - r * RV * rh.ln()
}

/// How a computation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PiStatus {
    /// Computed.
    Ok,
    /// Not computable: SST ≤ 5 °C, an unphysical sounding, or no convergence of the pressure.
    Unsuitable,
    /// The parcel temperature iteration did not converge (CAPE taken as 0).
    NoConvergence,
    /// The sounding has missing temperatures.
    Missing,
}

/// A parcel's CAPE, outflow temperature and level of neutral buoyancy.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Cape {
    cape: f64,
    t_outflow: f64,
    p_lnb: f64,
    status: PiStatus,
}

/// A sounding: pressure (hPa, decreasing upwards), temperature (K), mixing ratio (kg/kg).
#[derive(Debug, Clone, Copy)]
pub struct Sounding<'a> {
    /// Pressure (hPa), surface first.
    pub p_hpa: &'a [f64],
    /// Temperature (K).
    pub t_k: &'a [f64],
    /// Water-vapour mixing ratio (kg/kg); NaN counts as 0.
    pub r_kg_kg: &'a [f64],
}

/// Settings of the potential intensity.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PiSpec {
    /// `C_k / C_D`.
    pub ck_cd: f64,
    /// 0 reversible, 1 pseudo-adiabatic ascent (fractions in between are allowed).
    pub ascent: f64,
    /// Include dissipative heating (`T_s/T_o` factor).
    pub dissipative_heating: bool,
    /// Gradient-to-10 m wind reduction.
    pub wind_reduction: f64,
    /// Pressure (hPa) above which the sounding is ignored.
    pub p_top_hpa: f64,
}

impl Default for PiSpec {
    fn default() -> Self {
        PiSpec {
            ck_cd: 0.9,
            ascent: 0.0,
            dissipative_heating: true,
            wind_reduction: 0.8,
            p_top_hpa: 50.0,
        }
    }
}

/// CAPE of a parcel `(tp K, rp kg/kg, pp hPa)` in the environment `(p, t, r)` already cut at
/// the top; module doc.
fn parcel_cape(tp: f64, rp: f64, pp: f64, p: &[f64], t: &[f64], r: &[f64], ascent: f64) -> Cape {
    let n = p.len();
    if rp < 1e-6 || tp < 200.0 || n == 0 {
        return Cape {
            cape: 0.0,
            t_outflow: f64::NAN,
            p_lnb: f64::NAN,
            status: PiStatus::Unsuitable,
        };
    }
    let rh = (vapour_pressure(rp, pp) / saturation_vapour_pressure(tp - 273.15)).min(1.0);
    let s = entropy(tp, rp, pp);
    let p_lcl = pp * rh.powf(tp / (LCL_A - LCL_B * rh - tp));
    let mut buoyancy = vec![0.0; n];
    for j in 0..n {
        let env = density_temperature(t[j], r[j], r[j]);
        if p[j] >= p_lcl {
            let tg = tp * (p[j] / pp).powf(RD / CPD);
            buoyancy[j] = density_temperature(tg, rp, rp) - env;
            continue;
        }
        // saturated reversible ascent: find T with s(T) = s of the parcel
        let mut t_new = t[j];
        let mut tg = 0.0;
        let mut rg = 0.0;
        let mut iterations = 0;
        while (t_new - tg).abs() > 0.001 {
            tg = t_new;
            let tc = tg - 273.15;
            let es = saturation_vapour_pressure(tc);
            rg = mixing_ratio(es, p[j]);
            iterations += 1;
            let lv = latent_heat(tc);
            let ds_dt = (CPD + rp * CL + lv * lv * rg / (RV * tg * tg)) / tg;
            let e = vapour_pressure(rg, p[j]);
            let sg = (CPD + rp * CL) * tg.ln() - RD * (p[j] - e).ln() + lv * rg / tg;
            let step = if iterations < 3 { 0.3 } else { 1.0 };
            t_new = tg + step * (s - sg) / ds_dt;
            if iterations > 500 || es > p[j] - 1.0 {
                return Cape {
                    cape: 0.0,
                    t_outflow: t[0],
                    p_lnb: p[0],
                    status: PiStatus::NoConvergence,
                };
            }
        }
        let r_total = ascent * rg + (1.0 - ascent) * rp;
        buoyancy[j] = density_temperature(tg, r_total, rg) - env;
    }
    // highest level of positive buoyancy
    let Some(inb) = (1..n).rev().find(|&j| buoyancy[j] > 0.0) else {
        return Cape {
            cape: 0.0,
            t_outflow: t[0],
            p_lnb: 0.0,
            status: PiStatus::Ok,
        };
    };
    let (mut pa, mut na) = (0.0, 0.0);
    for j in 1..=inb {
        let f = RD * (buoyancy[j] + buoyancy[j - 1]) * (p[j - 1] - p[j]) / (p[j] + p[j - 1]);
        pa += f.max(0.0);
        na -= f.min(0.0);
    }
    // between the parcel's pressure and the first level
    let f = RD * (pp - p[0]) / (pp + p[0]);
    pa += f * buoyancy[0].max(0.0);
    na -= f * buoyancy[0].min(0.0);
    // the part above the last positive level, up to the zero crossing
    let (mut pat, mut t_out, mut p_lnb) = (0.0, t[inb], p[inb]);
    if inb + 1 < n {
        let (b0, b1) = (buoyancy[inb], buoyancy[inb + 1]);
        let p_cross = (p[inb + 1] * b0 - p[inb] * b1) / (b0 - b1);
        p_lnb = p_cross;
        pat = RD * b0 * (p[inb] - p_cross) / (p[inb] + p_cross);
        t_out = (t[inb] * (p_cross - p[inb + 1]) + t[inb + 1] * (p[inb] - p_cross))
            / (p[inb] - p[inb + 1]);
    }
    Cape {
        cape: (pa + pat - na).max(0.0),
        t_outflow: t_out,
        p_lnb,
        status: PiStatus::Ok,
    }
}

/// Potential intensity of one sounding.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PotentialIntensity {
    /// Maximum 10 m wind (m/s).
    pub vmax_m_s: f64,
    /// Minimum central pressure (hPa).
    pub pmin_hpa: f64,
    /// Outflow temperature (K).
    pub t_outflow_k: f64,
    /// Outflow level (hPa).
    pub p_outflow_hpa: f64,
    /// How it ended.
    pub status: PiStatus,
}

impl PotentialIntensity {
    fn missing(status: PiStatus) -> Self {
        PotentialIntensity {
            vmax_m_s: f64::NAN,
            pmin_hpa: f64::NAN,
            t_outflow_k: f64::NAN,
            p_outflow_hpa: f64::NAN,
            status,
        }
    }
}

/// Potential intensity from the sea surface temperature (°C), sea-level pressure (hPa) and a
/// sounding; module doc.
pub fn potential_intensity(
    sst_c: f64,
    msl_hpa: f64,
    sounding: Sounding<'_>,
    spec: &PiSpec,
) -> PotentialIntensity {
    let Sounding {
        p_hpa,
        t_k,
        r_kg_kg,
    } = sounding;
    let n = p_hpa.len();
    // pcmin refuses SST ≤ 5 °C and SST > 100 °C (kelvin given as Celsius); NaN fails too
    let sst_ok = sst_c > 5.0 && sst_c <= 100.0;
    if !sst_ok || !msl_hpa.is_finite() || n < 2 || t_k.len() != n || r_kg_kg.len() != n {
        return PotentialIntensity::missing(PiStatus::Unsuitable);
    }
    if t_k.iter().any(|t| t.is_nan()) {
        return PotentialIntensity::missing(PiStatus::Missing);
    }
    if t_k.iter().any(|&t| t <= 100.0 || t > 373.15) {
        return PotentialIntensity::missing(PiStatus::Unsuitable);
    }
    let r: Vec<f64> = r_kg_kg
        .iter()
        .map(|&x| if x.is_nan() { 0.0 } else { x })
        .collect();
    // the levels below the one nearest to the top (as pcmin)
    let top = p_hpa
        .iter()
        .enumerate()
        .min_by(|a, b| {
            (a.1 - spec.p_top_hpa)
                .abs()
                .total_cmp(&(b.1 - spec.p_top_hpa).abs())
        })
        .map_or(n, |(k, _)| k);
    let (p, t, r) = (&p_hpa[..top], &t_k[..top], &r[..top]);
    if p.is_empty() {
        return PotentialIntensity::missing(PiStatus::Unsuitable);
    }
    let sst_k = sst_c + 273.15;
    let es0 = saturation_vapour_pressure(sst_c);
    let cape_env = parcel_cape(t[0], r[0], p[0], p, t, r, spec.ascent);
    let mut status = PiStatus::Ok;
    // the status of the environment's CAPE is superseded by the loop's, as in pcmin
    let note = |c: &Cape, status: &mut PiStatus| {
        if c.status != PiStatus::Ok {
            *status = c.status;
        }
    };
    let (mut pm, mut pm_old, mut p_new) = (970.0_f64, 970.0_f64, 0.0_f64);
    let mut iterations = 0;
    let (mut cape_m, mut cape_ms, mut t_out, mut p_out, mut tv_mean, mut ratio) =
        (0.0, 0.0, f64::NAN, f64::NAN, 0.0, 1.0);
    while (p_new - pm_old).abs() > 0.5 {
        let pp = pm.min(1000.0);
        // boundary-layer air brought to p_m at constant relative humidity
        let rp = EPS * r[0] * msl_hpa / (pp * (EPS + r[0]) - r[0] * msl_hpa);
        let c = parcel_cape(t[0], rp, pp, p, t, r, spec.ascent);
        note(&c, &mut status);
        cape_m = c.cape;
        // air saturated at the sea surface temperature
        let rs = mixing_ratio(es0, pp);
        let cs = parcel_cape(sst_k, rs, pp, p, t, r, spec.ascent);
        note(&cs, &mut status);
        cape_ms = cs.cape;
        t_out = cs.t_outflow;
        p_out = cs.p_lnb;
        ratio = if spec.dissipative_heating {
            sst_k / t_out
        } else {
            1.0
        };
        let tv0 = density_temperature(t[0], r[0], r[0]);
        let tv_sst = density_temperature(sst_k, rs, rs);
        tv_mean = 0.5 * (tv0 + tv_sst);
        let cat =
            ((cape_m - cape_env.cape) + 0.5 * spec.ck_cd * ratio * (cape_ms - cape_m)).max(0.0);
        p_new = msl_hpa * (-cat / (RD * tv_mean)).exp();
        pm_old = pm;
        pm = p_new;
        iterations += 1;
        if iterations > 200 || pm < 400.0 || !pm.is_finite() {
            return PotentialIntensity::missing(PiStatus::Unsuitable);
        }
    }
    let factor = 0.5 * (1.0 + 1.0 / EYE_EXPONENT);
    let cat =
        ((cape_m - cape_env.cape) + spec.ck_cd * ratio * factor * (cape_ms - cape_m)).max(0.0);
    PotentialIntensity {
        vmax_m_s: spec.wind_reduction * (spec.ck_cd * ratio * (cape_ms - cape_m).max(0.0)).sqrt(),
        pmin_hpa: msl_hpa * (-cat / (RD * tv_mean)).exp(),
        t_outflow_k: t_out,
        p_outflow_hpa: p_out,
        status,
    }
}

/// The Emanuel–Nolan (2004) genesis potential index from the absolute vorticity at 850 hPa
/// (s⁻¹), the relative humidity at 600 hPa (%), the potential intensity (m/s) and the
/// 850–200 hPa shear (m/s). NaN in, NaN out.
pub fn genesis_potential_index(
    abs_vorticity_850_s: f64,
    rh_600_pct: f64,
    vpot_m_s: f64,
    shear_m_s: f64,
) -> f64 {
    if vpot_m_s.is_nan() {
        // `max` would turn a missing potential intensity (land) into 0
        return f64::NAN;
    }
    (1e5 * abs_vorticity_850_s).abs().powf(1.5)
        * (rh_600_pct / 50.0).powi(3)
        * (vpot_m_s.max(0.0) / 70.0).powi(3)
        * (1.0 + 0.1 * shear_m_s).powi(-2)
}

/// Absolute vorticity `f + ζ` (s⁻¹) on a regular lat/lon grid from `u`, `v` (m/s) `(lat, lon)`:
/// `ζ = (∂v/∂λ − ∂(u cos φ)/∂φ) / (R cos φ)` by centred differences (one-sided at the edges,
/// periodic in longitude on a global grid); NaN where a neighbour is missing or at a pole.
pub fn absolute_vorticity(
    lat: &[f64],
    lon: &[f64],
    u: ndarray::ArrayView2<'_, f32>,
    v: ndarray::ArrayView2<'_, f32>,
) -> ndarray::Array2<f32> {
    const OMEGA: f64 = 7.292e-5;
    let r = crate::grid::EARTH_RADIUS_M;
    let (ny, nx) = (lat.len(), lon.len());
    let dlon = if nx > 1 {
        (lon[1] - lon[0]).to_radians()
    } else {
        1.0
    };
    let periodic = crate::cube::regular_spacing(lon).is_some_and(|d| {
        ((nx as f64) * d - 360.0).abs() <= crate::cube::coordinate_tolerance(d, 360.0)
    });
    ndarray::Array2::from_shape_fn((ny, nx), |(j, i)| {
        let phi = lat[j].to_radians();
        if ny < 2 || nx < 2 || phi.cos() < 1e-6 {
            return f32::NAN;
        }
        let (i0, i1) = if periodic {
            ((i + nx - 1) % nx, (i + 1) % nx)
        } else {
            (i.saturating_sub(1), (i + 1).min(nx - 1))
        };
        let (j0, j1) = (j.saturating_sub(1), (j + 1).min(ny - 1));
        let steps = if periodic { 2.0 } else { (i1 - i0) as f64 };
        let dv_dl = (v[[j, i1]] as f64 - v[[j, i0]] as f64) / (dlon * steps);
        let ucos = |jj: usize| u[[jj, i]] as f64 * lat[jj].to_radians().cos();
        let dphi = (lat[j1] - lat[j0]).to_radians();
        let ducos_dphi = (ucos(j1) - ucos(j0)) / dphi;
        let zeta = (dv_dl - ducos_dphi) / (r * phi.cos());
        (2.0 * OMEGA * phi.sin() + zeta) as f32
    })
}

/// Relative humidity (%) from temperature (K), specific humidity (kg/kg) and pressure (hPa),
/// with the saturation vapour pressure of the potential intensity.
pub fn relative_humidity_pct(t_k: f64, q: f64, p_hpa: f64) -> f64 {
    let r = q / (1.0 - q);
    100.0 * vapour_pressure(r, p_hpa) / saturation_vapour_pressure(t_k - 273.15)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gpi_hand_values() {
        // η = 5e-5 s⁻¹, H = 50 %, V = 70 m/s, no shear: 5^1.5 = 11.18
        let g = genesis_potential_index(5e-5, 50.0, 70.0, 0.0);
        assert!((g - 5f64.powf(1.5)).abs() < 1e-12);
        // 10 m/s shear divides by 4; southern-hemisphere vorticity counts by magnitude
        let s = genesis_potential_index(-5e-5, 50.0, 70.0, 10.0);
        assert!((s - 5f64.powf(1.5) / 4.0).abs() < 1e-12);
        assert!(genesis_potential_index(f64::NAN, 50.0, 70.0, 0.0).is_nan());
    }

    #[test]
    fn vorticity_of_solid_rotation_and_rh() {
        // a zonal flow u = U cos φ has ζ = 2U sin φ / R (∂(U cos²φ)/∂φ = −2U cos φ sin φ)
        let lat: Vec<f64> = (0..=40).map(|j| -20.0 + j as f64).collect();
        let lon: Vec<f64> = (0..360).map(|i| i as f64).collect();
        let u_amp = 10.0;
        let u = ndarray::Array2::from_shape_fn((41, 360), |(j, _)| {
            (u_amp * lat[j].to_radians().cos()) as f32
        });
        let v = ndarray::Array2::<f32>::zeros((41, 360));
        let eta = absolute_vorticity(&lat, &lon, u.view(), v.view());
        let j = 30; // 10°N
        let phi = 10f64.to_radians();
        let want =
            2.0 * 7.292e-5 * phi.sin() + 2.0 * u_amp * phi.sin() / crate::grid::EARTH_RADIUS_M;
        assert!(
            (eta[[j, 17]] as f64 - want).abs() / want < 1e-3,
            "{} vs {want}",
            eta[[j, 17]]
        );
        // 50 % humidity: q from half the saturation vapour pressure at 20 °C and 600 hPa
        let e = 0.5 * saturation_vapour_pressure(20.0);
        let r = mixing_ratio(e, 600.0);
        let q = r / (1.0 + r);
        assert!((relative_humidity_pct(293.15, q, 600.0) - 50.0).abs() < 1e-9);
    }

    #[test]
    fn cold_or_missing_input_is_not_computed() {
        let p = [1000.0, 850.0, 500.0, 200.0, 100.0];
        let t = [300.0, 290.0, 265.0, 220.0, 195.0];
        let r = [0.018, 0.012, 0.003, 0.0001, 0.0];
        let s = Sounding {
            p_hpa: &p,
            t_k: &t,
            r_kg_kg: &r,
        };
        let spec = PiSpec::default();
        assert_eq!(
            potential_intensity(4.0, 1012.0, s, &spec).status,
            PiStatus::Unsuitable
        );
        let tn = [300.0, f64::NAN, 265.0, 220.0, 195.0];
        let sn = Sounding { t_k: &tn, ..s };
        assert_eq!(
            potential_intensity(29.0, 1012.0, sn, &spec).status,
            PiStatus::Missing
        );
    }
}

#[cfg(test)]
mod tcpypi {
    //! Agreement with `tcpyPI` 1.4.1 on 36 soundings (tests/data/cyclones/SOURCE.md).
    use super::*;

    const P: [f64; 17] = [
        1000.0, 925.0, 850.0, 700.0, 600.0, 500.0, 400.0, 300.0, 250.0, 200.0, 150.0, 100.0, 70.0,
        50.0, 30.0, 20.0, 10.0,
    ];
    const T0_C: [f64; 17] = [
        26.0, 22.0, 17.5, 9.0, 2.5, -6.8, -17.3, -32.5, -42.0, -53.5, -66.8, -73.5, -69.0, -63.0,
        -55.0, -50.0, -42.0,
    ];
    const R0_G_KG: [f64; 17] = [
        18.0, 15.0, 12.0, 7.5, 4.8, 3.0, 1.6, 0.5, 0.2, 0.06, 0.01, 0.005, 0.0, 0.0, 0.0, 0.0, 0.0,
    ];

    #[test]
    fn same_as_tcpypi() {
        let text = include_str!("../../tests/data/cyclones/tcpypi_pi_soundings.csv");
        let mut worst = (0.0f64, 0.0f64, 0.0f64);
        for line in text.lines().skip(1) {
            let c: Vec<f64> = line.split(',').map(|x| x.parse().unwrap()).collect();
            let (sst, msl, dt, q) = (c[0], c[1], c[2], c[3]);
            let t: Vec<f64> = P
                .iter()
                .zip(T0_C)
                .map(|(&p, t)| t + dt * if p >= 100.0 { 1.0 } else { 0.3 } + 273.15)
                .collect();
            let r: Vec<f64> = R0_G_KG.iter().map(|x| x * q * 1e-3).collect();
            let s = Sounding {
                p_hpa: &P,
                t_k: &t,
                r_kg_kg: &r,
            };
            let pi = potential_intensity(sst, msl, s, &PiSpec::default());
            assert_eq!(pi.status, PiStatus::Ok, "{line}");
            worst.0 = worst.0.max((pi.vmax_m_s - c[4]).abs());
            worst.1 = worst.1.max((pi.pmin_hpa - c[5]).abs());
            worst.2 = worst.2.max((pi.t_outflow_k - c[7]).abs());
        }
        assert!(
            worst.0 < 1e-6 && worst.1 < 1e-6 && worst.2 < 1e-6,
            "largest differences: vmax {:.2e} m/s, pmin {:.2e} hPa, T_o {:.2e} K",
            worst.0,
            worst.1,
            worst.2
        );
    }
}
