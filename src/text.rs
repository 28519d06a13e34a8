//! Untrusted text from the CRM made safe for a terminal.
//!
//! Deal names, call notes and contact titles come from people outside the team and from
//! integrations. A name containing `ESC ] 52 ; …` could write the user's clipboard; `ESC [ 2 J`
//! could wipe the screen; bidirectional overrides can make text read differently from what it is.
//! Everything from the cache goes through here before it is drawn or printed.

/// Text for one line: escape sequences and control characters removed, line breaks and tabs
/// turned into single spaces.
pub fn sanitize_line(input: &str) -> String {
    clean(input, false)
}

/// Text for a block: like [`sanitize_line`] but line breaks are kept (`\r\n` becomes `\n`).
pub fn sanitize_block(input: &str) -> String {
    clean(input, true)
}

/// Bidirectional formatting characters (embeddings, overrides, isolates).
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}')
}

fn clean(input: &str, keep_newlines: bool) -> String {
    let mut out = String::with_capacity(input.len());
    let mut chars = input.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => skip_escape(&mut chars),
            // C1 CSI/OSC/DCS introducers are escape sequences in one code point.
            '\u{9b}' => skip_csi(&mut chars),
            '\u{9d}' | '\u{90}' | '\u{98}' | '\u{9e}' | '\u{9f}' => skip_string(&mut chars),
            '\n' if keep_newlines => out.push('\n'),
            '\r' if keep_newlines => {
                if chars.peek() != Some(&'\n') {
                    out.push('\n');
                }
            }
            '\n' | '\r' | '\t' => {
                if !out.ends_with(' ') {
                    out.push(' ');
                }
            }
            c if c.is_control() || is_bidi_control(c) => {}
            c => out.push(c),
        }
    }
    out
}

/// Skips what follows an ESC: a CSI, a string command (OSC, DCS, SOS, PM, APC) or a two-character
/// sequence.
fn skip_escape(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    match chars.next() {
        Some('[') => skip_csi(chars),
        Some(']' | 'P' | 'X' | '^' | '_') => skip_string(chars),
        // nF sequences: intermediates 0x20–0x2F, then one final character.
        Some(c) if ('\u{20}'..='\u{2f}').contains(&c) => {
            while chars
                .next_if(|c| ('\u{20}'..='\u{2f}').contains(c))
                .is_some()
            {}
            chars.next();
        }
        _ => {}
    }
}

/// Skips a CSI's parameter and intermediate bytes and its final byte (0x40–0x7E).
fn skip_csi(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    for c in chars.by_ref() {
        if ('\u{40}'..='\u{7e}').contains(&c) {
            break;
        }
        if !('\u{20}'..='\u{3f}').contains(&c) {
            // Not part of a well-formed CSI: stop so that following text is not swallowed.
            break;
        }
    }
}

/// Skips a string command up to its terminator: BEL, ST (`ESC \`) or C1 ST.
fn skip_string(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    while let Some(c) = chars.next() {
        match c {
            '\u{7}' | '\u{9c}' => break,
            '\u{1b}' => {
                chars.next_if_eq(&'\\');
                break;
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn strips_csi_osc_and_controls() {
        assert_eq!(
            sanitize_line("Acme\u{1b}[2J\u{1b}[31m Corp\u{1b}[0m"),
            "Acme Corp"
        );
        assert_eq!(
            sanitize_line("x\u{1b}]52;c;ZXZpbA==\u{7}y"),
            "xy",
            "clipboard write via OSC 52"
        );
        assert_eq!(
            sanitize_line("a\u{1b}]8;;http://e.test\u{1b}\\link\u{1b}]8;;\u{1b}\\b"),
            "alinkb"
        );
        assert_eq!(sanitize_line("bell\u{7}\u{8}\u{0}"), "bell");
        assert_eq!(sanitize_line("c1\u{9b}31mred"), "c1red");
        assert_eq!(sanitize_line("\u{202E}evil\u{202C}"), "evil");
        assert_eq!(
            sanitize_line("keep é, 日本, emoji 🚀"),
            "keep é, 日本, emoji 🚀"
        );
    }

    #[test]
    fn line_and_block_handle_breaks() {
        assert_eq!(sanitize_line("one\r\ntwo\tthree"), "one two three");
        assert_eq!(sanitize_block("one\r\ntwo\rthree\n"), "one\ntwo\nthree\n");
        assert_eq!(sanitize_block("tab\there"), "tab here");
    }

    #[test]
    fn truncated_sequences_do_not_panic_or_leak() {
        assert_eq!(sanitize_line("end\u{1b}"), "end");
        assert_eq!(sanitize_line("end\u{1b}["), "end");
        assert_eq!(sanitize_line("end\u{1b}]0;title"), "end");
    }

    proptest! {
        #[test]
        fn output_never_contains_controls(s in any::<String>()) {
            for out in [sanitize_line(&s), sanitize_block(&s)] {
                prop_assert!(!out.chars().any(|c| (c.is_control() && c != '\n') || is_bidi_control(c)), "{out:?}");
            }
            prop_assert!(!sanitize_line(&s).contains('\n'));
        }

        #[test]
        fn plain_text_is_unchanged(s in "[a-zA-Z0-9 .,;:!?'()-]{0,64}") {
            prop_assert_eq!(sanitize_block(&s), s.clone());
        }
    }
}
