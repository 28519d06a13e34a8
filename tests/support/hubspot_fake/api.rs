//! The endpoints: request validation and response shapes, as CRM-APIS.md §1 documents them.

use super::Options;
use super::store::{AssocType, CreatedNote, Obj, Prop, Store, View, owner_json, pipeline_json};
use super::wire::{CursorKind, Cursors, error_body, parse_instant, validation_error};
use dealtrace::domain::{Activity, ActivityKind, ContactId, DealId, OwnerId};
use jiff::Timestamp;
use serde_json::{Map, Value, json};
use std::cmp::Ordering;

/// Largest page of a list (`GET /crm/v3/objects/...`) ([doc] `using-object-apis`).
pub const LIST_MAX: usize = 100;
/// Largest list page with `propertiesWithHistory` ([2nd] CRM-APIS 1.2).
pub const HISTORY_LIST_MAX: usize = 50;
/// Largest search page (CRM-APIS 1.4).
pub const SEARCH_MAX: usize = 200;
/// Largest search request body, in characters (CRM-APIS 1.4).
pub const SEARCH_BODY_MAX: usize = 3_000;
/// Most inputs of an object batch read (CRM-APIS 1.3).
pub const BATCH_MAX: usize = 100;
/// Most inputs of an association batch read (CRM-APIS 1.8).
pub const ASSOC_BATCH_MAX: usize = 1_000;
/// Largest owners page the fake serves (the default of 100 is documented, the maximum is not).
pub const OWNERS_MAX: usize = 500;

/// A response before it becomes HTTP.
#[derive(Debug, Clone)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// JSON body.
    pub body: Value,
}

impl Reply {
    fn ok(body: Value) -> Reply {
        Reply { status: 200, body }
    }

    fn bad(seq: u64, message: &str) -> Reply {
        Reply {
            status: 400,
            body: validation_error(seq, message),
        }
    }

    fn not_found(seq: u64) -> Reply {
        Reply {
            status: 404,
            body: error_body(seq, "OBJECT_NOT_FOUND", "resource not found"),
        }
    }
}

/// What one request needs besides the store.
pub struct Ctx<'a> {
    /// The behaviour knobs.
    pub opts: &'a Options,
    /// Cursor encoding.
    pub cursors: Cursors,
    /// The request's sequence number (for correlation ids).
    pub seq: u64,
}

/// The query string as name/value pairs.
pub struct Query<'a>(pub &'a [(String, String)]);

impl Query<'_> {
    /// The last value of a parameter.
    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// A comma list, also accepting the parameter repeated (`properties=a&properties=b`).
    fn list(&self, name: &str) -> Option<Vec<String>> {
        let mut any = false;
        let mut out = Vec::new();
        for (_, v) in self.0.iter().filter(|(k, _)| k == name) {
            any = true;
            out.extend(
                v.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned),
            );
        }
        any.then_some(out)
    }

    fn flag(&self, name: &str) -> Result<bool, String> {
        match self.get(name) {
            None => Ok(false),
            Some(v) if v.eq_ignore_ascii_case("true") => Ok(true),
            Some(v) if v.eq_ignore_ascii_case("false") => Ok(false),
            Some(v) => Err(format!("{name} must be true or false, not {v:?}")),
        }
    }

    fn limit(&self, default: usize) -> Result<usize, String> {
        match self.get("limit") {
            None => Ok(default),
            Some(v) => v
                .parse()
                .map_err(|_| format!("limit must be an integer, not {v:?}")),
        }
    }
}

/// The object type of a record view.
fn obj_of(view: View<'_>) -> Obj {
    match view {
        View::Deal(_) => Obj::Deal,
        View::Contact(_) => Obj::Contact,
        View::Company(_) => Obj::Company,
        View::Activity(a) => Obj::of_kind(a.kind),
    }
}

fn id_of(view: View<'_>) -> &str {
    match view {
        View::Deal(e) => e.bundle.deal.id.as_str(),
        View::Contact(c) => c.id.as_str(),
        View::Company(c) => c.id.as_str(),
        View::Activity(a) => a.id.as_str(),
    }
}

/// What a read asks for.
#[derive(Default)]
struct Want {
    /// `properties` (`None` or empty: the defaults).
    properties: Option<Vec<String>>,
    /// `propertiesWithHistory`.
    history: Vec<String>,
    /// v3 `associations` (types to inline).
    associations: Vec<Obj>,
    /// History values returned per property, newest first (`Options::history_retained`).
    history_limit: Option<usize>,
}

/// One record as `SimplePublicObject(WithAssociations)`.
fn record_json(store: &Store, view: View<'_>, want: &Want, search_defaults: bool) -> Value {
    let obj = obj_of(view);
    let mut properties = Map::new();
    let defaults: Vec<&str> = if search_defaults {
        Store::search_default_props(obj)
    } else {
        Store::default_props(obj).to_vec()
    };
    let names: Vec<&str> = match &want.properties {
        Some(list) if !list.is_empty() => list.iter().map(String::as_str).collect(),
        _ => defaults,
    };
    for name in names.iter().chain(Store::always_props(obj)) {
        // Unknown properties are ignored; known but empty ones are null (CRM-APIS 1.2).
        if let Some(p) = store.prop(view, name) {
            properties.insert((*name).to_owned(), p.to_json());
        }
    }
    let (created, updated) = store.times(view);
    let mut m = Map::new();
    m.insert("id".into(), Value::String(id_of(view).to_owned()));
    m.insert("properties".into(), Value::Object(properties));
    if !want.history.is_empty() {
        let mut h = Map::new();
        for name in &want.history {
            if let Some(mut entries) = store.history(view, name) {
                entries.truncate(want.history_limit.unwrap_or(usize::MAX));
                h.insert(name.clone(), Value::Array(entries));
            }
        }
        m.insert("propertiesWithHistory".into(), Value::Object(h));
    }
    m.insert(
        "createdAt".into(),
        Value::String(super::wire::iso_ms(created)),
    );
    m.insert(
        "updatedAt".into(),
        Value::String(super::wire::iso_ms(updated)),
    );
    let archived_at = match view {
        View::Deal(e) => e.bundle.deal.archived_at,
        _ => None,
    };
    m.insert("archived".into(), Value::Bool(archived_at.is_some()));
    if let Some(at) = archived_at {
        m.insert("archivedAt".into(), Value::String(super::wire::iso_ms(at)));
    }
    if !want.associations.is_empty() {
        let mut assoc = Map::new();
        let id = id_of(view).parse().unwrap_or(0);
        for to in &want.associations {
            let Ok(list) = store.associations(obj, id, *to) else {
                continue;
            };
            let results: Vec<Value> = list
                .iter()
                .flat_map(|(to_id, types)| v3_types(obj, *to, types, *to_id))
                .collect();
            if !results.is_empty() {
                assoc.insert(to.plural().to_owned(), json!({ "results": results }));
            }
        }
        if !assoc.is_empty() {
            m.insert("associations".into(), Value::Object(assoc));
        }
    }
    Value::Object(m)
}

/// The v3 inline association entries of one target: `{id, type: "deal_to_contact"}`, with
/// `_unlabeled` for the non-primary default type when the association is also primary.
fn v3_types(from: Obj, to: Obj, types: &[AssocType], to_id: u64) -> Vec<Value> {
    let base = format!("{}_to_{}", from.singular(), to.singular());
    let has_primary = types.iter().any(|t| t.label.as_deref() == Some("Primary"));
    types
        .iter()
        .filter(|t| t.category == "HUBSPOT_DEFINED")
        .map(|t| {
            let name = if has_primary && t.label.is_none() {
                format!("{base}_unlabeled")
            } else {
                base.clone()
            };
            json!({"id": to_id.to_string(), "type": name})
        })
        .collect()
}

fn want_from_query(ctx: &Ctx<'_>, q: &Query<'_>) -> Want {
    Want {
        history_limit: ctx.opts.history_retained,
        properties: q.list("properties"),
        history: q.list("propertiesWithHistory").unwrap_or_default(),
        associations: q
            .list("associations")
            .unwrap_or_default()
            .iter()
            .filter_map(|s| Obj::parse(s))
            .collect(),
    }
}

fn paging(after: String) -> Value {
    json!({"next": {"after": after, "link": format!("?after={after}")}})
}

/// `GET /crm/v3/pipelines/deals`: every pipeline, no paging (CRM-APIS 1.6).
pub fn pipelines(store: &Store) -> Reply {
    let results: Vec<Value> = store.pipeline.iter().map(pipeline_json).collect();
    Reply::ok(json!({ "results": results }))
}

/// `GET /crm/v3/pipelines/deals/{id}`.
pub fn pipeline(store: &Store, ctx: &Ctx<'_>, id: &str) -> Reply {
    match store.pipeline.as_ref().filter(|p| p.id.as_str() == id) {
        Some(p) => Reply::ok(pipeline_json(p)),
        None => Reply::not_found(ctx.seq),
    }
}

/// `GET /crm/v3/owners?limit&after&archived&email` (CRM-APIS 1.7).
pub fn owners(store: &Store, ctx: &Ctx<'_>, q: &Query<'_>) -> Reply {
    let limit = match q.limit(100) {
        Ok(0) => return Reply::bad(ctx.seq, "limit must be at least 1"),
        Ok(n) => n.min(OWNERS_MAX),
        Err(e) => return Reply::bad(ctx.seq, &e),
    };
    let archived = match q.flag("archived") {
        Ok(a) => a,
        Err(e) => return Reply::bad(ctx.seq, &e),
    };
    let start = match q.get("after") {
        None => 0,
        Some(c) => match ctx.cursors.decode(CursorKind::Owners, c) {
            Some(p) => p as usize,
            None => return Reply::bad(ctx.seq, "after is not a valid paging cursor"),
        },
    };
    let email = q.get("email");
    let matching: Vec<(usize, &_)> = store
        .owners
        .iter()
        .enumerate()
        .filter(|(_, o)| o.active != archived)
        .filter(|(_, o)| {
            email.is_none_or(|e| {
                o.email
                    .as_deref()
                    .is_some_and(|x| x.eq_ignore_ascii_case(e))
            })
        })
        .filter(|(i, _)| *i >= start)
        .collect();
    let page: Vec<Value> = matching
        .iter()
        .take(limit)
        .map(|(_, o)| owner_json(store, o))
        .collect();
    let mut body = json!({ "results": page });
    if let Some((next, _)) = matching.get(limit) {
        body["paging"] = paging(ctx.cursors.encode(CursorKind::Owners, *next as u64));
    }
    Reply::ok(body)
}

/// `GET /crm/v3/owners/{id}?idProperty=id|userId&archived`.
pub fn owner(store: &Store, ctx: &Ctx<'_>, id: &str, q: &Query<'_>) -> Reply {
    let archived = q.flag("archived").unwrap_or(false);
    let by_user = q.get("idProperty") == Some("userId");
    store
        .owners
        .iter()
        .filter(|o| o.active != archived)
        .find(|o| {
            if by_user {
                store
                    .user_id(o.id.as_str())
                    .is_some_and(|u| u.to_string() == id)
            } else {
                o.id.as_str() == id
            }
        })
        .map_or_else(
            || Reply::not_found(ctx.seq),
            |o| Reply::ok(owner_json(store, o)),
        )
}

/// `GET /crm/v3/objects/{type}` (CRM-APIS 1.2): id-ordered pages behind opaque cursors.
pub fn list(store: &Store, ctx: &Ctx<'_>, obj: Obj, q: &Query<'_>) -> Reply {
    let want = want_from_query(ctx, q);
    let limit = match q.limit(10) {
        Ok(n) => n,
        Err(e) => return Reply::bad(ctx.seq, &e),
    };
    if limit == 0 || limit > LIST_MAX {
        return Reply::bad(ctx.seq, &format!("limit must be between 1 and {LIST_MAX}"));
    }
    if !want.history.is_empty() && limit > HISTORY_LIST_MAX {
        return Reply::bad(
            ctx.seq,
            &format!(
                "limit must be at most {HISTORY_LIST_MAX} when propertiesWithHistory is requested"
            ),
        );
    }
    let archived = match q.flag("archived") {
        Ok(a) => a,
        Err(e) => return Reply::bad(ctx.seq, &e),
    };
    let start = match q.get("after") {
        None => 0,
        Some(c) => match ctx.cursors.decode(CursorKind::Objects, c) {
            Some(p) => p,
            None => return Reply::bad(ctx.seq, "after is not a valid paging cursor"),
        },
    };
    let ids: Vec<u64> = store
        .ids_from(obj, start, archived)
        .take(limit + 1)
        .collect();
    let results: Vec<Value> = ids
        .iter()
        .take(limit)
        .filter_map(|id| store.view(obj, *id, archived))
        .map(|v| record_json(store, v, &want, false))
        .collect();
    let mut body = json!({ "results": results });
    if let Some(next) = ids.get(limit) {
        body["paging"] = paging(ctx.cursors.encode(CursorKind::Objects, *next));
    }
    Reply::ok(body)
}

/// `GET /crm/v3/objects/{type}/{id}`.
pub fn read(store: &Store, ctx: &Ctx<'_>, obj: Obj, id: &str, q: &Query<'_>) -> Reply {
    let archived = q.flag("archived").unwrap_or(false);
    let want = want_from_query(ctx, q);
    id.parse()
        .ok()
        .and_then(|id| store.view(obj, id, archived))
        .map_or_else(
            || Reply::not_found(ctx.seq),
            |v| Reply::ok(record_json(store, v, &want, false)),
        )
}

fn strings(v: Option<&Value>) -> Result<Option<Vec<String>>, String> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|x| scalar(x).ok_or_else(|| format!("expected strings, got {x}")))
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(other) => Err(format!("expected an array, got {other}")),
    }
}

/// A JSON scalar as the string HubSpot would read it.
fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// The `inputs[].id` of a batch body.
fn inputs(body: &Value) -> Result<Vec<(String, Option<String>)>, String> {
    let Some(items) = body.get("inputs").and_then(Value::as_array) else {
        return Err("inputs is required and must be an array".to_owned());
    };
    items
        .iter()
        .map(|i| {
            let id = i
                .get("id")
                .and_then(scalar)
                .ok_or_else(|| format!("every input needs an id: {i}"))?;
            Ok((id, i.get("after").and_then(scalar)))
        })
        .collect()
}

fn upper_name(obj: Obj) -> String {
    obj.singular().to_ascii_uppercase()
}

/// `POST /crm/v3/objects/{type}/batch/read` (CRM-APIS 1.3): ≤100 inputs; missing ids give 207
/// with one `OBJECT_NOT_FOUND` error listing them.
pub fn batch_read(store: &Store, ctx: &Ctx<'_>, obj: Obj, q: &Query<'_>, body: &Value) -> Reply {
    let ids = match inputs(body) {
        Ok(ids) => ids,
        Err(e) => return Reply::bad(ctx.seq, &e),
    };
    if ids.len() > BATCH_MAX {
        return Reply::bad(
            ctx.seq,
            &format!(
                "batch read accepts at most {BATCH_MAX} inputs, got {}",
                ids.len()
            ),
        );
    }
    let (properties, history) = match (
        strings(body.get("properties")),
        strings(body.get("propertiesWithHistory")),
    ) {
        (Ok(p), Ok(h)) => (p, h.unwrap_or_default()),
        (Err(e), _) | (_, Err(e)) => return Reply::bad(ctx.seq, &e),
    };
    if let Some(max) = ctx.opts.batch_history_limit
        && !history.is_empty()
        && ids.len() > max
    {
        return Reply::bad(
            ctx.seq,
            &format!("batch read accepts at most {max} inputs with propertiesWithHistory"),
        );
    }
    if let Some(p) = body.get("idProperty").and_then(Value::as_str)
        && p != "hs_object_id"
    {
        return Reply::bad(ctx.seq, "the fake only reads by record id (idProperty)");
    }
    let archived = q.flag("archived").unwrap_or(false);
    let want = Want {
        properties,
        history,
        associations: Vec::new(),
        history_limit: ctx.opts.history_retained,
    };
    let started = Timestamp::now();
    let mut seen = std::collections::HashSet::new();
    let mut results = Vec::new();
    let mut missing = Vec::new();
    for (id, _) in ids {
        if !seen.insert(id.clone()) {
            continue;
        }
        match id.parse().ok().and_then(|n| store.view(obj, n, archived)) {
            Some(v) => results.push(record_json(store, v, &want, false)),
            None => missing.push(id),
        }
    }
    let mut out = json!({
        "status": "COMPLETE",
        "results": results,
        "startedAt": super::wire::iso_ms(started),
        "completedAt": super::wire::iso_ms(Timestamp::now()),
    });
    if missing.is_empty() {
        return Reply::ok(out);
    }
    out["numErrors"] = json!(1);
    out["errors"] = json!([{
        "status": "error",
        "category": "OBJECT_NOT_FOUND",
        "message": format!(
            "Could not get some {} objects, they may be deleted or not exist. \
             Check that ids are valid.",
            upper_name(obj)
        ),
        "context": {"ids": missing},
    }]);
    Reply {
        status: 207,
        body: out,
    }
}

/// `POST /crm/v4/associations/{from}/{to}/batch/read` (CRM-APIS 1.8): ≤1,000 inputs, per-record
/// paging beyond `association_page_size`; records with no associations are reported as
/// `NO_ASSOCIATIONS_FOUND` errors with status 207 ([2nd] observed responses in public code).
pub fn association_batch(store: &Store, ctx: &Ctx<'_>, from: Obj, to: Obj, body: &Value) -> Reply {
    let ids = match inputs(body) {
        Ok(ids) => ids,
        Err(e) => return Reply::bad(ctx.seq, &e),
    };
    if ids.len() > ASSOC_BATCH_MAX {
        return Reply::bad(
            ctx.seq,
            &format!(
                "association batch read accepts at most {ASSOC_BATCH_MAX} inputs, got {}",
                ids.len()
            ),
        );
    }
    let page_size = ctx.opts.association_page_size.max(1);
    let started = Timestamp::now();
    let mut results = Vec::new();
    let mut errors = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (id, after) in ids {
        if !seen.insert((id.clone(), after.clone())) {
            continue;
        }
        let list = match id.parse() {
            Ok(n) => match store.associations(from, n, to) {
                Ok(list) => list,
                Err(e) => return Reply::bad(ctx.seq, &e),
            },
            Err(_) => Vec::new(),
        };
        if list.is_empty() {
            errors.push(json!({
                "status": "error",
                "category": "OBJECT_NOT_FOUND",
                "subCategory": "crm.associations.NO_ASSOCIATIONS_FOUND",
                "message": format!(
                    "No {} is associated with {} {id}.",
                    to.singular(),
                    from.singular()
                ),
                "context": {
                    "fromObjectId": [id],
                    "fromObjectType": [from.singular()],
                    "toObjectType": [to.singular()],
                },
            }));
            continue;
        }
        let offset = match after.as_deref() {
            None => 0,
            Some(c) => match ctx.cursors.decode(CursorKind::Associations, c) {
                Some(p) => p as usize,
                None => return Reply::bad(ctx.seq, "after is not a valid association cursor"),
            },
        };
        let to_json: Vec<Value> = list
            .iter()
            .skip(offset)
            .take(page_size)
            .map(|(to_id, types)| {
                let to_id = if ctx.opts.association_ids_as_strings {
                    Value::String(to_id.to_string())
                } else {
                    json!(to_id)
                };
                json!({
                    "toObjectId": to_id,
                    "associationTypes": types.iter().map(AssocType::to_json).collect::<Vec<_>>(),
                })
            })
            .collect();
        let mut r = json!({"from": {"id": id}, "to": to_json});
        if offset + page_size < list.len() {
            let next = ctx
                .cursors
                .encode(CursorKind::Associations, (offset + page_size) as u64);
            r["paging"] = json!({"next": {"after": next}});
        }
        results.push(r);
    }
    let mut out = json!({
        "status": "COMPLETE",
        "results": results,
        "startedAt": super::wire::iso_ms(started),
        "completedAt": super::wire::iso_ms(Timestamp::now()),
    });
    if errors.is_empty() {
        return Reply::ok(out);
    }
    out["numErrors"] = json!(errors.len());
    out["errors"] = Value::Array(errors);
    Reply {
        status: 207,
        body: out,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Neq,
    Lt,
    Lte,
    Gt,
    Gte,
    Between,
    In,
    NotIn,
    Has,
    NotHas,
    Contains,
    NotContains,
}

struct Filter {
    prop: String,
    op: Op,
    value: Option<String>,
    high: Option<String>,
    values: Vec<String>,
}

/// Datetime properties: their filter values must be instants (epoch ms or ISO).
fn is_time_prop(name: &str) -> bool {
    matches!(
        name,
        "createdate"
            | "hs_lastmodifieddate"
            | "closedate"
            | "lastmodifieddate"
            | "hs_createdate"
            | "hs_timestamp"
            | "hs_meeting_start_time"
    ) || name.starts_with("hs_v2_date_")
}

fn parse_filter(f: &Value, known: &[String]) -> Result<Filter, String> {
    let prop = f
        .get("propertyName")
        .and_then(Value::as_str)
        .ok_or("every filter needs a propertyName")?
        .to_owned();
    if !known.contains(&prop) {
        return Err(format!("Property \"{prop}\" does not exist"));
    }
    let op = match f.get("operator").and_then(Value::as_str).unwrap_or("EQ") {
        "EQ" => Op::Eq,
        "NEQ" => Op::Neq,
        "LT" => Op::Lt,
        "LTE" => Op::Lte,
        "GT" => Op::Gt,
        "GTE" => Op::Gte,
        "BETWEEN" => Op::Between,
        "IN" => Op::In,
        "NOT_IN" => Op::NotIn,
        "HAS_PROPERTY" => Op::Has,
        "NOT_HAS_PROPERTY" => Op::NotHas,
        "CONTAINS_TOKEN" => Op::Contains,
        "NOT_CONTAINS_TOKEN" => Op::NotContains,
        other => return Err(format!("unknown filter operator {other:?}")),
    };
    let value = f.get("value").and_then(scalar);
    let high = f.get("highValue").and_then(scalar);
    let values = strings(f.get("values"))?.unwrap_or_default();
    let needs_value = !matches!(op, Op::Has | Op::NotHas | Op::In | Op::NotIn);
    if needs_value && value.is_none() {
        return Err(format!("filter on {prop} needs a value"));
    }
    if op == Op::Between && high.is_none() {
        return Err(format!("BETWEEN filter on {prop} needs a highValue"));
    }
    if matches!(op, Op::In | Op::NotIn) && values.is_empty() {
        return Err(format!("IN filter on {prop} needs values"));
    }
    if is_time_prop(&prop) {
        for v in value.iter().chain(high.iter()).chain(values.iter()) {
            if parse_instant(v).is_none() {
                return Err(format!("{v:?} is not a valid datetime for {prop}"));
            }
        }
    }
    Ok(Filter {
        prop,
        op,
        value,
        high,
        values,
    })
}

/// Compares a property with a filter value: instants by millisecond, numbers numerically,
/// text numerically when both sides are numbers (ids) and byte-wise otherwise.
fn compare(p: &Prop<'_>, v: &str) -> Option<Ordering> {
    match p {
        Prop::Null => None,
        Prop::Time(t) => parse_instant(v).map(|x| t.as_millisecond().cmp(&x.as_millisecond())),
        Prop::Num(x) => v.trim().parse::<f64>().ok().and_then(|y| x.partial_cmp(&y)),
        Prop::Bool(b) => Some(if *b { "true" } else { "false" }.cmp(v)),
        Prop::Str(s) => match (s.parse::<f64>(), v.parse::<f64>()) {
            (Ok(a), Ok(b)) => a.partial_cmp(&b),
            _ => Some(s.as_ref().cmp(v)),
        },
    }
}

fn matches(store: &Store, view: View<'_>, f: &Filter) -> bool {
    let p = store.prop(view, &f.prop).unwrap_or(Prop::Null);
    let v = f.value.as_deref().unwrap_or("");
    let c = || compare(&p, v);
    match f.op {
        Op::Has => p != Prop::Null,
        Op::NotHas => p == Prop::Null,
        Op::Eq => c() == Some(Ordering::Equal),
        Op::Neq => c() != Some(Ordering::Equal),
        Op::Lt => c() == Some(Ordering::Less),
        Op::Lte => matches!(c(), Some(Ordering::Less | Ordering::Equal)),
        Op::Gt => c() == Some(Ordering::Greater),
        Op::Gte => matches!(c(), Some(Ordering::Greater | Ordering::Equal)),
        Op::Between => {
            matches!(c(), Some(Ordering::Greater | Ordering::Equal))
                && matches!(
                    compare(&p, f.high.as_deref().unwrap_or("")),
                    Some(Ordering::Less | Ordering::Equal)
                )
        }
        Op::In | Op::NotIn => {
            let hit = f
                .values
                .iter()
                .any(|x| compare(&p, x) == Some(Ordering::Equal));
            hit == (f.op == Op::In)
        }
        Op::Contains | Op::NotContains => {
            let text = p.as_string().unwrap_or_default().to_lowercase();
            let hit = text
                .split(|c: char| !c.is_alphanumeric())
                .any(|w| w == v.to_lowercase());
            hit == (f.op == Op::Contains)
        }
    }
}

/// A sort key: instants and numbers as numbers, text as text, empty last.
#[derive(Debug, Clone, PartialEq, PartialOrd)]
enum SortKey {
    Num(f64),
    Text(String),
    Null,
}

fn sort_key(p: Prop<'_>) -> SortKey {
    match p {
        Prop::Null => SortKey::Null,
        Prop::Time(t) => SortKey::Num(t.as_millisecond() as f64),
        Prop::Num(x) => SortKey::Num(x),
        Prop::Bool(b) => SortKey::Text(b.to_string()),
        Prop::Str(s) => match s.parse::<f64>() {
            Ok(x) => SortKey::Num(x),
            Err(_) => SortKey::Text(s.into_owned()),
        },
    }
}

/// `POST /crm/v3/objects/{type}/search` (CRM-APIS 1.4).
pub fn search(
    store: &Store,
    ctx: &Ctx<'_>,
    obj: Obj,
    raw: &[u8],
    now: std::time::Instant,
) -> Reply {
    // The documented limit is in characters; bodies here are ASCII JSON, so bytes would do, but
    // counting characters keeps a body with non-ASCII values honest.
    let text = String::from_utf8_lossy(raw);
    if text.chars().count() > SEARCH_BODY_MAX {
        return Reply::bad(
            ctx.seq,
            &format!("search request bodies are limited to {SEARCH_BODY_MAX} characters"),
        );
    }
    let body: Value = match serde_json::from_str(&text) {
        Ok(v) => v,
        Err(e) => return Reply::bad(ctx.seq, &format!("Invalid input JSON: {e}")),
    };
    match search_inner(store, ctx, obj, &body, now) {
        Ok(r) => r,
        Err(e) => Reply::bad(ctx.seq, &e),
    }
}

fn search_inner(
    store: &Store,
    ctx: &Ctx<'_>,
    obj: Obj,
    body: &Value,
    now: std::time::Instant,
) -> Result<Reply, String> {
    let mut known = store.known_props(obj);
    if obj.kind().is_some() {
        known.push("associations.deal".to_owned());
    }
    let groups: Vec<Vec<Filter>> = match body.get("filterGroups") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(gs)) => gs
            .iter()
            .map(|g| match g.get("filters") {
                None | Some(Value::Null) => Ok(Vec::new()),
                Some(Value::Array(fs)) => fs.iter().map(|f| parse_filter(f, &known)).collect(),
                Some(other) => Err(format!("filters must be an array, got {other}")),
            })
            .collect::<Result<_, _>>()?,
        Some(other) => return Err(format!("filterGroups must be an array, got {other}")),
    };
    let total_filters: usize = groups.iter().map(Vec::len).sum();
    if groups.len() > 5 || groups.iter().any(|g| g.len() > 6) || total_filters > 18 {
        return Err(
            "too many filters: at most 5 filterGroups of at most 6 filters, 18 in total".into(),
        );
    }
    let sorts: Vec<(String, bool)> = match body.get("sorts") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(ss)) => ss
            .iter()
            .map(|s| match s {
                // The spec types sorts as strings ("-prop" for descending); the docs use objects.
                Value::String(p) => Ok(match p.strip_prefix('-') {
                    Some(p) => (p.to_owned(), false),
                    None => (p.clone(), true),
                }),
                Value::Object(_) => {
                    let p = s
                        .get("propertyName")
                        .and_then(Value::as_str)
                        .ok_or("every sort needs a propertyName")?;
                    match s
                        .get("direction")
                        .and_then(Value::as_str)
                        .unwrap_or("ASCENDING")
                    {
                        "ASCENDING" => Ok((p.to_owned(), true)),
                        "DESCENDING" => Ok((p.to_owned(), false)),
                        d => Err(format!(
                            "sort direction must be ASCENDING or DESCENDING, not {d:?}"
                        )),
                    }
                }
                other => Err(format!("a sort must be an object or a string, got {other}")),
            })
            .collect::<Result<_, String>>()?,
        Some(other) => return Err(format!("sorts must be an array, got {other}")),
    };
    if sorts.len() > 1 {
        return Err("only one sort is supported".into());
    }
    if let Some((p, _)) = sorts.first()
        && !known.iter().any(|k| k == p)
    {
        return Err(format!("Property \"{p}\" does not exist"));
    }
    let limit = match body.get("limit") {
        None | Some(Value::Null) => 10,
        Some(v) => scalar(v)
            .and_then(|s| s.parse::<usize>().ok())
            .ok_or_else(|| format!("limit must be an integer, got {v}"))?,
    };
    if limit > SEARCH_MAX {
        return Err(format!("limit must be at most {SEARCH_MAX}"));
    }
    // "after" must be an integer (CRM-APIS 1.4), sent as a string or a number.
    let offset = match body.get("after") {
        None | Some(Value::Null) => 0,
        Some(v) => scalar(v).filter(|s| !s.is_empty()).map_or(Ok(0), |s| {
            s.parse::<usize>()
                .map_err(|_| format!("after must be an integer, got {v}"))
        })?,
    };
    if offset >= ctx.opts.search_cap {
        return Err(format!(
            "paging beyond {} results is not supported; narrow the query",
            ctx.opts.search_cap
        ));
    }
    let properties = strings(body.get("properties"))?;

    // Archived records never appear in search (CRM-APIS 1.4), nor records still being indexed.
    let mut hits: Vec<(SortKey, u64)> = Vec::new();
    for id in store.ids_from(obj, 0, false) {
        let Some(view) = store.view(obj, id, false) else {
            continue;
        };
        if let View::Deal(e) = view
            && e.visible_after.is_some_and(|t| now < t)
        {
            continue;
        }
        let hit = groups.is_empty()
            || groups
                .iter()
                .any(|g| g.iter().all(|f| matches(store, view, f)));
        if hit {
            let key = match sorts.first() {
                Some((p, _)) => sort_key(store.prop(view, p).unwrap_or(Prop::Null)),
                None => SortKey::Null,
            };
            hits.push((key, id));
        }
    }
    let ascending = sorts.first().is_none_or(|(_, asc)| *asc);
    hits.sort_by(|(ka, ia), (kb, ib)| {
        let by_key = match (ka, kb) {
            (SortKey::Null, SortKey::Null) => Ordering::Equal,
            (SortKey::Null, _) => return Ordering::Greater,
            (_, SortKey::Null) => return Ordering::Less,
            _ => ka.partial_cmp(kb).unwrap_or(Ordering::Equal),
        };
        let by_key = if ascending { by_key } else { by_key.reverse() };
        by_key.then(ia.cmp(ib))
    });
    let total = hits.len();
    let end = (offset + limit).min(total).min(ctx.opts.search_cap);
    let want = Want {
        properties,
        ..Want::default()
    };
    let results: Vec<Value> = hits
        .get(offset..end.max(offset))
        .unwrap_or_default()
        .iter()
        .filter_map(|(_, id)| store.view(obj, *id, false))
        .map(|v| record_json(store, v, &want, true))
        .collect();
    let mut out = json!({"total": total, "results": results});
    // The next offset is offered even when it reaches the cap, as HubSpot does: following it is
    // the client's mistake and gets the 400.
    // A `limit` of 0 (a count-only query) offers no next page, which would never advance.
    if end < total && limit > 0 {
        out["paging"] = json!({"next": {"after": end.to_string()}});
    }
    Ok(Reply::ok(out))
}

/// `POST /crm/v3/objects/notes` (CRM-APIS 1.11): creates a note, associated with a deal (214)
/// and/or contacts (202), answering 201. It does not bump the deal's `hs_lastmodifieddate`.
///
/// The body is validated as HubSpot's `SimplePublicObjectInputForCreate` is: `properties` an
/// object of scalar values (`hs_note_body` a string), `associations` an array whose entries
/// have `to.id` and `types` of `{associationCategory, associationTypeId}` with a documented
/// category, the default types (214, 202) being `HUBSPOT_DEFINED`; anything else is a 400.
pub fn create_note(store: &mut Store, ctx: &Ctx<'_>, body: &Value) -> Reply {
    let Some(props) = body.get("properties").filter(|p| p.is_object()).cloned() else {
        return Reply::bad(ctx.seq, "properties is required and must be an object");
    };
    if props
        .as_object()
        .is_some_and(|o| o.values().any(|v| !(v.is_null() || scalar(v).is_some())))
    {
        return Reply::bad(
            ctx.seq,
            "property values must be strings, numbers or booleans",
        );
    }
    if props.get("hs_note_body").is_some_and(|b| !b.is_string()) {
        return Reply::bad(ctx.seq, "hs_note_body must be a string");
    }
    if body.get("associations").is_some_and(|a| !a.is_array()) {
        return Reply::bad(ctx.seq, "associations must be an array");
    }
    for a in body
        .get("associations")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let types = a.get("types").and_then(Value::as_array);
        let valid = types.is_some_and(|types| {
            !types.is_empty()
                && types.iter().all(|t| {
                    let category = t.get("associationCategory").and_then(Value::as_str);
                    let id = t.get("associationTypeId").and_then(Value::as_u64);
                    match (category, id) {
                        (Some("HUBSPOT_DEFINED"), Some(_)) => true,
                        (Some("USER_DEFINED" | "INTEGRATOR_DEFINED"), Some(id)) => {
                            !matches!(id, 214 | 202)
                        }
                        _ => false,
                    }
                })
        });
        if !valid {
            return Reply::bad(
                ctx.seq,
                "every association needs types of {associationCategory, associationTypeId}, \
                 the default ones HUBSPOT_DEFINED",
            );
        }
    }
    let prop = |name: &str| props.get(name).and_then(scalar);
    let Some(timestamp) = prop("hs_timestamp").as_deref().and_then(parse_instant) else {
        return Reply::bad(ctx.seq, "hs_timestamp is required (epoch ms or ISO 8601)");
    };
    let mut deal: Option<u64> = None;
    let mut contacts: Vec<ContactId> = Vec::new();
    for a in body
        .get("associations")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let to = a.get("to").and_then(|t| t.get("id")).and_then(scalar);
        let type_ids: Vec<u64> = a
            .get("types")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|t| t.get("associationTypeId").and_then(Value::as_u64))
            .collect();
        let Some(to) = to.and_then(|t| t.parse::<u64>().ok()) else {
            return Reply::bad(ctx.seq, "every association needs to.id");
        };
        if type_ids.contains(&214) {
            if store.view(Obj::Deal, to, false).is_none() {
                return Reply::bad(ctx.seq, &format!("deal {to} does not exist"));
            }
            deal.get_or_insert(to);
        } else if type_ids.contains(&202) {
            if !store.contacts.contains_key(&to) {
                return Reply::bad(ctx.seq, &format!("contact {to} does not exist"));
            }
            contacts.push(to.to_string().into());
        } else {
            return Reply::bad(
                ctx.seq,
                &format!("unsupported association type {type_ids:?} for a note"),
            );
        }
    }
    if store.next_note_id == 0 {
        store.next_note_id = 90_000_000_001;
    }
    let id = store.next_note_id;
    store.next_note_id += 1;
    contacts.sort();
    contacts.dedup();
    let body_text = prop("hs_note_body").unwrap_or_default();
    let owner = prop("hubspot_owner_id");
    let activity = Activity {
        id: id.to_string().into(),
        deal_id: deal.map_or_else(|| DealId::from(""), |d| d.to_string().into()),
        kind: ActivityKind::Note,
        occurred_at: timestamp,
        direction: None,
        subject: None,
        body: body_text.clone(),
        owner_id: owner.clone().map(OwnerId::from),
        contact_ids: contacts,
    };
    let loc = match deal.and_then(|d| store.deals.get_mut(&d)) {
        Some(e) => {
            e.bundle.activities.push(activity);
            super::store::EngLoc {
                deal,
                idx: e.bundle.activities.len() - 1,
            }
        }
        None => {
            store.standalone_notes.push(activity);
            super::store::EngLoc {
                deal: None,
                idx: store.standalone_notes.len() - 1,
            }
        }
    };
    store.engagements.insert(id, loc);
    store.created_notes.push(CreatedNote {
        id: id.to_string(),
        deal_id: deal.map(|d| d.to_string().into()),
        body: body_text,
        timestamp,
        owner_id: owner,
        request: body.clone(),
    });
    let want = Want {
        properties: Some(
            ["hs_timestamp", "hs_note_body", "hubspot_owner_id"]
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
        ),
        ..Want::default()
    };
    let view = store
        .view(Obj::Note, id, false)
        .expect("the note was just stored");
    Reply {
        status: 201,
        body: record_json(store, view, &want, false),
    }
}
