//! Splitting a streamed body into lines: each byte is looked at once however the body is cut
//! into chunks, and a line longer than a limit is skipped in constant memory rather than held.

/// The bytes of a body not yet handed out as lines.
#[derive(Debug)]
pub struct LineBuffer {
    bytes: Vec<u8>,
    /// Where the next line starts.
    start: usize,
    /// How far `bytes` is known to hold no line break.
    scanned: usize,
    limit: usize,
    /// Inside a line that was too long: everything up to its end is dropped.
    skipping: bool,
}

/// What [`LineBuffer::next`] found.
#[derive(Debug, PartialEq, Eq)]
pub enum Next<'a> {
    /// A whole line, without its `\n`.
    Line(&'a [u8]),
    /// A line grew past the limit; it is being skipped.
    Overlong,
    /// Nothing more until more bytes arrive.
    Wait,
}

impl LineBuffer {
    pub fn new(limit: usize) -> Self {
        LineBuffer {
            bytes: Vec::with_capacity(limit.min(64 * 1024)),
            start: 0,
            scanned: 0,
            limit,
            skipping: false,
        }
    }

    /// Adds a chunk of the body.
    pub fn extend(&mut self, chunk: &[u8]) {
        let chunk = if self.skipping {
            match chunk.iter().position(|&b| b == b'\n') {
                Some(end) => {
                    self.skipping = false;
                    &chunk[end + 1..]
                }
                None => return,
            }
        } else {
            chunk
        };
        if self.start > 0 {
            self.bytes.drain(..self.start);
            self.scanned -= self.start;
            self.start = 0;
        }
        self.bytes.extend_from_slice(chunk);
    }

    /// The next whole line, if one has arrived.
    pub fn next(&mut self) -> Next<'_> {
        if let Some(offset) = self.bytes[self.scanned..].iter().position(|&b| b == b'\n') {
            let (start, end) = (self.start, self.scanned + offset);
            self.start = end + 1;
            self.scanned = self.start;
            return Next::Line(&self.bytes[start..end]);
        }
        self.scanned = self.bytes.len();
        if self.bytes.len() - self.start > self.limit {
            self.bytes.clear();
            self.start = 0;
            self.scanned = 0;
            self.skipping = true;
            return Next::Overlong;
        }
        Next::Wait
    }

    /// What is left after the last line break: an unterminated last line, if any.
    pub fn rest(&self) -> &[u8] {
        if self.skipping {
            &[]
        } else {
            &self.bytes[self.start..]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(limit: usize, chunks: &[&[u8]]) -> (Vec<String>, usize, String) {
        let mut buffer = LineBuffer::new(limit);
        let (mut lines, mut overlong) = (Vec::new(), 0);
        for chunk in chunks {
            buffer.extend(chunk);
            loop {
                match buffer.next() {
                    Next::Line(line) => lines.push(String::from_utf8_lossy(line).into_owned()),
                    Next::Overlong => overlong += 1,
                    Next::Wait => break,
                }
            }
        }
        let rest = String::from_utf8_lossy(buffer.rest()).into_owned();
        (lines, overlong, rest)
    }

    #[test]
    fn lines_come_whole_however_the_body_is_cut() {
        let (got, overlong, rest) = lines(100, &[b"ab", b"c\nde", b"f\n\ng", b"h"]);
        assert_eq!(got, ["abc", "def", ""]);
        assert_eq!((overlong, rest.as_str()), (0, "gh"));
    }

    #[test]
    fn a_line_past_the_limit_is_skipped_and_the_next_one_read() {
        let long = [b'x'; 40];
        let (got, overlong, rest) = lines(16, &[b"ok\n", &long, &long, b"xx\nnext\n", b"tail"]);
        assert_eq!(got, ["ok", "next"]);
        assert_eq!((overlong, rest.as_str()), (1, "tail"));
    }

    #[test]
    fn a_long_line_in_many_small_chunks_is_scanned_once() {
        let mut buffer = LineBuffer::new(1 << 20);
        for _ in 0..10_000 {
            buffer.extend(b"0123456789");
            assert_eq!(buffer.next(), Next::Wait);
            // Everything received is known to hold no line break: nothing is scanned twice.
            assert_eq!(buffer.scanned, buffer.bytes.len());
        }
        buffer.extend(b"\n");
        assert!(matches!(buffer.next(), Next::Line(line) if line.len() == 100_000));
    }
}
