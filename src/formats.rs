//! The formats `export` writes rows in besides PGN: NDJSON (one JSON object per row, every
//! column, in the table's order) and CSV (RFC 4180, a header row). Both write a row as it comes,
//! so an export of any size takes the memory of one row.

use std::io::{self, Write};

use crate::store::Value;

/// How `export` writes what it reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// The games' PGNs, one after another.
    Pgn,
    /// One JSON object per line, with every column.
    Ndjson,
    /// Comma-separated values with a header row.
    Csv,
}

/// Writes rows of `columns` to an output.
pub trait RowWriter {
    fn row(&mut self, values: &[Value<'_>]) -> io::Result<()>;
    fn finish(&mut self) -> io::Result<()>;
}

/// `{"platform":"lichess","game_id":"abcdefgh",...}` per line; NULL is `null`, booleans are
/// JSON's.
pub struct Ndjson<W: Write> {
    out: W,
    /// Each column's name as a JSON string and a colon, made once.
    keys: Vec<String>,
    line: Vec<u8>,
}

impl<W: Write> Ndjson<W> {
    pub fn new(out: W, columns: &[&str]) -> Self {
        let keys = columns
            .iter()
            .map(|name| format!("{}:", serde_json::Value::from(*name)))
            .collect();
        Ndjson {
            out,
            keys,
            line: Vec::new(),
        }
    }
}

impl<W: Write> RowWriter for Ndjson<W> {
    fn row(&mut self, values: &[Value<'_>]) -> io::Result<()> {
        self.line.clear();
        self.line.push(b'{');
        for (index, (key, value)) in self.keys.iter().zip(values).enumerate() {
            if index > 0 {
                self.line.push(b',');
            }
            self.line.extend_from_slice(key.as_bytes());
            match *value {
                Value::Null => self.line.extend_from_slice(b"null"),
                Value::Text(text) => serde_json::to_writer(&mut self.line, text)?,
                Value::Int(n) => serde_json::to_writer(&mut self.line, &n)?,
                // A real stored is finite; should one not be, it is no number JSON can write.
                Value::Real(x) if x.is_finite() => serde_json::to_writer(&mut self.line, &x)?,
                Value::Real(_) => self.line.extend_from_slice(b"null"),
                Value::Bool(b) => serde_json::to_writer(&mut self.line, &b)?,
            }
        }
        self.line.extend_from_slice(b"}\n");
        self.out.write_all(&self.line)
    }

    fn finish(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// RFC 4180 CSV with a header row; NULL is an empty field, booleans `true`/`false`. Only the
/// columns `keep` says are written (the PGN is left out unless asked for).
pub struct Csv<W: Write> {
    out: csv::Writer<W>,
    keep: Vec<bool>,
    field: String,
}

impl<W: Write> Csv<W> {
    pub fn new(out: W, columns: &[&str], keep: impl Fn(&str) -> bool) -> io::Result<Self> {
        let keep: Vec<bool> = columns.iter().map(|name| keep(name)).collect();
        let mut out = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .from_writer(out);
        let header = columns.iter().zip(&keep).filter(|(_, keep)| **keep);
        out.write_record(header.map(|(name, _)| *name))
            .map_err(io::Error::from)?;
        Ok(Csv {
            out,
            keep,
            field: String::new(),
        })
    }
}

impl<W: Write> RowWriter for Csv<W> {
    fn row(&mut self, values: &[Value<'_>]) -> io::Result<()> {
        for (value, _) in values.iter().zip(&self.keep).filter(|(_, keep)| **keep) {
            self.field.clear();
            let field: &str = match *value {
                Value::Null => "",
                Value::Text(text) => text,
                Value::Int(n) => {
                    self.field = n.to_string();
                    &self.field
                }
                Value::Real(x) => {
                    self.field = x.to_string();
                    &self.field
                }
                Value::Bool(b) => {
                    if b {
                        "true"
                    } else {
                        "false"
                    }
                }
            };
            self.out.write_field(field).map_err(io::Error::from)?;
        }
        self.out
            .write_record(None::<&[u8]>)
            .map_err(io::Error::from)
    }

    fn finish(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const COLUMNS: [&str; 5] = ["id", "name", "elo", "rated", "pgn"];

    fn rows() -> Vec<Vec<Value<'static>>> {
        vec![
            vec![
                Value::Text("a1"),
                Value::Text("O'Brien, \"the\" GM"),
                Value::Int(2500),
                Value::Bool(true),
                Value::Text("1. e4 *\n"),
            ],
            vec![
                Value::Text("b2"),
                Value::Null,
                Value::Real(83.5),
                Value::Bool(false),
                Value::Null,
            ],
        ]
    }

    #[test]
    fn ndjson_writes_every_column_in_order() {
        let mut out = Vec::new();
        let mut writer = Ndjson::new(&mut out, &COLUMNS);
        for row in rows() {
            writer.row(&row).unwrap();
        }
        writer.finish().unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text,
            "{\"id\":\"a1\",\"name\":\"O'Brien, \\\"the\\\" GM\",\"elo\":2500,\"rated\":true,\
             \"pgn\":\"1. e4 *\\n\"}\n{\"id\":\"b2\",\"name\":null,\"elo\":83.5,\"rated\":false,\
             \"pgn\":null}\n"
        );
    }

    #[test]
    fn csv_quotes_as_rfc_4180_says_and_leaves_out_what_is_not_kept() {
        let mut out = Vec::new();
        {
            let mut writer = Csv::new(&mut out, &COLUMNS, |name| name != "pgn").unwrap();
            for row in rows() {
                writer.row(&row).unwrap();
            }
            writer.finish().unwrap();
        }
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "id,name,elo,rated\r\na1,\"O'Brien, \"\"the\"\" GM\",2500,true\r\nb2,,83.5,false\r\n"
        );
    }
}
