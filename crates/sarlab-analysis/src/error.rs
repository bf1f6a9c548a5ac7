/// What the statistics refuse.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    #[error("{what}: {message}")]
    InvalidInput { what: &'static str, message: String },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

pub(crate) fn invalid<T>(what: &'static str, message: impl Into<String>) -> Result<T> {
    Err(Error::InvalidInput {
        what,
        message: message.into(),
    })
}
