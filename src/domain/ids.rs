//! Identifier newtypes, so that a contact id can never be passed where a deal id is expected.
//!
//! Ids that come from a CRM stay the CRM's strings; ids that dealtrace mints (reviews, traces,
//! lessons) are UUID v7 strings, time-ordered so that they sort by creation.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub String);

        impl $name {
            /// The id as the string the source system uses.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                Self(s)
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                Self(s.to_owned())
            }
        }
    };
}

id_type!(
    /// A deal's id in its source CRM.
    DealId
);
id_type!(
    /// A pipeline's id in its source CRM (HubSpot's default pipeline is `default`).
    PipelineId
);
id_type!(
    /// A stage's internal id (HubSpot: `appointmentscheduled`, `closedwon`, …).
    StageId
);
id_type!(
    /// A deal owner's id (HubSpot owner `id`, not `userId`).
    OwnerId
);
id_type!(
    /// A sales team's id.
    TeamId
);
id_type!(
    /// A company (account) id.
    CompanyId
);
id_type!(
    /// A contact id.
    ContactId
);
id_type!(
    /// An activity (call, meeting, email, note) id.
    ActivityId
);
id_type!(
    /// A lesson id, minted by dealtrace or carried in from a shared library file.
    LessonId
);

/// Mints a new time-ordered id (UUID v7) for records dealtrace owns.
pub fn new_local_id() -> String {
    uuid::Uuid::now_v7().to_string()
}
