//! The report's sweep section: for every method, each swept parameter's importance
//! (the share of the CV metric's variance its main effect explains) and the CV metric
//! at each of its values, as a mean over the other parameters and at their best.

/// One method's swept parameters, most important first.
#[derive(Debug, Clone, PartialEq)]
pub struct MethodSweep {
    pub method: String,
    pub parameters: Vec<SweptParameter>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SweptParameter {
    /// As the configuration names spell it (`C`, `crop`, `orientations`…).
    pub name: String,
    /// Share of the CV metric's variance over the method's configurations explained by
    /// this parameter's main effect, in [0, 1].
    pub importance: f64,
    /// The parameter's values in plan order.
    pub levels: Vec<LevelSummary>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LevelSummary {
    pub value: String,
    pub configurations: usize,
    /// Mean CV metric over the configurations with this value.
    pub mean: f64,
    /// The best configuration with this value: its mean CV metric and fold std.
    pub best: (f64, f64),
}

pub(crate) const SWEEP_HEADERS: [&str; 7] = [
    "method",
    "parameter",
    "importance %",
    "value",
    "configurations",
    "mean CV %",
    "best CV % (± fold std)",
];

/// One row per value of every swept parameter; method and parameter named on their
/// first row only.
pub(crate) fn sweep_rows(sweeps: &[MethodSweep]) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    for sweep in sweeps {
        for (p, parameter) in sweep.parameters.iter().enumerate() {
            for (l, level) in parameter.levels.iter().enumerate() {
                let first_level = l == 0;
                rows.push(vec![
                    match first_level && p == 0 {
                        true => sweep.method.clone(),
                        false => String::new(),
                    },
                    match first_level {
                        true => parameter.name.clone(),
                        false => String::new(),
                    },
                    match first_level {
                        true => format!("{:.1}", 100.0 * parameter.importance),
                        false => String::new(),
                    },
                    level.value.clone(),
                    level.configurations.to_string(),
                    format!("{:.2}", 100.0 * level.mean),
                    format!("{:.2} ± {:.2}", 100.0 * level.best.0, 100.0 * level.best.1),
                ]);
            }
        }
    }
    rows
}

pub(crate) const SWEEP_EXPLANATION: &str = "Importance is the share of the CV metric's \
variance over a method's configurations that a parameter's main effect explains: the \
variance of the metric's mean at each of the parameter's values over the total \
(functional ANOVA main effects with every configuration weighed alike; exact on a full \
grid, where the shares sum to one less the interactions). Mean CV is over every \
configuration with that value; best CV is the best of them, with its fold standard \
deviation.";
