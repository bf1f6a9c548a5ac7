//! Rendering a posed target into a SAR chip: the scatterers' responses through the
//! imaging system's sinc point spread, clutter and speckle.

use std::f64::consts::{PI, TAU};

use ndarray::Array2;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Gamma, LogNormal, Normal};

use super::scene::{Pose, Shape, Solid, TargetModel, facing_gain, rotate};
use super::*;
use crate::dataset::Split;

pub(super) fn sinc(x: f64) -> f64 {
    if x.abs() < 1e-9 {
        1.0
    } else {
        (PI * x).sin() / (PI * x)
    }
}

pub(super) fn render_chip(
    config: &SynthConfig,
    model: &TargetModel,
    split: Split,
    class: usize,
    index: usize,
) -> SynthChip {
    let mut rng = ChaCha8Rng::seed_from_u64(chip_seed(config.seed, split, class, index));
    let n = config.chip_size;
    let ps = config.pixel_spacing_m;
    let depression = config.depression_deg(split);
    let tan_dep = depression.to_radians().tan();

    let unit = Normal::new(0.0, 1.0).expect("unit normal is valid");
    let heading = rng.gen_range(0.0..TAU);
    let turret_angle = if model.solids.iter().any(|(_, t)| *t) {
        (unit.sample(&mut rng) * config.turret_jitter_deg).to_radians()
    } else {
        0.0
    };
    let scale = [
        1.0 + config.size_jitter * unit.sample(&mut rng),
        1.0 + config.size_jitter * unit.sample(&mut rng),
        1.0 + config.size_jitter * unit.sample(&mut rng),
    ];
    let pose = Pose {
        scale,
        turret_centre: model.turret_centre,
        turret_angle,
        heading,
    };
    let centre = (n as f64 - 1.0) / 2.0;
    let offset = [
        config.position_jitter_px * unit.sample(&mut rng),
        config.position_jitter_px * unit.sample(&mut rng),
    ];

    // Coherent sum of every scatterer through the sinc point-spread function.
    let res_px = config.resolution_m / ps;
    let half_window = (4.0 * res_px).ceil() as isize;
    let mut re = Array2::<f64>::zeros((n, n));
    let mut im = Array2::<f64>::zeros((n, n));
    let fluctuation = LogNormal::new(0.0, 0.35).expect("valid lognormal");
    for s in &model.scatterers {
        let keep = rng.gen_bool(1.0 - config.scatterer_dropout);
        let phase = rng.gen_range(0.0..TAU);
        let strength = fluctuation.sample(&mut rng);
        if !keep {
            continue;
        }
        let (ground, gain) = match s.shape {
            Shape::Point { pos, facing } => (
                pose.place(pos, s.on_turret),
                facing_gain(facing, &pose, s.on_turret),
            ),
            Shape::CylinderGlint { centre: c, radius } => {
                let axis = pose.place(c, s.on_turret);
                let r = radius * 0.5 * (pose.scale[0] + pose.scale[1]);
                ([axis[0] - r, axis[1], axis[2]], 1.0)
            }
        };
        let elevation = (1.0 + s.elevation_slope * (depression - 16.0)).max(0.0);
        let amplitude = s.amplitude * strength * gain * elevation;
        let row = centre + offset[0] + (ground[0] - ground[2] * tan_dep) / ps;
        let col = centre + offset[1] + ground[1] / ps;
        let (r0, c0) = (row.round() as isize, col.round() as isize);
        let (ps_re, ps_im) = (amplitude * phase.cos(), amplitude * phase.sin());
        for r in (r0 - half_window).max(0)..=(r0 + half_window).min(n as isize - 1) {
            let wr = sinc((r as f64 - row) / res_px);
            for c in (c0 - half_window).max(0)..=(c0 + half_window).min(n as isize - 1) {
                let w = wr * sinc((c as f64 - col) / res_px);
                re[[r as usize, c as usize]] += w * ps_re;
                im[[r as usize, c as usize]] += w * ps_im;
            }
        }
    }

    // Height map of the solids in ground range (no layover: the footprint is on the ground).
    let mut height = Array2::<f64>::zeros((n, n));
    for ((r, c), h) in height.indexed_iter_mut() {
        let u = (r as f64 - centre - offset[0]) * ps;
        let v = (c as f64 - centre - offset[1]) * ps;
        // Back to the target frame: undo heading, then turret articulation if needed.
        let (x, y) = rotate(u, v, -heading);
        for (solid, on_turret) in &model.solids {
            let (mut px, mut py) = (x, y);
            if *on_turret {
                let (tx, ty) = (
                    pose.turret_centre[0] * scale[0],
                    pose.turret_centre[1] * scale[1],
                );
                let (dx, dy) = rotate(px - tx, py - ty, -turret_angle);
                px = tx + dx;
                py = ty + dy;
            }
            let (px, py) = (px / scale[0], py / scale[1]);
            let top = match *solid {
                Solid::Box {
                    cx,
                    cy,
                    half_len,
                    half_wid,
                    top,
                } => ((px - cx).abs() <= half_len && (py - cy).abs() <= half_wid).then_some(top),
                Solid::Cylinder {
                    cx,
                    cy,
                    radius,
                    top,
                } => ((px - cx).hypot(py - cy) <= radius).then_some(top),
            };
            if let Some(top) = top {
                *h = h.max(top * scale[2]);
            }
        }
    }

    // Clutter texture: gamma-distributed, smoothed over 3×3 pixels.
    let texture_dist = Gamma::new(3.0, 1.0 / 3.0).expect("valid gamma");
    let raw_texture = Array2::from_shape_simple_fn((n, n), || texture_dist.sample(&mut rng));
    let clutter_mean = 10f64.powf(config.clutter_db / 10.0);
    let speckle = Gamma::new(config.looks, 1.0 / config.looks).expect("looks validated > 0");
    let drop_per_pixel = ps * tan_dep;
    let mut magnitude = Array2::<f32>::zeros((n, n));
    for c in 0..n {
        let mut horizon = 0.0_f64;
        for r in 0..n {
            let h = height[[r, c]];
            let shadowed = horizon - drop_per_pixel > h;
            horizon = (horizon - drop_per_pixel).max(h);
            let texture = {
                let (mut sum, mut count) = (0.0, 0.0);
                for rr in r.saturating_sub(1)..(r + 2).min(n) {
                    for cc in c.saturating_sub(1)..(c + 2).min(n) {
                        sum += raw_texture[[rr, cc]];
                        count += 1.0;
                    }
                }
                sum / count
            };
            let diffuse = if shadowed {
                clutter_mean * 0.03
            } else if h > 0.0 {
                clutter_mean * 4.0
            } else {
                clutter_mean * texture
            };
            let coherent = re[[r, c]].powi(2) + im[[r, c]].powi(2);
            let intensity = (coherent + diffuse) * speckle.sample(&mut rng);
            magnitude[[r, c]] = intensity.sqrt() as f32;
        }
    }

    SynthChip {
        class_index: class,
        split,
        index,
        azimuth_deg: heading.to_degrees(),
        depression_deg: depression,
        turret_deg: turret_angle.to_degrees(),
        magnitude,
    }
}
