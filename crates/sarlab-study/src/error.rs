use std::path::PathBuf;

/// Everything that can stop a plan or a study.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot read experiment spec {}", path.display())]
    ReadSpec {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// The TOML does not parse or does not have the spec's shape (its message gives
    /// the line); `key` is the dotted key it is about, when known.
    #[error("invalid experiment spec {}{}", path.display(), key.as_ref().map(|k| format!(": `{k}`")).unwrap_or_default())]
    ParseSpec {
        path: PathBuf,
        key: Option<String>,
        #[source]
        source: Box<toml::de::Error>,
    },

    /// A value of the spec is out of range or inconsistent; the message names the key.
    #[error("invalid experiment spec {}: {message}", path.display())]
    InvalidSpec { path: PathBuf, message: String },

    /// The study cannot go on with this data or database; the message says why.
    #[error("{0}")]
    Study(String),

    /// What was being done when `source` happened.
    #[error("{context}")]
    Context {
        context: String,
        #[source]
        source: Box<Error>,
    },

    /// The observer asked the study to stop ([`crate::Observer::stop_requested`]).
    #[error("interrupted: the study stopped; the configurations it finished are recorded")]
    Interrupted,

    /// A panic inside the engine, caught so that the study run still ends FAILED.
    #[error("internal error (a bug in sarlab, please report it): {0}")]
    Panicked(String),

    #[error("cannot read back {}", path.display())]
    ReadBack {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error(transparent)]
    Io(#[from] sarlab_io::Error),

    #[error(transparent)]
    Model(#[from] sarlab_model::Error),

    #[error(transparent)]
    Filter(#[from] sarlab_filter::Error),

    #[error(transparent)]
    Features(#[from] sarlab_features::Error),

    #[error(transparent)]
    Transform(#[from] sarlab_transform::Error),

    #[error(transparent)]
    Svm(#[from] sarlab_svm::Error),

    #[error(transparent)]
    Track(#[from] sarlab_track::Error),

    #[error(transparent)]
    Report(#[from] sarlab_report::Error),

    #[error(transparent)]
    Json(#[from] serde_json::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// The error with its causes, `: `-separated, as the CLI prints it (`{:#}`) and as a
    /// FAILED study run records its reason.
    pub fn chain(&self) -> String {
        let mut text = self.to_string();
        let mut source = std::error::Error::source(self);
        while let Some(cause) = source {
            text.push_str(": ");
            text.push_str(&cause.to_string());
            source = cause.source();
        }
        text
    }
}

/// `.context(...)` for the engine's results: the message says what was being done.
pub(crate) trait Context<T> {
    fn context_with(self, context: impl FnOnce() -> String) -> Result<T>;
}

impl<T, E: Into<Error>> Context<T> for std::result::Result<T, E> {
    fn context_with(self, context: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|e| Error::Context {
            context: context(),
            source: Box::new(e.into()),
        })
    }
}
