//! The scene model: each class's target as point and distributed scatterers on a
//! ground plane, posed by aspect angle.

use std::f64::consts::TAU;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::*;

/// How a scatterer's return depends on the direction it is seen from.
#[derive(Debug, Clone, Copy)]
pub(super) enum Facing {
    /// Corner reflectors, edges, small fittings: roughly the same from every side.
    Isotropic,
    /// A face (dihedral with the ground, a plate): strong only near its normal.
    Face([f64; 2]),
    /// A thin cylinder such as a barrel: strong when seen broadside from either side.
    Broadside([f64; 2]),
}

#[derive(Debug, Clone, Copy)]
pub(super) enum Shape {
    Point {
        pos: [f64; 3],
        facing: Facing,
    },
    /// The specular glint of a vertical cylinder, at the point of its side facing the radar.
    CylinderGlint {
        centre: [f64; 3],
        radius: f64,
    },
}

#[derive(Debug, Clone, Copy)]
pub(super) struct Scatterer {
    pub(super) shape: Shape,
    pub(super) amplitude: f64,
    /// Relative change of amplitude per degree of depression away from 16°.
    pub(super) elevation_slope: f64,
    /// Part of the turret: rotates with the turret's articulation.
    pub(super) on_turret: bool,
}

/// A solid that casts shadow and has a diffuse body return: a footprint with a height.
#[derive(Debug, Clone, Copy)]
pub(super) enum Solid {
    Box {
        cx: f64,
        cy: f64,
        half_len: f64,
        half_wid: f64,
        top: f64,
    },
    Cylinder {
        cx: f64,
        cy: f64,
        radius: f64,
        top: f64,
    },
}

#[derive(Debug, Clone)]
pub(super) struct TargetModel {
    pub(super) scatterers: Vec<Scatterer>,
    pub(super) solids: Vec<(Solid, bool)>,
    pub(super) turret_centre: [f64; 2],
}

/// Builds class templates from parts; a per-class generator places the fittings and
/// sets each scatterer's depression sensitivity, identically for every seed.
pub(super) struct ModelBuilder {
    pub(super) rng: ChaCha8Rng,
    pub(super) model: TargetModel,
}

impl ModelBuilder {
    pub(super) fn new(class: usize) -> Self {
        Self {
            rng: ChaCha8Rng::seed_from_u64(0x5A2_1AB0 + class as u64),
            model: TargetModel {
                scatterers: Vec::new(),
                solids: Vec::new(),
                turret_centre: [0.0, 0.0],
            },
        }
    }

    pub(super) fn point(&mut self, pos: [f64; 3], facing: Facing, amplitude: f64, on_turret: bool) {
        let elevation_slope = self.rng.gen_range(-0.12..0.12);
        self.model.scatterers.push(Scatterer {
            shape: Shape::Point { pos, facing },
            amplitude,
            elevation_slope,
            on_turret,
        });
    }

    /// A box part: corner reflectors at its top corners, dihedral lines along its
    /// bottom edges (strong when on the ground), weaker top edges and a few fittings.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn hull(
        &mut self,
        cx: f64,
        cy: f64,
        len: f64,
        wid: f64,
        z0: f64,
        h: f64,
        on_turret: bool,
    ) {
        let (hl, hw, top) = (len / 2.0, wid / 2.0, z0 + h);
        for sx in [-1.0, 1.0] {
            for sy in [-1.0, 1.0] {
                self.point(
                    [cx + sx * hl, cy + sy * hw, top],
                    Facing::Isotropic,
                    0.5,
                    on_turret,
                );
            }
        }
        let edge_amp = if z0 == 0.0 { 0.45 } else { 0.25 };
        let along = (len / 0.6).round().max(2.0) as usize;
        for i in 0..=along {
            let x = cx - hl + len * i as f64 / along as f64;
            for sy in [-1.0, 1.0] {
                self.point(
                    [x, cy + sy * hw, z0],
                    Facing::Face([0.0, sy]),
                    edge_amp,
                    on_turret,
                );
                if i % 2 == 0 {
                    self.point(
                        [x, cy + sy * hw, top],
                        Facing::Face([0.0, sy]),
                        0.22,
                        on_turret,
                    );
                }
            }
        }
        let across = (wid / 0.6).round().max(2.0) as usize;
        for i in 0..=across {
            let y = cy - hw + wid * i as f64 / across as f64;
            for sx in [-1.0, 1.0] {
                self.point(
                    [cx + sx * hl, y, z0],
                    Facing::Face([sx, 0.0]),
                    edge_amp,
                    on_turret,
                );
            }
        }
        for _ in 0..3 {
            let x = cx + self.rng.gen_range(-0.8..0.8) * hl;
            let y = cy + self.rng.gen_range(-0.8..0.8) * hw;
            self.point([x, y, top], Facing::Isotropic, 0.3, on_turret);
        }
        self.model.solids.push((
            Solid::Box {
                cx,
                cy,
                half_len: hl,
                half_wid: hw,
                top,
            },
            on_turret,
        ));
    }

    /// A turret-like vertical cylinder: rim fittings and the side glint.
    pub(super) fn cylinder(
        &mut self,
        cx: f64,
        cy: f64,
        radius: f64,
        z0: f64,
        h: f64,
        on_turret: bool,
    ) {
        for k in 0..8 {
            let a = TAU * k as f64 / 8.0;
            let n = [a.cos(), a.sin()];
            self.point(
                [cx + radius * n[0], cy + radius * n[1], z0 + h],
                Facing::Face(n),
                0.3,
                on_turret,
            );
        }
        let elevation_slope = self.rng.gen_range(-0.12..0.12);
        self.model.scatterers.push(Scatterer {
            shape: Shape::CylinderGlint {
                centre: [cx, cy, z0 + h / 2.0],
                radius,
            },
            amplitude: 0.7,
            elevation_slope,
            on_turret,
        });
        self.model.solids.push((
            Solid::Cylinder {
                cx,
                cy,
                radius,
                top: z0 + h,
            },
            on_turret,
        ));
    }

    /// A barrel from `start` pointing forward (+x) by `len` metres at height `z`.
    pub(super) fn barrel(&mut self, start: [f64; 2], len: f64, z: f64) {
        let steps = (len / 0.5).round().max(1.0) as usize;
        for i in 0..steps {
            let x = start[0] + len * i as f64 / steps as f64;
            self.point([x, start[1], z], Facing::Broadside([0.0, 1.0]), 0.2, true);
        }
        self.point([start[0] + len, start[1], z], Facing::Isotropic, 0.45, true);
    }

    /// Road wheels or tyres along both sides, `n` per side between `x0` and `x1`.
    pub(super) fn wheels(
        &mut self,
        n: usize,
        x0: f64,
        x1: f64,
        half_wid: f64,
        z: f64,
        amplitude: f64,
    ) {
        for i in 0..n {
            let x = if n == 1 {
                x0
            } else {
                x0 + (x1 - x0) * i as f64 / (n - 1) as f64
            };
            for sy in [-1.0, 1.0] {
                self.point(
                    [x, sy * half_wid, z],
                    Facing::Face([0.0, sy]),
                    amplitude,
                    false,
                );
            }
        }
    }

    pub(super) fn turret_at(&mut self, cx: f64, cy: f64) {
        self.model.turret_centre = [cx, cy];
    }
}

/// The nominal model of a class (x forward, y left, z up; metres).
pub(super) fn build_model(class: usize) -> TargetModel {
    let mut b = ModelBuilder::new(class);
    match CLASS_NAMES[class] {
        "aa_gun" => {
            b.hull(0.0, 0.0, 6.5, 3.1, 0.0, 1.4, false);
            b.turret_at(0.0, 0.0);
            b.cylinder(0.0, 0.0, 1.25, 1.4, 0.95, true);
            for y in [-0.45, 0.45] {
                b.barrel([1.1, y], 2.3, 2.1);
            }
            b.point([-1.0, 0.0, 3.0], Facing::Isotropic, 1.2, true);
            b.wheels(6, -2.5, 2.5, 1.55, 0.4, 0.4);
        }
        "apc_8x8" => {
            b.hull(0.0, 0.0, 7.5, 2.8, 0.0, 2.0, false);
            b.turret_at(1.2, 0.0);
            b.cylinder(1.2, 0.0, 0.45, 2.0, 0.35, true);
            b.barrel([1.6, 0.0], 1.2, 2.2);
            b.wheels(4, -2.6, 2.4, 1.4, 0.55, 0.7);
        }
        "dozer" => {
            b.hull(-0.5, 0.0, 4.4, 2.6, 0.0, 2.3, false);
            b.hull(2.4, 0.0, 0.3, 3.9, 0.0, 1.3, false);
            for y in [-0.6, 0.6] {
                b.point([-3.1, y, 0.6], Facing::Broadside([1.0, 0.0]), 0.5, false);
            }
            b.wheels(5, -2.4, 1.4, 1.3, 0.35, 0.4);
        }
        "ifv" => {
            b.hull(0.0, 0.0, 6.7, 3.1, 0.0, 1.9, false);
            b.turret_at(0.3, 0.0);
            b.cylinder(0.3, 0.0, 0.75, 1.9, 0.55, true);
            b.barrel([1.05, 0.0], 2.2, 2.2);
            b.wheels(6, -2.6, 2.6, 1.55, 0.4, 0.4);
        }
        "scout_4x4" => {
            b.hull(0.0, 0.0, 5.7, 2.35, 0.0, 1.7, false);
            b.turret_at(0.2, 0.0);
            b.cylinder(0.2, 0.0, 0.5, 1.7, 0.45, true);
            b.barrel([0.7, 0.0], 1.0, 1.95);
            b.wheels(2, -1.6, 1.6, 1.18, 0.5, 0.7);
        }
        "spg" => {
            b.hull(0.0, 0.0, 7.3, 2.9, 0.0, 1.4, false);
            b.turret_at(-1.4, 0.0);
            b.cylinder(-1.4, 0.0, 1.3, 1.4, 1.1, true);
            b.barrel([-0.1, 0.0], 3.8, 2.0);
            b.wheels(7, -3.0, 3.0, 1.45, 0.4, 0.4);
        }
        "tank" => {
            b.hull(0.0, 0.0, 6.9, 3.5, 0.0, 1.5, false);
            b.turret_at(-0.4, 0.0);
            b.cylinder(-0.4, 0.0, 1.15, 1.5, 0.7, true);
            b.barrel([0.75, 0.0], 4.2, 1.9);
            b.wheels(6, -2.7, 2.7, 1.75, 0.4, 0.4);
        }
        "truck" => {
            b.hull(2.4, 0.0, 1.9, 2.4, 0.0, 2.5, false);
            b.hull(-1.0, 0.0, 4.2, 2.5, 0.0, 1.9, false);
            b.wheels(3, -2.0, 2.4, 1.25, 0.5, 0.6);
        }
        other => unreachable!("class {other} has no model"),
    }
    b.model
}

// ---------------------------------------------------------------------------------
// Rendering
// ---------------------------------------------------------------------------------

/// A rigid placement of the target: scale, turret articulation, heading.
pub(super) struct Pose {
    pub(super) scale: [f64; 3],
    pub(super) turret_centre: [f64; 2],
    pub(super) turret_angle: f64,
    pub(super) heading: f64,
}

impl Pose {
    /// Target-frame point to (range, cross-range, height) in metres; +range points away
    /// from the radar.
    pub(super) fn place(&self, p: [f64; 3], on_turret: bool) -> [f64; 3] {
        let (mut x, mut y) = (p[0] * self.scale[0], p[1] * self.scale[1]);
        if on_turret {
            let (tx, ty) = (
                self.turret_centre[0] * self.scale[0],
                self.turret_centre[1] * self.scale[1],
            );
            let (dx, dy) = rotate(x - tx, y - ty, self.turret_angle);
            x = tx + dx;
            y = ty + dy;
        }
        let (u, v) = rotate(x, y, self.heading);
        [u, v, p[2] * self.scale[2]]
    }

    pub(super) fn direction(&self, n: [f64; 2], on_turret: bool) -> [f64; 2] {
        let (mut x, mut y) = (n[0], n[1]);
        if on_turret {
            (x, y) = rotate(x, y, self.turret_angle);
        }
        let (u, v) = rotate(x, y, self.heading);
        [u, v]
    }
}

pub(super) fn rotate(x: f64, y: f64, angle: f64) -> (f64, f64) {
    let (s, c) = angle.sin_cos();
    (x * c - y * s, x * s + y * c)
}

/// Gain of a scatterer seen from the radar, whose line of sight points along +range.
pub(super) fn facing_gain(facing: Facing, pose: &Pose, on_turret: bool) -> f64 {
    match facing {
        Facing::Isotropic => 1.0,
        Facing::Face(n) => {
            let towards_radar = -pose.direction(n, on_turret)[0];
            if towards_radar > 0.0 {
                0.08 + 0.92 * towards_radar.powi(8)
            } else {
                0.04
            }
        }
        Facing::Broadside(n) => {
            let c = pose.direction(n, on_turret)[0].abs();
            0.1 + 0.9 * c.powi(12)
        }
    }
}
