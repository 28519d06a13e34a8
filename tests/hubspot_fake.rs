//! Tests of the fake HubSpot server itself (tests/support/hubspot_fake): the documented
//! behaviours that sync tests rely on, checked over plain HTTP.

mod support;

use dealtrace::demo::{DemoSpec, DemoWorld, stage_ids};
use dealtrace::domain::{ActivityKind, DealId, Direction, Owner, StageId};
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};
use support::hubspot_fake::limits::{Faults, Window};
use support::hubspot_fake::store::role_label;
use support::hubspot_fake::wire::{CursorKind, Cursors, iso_ms};
use support::hubspot_fake::{Class, FakeHubSpot, Options, RetryAfter};

/// A small demo world: enough deals for every shape, cheap enough for every test.
fn world(deals: usize) -> DemoWorld {
    DemoWorld::new(&DemoSpec {
        deals,
        ..DemoSpec::default()
    })
}

/// A plain HTTP client for the fake, with the fake's token unless told otherwise.
struct Api {
    http: reqwest::Client,
    base: String,
    token: Option<String>,
}

/// One response: status, headers, JSON body (`Null` if it had none).
struct Resp {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: Value,
}

impl Resp {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    fn ids(&self) -> Vec<String> {
        self.body["results"]
            .as_array()
            .expect("results")
            .iter()
            .map(|r| r["id"].as_str().expect("id").to_owned())
            .collect()
    }

    fn next(&self) -> Option<String> {
        self.body
            .get("paging")
            .map(|p| p["next"]["after"].as_str().expect("after").to_owned())
    }
}

impl Api {
    fn new(hs: &FakeHubSpot) -> Api {
        Api {
            http: reqwest::Client::new(),
            base: hs.uri(),
            token: Some(hs.token()),
        }
    }

    fn with_token(hs: &FakeHubSpot, token: Option<&str>) -> Api {
        Api {
            token: token.map(str::to_owned),
            ..Api::new(hs)
        }
    }

    async fn send(&self, rb: reqwest::RequestBuilder) -> Resp {
        let rb = match &self.token {
            Some(t) => rb.bearer_auth(t),
            None => rb,
        };
        let r = rb.send().await.expect("request");
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let text = r.text().await.expect("body");
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).expect("JSON body")
        };
        Resp {
            status,
            headers,
            body,
        }
    }

    async fn get(&self, path: &str, query: &[(&str, &str)]) -> Resp {
        self.send(self.http.get(format!("{}{path}", self.base)).query(query))
            .await
    }

    async fn post(&self, path: &str, body: &Value) -> Resp {
        self.send(self.http.post(format!("{}{path}", self.base)).json(body))
            .await
    }

    /// Every deal id from list paging with `limit` and the extra query, following cursors.
    async fn list_all(&self, path: &str, limit: &str, extra: &[(&str, &str)]) -> Vec<Resp> {
        let mut pages = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let mut q: Vec<(&str, &str)> = vec![("limit", limit)];
            q.extend_from_slice(extra);
            if let Some(a) = &after {
                q.push(("after", a));
            }
            let r = self.get(path, &q).await;
            assert_eq!(r.status, 200, "{}", r.body);
            after = r.next();
            pages.push(r);
            if after.is_none() {
                return pages;
            }
        }
    }

    async fn search(&self, body: &Value) -> Resp {
        self.post("/crm/v3/objects/deals/search", body).await
    }
}

fn ms(t: Timestamp) -> String {
    t.as_millisecond().to_string()
}

/// `filterGroups` with one filter.
fn filter(prop: &str, op: &str, value: &str) -> Value {
    json!([{"filters": [{"propertyName": prop, "operator": op, "value": value}]}])
}

/// `filterGroups` for "modified at or after `t`".
fn gte(t: Timestamp) -> Value {
    filter("hs_lastmodifieddate", "GTE", &ms(t))
}

/// `sorts` on `hs_lastmodifieddate`.
fn by_modified(direction: &str) -> Value {
    json!([{"propertyName": "hs_lastmodifieddate", "direction": direction}])
}

/// Batch `inputs` for these ids.
fn inputs<'a>(ids: impl IntoIterator<Item = &'a str>) -> Vec<Value> {
    ids.into_iter().map(|id| json!({"id": id})).collect()
}

fn parse_ts(v: &Value) -> Timestamp {
    v.as_str().expect("timestamp string").parse().expect("ISO")
}

#[tokio::test]
async fn list_paging_covers_every_deal_exactly_once_behind_opaque_cursors() {
    let hs = FakeHubSpot::from_world(&world(200), Options::default()).await;
    let api = Api::new(&hs);
    let expected: Vec<String> = hs.deal_ids().iter().map(|d| d.to_string()).collect();
    assert_eq!(expected.len(), 200);

    for limit in ["100", "7"] {
        let pages = api.list_all("/crm/v3/objects/deals", limit, &[]).await;
        let seen: Vec<String> = pages.iter().flat_map(Resp::ids).collect();
        assert_eq!(
            seen, expected,
            "every deal once, in id order (limit {limit})"
        );
        let cursors: Vec<String> = pages.iter().filter_map(Resp::next).collect();
        assert_eq!(cursors.len(), pages.len() - 1, "no paging on the last page");
        for c in &cursors {
            // Opaque: neither a record id nor an offset a client could compute.
            assert!(c.parse::<u64>().is_err(), "cursor {c} looks like a number");
            assert!(!expected.contains(c));
        }
        assert_eq!(
            pages[0].body["paging"]["next"]["link"],
            format!("?after={}", cursors[0])
        );
    }

    // The default page is 10; the spec's `0-3` path serves the same records.
    let first = api.get("/crm/v3/objects/deals", &[]).await;
    assert_eq!(first.ids(), expected[..10]);
    let spec_path = api.get("/crm/v3/objects/0-3", &[("limit", "10")]).await;
    assert_eq!(spec_path.ids(), expected[..10]);

    // Forged cursors: the next record's id, or an offset.
    for forged in [expected[10].as_str(), "10", "garbage"] {
        let r = api.get("/crm/v3/objects/deals", &[("after", forged)]).await;
        assert_eq!(r.status, 400, "forged cursor {forged}");
        assert_eq!(r.body["category"], "VALIDATION_ERROR");
    }
    for limit in ["0", "101", "ten"] {
        let r = api.get("/crm/v3/objects/deals", &[("limit", limit)]).await;
        assert_eq!(r.status, 400, "limit {limit}");
    }
}

#[tokio::test]
async fn properties_are_strings_unknown_ones_ignored_and_empty_ones_null() {
    let hs = FakeHubSpot::from_world(&world(200), Options::default()).await;
    let api = Api::new(&hs);
    let by_id: BTreeMap<String, _> = hs
        .expected_deals()
        .into_iter()
        .map(|b| (b.deal.id.to_string(), b))
        .collect();
    let props = "dealname,amount,closedate,dealstage,pipeline,hubspot_owner_id,hs_is_closed,\
                 hs_is_closed_won,closed_won_reason,closed_lost_reason,deal_currency_code,\
                 lead_source,closed_reason_code,no_such_property,\
                 hs_v2_date_entered_appointmentscheduled,hs_v2_date_exited_closedwon";
    let pages = api
        .list_all("/crm/v3/objects/deals", "100", &[("properties", props)])
        .await;
    let mut saw = (false, false, false);
    for rec in pages
        .iter()
        .flat_map(|p| p.body["results"].as_array().unwrap().clone())
    {
        let b = &by_id[rec["id"].as_str().unwrap()];
        let d = &b.deal;
        let p = &rec["properties"];
        assert!(
            p.get("no_such_property").is_none(),
            "unknown properties are ignored"
        );
        for always in ["createdate", "hs_lastmodifieddate", "hs_object_id"] {
            assert!(p.get(always).is_some(), "{always} always comes back");
        }
        assert_eq!(p["dealname"], d.name.as_str());
        assert_eq!(p["hs_object_id"], d.id.as_str());
        assert_eq!(p["dealstage"], d.stage_id.as_str());
        assert_eq!(p["pipeline"], d.pipeline_id.as_str());
        assert_eq!(p["deal_currency_code"], "USD");
        assert_eq!(p["hubspot_owner_id"], d.owner_id.as_ref().unwrap().as_str());
        let amount: f64 = p["amount"].as_str().unwrap().parse().unwrap();
        assert_eq!(Some(amount), d.amount);
        assert!(!p["amount"].as_str().unwrap().contains('e'));
        assert_eq!(parse_ts(&p["closedate"]), d.close_date.unwrap());
        assert_eq!(parse_ts(&p["hs_lastmodifieddate"]), d.last_modified);
        assert_eq!(parse_ts(&p["createdate"]), d.created_at);
        assert!(p["createdate"].as_str().unwrap().ends_with(".000Z"));
        assert_eq!(parse_ts(&rec["updatedAt"]), d.last_modified);
        assert_eq!(p["hs_is_closed"], d.is_closed.to_string());
        assert_eq!(p["hs_is_closed_won"], (d.is_closed && d.is_won).to_string());
        assert_eq!(p["lead_source"], d.properties["lead_source"].as_str());
        // Stage dates follow the history: the last entry into a stage, and the change after it.
        let stages = &b.history.stages;
        let last = |id: &str| stages.iter().rposition(|c| c.stage_id.as_str() == id);
        let entered = last("appointmentscheduled").map(|i| json!(iso_ms(stages[i].at)));
        assert_eq!(
            p["hs_v2_date_entered_appointmentscheduled"],
            entered.unwrap_or(Value::Null)
        );
        let exited = last("closedwon")
            .and_then(|i| stages.get(i + 1))
            .map(|c| json!(iso_ms(c.at)));
        assert_eq!(
            p["hs_v2_date_exited_closedwon"],
            exited.unwrap_or(Value::Null)
        );
        match d.status() {
            dealtrace::domain::DealStatus::Open => {
                saw.0 = true;
                // Known to the account but empty on this deal.
                assert_eq!(p["closed_won_reason"], Value::Null);
                assert_eq!(p["closed_lost_reason"], Value::Null);
                assert_eq!(p["closed_reason_code"], Value::Null);
            }
            dealtrace::domain::DealStatus::Won => {
                saw.1 = true;
                assert_eq!(p["closed_won_reason"], d.closed_reason.as_deref().unwrap());
                assert_eq!(p["closed_lost_reason"], Value::Null);
            }
            dealtrace::domain::DealStatus::Lost => {
                saw.2 = true;
                assert_eq!(p["closed_lost_reason"], d.closed_reason.as_deref().unwrap());
                assert_eq!(p["closed_won_reason"], Value::Null);
            }
        }
    }
    assert_eq!(
        saw,
        (true, true, true),
        "open, won and lost deals all checked"
    );

    // Without `properties`: the documented defaults (plus the always-present three).
    let r = api.get("/crm/v3/objects/deals", &[("limit", "1")]).await;
    let keys: BTreeSet<&str> = r.body["results"][0]["properties"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let defaults = [
        "dealname",
        "amount",
        "closedate",
        "pipeline",
        "dealstage",
        "createdate",
        "hs_lastmodifieddate",
        "hs_object_id",
    ];
    assert_eq!(keys, defaults.into_iter().collect());
}

#[tokio::test]
async fn history_pages_hold_at_most_50_and_come_newest_first() {
    let hs = FakeHubSpot::from_world(&world(200), Options::default()).await;
    let api = Api::new(&hs);
    let history = [("propertiesWithHistory", "dealstage,amount,closedate")];
    for limit in ["100", "51"] {
        let r = api
            .get(
                "/crm/v3/objects/deals",
                &[&[("limit", limit)], &history[..]].concat(),
            )
            .await;
        assert_eq!(r.status, 400, "limit {limit} with history");
        assert_eq!(r.body["category"], "VALIDATION_ERROR");
        assert_eq!(r.body["status"], "error");
    }
    let by_id: BTreeMap<String, _> = hs
        .expected_deals()
        .into_iter()
        .map(|b| (b.deal.id.to_string(), b))
        .collect();
    let pages = api.list_all("/crm/v3/objects/deals", "50", &history).await;
    assert_eq!(pages.len(), 4);
    let mut stage_entries = 0;
    for rec in pages
        .iter()
        .flat_map(|p| p.body["results"].as_array().unwrap().clone())
    {
        let b = &by_id[rec["id"].as_str().unwrap()];
        let h = &rec["propertiesWithHistory"];
        let stages: Vec<(String, Timestamp)> = h["dealstage"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                assert_eq!(e["sourceType"], "CRM_UI");
                assert!(e["sourceId"].as_str().unwrap().starts_with("userId:"));
                (
                    e["value"].as_str().unwrap().to_owned(),
                    parse_ts(&e["timestamp"]),
                )
            })
            .collect();
        let mut expected: Vec<(String, Timestamp)> = b
            .history
            .stages
            .iter()
            .map(|c| (c.stage_id.to_string(), c.at))
            .collect();
        expected.reverse();
        assert_eq!(stages, expected, "stage history, newest first");
        assert_eq!(stages[0].0, b.deal.stage_id.as_str(), "newest is current");
        stage_entries += stages.len();
        let amounts: Vec<f64> = h["amount"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["value"].as_str().unwrap().parse().unwrap())
            .collect();
        let expected: Vec<f64> = b
            .history
            .amounts
            .iter()
            .rev()
            .map(|c| c.amount.unwrap())
            .collect();
        assert_eq!(amounts, expected);
        let closes: Vec<Timestamp> = h["closedate"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| parse_ts(&e["value"]))
            .collect();
        let expected: Vec<Timestamp> = b
            .history
            .close_dates
            .iter()
            .rev()
            .map(|c| c.close_date.unwrap())
            .collect();
        assert_eq!(closes, expected);
    }
    assert!(stage_entries > 200, "histories have several entries");
}

#[tokio::test]
async fn search_filters_sorts_and_counts_like_hubspot() {
    // A budget (so that non-search responses carry rate headers) but no search limit, so the
    // test can search back to back.
    let options = Options {
        ten_second_budget: Some(100),
        ..Options::default()
    };
    let hs = FakeHubSpot::from_world(&world(200), options).await;
    let api = Api::new(&hs);
    let deals = hs.expected_deals();
    let mut times: Vec<Timestamp> = deals.iter().map(|b| b.deal.last_modified).collect();
    times.sort();
    let cutoff = times[times.len() / 2];
    let mut expected: Vec<(Timestamp, String)> = deals
        .iter()
        .filter(|b| b.deal.last_modified >= cutoff)
        .map(|b| (b.deal.last_modified, b.deal.id.to_string()))
        .collect();
    expected.sort();
    let expected_ids: Vec<String> = expected.iter().map(|(_, id)| id.clone()).collect();

    // GTE + ascending sort, paged with integer offsets.
    let mut got = Vec::new();
    let mut after = "0".to_owned();
    loop {
        let r = api
            .search(&json!({
                "filterGroups": gte(cutoff),
                "sorts": by_modified("ASCENDING"),
                "properties": ["hs_lastmodifieddate", "dealname"],
                "limit": 30,
                "after": after,
            }))
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["total"], expected.len());
        for h in r.headers.keys() {
            assert!(
                !h.as_str().starts_with("x-hubspot-ratelimit"),
                "search has no rate headers: {h}"
            );
        }
        got.extend(r.ids());
        match r.next() {
            Some(n) => {
                assert_eq!(n.parse::<usize>().unwrap(), got.len(), "after is an offset");
                after = n;
            }
            None => break,
        }
    }
    assert_eq!(got, expected_ids);

    // Descending, and the default properties of search.
    let r = api
        .search(&json!({
            "filterGroups": gte(cutoff),
            "sorts": by_modified("DESCENDING"),
            "limit": 1,
        }))
        .await;
    assert_eq!(
        parse_ts(&r.body["results"][0]["properties"]["hs_lastmodifieddate"]),
        expected.last().unwrap().0
    );
    for p in [
        "dealname",
        "amount",
        "closedate",
        "pipeline",
        "dealstage",
        "createdate",
        "hs_object_id",
    ] {
        assert!(
            r.body["results"][0]["properties"].get(p).is_some(),
            "default {p}"
        );
    }

    // BETWEEN, LT, EQ/GT on hs_object_id, IN on an enumeration, OR of groups.
    let (lo, hi) = (times[20], times[60]);
    let count =
        |f: &dyn Fn(&dealtrace::demo::DealBundle) -> bool| deals.iter().filter(|b| f(b)).count();
    let cases = [
        (
            json!([{"filters": [{
                "propertyName": "hs_lastmodifieddate",
                "operator": "BETWEEN",
                "value": ms(lo),
                "highValue": ms(hi),
            }]}]),
            count(&|b| b.deal.last_modified >= lo && b.deal.last_modified <= hi),
        ),
        (
            filter("hs_lastmodifieddate", "LT", &ms(lo)),
            count(&|b| b.deal.last_modified < lo),
        ),
        (filter("hs_object_id", "EQ", deals[17].deal.id.as_str()), 1),
        (
            filter("hs_object_id", "GT", deals[149].deal.id.as_str()),
            50,
        ),
        (
            json!([{"filters": [
                {"propertyName": "dealstage", "operator": "IN", "values": ["closedwon"]}
            ]}]),
            count(&|b| b.deal.stage_id.as_str() == "closedwon"),
        ),
        (
            json!([
                filter("hs_object_id", "EQ", deals[1].deal.id.as_str())[0],
                filter("hs_object_id", "EQ", deals[2].deal.id.as_str())[0],
            ]),
            2,
        ),
        (
            json!([{"filters": [
                {"propertyName": "hs_lastmodifieddate", "operator": "GTE", "value": ms(lo)},
                {"propertyName": "hs_lastmodifieddate", "operator": "LTE", "value": ms(hi)},
            ]}]),
            count(&|b| b.deal.last_modified >= lo && b.deal.last_modified <= hi),
        ),
    ];
    for (groups, n) in cases {
        let r = api
            .search(&json!({"filterGroups": groups, "limit": 200}))
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["total"], n, "{groups}");
        assert_eq!(r.ids().len(), n);
    }

    // Validation: page size, offset, body size, sorts, unknown properties, bad datetimes.
    let long: Vec<String> = (0..200).map(|i| format!("property_number_{i}")).collect();
    let bad = [
        json!({"limit": 201}),
        json!({"after": "abc"}),
        json!({"properties": long}),
        json!({"sorts": [{"propertyName": "hs_lastmodifieddate"}, {"propertyName": "createdate"}]}),
        json!({"filterGroups": filter("no_such_thing", "EQ", "1")}),
        json!({"filterGroups": filter("hs_lastmodifieddate", "GTE", "last tuesday")}),
        json!({"filterGroups": filter("hs_lastmodifieddate", "SOMETIMES", "1")}),
    ];
    for body in bad {
        let r = api.search(&body).await;
        assert_eq!(r.status, 400, "{body}");
        assert_eq!(r.body["category"], "VALIDATION_ERROR");
    }
}

#[tokio::test]
async fn search_refuses_to_page_past_ten_thousand_results() {
    let hs = FakeHubSpot::empty(Options::default()).await;
    hs.set_pipeline(world(0).pipeline);
    let t = Timestamp::from_second(1_790_000_000).unwrap();
    hs.add_bare_deals(10_050, t);
    let api = Api::new(&hs);
    let page = |after: &str| {
        json!({
            "filterGroups": gte(t),
            "sorts": by_modified("ASCENDING"),
            "limit": 200,
            "after": after,
        })
    };
    let r = api.search(&page("9800")).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["total"], 10_050);
    assert_eq!(r.ids().len(), 200);
    assert_eq!(
        r.next().as_deref(),
        Some("10000"),
        "the next offset is still offered"
    );
    let r = api.search(&page("9900")).await;
    assert_eq!(r.ids().len(), 100, "a page stops at the cap");
    let r = api.search(&page("10000")).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.body["category"], "VALIDATION_ERROR");
    // The list endpoint has no cap: it still reaches every deal.
    let pages = api
        .list_all(
            "/crm/v3/objects/deals",
            "100",
            &[("properties", "dealname")],
        )
        .await;
    assert_eq!(pages.iter().map(|p| p.ids().len()).sum::<usize>(), 10_050);
}

#[tokio::test]
async fn a_bulk_touch_puts_more_deals_on_one_timestamp_than_search_can_page() {
    let hs = FakeHubSpot::from_world(
        &world(200),
        Options {
            search_cap: 50,
            ..Options::default()
        },
    )
    .await;
    let api = Api::new(&hs);
    let at = hs.latest_modified().unwrap() + SignedDuration::from_hours(1);
    let touched = hs.bulk_touch(120, at);
    assert_eq!(touched.len(), 120);
    let query = |after: usize| {
        json!({"filterGroups": filter("hs_lastmodifieddate", "EQ", &ms(at)),
               "sorts": by_modified("ASCENDING"),
               "limit": 20, "after": after.to_string()})
    };
    let mut got = Vec::new();
    let mut after = 0;
    let status = loop {
        let r = api.search(&query(after)).await;
        if r.status != 200 {
            break r.status;
        }
        assert_eq!(r.body["total"], 120);
        got.extend(r.ids());
        after = r.next().expect("more pages").parse().unwrap();
    };
    assert_eq!(status, 400, "paging past the cap");
    assert_eq!(got.len(), 50);
    let expected: Vec<String> = touched.iter().take(50).map(|d| d.to_string()).collect();
    assert_eq!(got, expected, "one timestamp: ties in id order");
    assert!(
        hs.expected_deal(&touched[0])
            .unwrap()
            .deal
            .name
            .ends_with("(edit 1)")
    );
}

#[tokio::test]
async fn archived_deals_appear_only_with_archived_true() {
    let hs = FakeHubSpot::from_world(&world(60), Options::default()).await;
    let api = Api::new(&hs);
    let ids = hs.deal_ids();
    let at = hs.latest_modified().unwrap() + SignedDuration::from_hours(2);
    for id in [&ids[5], &ids[40]] {
        hs.archive_deal(id, at);
    }
    let live: Vec<String> = api
        .list_all("/crm/v3/objects/deals", "100", &[])
        .await
        .iter()
        .flat_map(Resp::ids)
        .collect();
    assert_eq!(live.len(), 58);
    assert!(!live.contains(&ids[5].to_string()));

    let r = api
        .get(
            "/crm/v3/objects/deals",
            &[("archived", "true"), ("limit", "100")],
        )
        .await;
    assert_eq!(r.ids(), vec![ids[5].to_string(), ids[40].to_string()]);
    for rec in r.body["results"].as_array().unwrap() {
        assert_eq!(rec["archived"], true);
        assert_eq!(parse_ts(&rec["archivedAt"]), at);
    }
    let s = api.search(&json!({"limit": 200})).await;
    assert_eq!(s.body["total"], 58, "archived deals never appear in search");

    let inputs = json!({
        "inputs": inputs([ids[5].as_str(), ids[6].as_str()]),
        "properties": ["dealname"],
    });
    let r = api.post("/crm/v3/objects/deals/batch/read", &inputs).await;
    assert_eq!(r.status, 207);
    assert_eq!(r.ids(), vec![ids[6].to_string()]);
    assert_eq!(
        r.body["errors"][0]["context"]["ids"],
        json!([ids[5].as_str()])
    );
    let r = api
        .send(
            api.http
                .post(format!(
                    "{}/crm/v3/objects/deals/batch/read?archived=true",
                    api.base
                ))
                .json(&inputs),
        )
        .await;
    assert_eq!(r.ids(), vec![ids[5].to_string()]);

    let r = api
        .post(
            "/crm/v4/associations/deals/companies/batch/read",
            &json!({"inputs": [{"id": ids[5].as_str()}]}),
        )
        .await;
    assert_eq!(r.status, 207, "an archived deal has no associations");

    assert_eq!(hs.expected_deals().len(), 58);
    let archived = hs.expected_archived_deals();
    assert_eq!(archived.len(), 2);
    assert!(archived.iter().all(|d| d.archived_at == Some(at)));
}

#[tokio::test]
async fn batch_reads_take_at_most_100_and_report_missing_ids() {
    let hs = FakeHubSpot::from_world(&world(200), Options::default()).await;
    let api = Api::new(&hs);
    let ids = hs.deal_ids();
    let first_n = |n: usize| inputs(ids[..n].iter().map(|d| d.as_str()));

    let r = api
        .post(
            "/crm/v3/objects/deals/batch/read",
            &json!({"inputs": first_n(101), "properties": ["dealname"]}),
        )
        .await;
    assert_eq!(r.status, 400);
    let r = api
        .post(
            "/crm/v3/objects/deals/batch/read",
            &json!({
                "inputs": first_n(100),
                "properties": ["dealname"],
                "propertiesWithHistory": ["dealstage"],
            }),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["status"], "COMPLETE");
    assert!(r.body["startedAt"].is_string() && r.body["completedAt"].is_string());
    assert_eq!(r.ids().len(), 100);
    assert!(r.body["results"][0]["propertiesWithHistory"]["dealstage"].is_array());

    let mut with_missing = first_n(3);
    with_missing.push(json!({"id": "999"}));
    let r = api
        .post(
            "/crm/v3/objects/deals/batch/read",
            &json!({"inputs": with_missing, "properties": []}),
        )
        .await;
    assert_eq!(r.status, 207);
    assert_eq!(r.ids().len(), 3);
    assert_eq!(r.body["numErrors"], 1);
    let e = &r.body["errors"][0];
    assert_eq!(e["category"], "OBJECT_NOT_FOUND");
    assert_eq!(e["context"]["ids"], json!(["999"]));

    // Contacts, companies and engagements read back what the domain holds.
    let contacts = hs.expected_contacts();
    let r = api
        .post(
            "/crm/v3/objects/contacts/batch/read",
            &json!({
                "inputs": inputs(contacts[..5].iter().map(|c| c.id.as_str())),
                "properties": ["firstname", "lastname", "email", "jobtitle", "associatedcompanyid"],
            }),
        )
        .await;
    assert_eq!(r.status, 200);
    for (rec, c) in r.body["results"].as_array().unwrap().iter().zip(&contacts) {
        let p = &rec["properties"];
        let name = format!(
            "{} {}",
            p["firstname"].as_str().unwrap(),
            p["lastname"].as_str().unwrap()
        );
        assert_eq!(name, c.name);
        assert_eq!(p["jobtitle"], c.title.as_deref().unwrap());
        assert_eq!(p["email"], c.email.as_deref().unwrap());
        assert_eq!(
            p["associatedcompanyid"],
            c.company_id.as_ref().unwrap().as_str()
        );
    }
    let companies = hs.expected_companies();
    let r = api
        .post(
            "/crm/v3/objects/companies/batch/read",
            &json!({
                "inputs": inputs(companies.iter().map(|c| c.id.as_str())),
                "properties": [
                    "name", "domain", "industry", "numberofemployees", "buying_center", "region"
                ],
            }),
        )
        .await;
    assert_eq!(r.status, 200);
    for (rec, c) in r.body["results"].as_array().unwrap().iter().zip(&companies) {
        let p = &rec["properties"];
        assert_eq!(p["name"], c.name.as_str());
        assert_eq!(p["industry"], c.industry.as_deref().unwrap());
        assert_eq!(p["buying_center"], c.buying_center.as_deref().unwrap());
        assert_eq!(p["region"], c.properties["region"].as_str());
        let n: u32 = p["numberofemployees"].as_str().unwrap().parse().unwrap();
        let band = match n {
            ..=50 => "1-50",
            51..=200 => "51-200",
            201..=1000 => "201-1000",
            1001..=5000 => "1001-5000",
            _ => "5000+",
        };
        assert_eq!(Some(band), c.size_band.as_deref());
    }

    let deals = hs.expected_deals();
    let acts: Vec<_> = deals.iter().flat_map(|b| b.activities.clone()).collect();
    for (kind, path, props, dir_prop) in [
        (
            ActivityKind::Call,
            "calls",
            vec![
                "hs_timestamp",
                "hs_call_title",
                "hs_call_body",
                "hs_call_direction",
                "hubspot_owner_id",
            ],
            "hs_call_direction",
        ),
        (
            ActivityKind::Email,
            "emails",
            vec![
                "hs_timestamp",
                "hs_email_subject",
                "hs_email_text",
                "hs_email_direction",
            ],
            "hs_email_direction",
        ),
        (
            ActivityKind::Meeting,
            "meetings",
            vec!["hs_timestamp", "hs_meeting_title", "hs_meeting_body"],
            "",
        ),
        (
            ActivityKind::Note,
            "notes",
            vec!["hs_timestamp", "hs_note_body"],
            "",
        ),
    ] {
        let some: Vec<_> = acts.iter().filter(|a| a.kind == kind).take(100).collect();
        assert!(!some.is_empty(), "{path}");
        let r = api
            .post(
                &format!("/crm/v3/objects/{path}/batch/read"),
                &json!({"inputs": inputs(some.iter().map(|a| a.id.as_str())), "properties": props}),
            )
            .await;
        assert_eq!(r.status, 200, "{path}: {}", r.body);
        for (rec, a) in r.body["results"].as_array().unwrap().iter().zip(&some) {
            let p = &rec["properties"];
            assert_eq!(parse_ts(&p["hs_timestamp"]), a.occurred_at);
            let body_prop = match kind {
                ActivityKind::Call => "hs_call_body",
                ActivityKind::Email => "hs_email_text",
                ActivityKind::Meeting => "hs_meeting_body",
                ActivityKind::Note => "hs_note_body",
            };
            assert_eq!(p[body_prop], a.body.as_str());
            if !dir_prop.is_empty() {
                let expected = match (kind, a.direction) {
                    (ActivityKind::Call, Some(Direction::Inbound)) => json!("INBOUND"),
                    (ActivityKind::Call, Some(Direction::Outbound)) => json!("OUTBOUND"),
                    (ActivityKind::Email, Some(Direction::Inbound)) => json!("INCOMING_EMAIL"),
                    (ActivityKind::Email, Some(Direction::Outbound)) => json!("EMAIL"),
                    _ => Value::Null,
                };
                assert_eq!(p[dir_prop], expected);
            }
        }
    }
    // A meeting id read as a call is missing.
    let meeting = acts
        .iter()
        .find(|a| a.kind == ActivityKind::Meeting)
        .unwrap();
    let r = api
        .post(
            "/crm/v3/objects/calls/batch/read",
            &json!({"inputs": [{"id": meeting.id.as_str()}], "properties": []}),
        )
        .await;
    assert_eq!(r.status, 207);
}

#[tokio::test]
async fn the_history_limit_on_batch_reads_is_a_knob() {
    let hs = FakeHubSpot::from_world(
        &world(80),
        Options {
            batch_history_limit: Some(50),
            ..Options::default()
        },
    )
    .await;
    let api = Api::new(&hs);
    let inputs: Vec<Value> = hs.deal_ids()[..51]
        .iter()
        .map(|d| json!({"id": d.as_str()}))
        .collect();
    let with = json!({"inputs": inputs, "properties": [], "propertiesWithHistory": ["dealstage"]});
    assert_eq!(
        api.post("/crm/v3/objects/deals/batch/read", &with)
            .await
            .status,
        400
    );
    let without = json!({"inputs": inputs, "properties": []});
    assert_eq!(
        api.post("/crm/v3/objects/deals/batch/read", &without)
            .await
            .status,
        200
    );
}

/// One association type as `(category, typeId, label)`.
type TypeTriple = (String, u64, Option<String>);

/// `(toObjectId, association types)` of one v4 result.
fn targets(result: &Value) -> Vec<(String, Vec<TypeTriple>)> {
    result["to"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            let id = match &t["toObjectId"] {
                Value::Number(n) => n.to_string(),
                Value::String(s) => s.clone(),
                other => panic!("toObjectId {other}"),
            };
            let types = t["associationTypes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| {
                    (
                        a["category"].as_str().unwrap().to_owned(),
                        a["typeId"].as_u64().unwrap(),
                        a["label"].as_str().map(str::to_owned),
                    )
                })
                .collect();
            (id, types)
        })
        .collect()
}

#[tokio::test]
async fn associations_v4_carry_documented_type_ids_roles_and_paging() {
    let hs = FakeHubSpot::from_world(&world(200), Options::default()).await;
    let api = Api::new(&hs);
    let deals = hs.expected_deals();
    let all_inputs: Vec<Value> = deals
        .iter()
        .map(|b| json!({"id": b.deal.id.as_str()}))
        .collect();

    let r = api
        .post(
            "/crm/v4/associations/deals/contacts/batch/read",
            &json!({"inputs": all_inputs}),
        )
        .await;
    assert!(r.status == 200 || r.status == 207);
    let by_deal: BTreeMap<String, Value> = r.body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| (x["from"]["id"].as_str().unwrap().to_owned(), x.clone()))
        .collect();
    let errors = r.body["errors"].as_array().map_or(0, Vec::len);
    assert_eq!(by_deal.len() + errors, 200);
    let mut roles = 0;
    for b in &deals {
        let Some(result) = by_deal.get(b.deal.id.as_str()) else {
            assert!(b.stakeholders.is_empty());
            continue;
        };
        let got = targets(result);
        let ids: Vec<&str> = got.iter().map(|(id, _)| id.as_str()).collect();
        let expected: Vec<&str> = b
            .stakeholders
            .iter()
            .map(|s| s.contact_id.as_str())
            .collect();
        assert_eq!(ids, expected);
        for ((_, types), s) in got.iter().zip(&b.stakeholders) {
            assert!(types.contains(&("HUBSPOT_DEFINED".into(), 3, None)));
            let labels: Vec<_> = types.iter().filter(|t| t.0 == "USER_DEFINED").collect();
            match s.role {
                Some(role) => {
                    roles += 1;
                    let (type_id, label) = role_label(role);
                    assert_eq!(
                        labels,
                        vec![&(
                            "USER_DEFINED".to_owned(),
                            u64::from(type_id),
                            Some(label.to_owned())
                        )]
                    );
                }
                None => assert!(labels.is_empty()),
            }
        }
    }
    assert!(roles > 0, "roles come through as labels");

    let r = api
        .post(
            "/crm/v4/associations/deals/companies/batch/read",
            &json!({"inputs": all_inputs[..3]}),
        )
        .await;
    for (result, b) in r.body["results"].as_array().unwrap().iter().zip(&deals) {
        assert_eq!(
            targets(result),
            vec![(
                b.deal.company_id.as_ref().unwrap().to_string(),
                vec![
                    ("HUBSPOT_DEFINED".into(), 5, Some("Primary".into())),
                    ("HUBSPOT_DEFINED".into(), 341, None)
                ]
            )]
        );
    }

    for (to, kind, type_id) in [
        ("calls", ActivityKind::Call, 205),
        ("emails", ActivityKind::Email, 209),
        ("meetings", ActivityKind::Meeting, 211),
        ("notes", ActivityKind::Note, 213),
    ] {
        let r = api
            .post(
                &format!("/crm/v4/associations/deals/{to}/batch/read"),
                &json!({"inputs": all_inputs}),
            )
            .await;
        let mut got: BTreeSet<String> = BTreeSet::new();
        for result in r.body["results"].as_array().unwrap() {
            for (id, types) in targets(result) {
                assert_eq!(types, vec![("HUBSPOT_DEFINED".into(), type_id, None)]);
                got.insert(id);
            }
        }
        let expected: BTreeSet<String> = deals
            .iter()
            .flat_map(|b| {
                b.activities
                    .iter()
                    .filter(|a| a.kind == kind)
                    .map(|a| a.id.to_string())
            })
            .collect();
        assert_eq!(got, expected, "deal→{to}");
        // Engagements that have no notes etc. are 207 errors of the documented form.
        if let Some(e) = r.body["errors"].as_array().and_then(|e| e.first()) {
            assert_eq!(r.status, 207);
            assert_eq!(e["subCategory"], "crm.associations.NO_ASSOCIATIONS_FOUND");
        }
    }

    // An engagement's contacts, and its deal.
    let call = deals
        .iter()
        .flat_map(|b| b.activities.iter())
        .filter(|a| a.kind == ActivityKind::Call)
        .max_by_key(|a| a.contact_ids.len())
        .unwrap();
    assert!(!call.contact_ids.is_empty());
    let r = api
        .post(
            "/crm/v4/associations/calls/contacts/batch/read",
            &json!({"inputs": [{"id": call.id.as_str()}]}),
        )
        .await;
    let got = targets(&r.body["results"][0]);
    let ids: Vec<String> = got.iter().map(|(id, _)| id.clone()).collect();
    let expected: Vec<String> = call.contact_ids.iter().map(|c| c.to_string()).collect();
    assert_eq!(ids, expected);
    assert!(
        got.iter()
            .all(|(_, t)| t == &vec![("HUBSPOT_DEFINED".into(), 194, None)])
    );
    let r = api
        .post(
            "/crm/v4/associations/0-48/0-3/batch/read",
            &json!({"inputs": [{"id": call.id.as_str()}]}),
        )
        .await;
    assert_eq!(targets(&r.body["results"][0])[0].0, call.deal_id.as_str());

    let too_many: Vec<Value> = (0..1001).map(|i| json!({"id": i.to_string()})).collect();
    let r = api
        .post(
            "/crm/v4/associations/deals/contacts/batch/read",
            &json!({"inputs": too_many}),
        )
        .await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn associations_page_per_record_beyond_the_page_size() {
    let hs = FakeHubSpot::from_world(
        &world(100),
        Options {
            association_page_size: 2,
            association_ids_as_strings: true,
            ..Options::default()
        },
    )
    .await;
    let api = Api::new(&hs);
    let b = hs
        .expected_deals()
        .into_iter()
        .max_by_key(|b| b.stakeholders.len())
        .unwrap();
    assert!(
        b.stakeholders.len() >= 3,
        "a deal with several pages of contacts"
    );
    let id = b.deal.id.as_str();
    let mut got = Vec::new();
    let mut input = json!({"id": id});
    let mut pages = 0;
    loop {
        let r = api
            .post(
                "/crm/v4/associations/deals/contacts/batch/read",
                &json!({"inputs": [input]}),
            )
            .await;
        assert_eq!(r.status, 200);
        let result = &r.body["results"][0];
        assert!(result["to"][0]["toObjectId"].is_string());
        got.extend(targets(result).into_iter().map(|(id, _)| id));
        pages += 1;
        match result.get("paging") {
            Some(p) => input = json!({"id": id, "after": p["next"]["after"]}),
            None => break,
        }
    }
    let expected: Vec<String> = b
        .stakeholders
        .iter()
        .map(|s| s.contact_id.to_string())
        .collect();
    assert_eq!(got, expected);
    assert_eq!(pages, expected.len().div_ceil(2));
}

#[tokio::test]
async fn bad_tokens_get_401_and_missing_scopes_403_naming_the_scope() {
    let hs = FakeHubSpot::from_world(&world(20), Options::hubspot(3)).await;
    for token in [None, Some("pat-na1-wrong")] {
        let r = Api::with_token(&hs, token)
            .get("/crm/v3/objects/deals", &[])
            .await;
        assert_eq!(r.status, 401);
        assert_eq!(r.body["status"], "error");
        assert_eq!(r.body["category"], "INVALID_AUTHENTICATION");
        assert!(
            r.body["message"]
                .as_str()
                .unwrap()
                .starts_with("Authentication credentials not found")
        );
        assert!(r.body["correlationId"].is_string());
    }
    let api = Api::new(&hs);
    // Rejected requests do not use the budget of 3.
    for _ in 0..3 {
        assert_eq!(api.get("/crm/v3/pipelines/deals", &[]).await.status, 200);
    }
    hs.reset_limits();

    hs.update_options(|o| o.missing_scopes = vec!["crm.objects.deals.read".into()]);
    for r in [
        api.get("/crm/v3/objects/deals", &[]).await,
        api.search(&json!({})).await,
        api.post(
            "/crm/v4/associations/deals/contacts/batch/read",
            &json!({"inputs": []}),
        )
        .await,
    ] {
        assert_eq!(r.status, 403);
        assert_eq!(r.body["category"], "MISSING_SCOPES");
        assert!(
            r.body["message"]
                .as_str()
                .unwrap()
                .starts_with("This app hasn't been granted all required scopes")
        );
        assert_eq!(
            r.body["errors"][0]["context"]["requiredGranularScopes"],
            json!(["crm.objects.deals.read"])
        );
    }
    assert_eq!(
        api.get("/crm/v3/owners", &[]).await.status,
        200,
        "other scopes still work"
    );
    hs.update_options(|o| o.missing_scopes.clear());
    assert_eq!(api.get("/crm/v3/objects/deals", &[]).await.status, 200);
    assert_eq!(hs.count_status(401), 2);
    assert_eq!(hs.count_status(403), 3);
}

#[tokio::test]
async fn the_rolling_budget_429s_then_recovers_after_the_window() {
    let window = Duration::from_millis(700);
    let hs = FakeHubSpot::from_world(
        &world(20),
        Options {
            ten_second_budget: Some(5),
            rate_window: window,
            retry_after: RetryAfter::UntilFree,
            daily_limit: Some(1_000),
            ..Options::default()
        },
    )
    .await;
    let api = Api::new(&hs);
    let mut remaining = Vec::new();
    for _ in 0..5 {
        let r = api.get("/crm/v3/pipelines/deals", &[]).await;
        assert_eq!(r.status, 200);
        assert_eq!(
            r.header("x-hubspot-ratelimit-interval-milliseconds"),
            Some("700")
        );
        assert_eq!(r.header("x-hubspot-ratelimit-max"), Some("5"));
        assert!(r.header("x-hubspot-ratelimit-daily").is_some());
        assert!(r.header("x-hubspot-ratelimit-daily-remaining").is_some());
        assert!(r.header("retry-after").is_none());
        remaining.push(
            r.header("x-hubspot-ratelimit-remaining")
                .unwrap()
                .to_owned(),
        );
    }
    assert_eq!(remaining, ["4", "3", "2", "1", "0"]);
    let r = api.get("/crm/v3/objects/deals", &[]).await;
    assert_eq!(r.status, 429);
    assert_eq!(r.body["status"], "error");
    assert_eq!(r.body["errorType"], "RATE_LIMIT");
    assert_eq!(r.body["policyName"], "TEN_SECONDLY_ROLLING");
    assert_eq!(r.header("retry-after"), Some("1"));
    assert_eq!(r.header("x-hubspot-ratelimit-remaining"), Some("0"));

    // Search and association reads are exempt from the app budget.
    assert_eq!(api.search(&json!({"limit": 1})).await.status, 200);
    let deal = hs.deal_ids()[0].clone();
    let r = api
        .post(
            "/crm/v4/associations/deals/contacts/batch/read",
            &json!({"inputs": [{"id": deal.as_str()}]}),
        )
        .await;
    assert_eq!(r.status, 200);

    tokio::time::sleep(window + Duration::from_millis(200)).await;
    assert_eq!(api.get("/crm/v3/objects/deals", &[]).await.status, 200);

    assert_eq!(
        hs.requests_in_any_window(window, Some(Class::App)),
        6,
        "5 accepted + 1 refused"
    );
    assert_eq!(hs.requests_in_any_window(window, Some(Class::Search)), 1);
    assert_eq!(hs.requests_in_any_window(window, None), 8);
    let accepted: Vec<_> = hs
        .requests()
        .into_iter()
        .filter(|r| r.status != 429)
        .collect();
    assert_eq!(
        support::hubspot_fake::log::max_in_window(&accepted, window, |r| r.class == Class::App),
        5
    );
}

#[tokio::test]
async fn the_daily_cap_429s_with_its_policy() {
    let hs = FakeHubSpot::from_world(
        &world(10),
        Options {
            daily_limit: Some(3),
            ..Options::default()
        },
    )
    .await;
    let api = Api::new(&hs);
    for left in ["2", "1", "0"] {
        let r = api.get("/crm/v3/owners", &[]).await;
        assert_eq!(r.status, 200);
        assert_eq!(r.header("x-hubspot-ratelimit-daily"), Some("3"));
        assert_eq!(r.header("x-hubspot-ratelimit-daily-remaining"), Some(left));
        assert!(
            r.header("x-hubspot-ratelimit-max").is_none(),
            "no 10-second budget configured"
        );
    }
    let r = api.search(&json!({})).await;
    assert_eq!(r.status, 429, "the daily cap covers search too");
    assert_eq!(r.body["policyName"], "DAILY");
    assert_eq!(r.body["message"], "You have reached your daily limit.");
}

#[tokio::test]
async fn search_has_its_own_limit_of_five_per_second() {
    let hs = FakeHubSpot::from_world(&world(20), Options::hubspot(100)).await;
    let api = Api::new(&hs);
    let start = Instant::now();
    for _ in 0..5 {
        let r = api.search(&json!({"limit": 1})).await;
        assert_eq!(r.status, 200);
        assert!(r.header("x-hubspot-ratelimit-remaining").is_none());
    }
    let r = api.search(&json!({"limit": 1})).await;
    assert!(
        start.elapsed() < Duration::from_secs(1),
        "test machine too slow for this check"
    );
    assert_eq!(r.status, 429);
    assert_eq!(r.body["message"], "You have reached your secondly limit.");
    assert_eq!(r.body["errorType"], "RATE_LIMIT");
    assert_eq!(r.body["policyName"], "SECONDLY");
    assert!(r.header("x-hubspot-ratelimit-remaining").is_none());

    // Searches did not touch the app budget.
    let r = api.get("/crm/v3/pipelines/deals", &[]).await;
    assert_eq!(r.header("x-hubspot-ratelimit-remaining"), Some("99"));

    tokio::time::sleep(Duration::from_millis(1_100)).await;
    assert_eq!(api.search(&json!({"limit": 1})).await.status, 200);
}

/// The statuses of a fixed sequence of requests against a fake with these fault settings.
async fn fault_run(seed: u64) -> Vec<u16> {
    let hs = FakeHubSpot::from_world(
        &world(30),
        Options {
            fault_rate: 0.3,
            fault_seed: seed,
            ..Options::default()
        },
    )
    .await;
    let api = Api::new(&hs);
    let mut statuses = Vec::new();
    for i in 0..40 {
        let limit = (i % 5 + 1).to_string();
        statuses.push(
            api.get("/crm/v3/objects/deals", &[("limit", &limit)])
                .await
                .status,
        );
    }
    statuses
}

#[tokio::test]
async fn seeded_faults_are_reproducible_and_scripted_faults_come_first() {
    let a = fault_run(7).await;
    assert_eq!(a, fault_run(7).await, "same seed, same faults");
    assert_ne!(a, fault_run(8).await, "another seed, other faults");
    let faults = a.iter().filter(|s| **s >= 500).count();
    assert!((4..=24).contains(&faults), "about 30% of 40: {faults}");
    assert!(a.iter().all(|s| [200, 500, 502, 503, 504].contains(s)));

    let hs = FakeHubSpot::from_world(
        &world(10),
        Options {
            latency: Duration::from_millis(60),
            ..Options::default()
        },
    )
    .await;
    let api = Api::new(&hs);
    hs.fail_next(2, 503);
    hs.fail_next_on("/crm/v3/owners", 1, 502);
    assert_eq!(api.get("/crm/v3/pipelines/deals", &[]).await.status, 503);
    assert_eq!(api.get("/crm/v3/pipelines/deals", &[]).await.status, 503);
    assert_eq!(api.get("/crm/v3/pipelines/deals", &[]).await.status, 200);
    assert_eq!(api.get("/crm/v3/owners", &[]).await.status, 502);
    hs.fail_next(1, 429);
    let r = api.get("/crm/v3/owners", &[]).await;
    assert_eq!(r.status, 429);
    assert_eq!(r.body["policyName"], "TEN_SECONDLY_ROLLING");
    let t = Instant::now();
    assert_eq!(api.get("/crm/v3/owners", &[]).await.status, 200);
    assert!(t.elapsed() >= Duration::from_millis(60), "latency applies");
}

#[tokio::test]
async fn mutations_show_up_in_search_by_last_modified() {
    let hs = FakeHubSpot::from_world(&world(200), Options::default()).await;
    let api = Api::new(&hs);
    let t0 = hs.latest_modified().unwrap() + SignedDuration::from_hours(1);
    let deals = hs.expected_deals();
    let touched = deals[3].deal.id.clone();
    let closing = deals
        .iter()
        .find(|b| !b.deal.is_closed && b.deal.id != touched)
        .unwrap()
        .deal
        .id
        .clone();
    let t1 = t0 + SignedDuration::from_mins(10);
    hs.touch_deal(&touched, t0);
    hs.change_stage(&closing, &StageId::from(stage_ids::CLOSED_WON), t1);
    let mut added = deals[9].clone();
    added.deal.id = DealId::from("19000000001");
    added.deal.last_modified = t1 + SignedDuration::from_mins(5);
    added.activities.clear();
    hs.add_deal(added);

    let r = api
        .search(&json!({
            "filterGroups": gte(t0),
            "sorts": by_modified("ASCENDING"),
            "properties": ["dealname", "dealstage", "hs_lastmodifieddate"],
            "limit": 200,
        }))
        .await;
    assert_eq!(r.body["total"], 3);
    assert_eq!(
        r.ids(),
        vec![
            touched.to_string(),
            closing.to_string(),
            "19000000001".to_owned()
        ]
    );
    assert!(
        r.body["results"][0]["properties"]["dealname"]
            .as_str()
            .unwrap()
            .ends_with("(edit 1)")
    );
    assert_eq!(
        parse_ts(&r.body["results"][0]["properties"]["hs_lastmodifieddate"]),
        t0
    );

    let r = api
        .post(
            "/crm/v3/objects/deals/batch/read",
            &json!({"inputs": [{"id": closing.as_str()}],
                    "properties": ["hs_is_closed", "hs_is_closed_won", "closedate", "dealstage"],
                    "propertiesWithHistory": ["dealstage", "closedate"]}),
        )
        .await;
    let rec = &r.body["results"][0];
    assert_eq!(rec["properties"]["dealstage"], "closedwon");
    assert_eq!(rec["properties"]["hs_is_closed_won"], "true");
    assert_eq!(
        parse_ts(&rec["properties"]["closedate"]),
        t1,
        "closing sets the close date"
    );
    let newest = &rec["propertiesWithHistory"]["dealstage"][0];
    assert_eq!(newest["value"], "closedwon");
    assert_eq!(parse_ts(&newest["timestamp"]), t1);
    assert_eq!(
        parse_ts(&rec["propertiesWithHistory"]["closedate"][0]["timestamp"]),
        t1
    );
    let truth = hs.expected_deal(&closing).unwrap();
    assert!(truth.deal.is_won && truth.deal.last_modified == t1);
    assert_eq!(
        truth.history.stages.last().unwrap().stage_id.as_str(),
        "closedwon"
    );
}

#[tokio::test]
async fn search_can_lag_behind_changes() {
    let lag = Duration::from_millis(300);
    let hs = FakeHubSpot::from_world(
        &world(30),
        Options {
            search_lag: lag,
            ..Options::default()
        },
    )
    .await;
    let api = Api::new(&hs);
    let t0 = hs.latest_modified().unwrap() + SignedDuration::from_hours(1);
    let id = hs.deal_ids()[0].clone();
    hs.touch_deal(&id, t0);
    let query = json!({"filterGroups": gte(t0)});
    assert_eq!(api.search(&query).await.body["total"], 0, "not indexed yet");
    let r = api.get(&format!("/crm/v3/objects/deals/{id}"), &[]).await;
    assert_eq!(
        parse_ts(&r.body["properties"]["hs_lastmodifieddate"]),
        t0,
        "reads see it at once"
    );
    tokio::time::sleep(lag + Duration::from_millis(100)).await;
    assert_eq!(api.search(&query).await.ids(), vec![id.to_string()]);
}

#[tokio::test]
async fn owners_and_pipelines_have_the_documented_shapes() {
    let w = world(20);
    let hs = FakeHubSpot::from_world(&w, Options::default()).await;
    let api = Api::new(&hs);

    let r = api.get("/crm/v3/pipelines/deals", &[]).await;
    assert!(r.body.get("paging").is_none());
    let p = &r.body["results"][0];
    assert_eq!(p["id"], "default");
    let stages = p["stages"].as_array().unwrap();
    assert_eq!(stages.len(), w.pipeline.stages.len());
    let won = stages.iter().find(|s| s["id"] == "closedwon").unwrap();
    assert_eq!(won["metadata"]["probability"], "1.0");
    assert_eq!(won["metadata"]["isClosed"], "true");
    let lost = stages.iter().find(|s| s["id"] == "closedlost").unwrap();
    assert_eq!(lost["metadata"]["probability"], "0.0");
    let demo = stages
        .iter()
        .find(|s| s["id"] == "presentationscheduled")
        .unwrap();
    assert_eq!(demo["metadata"]["probability"], "0.4");
    assert_eq!(demo["metadata"]["isClosed"], "false");
    assert_eq!(demo["label"], "Demo");
    assert_eq!(demo["displayOrder"], 2);

    hs.add_owner(Owner {
        id: "81299999".into(),
        name: "Gone Rep".into(),
        email: Some("gone@example.com".into()),
        team_id: None,
        active: false,
    });
    let pages = api.list_all("/crm/v3/owners", "5", &[]).await;
    assert_eq!(pages.len(), 3);
    let owners: Vec<Value> = pages
        .iter()
        .flat_map(|p| p.body["results"].as_array().unwrap().clone())
        .collect();
    let ids: Vec<&str> = owners.iter().map(|o| o["id"].as_str().unwrap()).collect();
    let expected: Vec<&str> = w.owners.iter().map(|o| o.id.as_str()).collect();
    assert_eq!(ids, expected);
    for (o, truth) in owners.iter().zip(&w.owners) {
        assert_eq!(
            format!(
                "{} {}",
                o["firstName"].as_str().unwrap(),
                o["lastName"].as_str().unwrap()
            ),
            truth.name
        );
        assert_eq!(o["email"], truth.email.as_deref().unwrap());
        assert_eq!(o["type"], "PERSON");
        assert_eq!(o["archived"], false);
        assert!(o["userId"].is_u64());
        let team = w
            .teams
            .iter()
            .find(|t| Some(&t.id) == truth.team_id.as_ref())
            .unwrap();
        assert_eq!(
            o["teams"],
            json!([{"id": team.id.as_str(), "name": team.name, "primary": true}])
        );
    }
    assert!(
        pages[0].next().unwrap().parse::<u64>().is_err(),
        "opaque owner cursor"
    );
    let r = api.get("/crm/v3/owners", &[("archived", "true")]).await;
    assert_eq!(r.ids(), vec!["81299999".to_owned()]);
    assert_eq!(r.body["results"][0]["archived"], true);
}

#[tokio::test]
async fn a_note_written_back_is_created_associated_and_recorded() {
    let hs = FakeHubSpot::from_world(&world(20), Options::default()).await;
    let api = Api::new(&hs);
    let deal = hs.deal_ids()[4].clone();
    let body = json!({
        "properties": {
            "hs_timestamp": "2026-11-24T12:00:00Z",
            "hs_note_body": "Post-mortem: lost on price.",
            "hubspot_owner_id": "81200101",
        },
        "associations": [{
            "to": {"id": deal.as_str()},
            "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 214}],
        }],
    });
    let r = api.post("/crm/v3/objects/notes", &body).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let note_id = r.body["id"].as_str().unwrap().to_owned();
    assert_eq!(
        r.body["properties"]["hs_note_body"],
        "Post-mortem: lost on price."
    );
    let notes = hs.created_notes();
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0].deal_id.as_ref(), Some(&deal));
    assert_eq!(notes[0].id, note_id);
    assert_eq!(notes[0].request, body);
    assert_eq!(iso_ms(notes[0].timestamp), "2026-11-24T12:00:00.000Z");

    let r = api
        .post(
            "/crm/v4/associations/deals/notes/batch/read",
            &json!({"inputs": [{"id": deal.as_str()}]}),
        )
        .await;
    assert!(
        targets(&r.body["results"][0])
            .iter()
            .any(|(id, _)| *id == note_id)
    );
    assert!(
        hs.expected_deal(&deal)
            .unwrap()
            .activities
            .iter()
            .any(|a| a.id.as_str() == note_id)
    );

    let r = api
        .post(
            "/crm/v3/objects/notes",
            &json!({"properties": {"hs_note_body": "no time"}}),
        )
        .await;
    assert_eq!(r.status, 400);
    hs.update_options(|o| o.missing_scopes = vec!["crm.objects.contacts.write".into()]);
    let r = api.post("/crm/v3/objects/notes", &body).await;
    assert_eq!(r.status, 403);
    assert_eq!(
        r.body["errors"][0]["context"]["requiredGranularScopes"],
        json!(["crm.objects.contacts.write"])
    );
    assert_eq!(hs.created_notes().len(), 1);
}

#[tokio::test]
async fn the_request_log_records_what_was_sent_and_answered() {
    let hs = FakeHubSpot::from_world(&world(10), Options::default()).await;
    let api = Api::new(&hs);
    api.get(
        "/crm/v3/objects/deals",
        &[("limit", "3"), ("properties", "dealname,amount")],
    )
    .await;
    api.search(&json!({"limit": 2})).await;
    api.get("/crm/v3/nothing/here", &[]).await;
    let log = hs.requests();
    assert_eq!(log.len(), 3);
    assert_eq!(log[0].method, "GET");
    assert_eq!(log[0].path, "/crm/v3/objects/deals");
    assert_eq!(log[0].param("properties"), Some("dealname,amount"));
    assert_eq!(
        log[0].header("authorization"),
        Some(format!("Bearer {}", hs.token()).as_str())
    );
    assert_eq!(log[0].class, Class::App);
    assert_eq!(log[1].class, Class::Search);
    assert_eq!(log[1].body, Some(json!({"limit": 2})));
    assert_eq!(log[2].status, 404);
    assert!(log[0].at <= log[1].at && log[1].at <= log[2].at);
    assert_eq!(hs.count("/crm/v3/objects/deals"), 2);
    assert_eq!(hs.count_status(200), 2);
    hs.clear_log();
    assert_eq!(hs.request_count(), 0);
}

#[test]
fn cursors_round_trip_and_reject_tampering() {
    let c = Cursors::new(42);
    for pos in [0, 1, 12_000_000_001, u64::MAX] {
        let text = c.encode(CursorKind::Objects, pos);
        assert_eq!(c.decode(CursorKind::Objects, &text), Some(pos));
        assert_eq!(
            c.decode(CursorKind::Owners, &text),
            None,
            "kinds do not mix"
        );
        assert_eq!(Cursors::new(43).decode(CursorKind::Objects, &text), None);
        let mut tampered = text.into_bytes();
        tampered[3] = if tampered[3] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(tampered).unwrap();
        assert_eq!(c.decode(CursorKind::Objects, &tampered), None);
    }
    assert_eq!(c.decode(CursorKind::Objects, "not base64!"), None);
}

#[test]
fn the_window_forgets_requests_once_they_are_a_window_old() {
    let mut w = Window::default();
    let t0 = Instant::now();
    let len = Duration::from_millis(100);
    w.push(t0);
    w.push(t0 + Duration::from_millis(50));
    assert_eq!(w.count(t0 + Duration::from_millis(99), len), 2);
    assert_eq!(w.count(t0 + Duration::from_millis(100), len), 1);
    assert_eq!(
        w.wait(t0 + Duration::from_millis(100), len),
        Duration::from_millis(50)
    );
}

#[test]
fn faults_depend_on_the_request_not_on_arrival_order() {
    let requests: Vec<Vec<u8>> = (0..200u32).map(|i| i.to_le_bytes().to_vec()).collect();
    let mut a = Faults::default();
    let in_order: Vec<_> = requests.iter().map(|r| a.draw(7, 0.3, &[r])).collect();
    let mut b = Faults::default();
    let mut reversed: Vec<_> = requests
        .iter()
        .rev()
        .map(|r| b.draw(7, 0.3, &[r]))
        .collect();
    reversed.reverse();
    assert_eq!(in_order, reversed);
    assert!(in_order.iter().flatten().count() > 20);
    // A retry of the same request draws again.
    let retries: Vec<_> = (0..50).map(|_| a.draw(7, 0.5, &[b"same"])).collect();
    assert!(retries.iter().any(Option::is_some) && retries.iter().any(Option::is_none));
}
