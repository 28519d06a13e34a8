//! HubSpot's HTTP layer: authentication, budgets, retries, and errors that say what to do.

use super::limits::{Budget, Limits};
use crate::crm::connector::CrmError;
use backon::{ExponentialBuilder, Retryable};
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// How a request is retried: exponential backoff with jitter for timeouts, 5xx and 423, and
/// HubSpot's own waits for 429s. 4xx other than 423/429 are never retried: they will not change.
pub const MAX_ATTEMPTS: usize = 6;

/// How many 429s one request waits out before giving up. A 429 says "later", not "broken" —
/// another app on the same account may be spending the shared budget — so these waits do not
/// use up the [`MAX_ATTEMPTS`] meant for failures; the cap only stops a sync that can never get
/// through (about five minutes of ten-second windows).
pub const MAX_RATE_LIMIT_WAITS: u32 = 30;

/// A client for one HubSpot account.
pub struct Client {
    http: reqwest::Client,
    base: String,
    token: SecretString,
    token_env: String,
    limits: Limits,
    requests: AtomicU64,
    retries: AtomicU64,
    backoff: (Duration, Duration),
}

/// One failed attempt, classified for the retry loop.
#[derive(Debug)]
enum Attempt {
    /// Worth another try after the backoff (or after `wait`, when the server said how long).
    Transient {
        status: Option<u16>,
        message: String,
        wait: Option<Duration>,
    },
    /// Final.
    Fatal(CrmError),
}

/// HubSpot's error body (all fields optional: bodies vary by endpoint).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ErrorBody {
    #[serde(default)]
    message: String,
    #[serde(default)]
    policy_name: Option<String>,
    #[serde(default)]
    category: Option<String>,
    #[serde(default)]
    errors: Vec<ErrorDetail>,
}

#[derive(Debug, Default, Deserialize)]
struct ErrorDetail {
    #[serde(default)]
    message: String,
    #[serde(default)]
    context: Option<serde_json::Value>,
}

impl Client {
    /// A client for the API at `base` (no trailing slash needed).
    pub fn new(
        base: &str,
        token: SecretString,
        token_env: &str,
        requests_per_10s: u32,
    ) -> Result<Client, CrmError> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .connect_timeout(Duration::from_secs(10))
            .user_agent(concat!("dealtrace/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| CrmError::Transport {
                url: base.to_owned(),
                message: e.to_string(),
            })?;
        Ok(Client {
            http,
            base: base.trim_end_matches('/').to_owned(),
            token,
            token_env: token_env.to_owned(),
            limits: Limits::new(requests_per_10s),
            requests: AtomicU64::new(0),
            retries: AtomicU64::new(0),
            backoff: (Duration::from_millis(200), Duration::from_secs(20)),
        })
    }

    /// Changes the backoff's first and longest delay (tests shorten them).
    pub fn with_backoff(mut self, min: Duration, max: Duration) -> Client {
        self.backoff = (min, max.max(min));
        self
    }

    /// Requests sent and retried so far.
    pub fn counts(&self) -> (u64, u64) {
        (
            self.requests.load(Ordering::Relaxed),
            self.retries.load(Ordering::Relaxed),
        )
    }

    /// GET `path` with `query`, decoded as `T`.
    pub async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
        budget: Budget,
    ) -> Result<T, CrmError> {
        self.send(Method::GET, path, query, None, budget, MAX_ATTEMPTS)
            .await
    }

    /// POST `body` to `path`, decoded as `T`.
    pub async fn post<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &serde_json::Value,
        budget: Budget,
    ) -> Result<T, CrmError> {
        self.send(Method::POST, path, &[], Some(body), budget, MAX_ATTEMPTS)
            .await
    }

    /// POST `body` to `path` once, for a request that creates something: a server error or a
    /// timeout may come after the record was stored, so retrying could create it twice. Only
    /// 429s are waited out and sent again, because a 429 means the request was refused
    /// unprocessed. The caller decides what a lost answer means (see `Connector::find_note`).
    pub async fn post_once<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &serde_json::Value,
        budget: Budget,
    ) -> Result<T, CrmError> {
        self.send(Method::POST, path, &[], Some(body), budget, 1)
            .await
    }

    async fn send<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&serde_json::Value>,
        budget: Budget,
        max_attempts: usize,
    ) -> Result<T, CrmError> {
        let url = format!("{}{}", self.base, path);
        let attempts = std::sync::atomic::AtomicU32::new(0);
        let backoff = ExponentialBuilder::default()
            .with_min_delay(self.backoff.0)
            .with_max_delay(self.backoff.1)
            .with_max_times(max_attempts.saturating_sub(1))
            .with_jitter();
        let (method_ref, url_ref, attempts_ref) = (&method, &url, &attempts);
        let result = (|| async move {
            if attempts_ref.fetch_add(1, Ordering::Relaxed) > 0 {
                self.retries.fetch_add(1, Ordering::Relaxed);
            }
            // 429s are waited out here, outside the backoff's attempts (see MAX_RATE_LIMIT_WAITS).
            let mut waits = 0;
            loop {
                match self
                    .attempt::<T>(method_ref, url_ref, query, body, budget)
                    .await
                {
                    Err(Attempt::Transient {
                        status: Some(429),
                        wait: Some(wait),
                        message,
                    }) if waits < MAX_RATE_LIMIT_WAITS => {
                        waits += 1;
                        self.retries.fetch_add(1, Ordering::Relaxed);
                        tracing::info!(?wait, %message, "HubSpot rate limit hit; waiting");
                        tokio::time::sleep(wait).await;
                    }
                    other => return other,
                }
            }
        })
        .retry(backoff)
        .when(|e: &Attempt| matches!(e, Attempt::Transient { .. }))
        .adjust(|e: &Attempt, planned| match e {
            // The server said how long: wait that long (never less than the backoff's plan would
            // for a 5xx, never longer than a window plus a margin).
            Attempt::Transient { wait: Some(w), .. } => planned.map(|_| *w),
            _ => planned,
        })
        .await;
        let attempts = attempts.load(Ordering::Relaxed);
        result.map_err(|e| match e {
            Attempt::Fatal(e) => e,
            Attempt::Transient {
                status: Some(status),
                message,
                ..
            } => CrmError::Http {
                status,
                what: format!("{method} {path}"),
                attempts,
                message,
            },
            Attempt::Transient {
                status: None,
                message,
                ..
            } => CrmError::Transport { url, message },
        })
    }

    /// One request, refused or answered.
    async fn attempt<T: DeserializeOwned>(
        &self,
        method: &Method,
        url: &str,
        query: &[(&str, String)],
        body: Option<&serde_json::Value>,
        budget: Budget,
    ) -> Result<T, Attempt> {
        self.limits.acquire(budget).await;
        let mut auth = HeaderValue::from_str(&format!("Bearer {}", self.token.expose_secret()))
            .map_err(|_| {
                Attempt::Fatal(CrmError::Unauthorized {
                    env_var: self.token_env.clone(),
                })
            })?;
        // Keeps the token out of any debug output of the request.
        auth.set_sensitive(true);
        let mut request = self
            .http
            .request(method.clone(), url)
            .header(AUTHORIZATION, auth);
        if !query.is_empty() {
            request = request.query(query);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        self.requests.fetch_add(1, Ordering::Relaxed);
        let response = request.send().await.map_err(|e| Attempt::Transient {
            status: None,
            message: e.to_string(),
            wait: None,
        })?;
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.map_err(|e| Attempt::Transient {
            status: Some(status.as_u16()),
            message: e.to_string(),
            wait: None,
        })?;
        if status.is_success() {
            self.pace_from_headers(&headers).await;
            return serde_json::from_slice(&bytes).map_err(|e| {
                Attempt::Fatal(CrmError::Decode {
                    what: url.to_owned(),
                    message: e.to_string(),
                })
            });
        }
        Err(classify(
            status,
            &headers,
            &bytes,
            &self.token_env,
            &format!("{method} {url}"),
        ))
    }

    /// When HubSpot says the window is spent, wait for it instead of provoking a 429.
    async fn pace_from_headers(&self, headers: &HeaderMap) {
        let number = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
        };
        if number("x-hubspot-ratelimit-remaining") == Some(0) {
            // The window is spent, but a rolling window frees a slot as soon as its oldest
            // request ages out: pause for one slot's share of the window, not for the whole
            // window (which stalled a whole page chain for 10 s each time our own limiter used
            // the budget to the last request). If something else is spending the budget too,
            // the 429 that may follow says how long to wait.
            let interval = number("x-hubspot-ratelimit-interval-milliseconds").unwrap_or(10_000);
            let max = number("x-hubspot-ratelimit-max").unwrap_or(100).max(1);
            let pause = Duration::from_millis(interval.min(10_000) / max);
            tracing::debug!(
                ?pause,
                "HubSpot reports the rate-limit window spent; pausing"
            );
            tokio::time::sleep(pause).await;
        }
    }
}

/// Turns a non-success response into a retry decision or a final error. `request` is the
/// method and URL (`POST https://…/crm/v3/objects/notes`), which decide the scope a 403 names
/// when the body names none.
fn classify(
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
    token_env: &str,
    request: &str,
) -> Attempt {
    let parsed: ErrorBody = serde_json::from_slice(body).unwrap_or_default();
    let message = if parsed.message.is_empty() {
        String::from_utf8_lossy(body).chars().take(300).collect()
    } else {
        parsed.message.clone()
    };
    let retry_after = headers
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    match status.as_u16() {
        401 => Attempt::Fatal(CrmError::Unauthorized {
            env_var: token_env.to_owned(),
        }),
        403 => Attempt::Fatal(CrmError::MissingScope {
            scope: missing_scope(&parsed).unwrap_or_else(|| scope_for(request).to_owned()),
        }),
        429 => {
            let policy = parsed.policy_name.as_deref().unwrap_or("");
            if policy.eq_ignore_ascii_case("DAILY") {
                return Attempt::Fatal(CrmError::DailyLimit);
            }
            // The search API's limit comes as "secondly" (its message says "You have reached
            // your secondly limit."); the app budget as TEN_SECONDLY_ROLLING. Anything else is
            // treated as the 10-second window, the longer wait.
            let secondly = policy.eq_ignore_ascii_case("SECONDLY")
                || (policy.is_empty() && message.to_ascii_lowercase().contains("your secondly"));
            let wait = retry_after.unwrap_or(if secondly {
                Duration::from_secs(1)
            } else {
                Duration::from_secs(10)
            });
            Attempt::Transient {
                status: Some(429),
                message,
                wait: Some(wait),
            }
        }
        423 => Attempt::Transient {
            status: Some(423),
            message,
            // "include a delay of at least 2 seconds"
            wait: Some(retry_after.unwrap_or(Duration::from_secs(2))),
        },
        500..=599 => Attempt::Transient {
            status: Some(status.as_u16()),
            message,
            wait: retry_after,
        },
        other => Attempt::Fatal(CrmError::Http {
            status: other,
            what: parsed.category.unwrap_or_else(|| "request".to_owned()),
            attempts: 1,
            message,
        }),
    }
}

/// The scope an endpoint needs, for a 403 whose body does not name one. `request` is the
/// method and URL.
fn scope_for(request: &str) -> &'static str {
    // Creating a note (CRM-APIS 1.11: "Scope needed (per spec): crm.objects.contacts.write");
    // reading notes (batch read, search) needs only the read scope below.
    let (method, url) = request.split_once(' ').unwrap_or(("GET", request));
    if method == "POST" && url.trim_end_matches('/').ends_with("/crm/v3/objects/notes") {
        return "crm.objects.contacts.write";
    }
    const SCOPES: &[(&str, &str)] = &[
        ("/owners", "crm.objects.owners.read"),
        ("companies", "crm.objects.companies.read"),
        ("contacts", "crm.objects.contacts.read"),
        ("/calls", "crm.objects.contacts.read"),
        ("/meetings", "crm.objects.contacts.read"),
        ("/emails", "crm.objects.contacts.read"),
        ("/notes", "crm.objects.contacts.read"),
    ];
    SCOPES
        .iter()
        .find(|(part, _)| url.contains(part))
        .map_or("crm.objects.deals.read", |(_, scope)| scope)
}

/// The scope a 403 names, where the body says (HubSpot lists required scopes in the message or
/// in the error context).
fn missing_scope(body: &ErrorBody) -> Option<String> {
    let from_text = |text: &str| {
        text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == '_'))
            .find(|w| w.starts_with("crm.") || w.starts_with("oauth") || w.contains(".read"))
            .map(str::to_owned)
    };
    from_text(&body.message)
        .or_else(|| body.errors.iter().find_map(|e| from_text(&e.message)))
        .or_else(|| {
            body.errors
                .iter()
                .find_map(|e| e.context.as_ref().and_then(|c| from_text(&c.to_string())))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Classifies as if for the deals endpoint.
    fn classify(status: StatusCode, h: &HeaderMap, body: &[u8], env: &str) -> Attempt {
        super::classify(status, h, body, env, "/crm/v3/objects/deals")
    }

    #[test]
    fn a_403_without_a_named_scope_names_the_endpoint_s_scope() {
        let a = super::classify(
            StatusCode::FORBIDDEN,
            &HeaderMap::new(),
            b"{}",
            "T",
            "https://api.hubapi.com/crm/v3/objects/companies/batch/read",
        );
        let Attempt::Fatal(e) = a else {
            panic!("403 is final")
        };
        assert!(e.to_string().contains("crm.objects.companies.read"), "{e}");
        assert_eq!(scope_for("/crm/v3/owners"), "crm.objects.owners.read");
        assert_eq!(
            scope_for("/crm/v3/objects/deals/search"),
            "crm.objects.deals.read"
        );
        assert_eq!(
            scope_for("POST https://api.hubapi.com/crm/v3/objects/notes"),
            "crm.objects.contacts.write"
        );
        assert_eq!(
            scope_for("POST https://api.hubapi.com/crm/v3/objects/notes/batch/read"),
            "crm.objects.contacts.read"
        );
    }

    fn body(json: &str) -> Vec<u8> {
        json.as_bytes().to_vec()
    }

    #[test]
    fn daily_limit_is_final_and_ten_secondly_waits_a_window() {
        let h = HeaderMap::new();
        let daily = classify(
            StatusCode::TOO_MANY_REQUESTS,
            &h,
            &body(
                r#"{"status":"error","message":"You have reached your daily limit.","errorType":"RATE_LIMIT","policyName":"DAILY"}"#,
            ),
            "HUBSPOT_TOKEN",
        );
        assert!(matches!(daily, Attempt::Fatal(CrmError::DailyLimit)));
        let ten = classify(
            StatusCode::TOO_MANY_REQUESTS,
            &h,
            &body(
                r#"{"message":"You have reached your ten_secondly_rolling limit.","policyName":"TEN_SECONDLY_ROLLING"}"#,
            ),
            "HUBSPOT_TOKEN",
        );
        assert!(
            matches!(ten, Attempt::Transient { wait: Some(w), .. } if w == Duration::from_secs(10))
        );
        let search = classify(
            StatusCode::TOO_MANY_REQUESTS,
            &h,
            &body(r#"{"message":"You have reached your secondly limit."}"#),
            "HUBSPOT_TOKEN",
        );
        assert!(
            matches!(search, Attempt::Transient { wait: Some(w), .. } if w == Duration::from_secs(1))
        );
    }

    #[test]
    fn retry_after_wins_when_present() {
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, HeaderValue::from_static("3"));
        let a = classify(StatusCode::TOO_MANY_REQUESTS, &h, b"{}", "T");
        assert!(
            matches!(a, Attempt::Transient { wait: Some(w), .. } if w == Duration::from_secs(3))
        );
    }

    #[test]
    fn auth_errors_are_final_and_actionable() {
        let h = HeaderMap::new();
        let a = classify(StatusCode::UNAUTHORIZED, &h, b"{}", "MY_TOKEN");
        let Attempt::Fatal(e) = a else {
            panic!("401 is final")
        };
        assert!(e.to_string().contains("MY_TOKEN"), "{e}");
        let a = classify(
            StatusCode::FORBIDDEN,
            &h,
            &body(
                r#"{"status":"error","message":"This app hasn't been granted all required scopes to make this call. Read more about required scopes here: https://developers.hubspot.com/scopes.","errors":[{"message":"One or more of the following scopes are required.","context":{"requiredGranularScopes":["crm.objects.companies.read"]}}],"category":"MISSING_SCOPES"}"#,
            ),
            "T",
        );
        let Attempt::Fatal(e) = a else {
            panic!("403 is final")
        };
        assert!(e.to_string().contains("crm.objects.companies.read"), "{e}");
    }

    #[test]
    fn server_errors_retry_and_other_client_errors_do_not() {
        let h = HeaderMap::new();
        assert!(matches!(
            classify(StatusCode::BAD_GATEWAY, &h, b"", "T"),
            Attempt::Transient {
                status: Some(502),
                ..
            }
        ));
        assert!(matches!(
            classify(
                StatusCode::BAD_REQUEST,
                &h,
                br#"{"message":"bad","category":"VALIDATION_ERROR"}"#,
                "T"
            ),
            Attempt::Fatal(CrmError::Http { status: 400, .. })
        ));
    }
}

/// The retry loop against a local server (wiremock on 127.0.0.1).
#[cfg(test)]
mod wire_tests {
    use super::*;
    use wiremock::matchers::{header, method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    fn client(server: &MockServer) -> Client {
        Client::new(
            &server.uri(),
            SecretString::from("pat-test"),
            "HUBSPOT_TOKEN",
            100,
        )
        .unwrap()
        .with_backoff(Duration::from_millis(1), Duration::from_millis(5))
    }

    #[tokio::test]
    async fn server_errors_are_retried_then_succeed() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/crm/v3/pipelines/deals"))
            .respond_with(ResponseTemplate::new(503))
            .up_to_n_times(2)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/crm/v3/pipelines/deals"))
            .and(header("authorization", "Bearer pat-test"))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(serde_json::json!({"results": []})),
            )
            .mount(&server)
            .await;
        let c = client(&server);
        let v: serde_json::Value = c
            .get("/crm/v3/pipelines/deals", &[], Budget::App)
            .await
            .unwrap();
        assert_eq!(v["results"], serde_json::json!([]));
        assert_eq!(c.counts(), (3, 2));
    }

    #[tokio::test]
    async fn a_429_waits_as_told_and_a_401_is_not_retried() {
        let server = MockServer::start().await;
        Mock::given(path("/limited"))
            .respond_with(
                ResponseTemplate::new(429)
                    .insert_header("Retry-After", "0")
                    .set_body_json(serde_json::json!({"status": "error", "message": "You have reached your ten_secondly_rolling limit.", "errorType": "RATE_LIMIT", "policyName": "TEN_SECONDLY_ROLLING"})),
            )
            .up_to_n_times(1)
            .mount(&server)
            .await;
        Mock::given(path("/limited"))
            .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({})))
            .mount(&server)
            .await;
        Mock::given(path("/secret"))
            .respond_with(ResponseTemplate::new(401).set_body_json(serde_json::json!({"status": "error", "message": "Authentication credentials not found."})))
            .mount(&server)
            .await;
        let c = client(&server);
        let _: serde_json::Value = c.get("/limited", &[], Budget::App).await.unwrap();
        assert_eq!(c.counts(), (2, 1));
        let err = c
            .get::<serde_json::Value>("/secret", &[], Budget::App)
            .await
            .unwrap_err();
        assert!(matches!(err, CrmError::Unauthorized { .. }), "{err}");
        assert_eq!(c.counts(), (3, 1), "401 is not retried");
    }

    #[tokio::test]
    async fn a_create_is_sent_once_on_a_server_error_but_waits_out_a_429() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/crm/v3/objects/notes"))
            .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "0"))
            .up_to_n_times(1)
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path("/crm/v3/objects/notes"))
            .respond_with(ResponseTemplate::new(502))
            .up_to_n_times(1)
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path("/crm/v3/objects/notes"))
            .respond_with(ResponseTemplate::new(201).set_body_json(serde_json::json!({"id": "9"})))
            .mount(&server)
            .await;
        let c = client(&server);
        let body = serde_json::json!({});
        // The 429 is refused unprocessed, so it is sent again; the 502 may follow a stored
        // note, so it is not.
        let err = c
            .post_once::<serde_json::Value>("/crm/v3/objects/notes", &body, Budget::App)
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                CrmError::Http {
                    status: 502,
                    attempts: 1,
                    ..
                }
            ),
            "{err}"
        );
        assert_eq!(c.counts(), (2, 1));
        let v: serde_json::Value = c
            .post_once("/crm/v3/objects/notes", &body, Budget::App)
            .await
            .unwrap();
        assert_eq!(v["id"], "9");
    }

    #[tokio::test]
    async fn persistent_server_errors_give_up_with_the_status() {
        let server = MockServer::start().await;
        Mock::given(path("/down"))
            .respond_with(ResponseTemplate::new(502))
            .mount(&server)
            .await;
        let c = client(&server);
        let err = c
            .get::<serde_json::Value>("/down", &[], Budget::App)
            .await
            .unwrap_err();
        let CrmError::Http {
            status, attempts, ..
        } = err
        else {
            panic!("{err}")
        };
        assert_eq!((status, attempts as usize), (502, MAX_ATTEMPTS));
    }
}
