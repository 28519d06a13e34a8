//! Presentation helpers shared by the command line and the terminal UI.

/// Cuts text to `width` characters, marking the cut with an ellipsis.
pub fn fit(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(width.saturating_sub(1)).collect();
    if width > 0 {
        cut.push('…');
    }
    cut
}

/// An amount rounded to whole units with thousands separators, after its currency
/// ("USD 42,500"); empty when there is no amount.
pub fn amount(value: Option<f64>, currency: &str) -> String {
    let Some(value) = value else {
        return String::new();
    };
    let grouped = grouped(value.round() as i64);
    if currency.is_empty() {
        grouped
    } else {
        format!("{currency} {grouped}")
    }
}

/// An integer with thousands separators ("1,234,567").
pub fn grouped(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// `part` of `whole` as a whole percentage ("61%"), or "—" of nothing.
pub fn percent(part: u64, whole: u64) -> String {
    if whole == 0 {
        return "—".into();
    }
    format!("{:.0}%", 100.0 * part as f64 / whole as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_grouped() {
        assert_eq!(amount(Some(42_500.4), "USD"), "USD 42,500");
        assert_eq!(amount(Some(1_234_567.0), "EUR"), "EUR 1,234,567");
        assert_eq!(amount(Some(-999.0), "USD"), "USD -999");
        assert_eq!(amount(Some(-1_000.0), ""), "-1,000");
        assert_eq!(amount(Some(0.0), "USD"), "USD 0");
        assert_eq!(amount(None, "USD"), "");
    }

    #[test]
    fn fit_cuts_with_an_ellipsis() {
        assert_eq!(fit("short", 10), "short");
        assert_eq!(fit("exactly ten", 11), "exactly ten");
        assert_eq!(fit("a longer name", 6), "a lon…");
        assert_eq!(fit("abc", 0), "");
    }
}
