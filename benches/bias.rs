//! Bias correction throughput (hindcast + forecast values corrected per second) on the synth
//! medium preset's 25-member model (24 years x 6 leads x 3358 cells = 12.1 M hindcast values
//! per variable), every method, leave-one-year-out vs in-sample — cross-validation reuses each
//! cell's sorted sample, so it must cost far less than 24 fits.
//!
//! No NetCDF I/O inside the timed loop. `scripts/bench.sh` runs `s2s bias-correct` on the
//! peers' workload beside python-cmethods and xsdba, in the same run.

mod common;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use s2s_ensemble::bias::{
    correct, BiasCorrector, BiasParams, CrossValidation, Kind, MeanScaling, QuantileDeltaMapping,
    QuantileMapping,
};
use s2s_ensemble::cube::align_observations;
use s2s_ensemble::synth::{Preset, SynthConfig, SynthVar};

fn bench(c: &mut Criterion) {
    let cfg = SynthConfig::preset(Preset::Medium, false).unwrap();
    let model = 1; // BRAVO, 25 members
    let mut g = c.benchmark_group("bias_correct");
    g.sample_size(10);
    for var in SynthVar::ALL {
        let hc = cfg.model_cube(model, false, var).unwrap();
        let fc = cfg.model_cube(model, true, var).unwrap();
        let obs = align_observations(&cfg.observation_cube(var).unwrap(), &hc)
            .unwrap()
            .0;
        let kind = if var == SynthVar::Pr {
            Kind::Multiplicative
        } else {
            Kind::Additive
        };
        let methods: Vec<(&str, Box<dyn BiasCorrector>)> = vec![
            ("scaling", Box::new(MeanScaling { kind })),
            (
                "eqm",
                Box::new(QuantileMapping {
                    quantiles: None,
                    kind,
                }),
            ),
            (
                "eqm100",
                Box::new(QuantileMapping {
                    quantiles: Some(100),
                    kind,
                }),
            ),
            ("qdm", Box::new(QuantileDeltaMapping { kind, trace: 0.01 })),
        ];
        g.throughput(Throughput::Elements(
            (hc.values.len() + fc.values.len()) as u64,
        ));
        for (name, m) in &methods {
            for (cv_name, cv) in [
                ("loyo", CrossValidation::LeaveOut(1)),
                ("insample", CrossValidation::None),
            ] {
                let p = BiasParams {
                    cv,
                    wet_threshold: 0.01,
                    ..Default::default()
                };
                g.bench_function(
                    BenchmarkId::new(format!("{}_{name}", var.name()), cv_name),
                    |b| b.iter(|| correct(m.as_ref(), &hc, &obs, Some(&fc), &p).unwrap()),
                );
            }
        }
    }
    g.finish();
}

criterion_group!(benches, bench, common::memory_bandwidth);
criterion_main!(benches);
