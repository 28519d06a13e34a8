//! From bytes to a table: the encoding (BOM, an explicit label, or UTF-8 with a Windows-1252
//! fallback), the delimiter (`,`, `;`, tab, `|`, Excel's `sep=` line, or given), and rows that
//! carry the 1-based line number they start on (the header is line 1).

use encoding_rs::{Encoding, UTF_8, WINDOWS_1252};

/// Text decoded from a file, and what it was decoded from.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    /// The text, without a byte-order mark.
    pub text: String,
    /// The encoding's name (`UTF-8`, `UTF-16LE`, `windows-1252`, …).
    pub encoding: &'static str,
}

/// Decodes a file. A byte-order mark wins over everything (UTF-8, UTF-16 LE/BE); then the
/// `label` (any WHATWG label: `windows-1252`, `latin1`, `iso-8859-15`, `utf-16le`, …; `auto` or
/// `None` means detect); then UTF-8 if the bytes are valid UTF-8, else Windows-1252, the encoding
/// Excel on Windows writes "CSV" in and a superset of Latin-1's printable characters.
///
/// `Err` carries a sentence: an unknown label, or bytes that are not valid in the named
/// encoding (decoding them anyway would import garbled names).
pub fn decode(bytes: &[u8], label: Option<&str>) -> Result<Decoded, String> {
    if let Some((encoding, bom)) = Encoding::for_bom(bytes) {
        return finish(encoding, &bytes[bom..], "its byte-order mark says");
    }
    let named = match label.map(str::trim) {
        None | Some("") | Some("auto") => None,
        Some(l) => Some(Encoding::for_label(l.as_bytes()).ok_or_else(|| {
            format!(
                "encoding {l:?} is not one dealtrace knows; use \"utf-8\", \"utf-16le\", \
                 \"windows-1252\" or \"auto\""
            )
        })?),
    };
    match named {
        // UTF-16 without a BOM has no way to say which byte order; the label must.
        Some(e) => finish(e, bytes, "the mapping says"),
        None if let Some(utf16) = utf16_without_bom(bytes) => {
            finish(utf16, bytes, "detected from its zero bytes")
        }
        None => match std::str::from_utf8(bytes) {
            Ok(text) => Ok(Decoded {
                text: text.to_owned(),
                encoding: UTF_8.name(),
            }),
            Err(_) => finish(WINDOWS_1252, bytes, "detected"),
        },
    }
}

/// UTF-16 without a byte-order mark, recognised by its zero bytes: text that is mostly ASCII
/// has a zero in every other byte, on the odd side for little-endian. (NUL bytes are valid UTF-8,
/// so such a file would otherwise "decode" into text with a NUL between every letter.)
fn utf16_without_bom(bytes: &[u8]) -> Option<&'static Encoding> {
    let sample = &bytes[..bytes.len().min(4096) & !1];
    if sample.len() < 4 {
        return None;
    }
    let zeros_at = |parity: usize| {
        sample
            .iter()
            .skip(parity)
            .step_by(2)
            .filter(|b| **b == 0)
            .count()
    };
    let (even, odd) = (zeros_at(0), zeros_at(1));
    let half = sample.len() / 2;
    if odd * 10 >= half * 7 && even == 0 {
        Some(encoding_rs::UTF_16LE)
    } else if even * 10 >= half * 7 && odd == 0 {
        Some(encoding_rs::UTF_16BE)
    } else {
        None
    }
}

fn finish(encoding: &'static Encoding, bytes: &[u8], why: &str) -> Result<Decoded, String> {
    let (text, had_errors) = encoding.decode_without_bom_handling(bytes);
    if had_errors {
        return Err(format!(
            "the file is not valid {} ({why}); set `encoding` in the mapping to the file's \
             encoding (e.g. \"windows-1252\")",
            encoding.name()
        ));
    }
    Ok(Decoded {
        text: text.into_owned(),
        encoding: encoding.name(),
    })
}

/// A row of a table: its cells and the line it starts on.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// 1-based line of the file the row starts on (the header is line 1).
    pub line: u64,
    /// The last line the row occupies (quoted cells can hold line breaks).
    pub end_line: u64,
    /// The cells, trimmed.
    pub cells: Vec<String>,
}

/// A parsed CSV file.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// The header cells, trimmed.
    pub headers: Vec<String>,
    /// The data rows, in file order; blank lines are skipped.
    pub rows: Vec<Row>,
    /// The delimiter used.
    pub delimiter: u8,
}

/// Reads a table. `delimiter` is the byte to use, or `None` to detect it from the header line.
pub fn read_table(text: &str, delimiter: Option<u8>) -> Result<Table, String> {
    // Excel writes a `sep=;` first line to name the delimiter; the header follows it.
    let (body, line_offset, sep_line) = match text.split_once('\n') {
        Some((first, rest)) if first.trim().to_ascii_lowercase().starts_with("sep=") => {
            let d = first.trim()[4..].bytes().next();
            (rest, 1, d)
        }
        _ => (text, 0, None),
    };
    let delimiter = delimiter
        .or(sep_line)
        .unwrap_or_else(|| detect_delimiter(body));
    let lines = LineIndex::new(body);
    let mut reader = ::csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(body.as_bytes());
    let mut record = ::csv::StringRecord::new();
    let mut headers: Option<Vec<String>> = None;
    let mut rows = Vec::new();
    loop {
        let start = reader.position().byte() as usize;
        match reader.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            // The text is already UTF-8 and the reader is flexible, so this is an I/O-level
            // surprise rather than a bad row.
            Err(e) => return Err(format!("cannot read the file as CSV: {e}")),
        }
        let end = reader.position().byte() as usize;
        let cells: Vec<String> = record.iter().map(clean_cell).collect();
        if headers.is_none() {
            headers = Some(cells);
            continue;
        }
        rows.push(Row {
            line: lines.line_of_record(start) + line_offset,
            end_line: lines.line_of(end.saturating_sub(1)) + line_offset,
            cells,
        });
    }
    let headers = headers.ok_or_else(|| "the file is empty: it has no header line".to_owned())?;
    if headers.iter().all(String::is_empty) {
        return Err("the first line is empty: the file must start with a header line".into());
    }
    Ok(Table {
        headers,
        rows,
        delimiter,
    })
}

/// A cell trimmed, with Windows and old-Mac line breaks inside quoted cells turned into `\n`,
/// so that the same export saved on different systems imports as the same text.
fn clean_cell(cell: &str) -> String {
    let trimmed = cell.trim();
    if trimmed.contains('\r') {
        trimmed.replace("\r\n", "\n").replace('\r', "\n")
    } else {
        trimmed.to_owned()
    }
}

/// Picks the delimiter that occurs most often (outside quotes) on the header line; `,` when
/// none occurs.
pub fn detect_delimiter(text: &str) -> u8 {
    const CANDIDATES: [u8; 4] = [b',', b';', b'\t', b'|'];
    let mut counts = [0usize; 4];
    let mut quoted = false;
    for b in text.bytes() {
        match b {
            b'"' => quoted = !quoted,
            b'\n' if !quoted => break,
            _ if !quoted => {
                if let Some(i) = CANDIDATES.iter().position(|c| *c == b) {
                    counts[i] += 1;
                }
            }
            _ => {}
        }
    }
    let best = (0..CANDIDATES.len())
        .max_by_key(|i| (counts[*i], std::cmp::Reverse(*i)))
        .unwrap_or(0);
    if counts[best] == 0 {
        b','
    } else {
        CANDIDATES[best]
    }
}

/// Byte offsets to 1-based line numbers.
struct LineIndex<'a> {
    text: &'a str,
    newlines: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    fn new(text: &'a str) -> Self {
        LineIndex {
            text,
            newlines: text
                .bytes()
                .enumerate()
                .filter(|(_, b)| *b == b'\n')
                .map(|(i, _)| i)
                .collect(),
        }
    }

    /// The line holding byte `offset`.
    fn line_of(&self, offset: usize) -> u64 {
        self.newlines.partition_point(|&n| n < offset) as u64 + 1
    }

    /// The line a record starting at `offset` is on: the reader's position is where it started
    /// looking, so blank lines it skipped are stepped over first.
    fn line_of_record(&self, offset: usize) -> u64 {
        let skip = self.text.as_bytes()[offset.min(self.text.len())..]
            .iter()
            .take_while(|b| matches!(b, b'\n' | b'\r'))
            .count();
        self.line_of(offset + skip)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_with_and_without_bom() {
        let plain = decode("Name\nJosé".as_bytes(), None).unwrap();
        assert_eq!(
            (plain.text.as_str(), plain.encoding),
            ("Name\nJosé", "UTF-8")
        );
        let mut bom = vec![0xEF, 0xBB, 0xBF];
        bom.extend_from_slice("Name\nJosé".as_bytes());
        let d = decode(&bom, Some("windows-1252")).unwrap();
        assert_eq!(
            (d.text.as_str(), d.encoding),
            ("Name\nJosé", "UTF-8"),
            "the BOM wins"
        );
    }

    #[test]
    fn utf16_with_bom_in_both_byte_orders() {
        let text = "Name,Amount\nZoë,1\n";
        let mut le = vec![0xFF, 0xFE];
        le.extend(text.encode_utf16().flat_map(|u| u.to_le_bytes()));
        let mut be = vec![0xFE, 0xFF];
        be.extend(text.encode_utf16().flat_map(|u| u.to_be_bytes()));
        assert_eq!(decode(&le, None).unwrap().text, text);
        assert_eq!(decode(&le, None).unwrap().encoding, "UTF-16LE");
        assert_eq!(decode(&be, None).unwrap().text, text);
        assert_eq!(decode(&be, None).unwrap().encoding, "UTF-16BE");
    }

    #[test]
    fn utf16_without_bom_is_recognised_by_its_zero_bytes() {
        let text = "Deal ID,Name\n1,Zoë\n";
        let le: Vec<u8> = text.encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
        let be: Vec<u8> = text.encode_utf16().flat_map(|u| u.to_be_bytes()).collect();
        assert_eq!(decode(&le, None).unwrap().text, text);
        assert_eq!(decode(&le, None).unwrap().encoding, "UTF-16LE");
        assert_eq!(decode(&be, None).unwrap().encoding, "UTF-16BE");
        assert_eq!(
            decode(b"a\0b,c\n", None).unwrap().encoding,
            "UTF-8",
            "a stray NUL"
        );
    }

    #[test]
    fn windows_1252_is_detected_or_named() {
        // "Müller, Señor, café €5" in Windows-1252.
        let bytes = b"M\xfcller,Se\xf1or,caf\xe9 \x805";
        let d = decode(bytes, None).unwrap();
        assert_eq!(d.text, "Müller,Señor,café €5");
        assert_eq!(d.encoding, "windows-1252");
        let named = decode(bytes, Some("latin1")).unwrap();
        assert_eq!(named.text, d.text, "Latin-1 is read as its superset");
        let err = decode(bytes, Some("utf-8")).unwrap_err();
        assert!(err.contains("not valid UTF-8"), "{err}");
        let err = decode(b"x", Some("klingon")).unwrap_err();
        assert!(err.contains("\"klingon\""), "{err}");
    }

    #[test]
    fn delimiters_are_detected_from_the_header_line() {
        assert_eq!(detect_delimiter("a,b,c\n1;2;3;4;5"), b',');
        assert_eq!(detect_delimiter("a;b;\"c,d,e\"\n"), b';');
        assert_eq!(detect_delimiter("a\tb\tc"), b'\t');
        assert_eq!(detect_delimiter("a|b"), b'|');
        assert_eq!(detect_delimiter("single"), b',');
    }

    #[test]
    fn rows_carry_their_line_numbers() {
        let text = "id,note\r\n1,plain\r\n\r\n2,\"two\r\nlines\"\n3,after\n";
        let t = read_table(text, None).unwrap();
        assert_eq!(t.headers, vec!["id", "note"]);
        let lines: Vec<(u64, u64)> = t.rows.iter().map(|r| (r.line, r.end_line)).collect();
        assert_eq!(lines, vec![(2, 2), (4, 5), (6, 6)]);
        assert_eq!(t.rows[1].cells, vec!["2", "two\nlines"]);
    }

    #[test]
    fn excel_sep_line_names_the_delimiter() {
        let t = read_table("sep=;\nid;amount\n1;1,5\n", None).unwrap();
        assert_eq!(t.delimiter, b';');
        assert_eq!(t.headers, vec!["id", "amount"]);
        assert_eq!(t.rows[0].line, 3);
    }

    #[test]
    fn empty_files_are_refused() {
        assert!(read_table("", None).is_err());
        assert!(read_table("\n\n", None).is_err());
    }
}
