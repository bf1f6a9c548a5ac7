//! sarlab's study engine: an experiment spec (TOML) is read into typed [`spec`] values,
//! expanded into a [`Plan`] of configurations in one fixed order, optionally split into
//! [`Shard`]s, and run by [`Study::run`], which records every configuration in a
//! [`sarlab_track::Store`], refits each feature method's best configuration on the
//! train split, scores it on the test split and writes the report. An [`Observer`]
//! hears what happens (the CLI draws progress from it).
//!
//! A configuration's recorded parameters ([`Plan::params_of`]) and the dataset's
//! digest make its configuration hash: a database skips configurations it already
//! holds, so the names, values and order of those parameters never change.
//!
//! ```
//! use std::path::Path;
//! use sarlab_study::{Plan, Spec};
//!
//! let text = r#"
//! name = "demo"
//! seed = 7
//! [dataset]
//! source = "folder"
//! path = "chips"
//! [preprocess]
//! crop = [32, 48]
//! [[features]]
//! method = "hog"
//! orientations = [9, 12]
//! [svm]
//! C = [1, 10]
//! "#;
//! let path = Path::new("demo.toml");
//! let plan = Plan::new(Spec::parse(text, path)?, path, text.to_owned())?;
//! assert_eq!(plan.features.len(), 2 * 2); // crop × orientations
//! assert_eq!(plan.configurations(), 4 * 2); // × C
//! assert_eq!(
//!     plan.run_name(0, 1),
//!     "hog crop=32 intensity=linear orientations=9 pixels_per_cell=8 cells_per_block=3 \
//!      block_norm=L2-Hys transform_sqrt=false kernel=rbf C=10 gamma=scale"
//! );
//! # Ok::<(), sarlab_study::Error>(())
//! ```

mod axis;
mod claims;
mod cross_validation;
mod engine;
mod error;
mod feature_axes;
mod filters;
mod halving;
mod heartbeat;
mod load;
mod locate;
pub mod matrix;
pub mod memory;
mod observer;
mod plan;
mod preview;
mod refit;
mod report;
mod results;
mod shard;
mod significance;
pub mod spec;
mod sweep;

pub use axis::{Axis, MAX_AXIS_VALUES};
pub use engine::{Outcome, Study, Trained, WrittenReport};
pub use error::{Error, Result};
pub use halving::RungSummary;
pub use load::prepared;
pub use observer::{Event, Observer, Silent, Task};
pub use plan::{
    FeatureConfig, GridPoint, LARGE_PLAN, MAX_CONFIGURATIONS, MAX_CROP, MAX_NAME_LEN, Plan,
    describe, load_plan,
};
pub use preview::{DatabaseState, MethodPreview, PlanPreview};
pub use refit::TestedModel;
pub use report::write_files;
pub use results::rebuild_report;
pub use shard::Shard;
pub use spec::Spec;
