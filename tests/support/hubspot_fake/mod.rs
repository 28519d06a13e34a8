//! A stateful fake of HubSpot's CRM API on 127.0.0.1, for sync tests and benchmarks.
//!
//! It serves the endpoints and behaviours that `shared/CRM-APIS.md` §1 documents (paths, paging,
//! page limits, search caps, associations v4, engagements, rate limits and their 429 bodies and
//! headers, error bodies) from records built out of domain data, typically a whole
//! [`DemoWorld`], so that a test can sync from it and compare the cache with
//! [`FakeHubSpot::expected_deals`]. It is a wiremock [`MockServer`] with one catch-all responder
//! over shared state, so responses can depend on everything that came before (cursors, budgets,
//! mutations).
//!
//! ```ignore
//! let world = DemoWorld::new(&DemoSpec { deals: 200, ..DemoSpec::default() });
//! let hs = FakeHubSpot::from_world(&world, Options::hubspot(100)).await;
//! // point the connector at hs.uri() with hs.token() ...
//! assert!(hs.requests_in_any_window(Duration::from_secs(10), Some(Class::App)) <= 100);
//! ```
//!
//! Shapes chosen where the sources leave room (each also noted where it is produced):
//! - `propertiesWithHistory` arrays are newest first, exactly the domain history reversed;
//!   entries are `{value, timestamp, sourceType: "CRM_UI", sourceId: "userId:N", sourceLabel:
//!   null, updatedByUserId: N}` (N: the deal owner's `userId`).
//! - Amounts are plain decimals (`"12340"`, `"1500.5"`); instants ISO with milliseconds.
//! - `hs_email_direction`: `INCOMING_EMAIL` (inbound) or `EMAIL` (outbound); calls `INBOUND` /
//!   `OUTBOUND`.
//! - 401 and 403 bodies as observed in HubSpot's SDK issues (see [`Options::missing_scopes`]).
//! - Contact roles are `USER_DEFINED` deal→contact labels (see [`store::role_label`]).

pub mod api;
pub mod limits;
pub mod log;
pub mod store;
pub mod wire;

pub use log::{Class, LoggedRequest};
pub use store::{CreatedNote, Obj};

use dealtrace::demo::{DealBundle, DemoWorld, Planted};
use dealtrace::domain::{
    ActivityId, AmountChange, Company, Contact, ContactId, Deal, DealHistory, DealId, Owner,
    Pipeline, StageChange, StageId, Team,
};
use jiff::Timestamp;
use limits::{Faults, Scripted, Window};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use store::Store;
use wire::{Cursors, correlation_id, error_body, rate_limit_body};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// The token the fake accepts unless [`Options::token`] says otherwise (private-app tokens
/// start with `pat-`, CRM-APIS 1.1).
pub const DEFAULT_TOKEN: &str = "pat-na1-00000000-fake-0000-0000-000000000000";

/// Whether and how 429 responses carry `Retry-After`. HubSpot does not document it on 429s
/// (CRM-APIS 1.12), so the default is [`RetryAfter::Off`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RetryAfter {
    /// No `Retry-After` header.
    #[default]
    Off,
    /// Always this many (whole, rounded up) seconds.
    Fixed(Duration),
    /// The seconds until the rolling window frees a slot (rounded up, at least 1); omitted on
    /// the daily limit, which does not free up within the fake's life.
    UntilFree,
}

/// Behaviour knobs. Everything is off or neutral by default: no budgets, no faults, no
/// latency; [`Options::hubspot`] turns on HubSpot's documented limits.
#[derive(Debug, Clone)]
pub struct Options {
    /// The private-app token requests must carry as `Authorization: Bearer <token>`; anything
    /// else gets 401 `INVALID_AUTHENTICATION`.
    pub token: String,
    /// Scopes the app lacks. A request needing one gets 403 `MISSING_SCOPES` naming them in
    /// `errors[0].context.requiredGranularScopes` (the form seen from live portals, [2nd];
    /// older responses used `requiredScopes`). Scopes per endpoint: deals and the deal
    /// pipeline `crm.objects.deals.read` ([spec]); owners `crm.objects.owners.read`
    /// (UNVERIFIED); contacts, calls, meetings, notes `crm.objects.contacts.read`; emails also
    /// `sales-email-read` ([2nd]); companies `crm.objects.companies.read`; associations both
    /// sides' read scopes; creating a note `crm.objects.contacts.write` ([spec]).
    pub missing_scopes: Vec<String>,
    /// The app's budget of non-exempt requests per rolling [`Options::rate_window`]
    /// (100 Free/Starter, 190 Pro/Enterprise); `None`: unlimited.
    pub ten_second_budget: Option<u32>,
    /// The rolling window of the app budget: 10 s at HubSpot; tests may shorten it so that
    /// "recovers after the window" does not cost ten seconds.
    pub rate_window: Duration,
    /// Search requests per rolling second (5 at HubSpot); `None`: unlimited.
    pub search_per_second: Option<u32>,
    /// Requests per day (all classes); `None`: unlimited. Never resets within the fake's life
    /// (see [`FakeHubSpot::reset_limits`]).
    pub daily_limit: Option<u64>,
    /// Send the `X-HubSpot-RateLimit-*` headers on non-search responses for the limits that are
    /// configured. Off tests a client with headers missing, which the docs allow.
    pub rate_limit_headers: bool,
    /// `Retry-After` on 429s.
    pub retry_after: RetryAfter,
    /// Probability of a random 500/502/503/504 on an accepted request.
    pub fault_rate: f64,
    /// Seed of the random faults (see `limits::Faults`: a fault depends on the seed, the
    /// request and how often that same request was seen, not on arrival order).
    pub fault_seed: u64,
    /// A fixed delay before every response, to model a real network in budget benchmarks.
    pub latency: Duration,
    /// Results one search query can page through (10,000 at HubSpot).
    pub search_cap: usize,
    /// Search shows a created or changed deal only this long after the change (index lag;
    /// "It may take a few moments ...", CRM-APIS 1.4). Zero: at once.
    pub search_lag: Duration,
    /// Associations per record per page in v4 batch reads (beyond it, per-record `paging`).
    pub association_page_size: usize,
    /// If set, object batch reads with `propertiesWithHistory` accept at most this many inputs
    /// (UNVERIFIED at HubSpot whether the 50 of lists applies there, CRM-APIS 1.3).
    pub batch_history_limit: Option<usize>,
    /// Write v4 `toObjectId` as strings (the spec's type) rather than numbers (the docs'
    /// example, and the default here); clients must read both.
    pub association_ids_as_strings: bool,
    /// Keep request bodies in the log (off saves memory in big benchmarks).
    pub log_bodies: bool,
    /// If set, `propertiesWithHistory` returns only this many newest values per property, as
    /// for a deal imported into HubSpot mid-pipeline or one whose early history HubSpot no
    /// longer returns; the stage-entry properties (`hs_v2_date_entered_<stage>`) still know
    /// when each stage was (last) entered.
    pub history_retained: Option<usize>,
    /// The next this-many note creations (`POST /crm/v3/objects/notes`) store the note and
    /// then answer 500, as when the answer is lost between HubSpot and the client (a proxy
    /// timing out, a dropped connection): the client cannot tell that the note exists.
    /// Decremented as they are used.
    pub lost_note_answers: usize,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            token: DEFAULT_TOKEN.to_owned(),
            missing_scopes: Vec::new(),
            ten_second_budget: None,
            rate_window: Duration::from_secs(10),
            search_per_second: None,
            daily_limit: None,
            rate_limit_headers: true,
            retry_after: RetryAfter::Off,
            fault_rate: 0.0,
            fault_seed: 0,
            latency: Duration::ZERO,
            search_cap: 10_000,
            search_lag: Duration::ZERO,
            association_page_size: 100,
            batch_history_limit: None,
            association_ids_as_strings: false,
            log_bodies: true,
            history_retained: None,
            lost_note_answers: 0,
        }
    }
}

impl Options {
    /// HubSpot's documented limits for a private app with `requests_per_10s` (100 or 190):
    /// the rolling 10-second budget and search's 5 requests per second.
    pub fn hubspot(requests_per_10s: u32) -> Options {
        Options {
            ten_second_budget: Some(requests_per_10s),
            search_per_second: Some(5),
            ..Options::default()
        }
    }
}

/// The mutable state every request and every test helper shares.
struct Shared {
    store: Store,
    opts: Options,
    cursors: Cursors,
    started: Instant,
    seq: u64,
    app_window: Window,
    search_window: Window,
    daily_used: u64,
    faults: Faults,
    scripted: Vec<Scripted>,
    log: Vec<LoggedRequest>,
}

/// The endpoints, as routed from method and path.
enum Route {
    Pipelines,
    Pipeline(String),
    Owners,
    Owner(String),
    List(Obj),
    Read(Obj, String),
    Search(Obj),
    BatchRead(Obj),
    CreateNote,
    Associations(Obj, Obj),
    Unknown,
}

impl Route {
    fn parse(method: &str, path: &str) -> Route {
        let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        let obj = Obj::parse;
        let parsed = match (method, segs.as_slice()) {
            ("GET", ["crm", "v3", "pipelines", "deals"]) => Some(Route::Pipelines),
            ("GET", ["crm", "v3", "pipelines", "deals", id]) => Some(Route::Pipeline((*id).into())),
            ("GET", ["crm", "v3", "owners"]) => Some(Route::Owners),
            ("GET", ["crm", "v3", "owners", id]) => Some(Route::Owner((*id).into())),
            ("GET", ["crm", "v3", "objects", t]) => obj(t).map(Route::List),
            ("GET", ["crm", "v3", "objects", t, id]) => {
                obj(t).map(|o| Route::Read(o, (*id).into()))
            }
            ("POST", ["crm", "v3", "objects", t, "search"]) => obj(t).map(Route::Search),
            ("POST", ["crm", "v3", "objects", t, "batch", "read"]) => obj(t).map(Route::BatchRead),
            ("POST", ["crm", "v3", "objects", t]) if obj(t) == Some(Obj::Note) => {
                Some(Route::CreateNote)
            }
            ("POST", ["crm", "v4", "associations", f, t, "batch", "read"]) => {
                obj(f).zip(obj(t)).map(|(f, t)| Route::Associations(f, t))
            }
            _ => None,
        };
        parsed.unwrap_or(Route::Unknown)
    }

    fn class(&self) -> Class {
        match self {
            Route::Search(_) => Class::Search,
            Route::Associations(..) => Class::Associations,
            _ => Class::App,
        }
    }

    fn scopes(&self) -> Vec<&'static str> {
        match self {
            Route::Pipelines | Route::Pipeline(_) => vec!["crm.objects.deals.read"],
            Route::Owners | Route::Owner(_) => vec!["crm.objects.owners.read"],
            Route::List(o) | Route::Read(o, _) | Route::Search(o) | Route::BatchRead(o) => {
                o.read_scopes().to_vec()
            }
            Route::CreateNote => vec!["crm.objects.contacts.write"],
            Route::Associations(f, t) => {
                let mut v = f.read_scopes().to_vec();
                v.extend(
                    t.read_scopes()
                        .iter()
                        .filter(|s| !f.read_scopes().contains(s)),
                );
                v
            }
            Route::Unknown => Vec::new(),
        }
    }
}

/// What the pipeline of checks decided.
struct Answer {
    status: u16,
    body: Value,
    headers: Vec<(String, String)>,
}

impl Shared {
    fn process(&mut self, req: &Request) -> ResponseTemplate {
        let now = Instant::now();
        self.seq += 1;
        let seq = self.seq;
        let method = req.method.as_str().to_owned();
        let path = req.url.path().to_owned();
        let query: Vec<(String, String)> = req
            .url
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let headers: Vec<(String, String)> = req
            .headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let body: Option<Value> = if req.body.is_empty() {
            None
        } else {
            serde_json::from_slice(&req.body).ok()
        };
        let route = Route::parse(&method, &path);
        let class = route.class();
        let mut answer = self.answer(req, &route, &query, body.as_ref(), now, seq);
        answer
            .headers
            .push(("x-hubspot-correlation-id".into(), correlation_id(seq)));
        self.log.push(LoggedRequest {
            seq,
            at: now.saturating_duration_since(self.started),
            method,
            path,
            query,
            headers,
            body: if self.opts.log_bodies { body } else { None },
            status: answer.status,
            class,
        });
        let mut t = ResponseTemplate::new(answer.status).set_body_json(answer.body);
        for (k, v) in answer.headers {
            t = t.insert_header(k.as_str(), v.as_str());
        }
        if !self.opts.latency.is_zero() {
            t = t.set_delay(self.opts.latency);
        }
        t
    }

    /// The checks in order: scripted faults, auth, scopes, route, daily cap, rolling windows,
    /// random faults, then the endpoint. A request counts against the budgets once it is
    /// accepted (faults included: the server did receive it); 401, 403, 404 and 429 do not.
    fn answer(
        &mut self,
        req: &Request,
        route: &Route,
        query: &[(String, String)],
        body: Option<&Value>,
        now: Instant,
        seq: u64,
    ) -> Answer {
        let class = route.class();
        let path = req.url.path();
        if let Some(status) = self.take_scripted(path) {
            if status == 429 {
                return self.too_many(class, "TEN_SECONDLY_ROLLING", now, seq);
            }
            self.consume(class, now);
            return self.with_rate_headers(class, now, fault_answer(status, seq));
        }
        let expected = format!("Bearer {}", self.opts.token);
        let auth = req
            .headers
            .get("authorization")
            .map(|v| v.as_bytes() == expected.as_bytes());
        if auth != Some(true) {
            // [2nd] hubspot-api-nodejs #148 / #432; the auth-failure header: hubspot-api-ruby #181.
            return Answer {
                status: 401,
                body: error_body(
                    seq,
                    "INVALID_AUTHENTICATION",
                    "Authentication credentials not found. This API supports OAuth 2.0 \
                     authentication and you can find more details at \
                     https://developers.hubspot.com/docs/methods/auth/oauth-overview",
                ),
                headers: vec![("x-hubspot-auth-failure".into(), "401 Unauthorized".into())],
            };
        }
        let missing: Vec<&str> = route
            .scopes()
            .into_iter()
            .filter(|s| self.opts.missing_scopes.iter().any(|m| m == s))
            .collect();
        if !missing.is_empty() {
            // [2nd] hubspot-api-nodejs #268 (shape) with `requiredGranularScopes` as live
            // portals return it.
            let mut b = error_body(
                seq,
                "MISSING_SCOPES",
                "This app hasn't been granted all required scopes to make this call. Read more \
                 about required scopes here: https://developers.hubspot.com/scopes.",
            );
            b["errors"] = json!([{
                "message": "One or more of the following scopes are required.",
                "context": {"requiredGranularScopes": missing},
            }]);
            b["links"] = json!({"scopes": "https://developers.hubspot.com/scopes"});
            return Answer {
                status: 403,
                body: b,
                headers: Vec::new(),
            };
        }
        if matches!(route, Route::Unknown) {
            return Answer {
                status: 404,
                body: error_body(seq, "OBJECT_NOT_FOUND", "resource not found"),
                headers: Vec::new(),
            };
        }
        if let Some(daily) = self.opts.daily_limit
            && self.daily_used >= daily
        {
            return self.too_many(class, "DAILY", now, seq);
        }
        match class {
            Class::App => {
                if let Some(max) = self.opts.ten_second_budget
                    && self.app_window.count(now, self.opts.rate_window) >= max as usize
                {
                    return self.too_many(class, "TEN_SECONDLY_ROLLING", now, seq);
                }
            }
            Class::Search => {
                if let Some(max) = self.opts.search_per_second
                    && self.search_window.count(now, Duration::from_secs(1)) >= max as usize
                {
                    return self.too_many(class, "SECONDLY", now, seq);
                }
            }
            Class::Associations => {}
        }
        self.consume(class, now);
        let raw_query = req.url.query().unwrap_or("");
        if let Some(status) = self.faults.draw(
            self.opts.fault_seed,
            self.opts.fault_rate,
            &[
                req.method.as_str().as_bytes(),
                path.as_bytes(),
                raw_query.as_bytes(),
                &req.body,
            ],
        ) {
            return self.with_rate_headers(class, now, fault_answer(status, seq));
        }
        let reply = self.dispatch(route, query, body, &req.body, now, seq);
        let answer = Answer {
            status: reply.status,
            body: reply.body,
            headers: Vec::new(),
        };
        self.with_rate_headers(class, now, answer)
    }

    fn dispatch(
        &mut self,
        route: &Route,
        query: &[(String, String)],
        body: Option<&Value>,
        raw_body: &[u8],
        now: Instant,
        seq: u64,
    ) -> api::Reply {
        let ctx = api::Ctx {
            opts: &self.opts,
            cursors: self.cursors,
            seq,
        };
        let q = api::Query(query);
        let null = Value::Null;
        let json_body = || body.unwrap_or(&null);
        let invalid_json = !raw_body.is_empty() && body.is_none();
        if invalid_json && !matches!(route, Route::Search(_)) {
            return api::Reply {
                status: 400,
                body: wire::validation_error(seq, "Invalid input JSON"),
            };
        }
        match route {
            Route::Pipelines => api::pipelines(&self.store),
            Route::Pipeline(id) => api::pipeline(&self.store, &ctx, id),
            Route::Owners => api::owners(&self.store, &ctx, &q),
            Route::Owner(id) => api::owner(&self.store, &ctx, id, &q),
            Route::List(o) => api::list(&self.store, &ctx, *o, &q),
            Route::Read(o, id) => api::read(&self.store, &ctx, *o, id, &q),
            Route::Search(o) => api::search(&self.store, &ctx, *o, raw_body, now),
            Route::BatchRead(o) => api::batch_read(&self.store, &ctx, *o, &q, json_body()),
            Route::Associations(f, t) => {
                api::association_batch(&self.store, &ctx, *f, *t, json_body())
            }
            Route::CreateNote => {
                let reply = api::create_note(&mut self.store, &ctx, json_body());
                if reply.status == 201 && self.opts.lost_note_answers > 0 {
                    // Stored, but the client hears only a server error.
                    self.opts.lost_note_answers -= 1;
                    return api::Reply {
                        status: 500,
                        body: error_body(
                            seq,
                            "INTERNAL_ERROR",
                            "injected lost answer (the note was stored)",
                        ),
                    };
                }
                reply
            }
            Route::Unknown => api::Reply {
                status: 404,
                body: error_body(seq, "OBJECT_NOT_FOUND", "resource not found"),
            },
        }
    }

    fn take_scripted(&mut self, path: &str) -> Option<u16> {
        let s = self
            .scripted
            .iter_mut()
            .find(|s| s.remaining > 0 && path.starts_with(&s.prefix))?;
        s.remaining -= 1;
        let status = s.status;
        self.scripted.retain(|s| s.remaining > 0);
        Some(status)
    }

    fn consume(&mut self, class: Class, now: Instant) {
        self.daily_used += 1;
        match class {
            Class::App => self.app_window.push(now),
            Class::Search => self.search_window.push(now),
            Class::Associations => {}
        }
    }

    /// A 429 of `policy`, with the headers and (if configured) `Retry-After`.
    fn too_many(&mut self, class: Class, policy: &str, now: Instant, seq: u64) -> Answer {
        // Messages: [doc] for DAILY and the search limit; the ten-secondly wording is the one
        // seen in real responses ([2nd]).
        let message = match policy {
            "DAILY" => "You have reached your daily limit.",
            "SECONDLY" => "You have reached your secondly limit.",
            _ => "You have reached your ten_secondly_rolling limit.",
        };
        let mut headers = Vec::new();
        let wait = match (self.opts.retry_after, policy) {
            (RetryAfter::Off, _) => None,
            (RetryAfter::Fixed(d), _) => Some(d),
            (RetryAfter::UntilFree, "DAILY") => None,
            (RetryAfter::UntilFree, "SECONDLY") => {
                Some(self.search_window.wait(now, Duration::from_secs(1)))
            }
            (RetryAfter::UntilFree, _) => Some(self.app_window.wait(now, self.opts.rate_window)),
        };
        if let Some(w) = wait {
            let secs = w.as_secs() + u64::from(w.subsec_nanos() > 0);
            headers.push(("retry-after".into(), secs.max(1).to_string()));
        }
        let answer = Answer {
            status: 429,
            body: rate_limit_body(seq, policy, message),
            headers,
        };
        self.with_rate_headers(class, now, answer)
    }

    /// Adds the rate-limit headers (never on search responses, CRM-APIS 1.12).
    fn with_rate_headers(&mut self, class: Class, now: Instant, mut a: Answer) -> Answer {
        if class == Class::Search || !self.opts.rate_limit_headers {
            return a;
        }
        if let Some(max) = self.opts.ten_second_budget {
            let used = self.app_window.count(now, self.opts.rate_window);
            a.headers.extend([
                (
                    "x-hubspot-ratelimit-interval-milliseconds".to_owned(),
                    self.opts.rate_window.as_millis().to_string(),
                ),
                ("x-hubspot-ratelimit-max".to_owned(), max.to_string()),
                (
                    "x-hubspot-ratelimit-remaining".to_owned(),
                    (max as usize).saturating_sub(used).to_string(),
                ),
            ]);
        }
        if let Some(daily) = self.opts.daily_limit {
            a.headers.extend([
                ("x-hubspot-ratelimit-daily".to_owned(), daily.to_string()),
                (
                    "x-hubspot-ratelimit-daily-remaining".to_owned(),
                    daily.saturating_sub(self.daily_used).to_string(),
                ),
            ]);
        }
        a
    }
}

/// The answer of an injected 5xx (or other scripted non-429 status): a CRM error body of the
/// fake's own wording, since HubSpot's 5xx bodies are not documented.
fn fault_answer(status: u16, seq: u64) -> Answer {
    Answer {
        status,
        body: error_body(
            seq,
            "INTERNAL_ERROR",
            &format!("injected fault (HTTP {status})"),
        ),
        headers: Vec::new(),
    }
}

/// The wiremock responder: every request goes through the shared state.
struct Responder(Arc<Mutex<Shared>>);

impl Respond for Responder {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        lock(&self.0).process(request)
    }
}

/// Locks the state, carrying on after a panic elsewhere (a failed assertion in a test must not
/// turn every later request into a poisoned-lock panic on the server thread).
fn lock(m: &Mutex<Shared>) -> MutexGuard<'_, Shared> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A running fake HubSpot account.
pub struct FakeHubSpot {
    server: MockServer,
    shared: Arc<Mutex<Shared>>,
}

impl FakeHubSpot {
    /// A fake holding every deal of `world` (with its pipeline, teams, owners, companies and
    /// contacts). The deals are simulated on all cores.
    pub async fn from_world(world: &DemoWorld, options: Options) -> FakeHubSpot {
        let mut store = Store {
            pipeline: Some(world.pipeline.clone()),
            teams: world.teams.clone(),
            ..Store::default()
        };
        for o in &world.owners {
            store.add_owner(o.clone());
        }
        for c in &world.companies {
            store.add_company(c.clone());
        }
        for c in &world.contacts {
            store.add_contact(c.clone());
        }
        for b in simulate_all(world) {
            store.add_deal(b);
        }
        FakeHubSpot::start(store, options).await
    }

    /// A fake with no records; add them with `set_pipeline`, `add_owner`, `add_deal`, ...
    pub async fn empty(options: Options) -> FakeHubSpot {
        FakeHubSpot::start(Store::default(), options).await
    }

    async fn start(store: Store, opts: Options) -> FakeHubSpot {
        let cursors = Cursors::new(0x5EED_CAFE_F00D_D00D ^ opts.fault_seed);
        let shared = Arc::new(Mutex::new(Shared {
            store,
            opts,
            cursors,
            started: Instant::now(),
            seq: 0,
            app_window: Window::default(),
            search_window: Window::default(),
            daily_used: 0,
            faults: Faults::default(),
            scripted: Vec::new(),
            log: Vec::new(),
        }));
        // wiremock binds 127.0.0.1 on an ephemeral port; its own recording is off because the
        // fake keeps a richer log.
        let server = MockServer::builder()
            .disable_request_recording()
            .start()
            .await;
        Mock::given(any())
            .respond_with(Responder(Arc::clone(&shared)))
            .mount(&server)
            .await;
        FakeHubSpot { server, shared }
    }

    fn state(&self) -> MutexGuard<'_, Shared> {
        lock(&self.shared)
    }

    /// The base URL (`http://127.0.0.1:PORT`), to use as the connector's `base_url`.
    pub fn uri(&self) -> String {
        self.server.uri()
    }

    /// The token the fake accepts.
    pub fn token(&self) -> String {
        self.state().opts.token.clone()
    }

    /// The current options.
    pub fn options(&self) -> Options {
        self.state().opts.clone()
    }

    /// Changes options while the fake runs (e.g. revoke a scope, turn faults on).
    pub fn update_options(&self, f: impl FnOnce(&mut Options)) {
        f(&mut self.state().opts);
    }

    /// The next `n` requests (any path) fail with `status`, before any other check (auth
    /// included). A 429 gets the `TEN_SECONDLY_ROLLING` body and headers and uses no budget;
    /// any other status (meant for 5xx and 423) a generic error body, and uses budget.
    pub fn fail_next(&self, n: usize, status: u16) {
        self.fail_next_on("", n, status);
    }

    /// The next `n` requests whose path starts with `path_prefix` fail with `status`.
    pub fn fail_next_on(&self, path_prefix: &str, n: usize, status: u16) {
        if n > 0 {
            self.state().scripted.push(Scripted {
                prefix: path_prefix.to_owned(),
                remaining: n,
                status,
            });
        }
    }

    /// Empties the rolling windows and the daily count.
    pub fn reset_limits(&self) {
        let mut s = self.state();
        s.app_window = Window::default();
        s.search_window = Window::default();
        s.daily_used = 0;
    }

    // --- Data set-up ---

    /// Sets the deal pipeline.
    pub fn set_pipeline(&self, pipeline: Pipeline) {
        self.state().store.pipeline = Some(pipeline);
    }

    /// Adds a team (owners name theirs by id).
    pub fn add_team(&self, team: Team) {
        self.state().store.teams.push(team);
    }

    /// Adds or replaces an owner; inactive owners are listed only with `archived=true`.
    pub fn add_owner(&self, owner: Owner) {
        self.state().store.add_owner(owner);
    }

    /// Adds or replaces a company.
    pub fn add_company(&self, company: Company) {
        self.state().store.add_company(company);
    }

    /// Adds or replaces a contact.
    pub fn add_contact(&self, contact: Contact) {
        self.state().store.add_contact(contact);
    }

    /// Adds or replaces a deal with its history, stakeholders and activities (normalised as
    /// [`store::normalise`] describes). Ids must be numeric.
    pub fn add_deal(&self, bundle: DealBundle) {
        let mut s = self.state();
        let lag = s.opts.search_lag;
        let id = bundle.deal.id.clone();
        s.store.add_deal(bundle);
        mark_changed(&mut s, &id, lag);
    }

    /// Adds `n` minimal deals (no contacts, company or activities; first stage; amount 1000)
    /// created and last modified at `created`: a light world for search-cap tests. Returns
    /// their ids, which follow every existing deal id.
    pub fn add_bare_deals(&self, n: usize, created: Timestamp) -> Vec<DealId> {
        let mut s = self.state();
        let first = s
            .store
            .deals
            .keys()
            .next_back()
            .map_or(13_000_000_001, |k| k + 1);
        let (pipeline, stage) = s.store.pipeline.as_ref().map_or_else(
            || ("default".into(), "appointmentscheduled".into()),
            |p| {
                let stage = p
                    .stages
                    .first()
                    .map_or_else(|| "appointmentscheduled".into(), |st| st.id.clone());
                (p.id.clone(), stage)
            },
        );
        let mut ids = Vec::with_capacity(n);
        for i in 0..n {
            let id: DealId = (first + i as u64).to_string().into();
            let deal = Deal {
                id: id.clone(),
                source: "hubspot".into(),
                name: format!("Bulk deal {}", i + 1),
                company_id: None,
                owner_id: None,
                pipeline_id: pipeline.clone(),
                stage_id: stage.clone(),
                amount: Some(1000.0),
                currency: "USD".into(),
                created_at: created,
                close_date: None,
                is_closed: false,
                is_won: false,
                closed_reason: None,
                last_modified: created,
                archived_at: None,
                properties: BTreeMap::new(),
            };
            let history = DealHistory {
                stages: vec![StageChange {
                    at: created,
                    stage_id: stage.clone(),
                }],
                amounts: vec![AmountChange {
                    at: created,
                    amount: Some(1000.0),
                }],
                close_dates: Vec::new(),
            };
            s.store.add_deal(DealBundle {
                deal,
                history,
                stakeholders: Vec::new(),
                activities: Vec::new(),
                planted: Planted::default(),
            });
            ids.push(id);
        }
        ids
    }

    // --- Mutations (server-side changes for incremental sync) ---

    /// Edits the deal's name (`dealname` gains " (edit N)") and sets `hs_lastmodifieddate` to `at`.
    /// Every mutation truncates its instant to milliseconds, as HubSpot stores them.
    ///
    /// # Panics
    /// If there is no live deal `id`.
    pub fn touch_deal(&self, id: &DealId, at: Timestamp) {
        let mut s = self.state();
        let lag = s.opts.search_lag;
        Store::touch(s.store.live_deal_mut(id), at);
        mark_changed(&mut s, id, lag);
    }

    /// Moves the deal to `stage` at `at`: appends to the stage history, updates the closed
    /// flags, sets the close date when it closes, bumps `hs_lastmodifieddate`.
    ///
    /// # Panics
    /// If there is no live deal `id` or the pipeline has no such stage.
    pub fn change_stage(&self, id: &DealId, stage: &StageId, at: Timestamp) {
        let mut s = self.state();
        let lag = s.opts.search_lag;
        let pipeline = s.store.pipeline.clone();
        Store::change_stage(s.store.live_deal_mut(id), pipeline.as_ref(), stage, at);
        mark_changed(&mut s, id, lag);
    }

    /// Archives (deletes) the deal at `at`: it leaves lists, search, batch reads and
    /// associations, and appears only with `archived=true`, with `archivedAt`.
    ///
    /// # Panics
    /// If there is no live deal `id`.
    pub fn archive_deal(&self, id: &DealId, at: Timestamp) {
        let mut s = self.state();
        s.store.live_deal_mut(id).bundle.deal.archived_at = Some(store::to_ms(at));
    }

    /// Removes the association between a deal and one of its contacts, and the deal's activities
    /// (calls, meetings, emails, notes) with the ids given, as a user deleting them in HubSpot
    /// does. The deal's `hs_lastmodifieddate` is left alone: whether association edits bump it
    /// is not documented, so only a full sync is relied on to notice. Returns whether anything
    /// was removed.
    ///
    /// # Panics
    /// If there is no live deal `id`.
    pub fn unlink(
        &self,
        id: &DealId,
        contact: Option<&ContactId>,
        activities: &[ActivityId],
    ) -> bool {
        self.edit_bundle(id, |bundle| {
            let before = (bundle.stakeholders.len(), bundle.activities.len());
            if let Some(c) = contact {
                bundle.stakeholders.retain(|st| &st.contact_id != c);
            }
            bundle.activities.retain(|a| !activities.contains(&a.id));
            before != (bundle.stakeholders.len(), bundle.activities.len())
        })
    }

    /// Edits a live deal's bundle as a user editing its associations would: the deal is
    /// re-added, which re-indexes its engagements (they are found by position in the bundle),
    /// while its name, edit count and search visibility stay as they were.
    fn edit_bundle<T>(&self, id: &DealId, edit: impl FnOnce(&mut DealBundle) -> T) -> T {
        let mut s = self.state();
        let entry = s.store.live_deal_mut(id);
        let mut bundle = entry.bundle.clone();
        let kept = (entry.base_name.clone(), entry.touches, entry.visible_after);
        let result = edit(&mut bundle);
        s.store.add_deal(bundle);
        let entry = s.store.live_deal_mut(id);
        (entry.base_name, entry.touches, entry.visible_after) = kept;
        result
    }

    /// Associates activity `activity` (of any live deal) with live deal `other` too, as logging
    /// one email against two deals does. Like [`FakeHubSpot::unlink`], leaves
    /// `hs_lastmodifieddate` alone.
    ///
    /// # Panics
    /// If there is no live deal `other` or no activity `activity`.
    pub fn share_activity(&self, activity: &ActivityId, other: &DealId) {
        let mut found = self
            .state()
            .store
            .deals
            .values()
            .flat_map(|e| e.bundle.activities.iter())
            .find(|a| &a.id == activity)
            .cloned()
            .unwrap_or_else(|| panic!("the fake HubSpot has no activity {activity}"));
        found.deal_id = other.clone();
        self.edit_bundle(other, |bundle| bundle.activities.push(found));
    }

    /// Touches the first `n` live deals (in id order) all at the same instant `at`, as a bulk
    /// import does: the case where one timestamp can hold more results than search's cap.
    /// Returns the ids touched.
    pub fn bulk_touch(&self, n: usize, at: Timestamp) -> Vec<DealId> {
        let mut s = self.state();
        let lag = s.opts.search_lag;
        let ids: Vec<DealId> = s
            .store
            .deals
            .values()
            .filter(|e| e.bundle.deal.archived_at.is_none())
            .take(n)
            .map(|e| e.bundle.deal.id.clone())
            .collect();
        for id in &ids {
            Store::touch(s.store.live_deal_mut(id), at);
            mark_changed(&mut s, id, lag);
        }
        ids
    }

    // --- The truth, for comparisons ---

    /// Every live deal as the fake holds it (normalised, mutations applied), in id order.
    pub fn expected_deals(&self) -> Vec<DealBundle> {
        self.state()
            .store
            .deals
            .values()
            .filter(|e| e.bundle.deal.archived_at.is_none())
            .map(|e| e.bundle.clone())
            .collect()
    }

    /// One deal (live or archived), if the fake has it.
    pub fn expected_deal(&self, id: &DealId) -> Option<DealBundle> {
        let key: u64 = id.as_str().parse().ok()?;
        self.state().store.deals.get(&key).map(|e| e.bundle.clone())
    }

    /// The archived deals, with `archived_at` set, in id order.
    pub fn expected_archived_deals(&self) -> Vec<Deal> {
        self.state()
            .store
            .deals
            .values()
            .filter(|e| e.bundle.deal.archived_at.is_some())
            .map(|e| e.bundle.deal.clone())
            .collect()
    }

    /// Ids of the live deals, in id order.
    pub fn deal_ids(&self) -> Vec<DealId> {
        self.state()
            .store
            .deals
            .values()
            .filter(|e| e.bundle.deal.archived_at.is_none())
            .map(|e| e.bundle.deal.id.clone())
            .collect()
    }

    /// The newest `hs_lastmodifieddate` of any live deal.
    pub fn latest_modified(&self) -> Option<Timestamp> {
        self.state()
            .store
            .deals
            .values()
            .filter(|e| e.bundle.deal.archived_at.is_none())
            .map(|e| e.bundle.deal.last_modified)
            .max()
    }

    /// The pipeline.
    pub fn expected_pipeline(&self) -> Option<Pipeline> {
        self.state().store.pipeline.clone()
    }

    /// The owners, in owner-list order.
    pub fn expected_owners(&self) -> Vec<Owner> {
        self.state().store.owners.clone()
    }

    /// The teams.
    pub fn expected_teams(&self) -> Vec<Team> {
        self.state().store.teams.clone()
    }

    /// The companies, in id order.
    pub fn expected_companies(&self) -> Vec<Company> {
        self.state().store.companies.values().cloned().collect()
    }

    /// The contacts, in id order.
    pub fn expected_contacts(&self) -> Vec<Contact> {
        self.state().store.contacts.values().cloned().collect()
    }

    /// Notes created through `POST /crm/v3/objects/notes`, in order.
    pub fn created_notes(&self) -> Vec<CreatedNote> {
        self.state().store.created_notes.clone()
    }

    /// Notes created through the API on deal `id` (type 214), in order: the count a
    /// write-back test checks for duplicates.
    pub fn notes_on(&self, id: &DealId) -> Vec<CreatedNote> {
        self.state()
            .store
            .created_notes
            .iter()
            .filter(|n| n.deal_id.as_ref() == Some(id))
            .cloned()
            .collect()
    }

    // --- The request log ---

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.state().log.clone()
    }

    /// How many requests arrived.
    pub fn request_count(&self) -> usize {
        self.state().log.len()
    }

    /// How many requests had a path starting with `path_prefix`.
    pub fn count(&self, path_prefix: &str) -> usize {
        self.state()
            .log
            .iter()
            .filter(|r| r.path.starts_with(path_prefix))
            .count()
    }

    /// How many requests were answered with `status`.
    pub fn count_status(&self, status: u16) -> usize {
        self.state()
            .log
            .iter()
            .filter(|r| r.status == status)
            .count()
    }

    /// The most requests of `class` (`None`: all) that arrived within any interval of length
    /// `window`. With `Some(Class::App)` and 10 s this is what HubSpot's rolling budget counts.
    pub fn requests_in_any_window(&self, window: Duration, class: Option<Class>) -> usize {
        log::max_in_window(&self.state().log, window, |r| {
            class.is_none_or(|c| r.class == c)
        })
    }

    /// Forgets the logged requests (budgets are kept; see [`FakeHubSpot::reset_limits`]).
    pub fn clear_log(&self) {
        self.state().log.clear();
    }
}

/// Hides a changed deal from search for the index lag.
fn mark_changed(s: &mut Shared, id: &DealId, lag: Duration) {
    if lag.is_zero() {
        return;
    }
    if let Some(e) = id
        .as_str()
        .parse::<u64>()
        .ok()
        .and_then(|k| s.store.deals.get_mut(&k))
    {
        e.visible_after = Some(Instant::now() + lag);
    }
}

/// Simulates every deal of the world, split across the available cores.
fn simulate_all(world: &DemoWorld) -> Vec<DealBundle> {
    let n = world.deal_count();
    let threads = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .clamp(1, 8);
    let chunk = n.div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..n)
            .step_by(chunk)
            .map(|start| {
                scope.spawn(move || {
                    (start..(start + chunk).min(n))
                        .map(|i| world.deal(i))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("deal simulation panicked"))
            .collect()
    })
}
