//! Cell values as CRM exports write them: dates, amounts, flags, outcomes, and the ids dealtrace
//! derives from names. Every function here is pure; a `None` or `Err(Invalid)` means "not this kind of
//! value" and the caller words the row's reason, so that messages name the field and the cell.

use jiff::Timestamp;
use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;
use serde::Deserialize;

/// A cell that is not a value of the kind asked for; the caller words the message, naming the
/// field and quoting the cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Invalid;

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("not a valid value")
    }
}

impl std::error::Error for Invalid {}

/// How to read an all-numeric date like `03/04/2026`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DateOrder {
    /// Month first (US exports): `03/04/2026` is 4 March.
    #[default]
    Mdy,
    /// Day first (most other locales): `03/04/2026` is 3 April.
    Dmy,
}

/// How to turn a cell into an instant.
#[derive(Debug, Clone)]
pub struct DateOptions {
    /// Order of slash- or dash-separated day-first/month-first dates.
    pub order: DateOrder,
    /// The zone of dates and times written without an offset.
    pub zone: TimeZone,
}

impl Default for DateOptions {
    fn default() -> Self {
        DateOptions {
            order: DateOrder::Mdy,
            zone: TimeZone::UTC,
        }
    }
}

/// Guesses the order of a file's all-numeric dates: a first number above 12 (`31/01/2026`) can
/// only be a day, a second number above 12 (`01/31/2026`) only a month. `None` when no cell
/// settles it, or when cells disagree (then the mapping's `date_order`, or month first, applies).
pub fn infer_date_order<'a>(cells: impl IntoIterator<Item = &'a str>) -> Option<DateOrder> {
    let (mut dmy, mut mdy) = (false, false);
    for cell in cells {
        let date = cell.trim().split([' ', 'T']).next().unwrap_or("");
        if date.contains('.') {
            continue; // dotted dates are always day first
        }
        let parts: Vec<&str> = date.split(['/', '-']).collect();
        let [a, b, _] = parts.as_slice() else {
            continue;
        };
        if a.len() > 2 {
            continue; // year first
        }
        let (Ok(a), Ok(b)) = (a.parse::<u32>(), b.parse::<u32>()) else {
            continue;
        };
        dmy |= a > 12 && b <= 12;
        mdy |= b > 12 && a <= 12;
    }
    match (dmy, mdy) {
        (true, false) => Some(DateOrder::Dmy),
        (false, true) => Some(DateOrder::Mdy),
        _ => None,
    }
}

/// Unix times before this many digits are refused: a 5- to 8-digit number in a date column is far
/// more likely a misplaced amount or id than an instant in 1970–1973.
const MIN_UNIX_DIGITS: usize = 9;
/// Above this, a Unix number is milliseconds (1e11 seconds is the year 5138).
const MILLIS_THRESHOLD: i64 = 100_000_000_000;

/// Parses a date or date-time in the forms CRM exports use: ISO 8601 / RFC 3339 with or without
/// an offset, `YYYY-MM-DD HH:MM[:SS]`, `MM/DD/YYYY` or `DD/MM/YYYY` (per `order`), `DD.MM.YYYY`,
/// `1 Mar 2026` / `Mar 1, 2026`, each optionally followed by a time with `AM`/`PM`, and Unix
/// seconds or milliseconds. Values without an offset are in `opts.zone`; values without a time
/// are midnight. The result is truncated to whole seconds, the cache's precision, so that a
/// re-import compares equal.
pub fn parse_instant(raw: &str, opts: &DateOptions) -> Result<Timestamp, Invalid> {
    let s = raw.trim();
    if s.is_empty() {
        return Err(Invalid);
    }
    let ts = if let Some(n) = unix_number(s) {
        let n = n?;
        let secs = if n.abs() >= MILLIS_THRESHOLD {
            n.div_euclid(1000)
        } else {
            n
        };
        Timestamp::from_second(secs).map_err(|_| Invalid)?
    } else if let Ok(ts) = s.parse::<Timestamp>() {
        // RFC 3339 / ISO 8601 with `Z` or an offset (and RFC 9557 zone annotations).
        ts
    } else {
        let (dt, utc) = civil_datetime(s, opts.order)?;
        let zone = if utc {
            TimeZone::UTC
        } else {
            opts.zone.clone()
        };
        dt.to_zoned_datetime(zone).map_err(|_| Invalid)?.timestamp()
    };
    let year = ts.to_zoned_datetime(TimeZone::UTC).year();
    if !(1900..=2200).contains(&year) {
        return Err(Invalid);
    }
    Timestamp::from_second(ts.as_second()).map_err(|_| Invalid)
}

/// `Some(Ok(n))` for an all-digit Unix time, `Some(Err)` for a number too short to be one,
/// `None` when the cell is not a plain integer.
fn unix_number(s: &str) -> Option<Result<i64, Invalid>> {
    let digits = s.strip_prefix('-').unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if digits.len() < MIN_UNIX_DIGITS {
        return Some(Err(Invalid));
    }
    Some(s.parse::<i64>().map_err(|_| Invalid))
}

/// A civil date-time and whether the text said UTC explicitly (`UTC`, `GMT`, `Z` suffix).
fn civil_datetime(s: &str, order: DateOrder) -> Result<(DateTime, bool), Invalid> {
    // ISO 8601 without an offset ("2026-03-01T10:00:00", "2026-03-01 10:00", "2026-03-01").
    if let Ok(dt) = s.parse::<DateTime>() {
        return Ok((dt, false));
    }
    let (rest, utc) = strip_utc_suffix(s);
    let (date_part, time_part) = split_date_time(rest);
    let date = civil_date(date_part, order)?;
    let (h, m, sec) = match time_part {
        Some(t) => parse_time(t)?,
        None => (0, 0, 0),
    };
    let dt = date.at(h, m, sec, 0);
    Ok((dt, utc))
}

fn strip_utc_suffix(s: &str) -> (&str, bool) {
    for suffix in [" UTC", " GMT", " utc", " gmt", "Z"] {
        if let Some(rest) = s.strip_suffix(suffix)
            // "Z" only after a digit: month names never end a date part with it.
            && (suffix != "Z" || rest.ends_with(|c: char| c.is_ascii_digit()))
        {
            return (rest.trim_end(), true);
        }
    }
    (s, false)
}

/// Splits "date time" at the first space or `T` that follows the date part. The date part may
/// itself contain spaces ("1 Mar 2026", "Mar 1, 2026"), so the split is at the first token that
/// contains a colon.
fn split_date_time(s: &str) -> (&str, Option<&str>) {
    if let Some(colon) = s.find(':') {
        let head = &s[..colon];
        if let Some(cut) = head.rfind([' ', 'T']) {
            return (
                s[..cut].trim_end_matches([' ', ',']),
                Some(s[cut + 1..].trim()),
            );
        }
    }
    (s, None)
}

/// `HH:MM`, `HH:MM:SS`, `HH:MM:SS.fff`, optionally with `AM`/`PM`.
fn parse_time(t: &str) -> Result<(i8, i8, i8), Invalid> {
    let lower = t.to_ascii_lowercase();
    let (clock, meridiem) = if let Some(x) = lower.strip_suffix("am") {
        (x.trim_end(), Some(false))
    } else if let Some(x) = lower.strip_suffix("pm") {
        (x.trim_end(), Some(true))
    } else {
        (lower.as_str(), None)
    };
    let mut parts = clock.split(':');
    let num = |p: Option<&str>, max: i64| -> Result<i64, Invalid> {
        let p = p.ok_or(Invalid)?;
        if p.is_empty() || p.len() > 2 || !p.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Invalid);
        }
        let n: i64 = p.parse().map_err(|_| Invalid)?;
        if n > max { Err(Invalid) } else { Ok(n) }
    };
    let mut h = num(parts.next(), 23)?;
    let m = num(parts.next(), 59)?;
    let s = match parts.next() {
        None => 0,
        // Fractions of a second are dropped: the cache keeps whole seconds.
        Some(sec) => num(Some(sec.split('.').next().unwrap_or("")), 60)?.min(59),
    };
    if parts.next().is_some() {
        return Err(Invalid);
    }
    if let Some(pm) = meridiem {
        if !(1..=12).contains(&h) {
            return Err(Invalid);
        }
        h = match (pm, h) {
            (false, 12) => 0,
            (true, 12) => 12,
            (true, h) => h + 12,
            (false, h) => h,
        };
    }
    Ok((h as i8, m as i8, s as i8))
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

fn month_number(word: &str) -> Option<i8> {
    let w = word.to_ascii_lowercase();
    let w = w.trim_end_matches('.');
    if w.len() < 3 {
        return None;
    }
    let pos = MONTHS.iter().position(|m| w.starts_with(m))?;
    // "march", "mar", "sept" are fine; "marble" is not a month.
    let full = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ][pos];
    (full.starts_with(w) || w == "sept").then_some(pos as i8 + 1)
}

/// The date part: `YYYY-MM-DD`, `YYYY/MM/DD`, `DD.MM.YYYY`, `MM/DD/YYYY` or `DD/MM/YYYY`
/// (also with `-`), two-digit years (1970–2069), or with a month name.
fn civil_date(s: &str, order: DateOrder) -> Result<Date, Invalid> {
    let tokens: Vec<&str> = s
        .split([' ', ',', '-', '/', '.'])
        .filter(|t| !t.is_empty())
        .collect();
    if tokens.len() != 3 {
        return Err(Invalid);
    }
    let number = |t: &str| -> Result<i64, Invalid> {
        if t.len() > 4 || !t.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Invalid);
        }
        t.parse().map_err(|_| Invalid)
    };
    let year = |t: &str| -> Result<i16, Invalid> {
        let y = number(t)?;
        match t.len() {
            4 => Ok(y as i16),
            2 => Ok(if y < 70 { 2000 + y } else { 1900 + y } as i16),
            _ => Err(Invalid),
        }
    };
    let small = |t: &str| -> Result<i8, Invalid> {
        if t.len() > 2 {
            return Err(Invalid);
        }
        Ok(number(t)? as i8)
    };
    let named: Vec<(usize, i8)> = tokens
        .iter()
        .enumerate()
        .filter_map(|(i, t)| month_number(t).map(|m| (i, m)))
        .collect();
    let (y, m, d) = match named.as_slice() {
        // "Mar 1, 2026" / "March 1 2026"
        [(0, m)] => (year(tokens[2])?, *m, small(tokens[1])?),
        // "1 Mar 2026" / "01-Mar-2026"
        [(1, m)] => (year(tokens[2])?, *m, small(tokens[0])?),
        [] => {
            let sep_dot = s.contains('.');
            if tokens[0].len() == 4 {
                (year(tokens[0])?, small(tokens[1])?, small(tokens[2])?)
            } else if sep_dot || order == DateOrder::Dmy {
                (year(tokens[2])?, small(tokens[1])?, small(tokens[0])?)
            } else {
                (year(tokens[2])?, small(tokens[0])?, small(tokens[1])?)
            }
        }
        _ => return Err(Invalid),
    };
    Date::new(y, m, d).map_err(|_| Invalid)
}

/// Which character separates the decimals of amounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decimal {
    /// `1,234.50`
    Point,
    /// `1.234,50`
    Comma,
}

impl Decimal {
    fn char(self) -> char {
        match self {
            Decimal::Point => '.',
            Decimal::Comma => ',',
        }
    }

    fn group(self) -> char {
        match self {
            Decimal::Point => ',',
            Decimal::Comma => '.',
        }
    }
}

/// Guesses a file's decimal separator from its amount cells. A cell votes when it can only be
/// read one way (`1.234,50`, `12,5`, `1,234.5`); `1,234` and `1.234` are ambiguous and do not
/// vote. With no votes, a `;`-separated file (what European spreadsheet locales write) is taken
/// to use the decimal comma.
pub fn infer_decimal<'a>(cells: impl IntoIterator<Item = &'a str>, delimiter: u8) -> Decimal {
    let (mut point, mut comma) = (0usize, 0usize);
    for cell in cells {
        let digits: String = cell
            .chars()
            .filter(|c| c.is_ascii_digit() || *c == '.' || *c == ',')
            .collect();
        let Some(at) = digits.rfind(['.', ',']) else {
            continue;
        };
        let sep = digits.as_bytes()[at] as char;
        let other = if sep == '.' { ',' } else { '.' };
        let before = &digits[..at];
        let decimal = if before.contains(other) {
            // "1,234.50": the last separator is the decimal one.
            sep
        } else if before.contains(sep) {
            // "1,234,567": the same separator twice is grouping.
            other
        } else if digits.len() - at - 1 != 3 {
            // "12,5", "1234.50": not a group of three, so decimals.
            sep
        } else {
            // "1,234" / "1.234" could be either.
            continue;
        };
        if decimal == '.' {
            point += 1;
        } else {
            comma += 1;
        }
    }
    match point.cmp(&comma) {
        std::cmp::Ordering::Greater => Decimal::Point,
        std::cmp::Ordering::Less => Decimal::Comma,
        std::cmp::Ordering::Equal if delimiter == b';' => Decimal::Comma,
        std::cmp::Ordering::Equal => Decimal::Point,
    }
}

/// Currency symbols that name one currency; `$` does not (USD, CAD, AUD, …) and is only stripped.
const SYMBOLS: &[(char, Option<&str>)] = &[
    ('$', None),
    ('€', Some("EUR")),
    ('£', Some("GBP")),
    ('¥', None),
    ('₹', Some("INR")),
    ('₩', Some("KRW")),
    ('₽', Some("RUB")),
    ('₺', Some("TRY")),
    ('₪', Some("ILS")),
    ('₫', Some("VND")),
    ('฿', Some("THB")),
    ('₴', Some("UAH")),
    ('₦', Some("NGN")),
];

/// Parses an amount: `1234.5`, `1,234.50`, `1.234,50`, `$1,234`, `EUR 1.234,50`, `1 234,50 €`,
/// `(1,234)` (negative), `-1234`, `1234-`, `1.2E+05`. Thousands separators must group by three.
/// Returns the value and the ISO 4217 code the cell carried, if it named one.
pub fn parse_amount(raw: &str, decimal: Decimal) -> Result<(f64, Option<String>), Invalid> {
    let mut s = raw.trim();
    let mut negative = false;
    if let Some(inner) = s.strip_prefix('(').and_then(|x| x.strip_suffix(')')) {
        negative = true;
        s = inner.trim();
    }
    let mut code: Option<String> = None;
    // Peel signs and currency marks off both ends, in any order ("-$1", "$-1", "1 EUR", "EUR1").
    loop {
        let before = s;
        if let Some(x) = s.strip_prefix(['-', '−']) {
            negative = !negative;
            s = x.trim_start();
        } else if let Some(x) = s.strip_suffix(['-', '−']) {
            negative = !negative;
            s = x.trim_end();
        } else if let Some(x) = s.strip_prefix('+') {
            s = x.trim_start();
        }
        for (sym, named) in SYMBOLS {
            if let Some(x) = s.strip_prefix(*sym).or_else(|| s.strip_suffix(*sym)) {
                if let Some(n) = named {
                    code = Some((*n).to_owned());
                }
                s = x.trim();
            }
        }
        let alpha_prefix = s.chars().take_while(|c| c.is_ascii_alphabetic()).count();
        if alpha_prefix == 3 {
            code = Some(s[..3].to_ascii_uppercase());
            s = s[3..].trim_start();
        } else if alpha_prefix == 2 && s[2..].starts_with('$') {
            // "US$", "CA$", "AU$"
            code = Some(format!("{}D", s[..2].to_ascii_uppercase()));
            s = s[3..].trim_start();
        }
        let alpha_suffix = s
            .chars()
            .rev()
            .take_while(|c| c.is_ascii_alphabetic())
            .count();
        if alpha_suffix == 3 && s.len() > 3 && !s.ends_with(['e', 'E']) {
            code = Some(s[s.len() - 3..].to_ascii_uppercase());
            s = s[..s.len() - 3].trim_end();
        }
        if s == before {
            break;
        }
    }
    if s.is_empty() {
        return Err(Invalid);
    }
    // Scientific notation, as spreadsheets write big numbers ("1.2E+05").
    if s.contains(['e', 'E']) {
        let v: f64 = s.parse().map_err(|_| Invalid)?;
        return finite(if negative { -v } else { v }).map(|v| (v, code));
    }
    let cleaned: String = s
        .chars()
        .filter(|c| !matches!(c, ' ' | '\u{a0}' | '\u{202f}' | '\'' | '’'))
        .collect();
    if cleaned.is_empty()
        || !cleaned
            .chars()
            .all(|c| c.is_ascii_digit() || c == '.' || c == ',')
    {
        return Err(Invalid);
    }
    let (int, frac) = match cleaned.rfind(decimal.char()) {
        Some(at) => (&cleaned[..at], &cleaned[at + 1..]),
        None => (cleaned.as_str(), ""),
    };
    if frac.contains(['.', ',']) || int.contains(decimal.char()) {
        return Err(Invalid);
    }
    let groups: Vec<&str> = int.split(decimal.group()).collect();
    let grouped_ok = groups.len() == 1
        || ((1..=3).contains(&groups[0].len()) && groups[1..].iter().all(|g| g.len() == 3));
    if !grouped_ok || (int.is_empty() && frac.is_empty()) {
        return Err(Invalid);
    }
    let plain = format!(
        "{}.{}",
        if int.is_empty() {
            "0".into()
        } else {
            groups.concat()
        },
        if frac.is_empty() { "0" } else { frac }
    );
    let v: f64 = plain.parse().map_err(|_| Invalid)?;
    finite(if negative { -v } else { v }).map(|v| (v, code))
}

fn finite(v: f64) -> Result<f64, Invalid> {
    if v.is_finite() { Ok(v) } else { Err(Invalid) }
}

/// A currency cell: an ISO 4217 code (any case) or a symbol that names one currency.
pub fn parse_currency(raw: &str) -> Option<String> {
    let s = raw.trim();
    if s.len() == 3 && s.chars().all(|c| c.is_ascii_alphabetic()) {
        return Some(s.to_ascii_uppercase());
    }
    let mut chars = s.chars();
    let (Some(c), None) = (chars.next(), chars.next()) else {
        return None;
    };
    SYMBOLS
        .iter()
        .find(|(sym, _)| *sym == c)
        .and_then(|(_, code)| code.map(str::to_owned))
}

/// A yes/no cell: `true`/`false`, `yes`/`no`, `y`/`n`, `1`/`0`, `x`, `✓`. Empty is `None`.
pub fn parse_bool(raw: &str) -> Result<Option<bool>, Invalid> {
    let s = raw.trim().to_lowercase();
    match s.as_str() {
        "" => Ok(None),
        "true" | "yes" | "y" | "1" | "x" | "✓" | "✔" | "t" | "ja" | "oui" | "sí" | "si" => {
            Ok(Some(true))
        }
        "false" | "no" | "n" | "0" | "f" | "-" | "nein" | "non" => Ok(Some(false)),
        _ => Err(Invalid),
    }
}

/// Where a deal ended up, as a status cell or a stage name says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Not closed.
    Open,
    /// Closed won.
    Won,
    /// Closed lost.
    Lost,
}

impl Outcome {
    /// `(is_closed, is_won)`.
    pub fn flags(self) -> (bool, bool) {
        match self {
            Outcome::Open => (false, false),
            Outcome::Won => (true, true),
            Outcome::Lost => (true, false),
        }
    }
}

const WON_WORDS: &[&str] = &["won", "win", "closedwon", "wonclosed", "gewonnen", "gagné"];
const LOST_WORDS: &[&str] = &[
    "lost",
    "lose",
    "loss",
    "closedlost",
    "lostclosed",
    "dead",
    "disqualified",
    "verloren",
    "perdu",
];
const OPEN_WORDS: &[&str] = &[
    "open",
    "active",
    "inprogress",
    "pending",
    "ongoing",
    "offen",
];

fn words(s: &str) -> (Vec<String>, String) {
    let lower = s.to_lowercase();
    let words = lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect::<Vec<_>>();
    let compact = words.concat();
    (words, compact)
}

/// What a stage's label or id says about the deal: `Closed Won` / `closedwon` → won,
/// `Closed Lost` / `Lost` / `Dead` → lost, a bare `Closed` → lost (closed and not said to be won),
/// anything else → `None` (an open stage). A label naming both won and lost decides nothing.
pub fn stage_outcome(label: &str) -> Option<Outcome> {
    let (words, compact) = words(label);
    let has = |list: &[&str]| {
        list.contains(&compact.as_str()) || words.iter().any(|w| list.contains(&w.as_str()))
    };
    match (has(WON_WORDS), has(LOST_WORDS)) {
        (true, false) => Some(Outcome::Won),
        (false, true) => Some(Outcome::Lost),
        (true, true) => None,
        (false, false) if compact == "closed" => Some(Outcome::Lost),
        (false, false) => None,
    }
}

/// A status cell: open / won / lost and their common spellings (`Closed Won`, `In Progress`).
pub fn parse_status(raw: &str) -> Result<Option<Outcome>, Invalid> {
    if raw.trim().is_empty() {
        return Ok(None);
    }
    if let Some(o) = stage_outcome(raw) {
        return Ok(Some(o));
    }
    let (_, compact) = words(raw);
    if OPEN_WORDS.contains(&compact.as_str()) {
        Ok(Some(Outcome::Open))
    } else {
        Err(Invalid)
    }
}

/// A lowercase id derived from a label: runs of anything but letters and digits become `-`
/// (`Closed Won` → `closed-won`, `Équipe Nord` → `équipe-nord`). Stable across imports, so a
/// name always maps to the same record.
pub fn slug(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.trim().to_lowercase().chars() {
        if c.is_alphanumeric() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    out
}

/// A property name from a column header: `Lead Source` → `lead_source`.
pub fn property_name(header: &str) -> String {
    slug(header).replace('-', "_")
}

/// A header reduced for matching: lowercase letters and digits only (`Deal - Close Date` →
/// `dealclosedate`).
pub fn header_key(header: &str) -> String {
    header
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn mdy(s: &str) -> Result<Timestamp, Invalid> {
        parse_instant(s, &DateOptions::default())
    }

    fn dmy(s: &str) -> Result<Timestamp, Invalid> {
        parse_instant(
            s,
            &DateOptions {
                order: DateOrder::Dmy,
                ..Default::default()
            },
        )
    }

    #[test]
    fn iso_forms_with_and_without_offsets() {
        let t = ts("2026-03-01T10:00:00Z");
        assert_eq!(mdy("2026-03-01T10:00:00Z"), Ok(t));
        assert_eq!(mdy("2026-03-01T10:00:00.987Z"), Ok(t), "whole seconds");
        assert_eq!(mdy("2026-03-01T11:00:00+01:00"), Ok(t));
        assert_eq!(mdy("2026-03-01T11:00:00+0100"), Ok(t));
        assert_eq!(mdy("2026-03-01T10:00:00"), Ok(t), "no offset: the zone");
        assert_eq!(mdy("2026-03-01 10:00:00"), Ok(t));
        assert_eq!(mdy("2026-03-01 10:00"), Ok(t));
        assert_eq!(mdy(" 2026-03-01 "), Ok(ts("2026-03-01T00:00:00Z")));
        assert_eq!(mdy("2026/03/01"), Ok(ts("2026-03-01T00:00:00Z")));
    }

    #[test]
    fn slash_dot_and_named_month_dates() {
        let march_4 = Ok(ts("2026-03-04T00:00:00Z"));
        assert_eq!(mdy("03/04/2026"), march_4);
        assert_eq!(dmy("04/03/2026"), march_4);
        assert_eq!(mdy("3/4/26"), march_4, "two-digit year");
        assert_eq!(mdy("04.03.2026"), march_4, "dots are day first");
        assert_eq!(mdy("4 Mar 2026"), march_4);
        assert_eq!(mdy("04-Mar-2026"), march_4);
        assert_eq!(mdy("March 4, 2026"), march_4);
        assert_eq!(mdy("Mar 4 2026"), march_4);
        assert_eq!(mdy("03/04/2026 2:30 PM"), Ok(ts("2026-03-04T14:30:00Z")));
        assert_eq!(
            mdy("03/04/2026 12:05:09 am"),
            Ok(ts("2026-03-04T00:05:09Z"))
        );
        assert_eq!(dmy("04.03.2026 14:30"), Ok(ts("2026-03-04T14:30:00Z")));
        assert_eq!(mdy("2026-03-04 14:30 UTC"), Ok(ts("2026-03-04T14:30:00Z")));
    }

    #[test]
    fn date_order_is_inferred_only_when_a_cell_settles_it() {
        assert_eq!(
            infer_date_order(["03/02/2026", "15/01/2026 10:00"]),
            Some(DateOrder::Dmy)
        );
        assert_eq!(
            infer_date_order(["03/02/2026", "1/31/26"]),
            Some(DateOrder::Mdy)
        );
        assert_eq!(infer_date_order(["03/02/2026", "2026-01-31"]), None);
        assert_eq!(
            infer_date_order(["13/02/2026", "02/13/2026"]),
            None,
            "they disagree"
        );
        assert_eq!(infer_date_order(["31.01.2026", "Mar 4, 2026"]), None);
    }

    #[test]
    fn unix_seconds_and_milliseconds() {
        assert_eq!(mdy("1772359200"), Ok(ts("2026-03-01T10:00:00Z")));
        assert_eq!(mdy("1772359200123"), Ok(ts("2026-03-01T10:00:00Z")));
        assert_eq!(mdy("12345"), Err(Invalid), "too short to be a Unix time");
    }

    #[test]
    fn a_zone_applies_to_dates_without_an_offset_only() {
        let opts = DateOptions {
            order: DateOrder::Mdy,
            zone: TimeZone::get("Europe/Berlin").unwrap(),
        };
        assert_eq!(
            parse_instant("2026-03-01", &opts),
            Ok(ts("2026-02-28T23:00:00Z"))
        );
        assert_eq!(
            parse_instant("2026-07-01 12:00", &opts),
            Ok(ts("2026-07-01T10:00:00Z")),
            "summer time"
        );
        assert_eq!(
            parse_instant("2026-03-01T10:00:00Z", &opts),
            Ok(ts("2026-03-01T10:00:00Z"))
        );
    }

    #[test]
    fn garbage_is_not_a_date() {
        for bad in [
            "",
            "soon",
            "2026-13-01",
            "2026-02-30",
            "31/12/2026",
            "12/31/2026 25:00",
            "1/2",
            "0099-01-01",
            "Marble 4, 2026",
            "2026-03-01 10:00 XM",
        ] {
            assert_eq!(mdy(bad), Err(Invalid), "{bad:?}");
        }
        assert!(dmy("31/12/2026").is_ok());
    }

    fn point(s: &str) -> Result<(f64, Option<String>), Invalid> {
        parse_amount(s, Decimal::Point)
    }

    fn comma(s: &str) -> Result<(f64, Option<String>), Invalid> {
        parse_amount(s, Decimal::Comma)
    }

    #[test]
    fn amounts_in_common_forms() {
        assert_eq!(point("1234.5"), Ok((1234.5, None)));
        assert_eq!(point("1,234.50"), Ok((1234.5, None)));
        assert_eq!(point("1,234,567"), Ok((1_234_567.0, None)));
        assert_eq!(point("$1,234"), Ok((1234.0, None)));
        assert_eq!(point("-$1,234"), Ok((-1234.0, None)));
        assert_eq!(point("(1,234)"), Ok((-1234.0, None)));
        assert_eq!(point("1234-"), Ok((-1234.0, None)));
        assert_eq!(point("USD 99"), Ok((99.0, Some("USD".into()))));
        assert_eq!(point("US$ 99"), Ok((99.0, Some("USD".into()))));
        assert_eq!(point("£12.5"), Ok((12.5, Some("GBP".into()))));
        assert_eq!(point("1.2E+05"), Ok((120_000.0, None)));
        assert_eq!(point(".5"), Ok((0.5, None)));
        assert_eq!(comma("1.234,50"), Ok((1234.5, None)));
        assert_eq!(comma("EUR 1.234,50"), Ok((1234.5, Some("EUR".into()))));
        assert_eq!(comma("1 234,50 €"), Ok((1234.5, Some("EUR".into()))));
        assert_eq!(comma("1\u{a0}234,5"), Ok((1234.5, None)));
        assert_eq!(point("1'234.50"), Ok((1234.5, None)));
        assert_eq!(comma("12,5"), Ok((12.5, None)));
    }

    #[test]
    fn malformed_amounts_are_refused() {
        for bad in [
            "12,3,4",
            "1,23",
            "1.2.3",
            "abc",
            "$",
            "1,234.5.6",
            "12 apples",
            "--",
            "1e999",
        ] {
            assert_eq!(point(bad), Err(Invalid), "{bad:?}");
        }
        assert_eq!(comma("1.234.5"), Err(Invalid));
        assert_eq!(comma("1,2,3"), Err(Invalid));
    }

    #[test]
    fn decimal_separator_is_inferred_from_unambiguous_cells() {
        assert_eq!(infer_decimal(["1.234,50", "12"], b','), Decimal::Comma);
        assert_eq!(infer_decimal(["1,234.50", "1,234"], b';'), Decimal::Point);
        assert_eq!(infer_decimal(["12,5", "1.234"], b','), Decimal::Comma);
        assert_eq!(infer_decimal(["1,234,567"], b';'), Decimal::Point);
        assert_eq!(infer_decimal(["1.234.567"], b','), Decimal::Comma);
        assert_eq!(infer_decimal(["1,234"], b','), Decimal::Point, "no votes");
        assert_eq!(
            infer_decimal(["1.234"], b';'),
            Decimal::Comma,
            "no votes, `;`"
        );
        assert_eq!(infer_decimal(Vec::<&str>::new(), b','), Decimal::Point);
    }

    #[test]
    fn currencies_flags_and_outcomes() {
        assert_eq!(parse_currency("eur"), Some("EUR".into()));
        assert_eq!(parse_currency("€"), Some("EUR".into()));
        assert_eq!(parse_currency("$"), None);
        assert_eq!(parse_currency("dollars"), None);
        assert_eq!(parse_bool(" Yes "), Ok(Some(true)));
        assert_eq!(parse_bool("0"), Ok(Some(false)));
        assert_eq!(parse_bool(""), Ok(None));
        assert_eq!(parse_bool("maybe"), Err(Invalid));

        assert_eq!(stage_outcome("Closed Won"), Some(Outcome::Won));
        assert_eq!(stage_outcome("closedwon"), Some(Outcome::Won));
        assert_eq!(stage_outcome("Closed - Lost"), Some(Outcome::Lost));
        assert_eq!(stage_outcome("closedlost"), Some(Outcome::Lost));
        assert_eq!(stage_outcome("Closed"), Some(Outcome::Lost));
        assert_eq!(stage_outcome("Demo"), None);
        assert_eq!(
            stage_outcome("Windows rollout"),
            None,
            "words, not substrings"
        );
        assert_eq!(stage_outcome("Won/Lost"), None);
        assert_eq!(parse_status("won"), Ok(Some(Outcome::Won)));
        assert_eq!(parse_status("In Progress"), Ok(Some(Outcome::Open)));
        assert_eq!(parse_status("OPEN"), Ok(Some(Outcome::Open)));
        assert_eq!(parse_status(""), Ok(None));
        assert_eq!(parse_status("deleted"), Err(Invalid));
    }

    #[test]
    fn slugs_and_header_keys() {
        assert_eq!(slug("Closed Won"), "closed-won");
        assert_eq!(slug("  Équipe — Nord! "), "équipe-nord");
        assert_eq!(property_name("Lead Source"), "lead_source");
        assert_eq!(header_key("Deal - Close Date"), "dealclosedate");
        assert_eq!(header_key("Record ID"), "recordid");
    }
}
