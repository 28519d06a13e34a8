//! The contract between a CRM connector and the sync engine.
//!
//! A connector speaks one CRM's API and returns plain domain values; the engine decides what to
//! fetch, in what order, and how to commit it with its checkpoints. Adding Salesforce or Pipedrive
//! means implementing [`Connector`]; the engine does not change.

use crate::domain::{
    Activity, Company, CompanyId, Contact, Deal, DealHistory, DealId, Owner, Pipeline, Stakeholder,
    Team,
};
use jiff::Timestamp;
use std::future::Future;

/// A deal as read from the CRM, with its field history.
#[derive(Debug, Clone, PartialEq)]
pub struct RemoteDeal {
    /// The deal's current record.
    pub deal: Deal,
    /// Its stage, amount and close-date history.
    pub history: DealHistory,
}

/// What hangs off a set of deals: their accounts, people and activities.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Enrichment {
    /// Companies associated with the deals.
    pub companies: Vec<Company>,
    /// Contacts associated with the deals or their activities.
    pub contacts: Vec<Contact>,
    /// Deal–contact links, with roles where the CRM has them.
    pub stakeholders: Vec<Stakeholder>,
    /// Calls, meetings, emails and notes on the deals.
    pub activities: Vec<Activity>,
    /// Each deal's (primary) company.
    pub deal_companies: Vec<(DealId, CompanyId)>,
}

/// One page of a paged listing.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// The items on this page.
    pub items: Vec<T>,
    /// The cursor of the next page; `None` on the last page.
    pub next: Option<String>,
}

/// A deal that changed, as found by an incremental query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The deal.
    pub id: DealId,
    /// When the CRM last modified it.
    pub modified_at: Timestamp,
}

/// A deal deleted (archived) in the CRM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Removal {
    /// The deal.
    pub id: DealId,
    /// When it was archived, if the CRM says.
    pub archived_at: Option<Timestamp>,
}

/// Why a CRM call failed, in terms the user can act on.
#[derive(Debug, thiserror::Error)]
pub enum CrmError {
    /// No token where the config says to look.
    #[error(
        "no CRM token: set the environment variable {env_var} to a private-app access token \
         (or store it in the OS keyring under service \"dealtrace\", user \"{env_var}\")"
    )]
    MissingToken {
        /// The variable named by `crm.token_env`.
        env_var: String,
    },
    /// The CRM rejected the token.
    #[error(
        "the CRM rejected the token (HTTP 401): check that {env_var} holds a current private-app \
         access token"
    )]
    Unauthorized {
        /// The variable named by `crm.token_env`.
        env_var: String,
    },
    /// The token lacks a permission.
    #[error(
        "the token is missing the scope {scope} (HTTP 403): add it to the private app's scopes \
         and run sync again"
    )]
    MissingScope {
        /// The scope to grant.
        scope: String,
    },
    /// The account's daily request limit is used up; retrying today is pointless.
    #[error(
        "the CRM's daily API limit is used up: it resets at midnight in the account's time zone; \
         run sync again after that"
    )]
    DailyLimit,
    /// The CRM kept failing after the retries.
    #[error("the CRM answered {status} for {what} after {attempts} attempts: {message}")]
    Http {
        /// HTTP status.
        status: u16,
        /// What was being fetched.
        what: String,
        /// Attempts made.
        attempts: u32,
        /// The CRM's message.
        message: String,
    },
    /// The request never got an answer.
    #[error("cannot reach the CRM at {url}: {message}")]
    Transport {
        /// The URL.
        url: String,
        /// What went wrong.
        message: String,
    },
    /// The CRM answered with something this connector does not understand.
    #[error("the CRM sent an unexpected response for {what}: {message}")]
    Decode {
        /// What was being read.
        what: String,
        /// What was wrong.
        message: String,
    },
    /// The connector cannot do this at all (writing notes to a CSV export, say).
    #[error("{what} is unsupported by this CRM ({source_name})")]
    Unsupported {
        /// What was asked ("posting a note").
        what: &'static str,
        /// The connector's source name.
        source_name: &'static str,
    },
}

impl CrmError {
    /// Whether retrying the same request later cannot help: the request itself, the token's
    /// scopes or the connector are wrong, so a queued write should be marked failed rather than
    /// kept pending. Rate limits (429, including the daily cap), locks (423), timeouts (408),
    /// server errors, lost connections and unreadable answers are worth another try; so is a
    /// rejected or missing token, which the user fixes without changing the request.
    pub fn is_permanent(&self) -> bool {
        match self {
            CrmError::MissingScope { .. } | CrmError::Unsupported { .. } => true,
            CrmError::Http { status, .. } => {
                (400..500).contains(status) && !matches!(status, 408 | 423 | 429)
            }
            CrmError::MissingToken { .. }
            | CrmError::Unauthorized { .. }
            | CrmError::DailyLimit
            | CrmError::Transport { .. }
            | CrmError::Decode { .. } => false,
        }
    }
}

/// A CRM, as the sync engine sees it. Every method is one logical read; the connector handles
/// paging inside a call where the engine does not need to checkpoint between pages, rate limits,
/// retries and the CRM's record shapes.
pub trait Connector: Send + Sync {
    /// The source name stored on deals (`hubspot`).
    fn source(&self) -> &'static str;

    /// Pipelines and their stages.
    fn pipelines(&self) -> impl Future<Output = Result<Vec<Pipeline>, CrmError>> + Send;

    /// Teams and owners, including owners of removed users so that old deals still resolve.
    fn owners(&self) -> impl Future<Output = Result<(Vec<Team>, Vec<Owner>), CrmError>> + Send;

    /// One page of every live deal with its history, from `after` (a cursor from a previous page,
    /// or `None` for the start).
    fn deals_page(
        &self,
        after: Option<String>,
    ) -> impl Future<Output = Result<Page<RemoteDeal>, CrmError>> + Send;

    /// Deals modified at or after `since`, oldest change first.
    fn changed_since(
        &self,
        since: Timestamp,
    ) -> impl Future<Output = Result<Vec<Change>, CrmError>> + Send;

    /// The given deals with their history (ids the CRM no longer has are left out).
    fn deals_by_id(
        &self,
        ids: &[DealId],
    ) -> impl Future<Output = Result<Vec<RemoteDeal>, CrmError>> + Send;

    /// Companies, contacts, stakeholder links and activities of the given deals.
    fn enrich(&self, ids: &[DealId]) -> impl Future<Output = Result<Enrichment, CrmError>> + Send;

    /// How many live deals the CRM holds, when it can say in one cheap request (for a progress
    /// bar's length and ETA). `None` when it cannot; an error here is not worth failing for.
    fn deal_count(&self) -> impl Future<Output = Option<u64>> + Send {
        async { None }
    }

    /// Deals deleted in the CRM.
    fn removed(&self) -> impl Future<Output = Result<Vec<Removal>, CrmError>> + Send;

    /// Requests sent and retried so far.
    fn request_counts(&self) -> (u64, u64);

    /// Creates a note on deal `deal_id` with `body` (HTML, as CRMs store rich notes), dated
    /// `at`, and returns the CRM's id of the new note.
    ///
    /// Not idempotent: a request whose answer is lost may still have created the note, so an
    /// implementation must not retry it blindly after a server error or a timeout (only after
    /// an answer that proves nothing was stored, such as a 429). Callers check with
    /// [`Connector::find_note`] before posting again. CRMs without write-back keep the default,
    /// which says so.
    fn post_note(
        &self,
        deal_id: &DealId,
        body: &str,
        at: Timestamp,
    ) -> impl Future<Output = Result<String, CrmError>> + Send {
        let _ = (deal_id, body, at);
        let source_name = self.source();
        async move {
            Err(CrmError::Unsupported {
                what: "posting a note",
                source_name,
            })
        }
    }

    /// The id of a note on deal `deal_id` whose body contains `marker`, if there is one: how a
    /// post whose answer was lost is recognised instead of posted twice.
    fn find_note(
        &self,
        deal_id: &DealId,
        marker: &str,
    ) -> impl Future<Output = Result<Option<String>, CrmError>> + Send {
        let _ = (deal_id, marker);
        let source_name = self.source();
        async move {
            Err(CrmError::Unsupported {
                what: "finding a note",
                source_name,
            })
        }
    }
}
