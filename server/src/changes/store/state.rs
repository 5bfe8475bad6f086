//! The states of a change and how they are stored.

/// Where a change is in its life: saved as a draft, proposed (open for review), merged, or
/// closed without merging. Stored as its [`ChangeState::as_str`] text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChangeState {
    Draft,
    Open,
    Merged,
    Closed,
}

impl ChangeState {
    /// The text stored in `changes.state` and sent on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Open => "open",
            Self::Merged => "merged",
            Self::Closed => "closed",
        }
    }

    /// The state spelled `text`, if it is one.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "draft" => Some(Self::Draft),
            "open" => Some(Self::Open),
            "merged" => Some(Self::Merged),
            "closed" => Some(Self::Closed),
            _ => None,
        }
    }

    /// Still in play: a draft or an open change (it may yet be proposed, merged or closed).
    pub fn is_active(self) -> bool {
        matches!(self, Self::Draft | Self::Open)
    }
}

impl std::fmt::Display for ChangeState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A `changes.state` that is none of the known states (a row written by a newer version).
#[derive(Debug, thiserror::Error)]
#[error("unknown change state {0:?}")]
pub struct UnknownState(pub String);

impl TryFrom<String> for ChangeState {
    type Error = UnknownState;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        Self::parse(&text).ok_or(UnknownState(text))
    }
}

/// Read as the text it is stored as, on either database.
impl<DB: sqlx::Database> sqlx::Type<DB> for ChangeState
where
    String: sqlx::Type<DB>,
{
    fn type_info() -> DB::TypeInfo {
        <String as sqlx::Type<DB>>::type_info()
    }

    fn compatible(ty: &DB::TypeInfo) -> bool {
        <String as sqlx::Type<DB>>::compatible(ty)
    }
}

/// An unknown text is a decode error naming it (sqlx's `try_from` attribute loses the message).
impl<'r, DB: sqlx::Database> sqlx::Decode<'r, DB> for ChangeState
where
    String: sqlx::Decode<'r, DB>,
{
    fn decode(value: DB::ValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
        Ok(Self::try_from(<String as sqlx::Decode<'r, DB>>::decode(
            value,
        )?)?)
    }
}

#[cfg(test)]
mod tests {
    use super::ChangeState;

    #[test]
    fn states_read_back_as_they_are_written() {
        for state in [
            ChangeState::Draft,
            ChangeState::Open,
            ChangeState::Merged,
            ChangeState::Closed,
        ] {
            assert_eq!(ChangeState::parse(state.as_str()), Some(state));
            assert_eq!(state.to_string(), state.as_str());
        }
        assert_eq!(ChangeState::parse("Open"), None, "stored lower-case only");
        assert!(ChangeState::try_from("archived".to_owned()).is_err());
    }
}
