//! The plain-text tables the commands print: the import summary, `status`, `check`.

use std::fmt;

use console::{measure_text_width, truncate_str};

/// How the cells of a column line up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Align {
    Left,
    /// For numbers, so that their digits line up.
    Right,
}

/// Columns two spaces apart, each as wide as its widest cell or title, and no trailing spaces
/// (a blank last cell leaves no run of spaces behind).
///
/// ```
/// use chess_import::view::{Align, Table};
///
/// let mut table = Table::new(&[("player", Align::Left), ("games", Align::Right)]);
/// table.row(["lichess:alice", "1,234"]);
/// table.row(["chesscom:bob", "7"]);
/// assert_eq!(
///     table.to_string(),
///     "player         games\nlichess:alice  1,234\nchesscom:bob       7\n"
/// );
/// ```
#[derive(Clone, Debug)]
pub struct Table {
    align: Vec<Align>,
    /// The titles first, then the rows, each with one cell per column.
    lines: Vec<Vec<String>>,
    widths: Vec<usize>,
}

impl Table {
    /// A table with these column titles, and how each column lines up.
    pub fn new(columns: &[(&str, Align)]) -> Self {
        let mut table = Table {
            align: columns.iter().map(|&(_, align)| align).collect(),
            lines: Vec::new(),
            widths: vec![0; columns.len()],
        };
        table.row(columns.iter().map(|&(title, _)| title));
        table
    }

    /// Adds a row. Missing cells are blank; cells past the last column are left out.
    pub fn row<S: Into<String>>(&mut self, cells: impl IntoIterator<Item = S>) {
        let mut cells: Vec<String> = cells.into_iter().map(Into::into).collect();
        cells.resize(self.align.len(), String::new());
        for (width, cell) in self.widths.iter_mut().zip(&cells) {
            *width = (*width).max(measure_text_width(cell));
        }
        self.lines.push(cells);
    }

    /// How wide `column` is now.
    pub fn width(&self, column: usize) -> usize {
        self.widths.get(column).copied().unwrap_or(0)
    }

    /// How wide the widest line is, unfitted.
    pub fn total_width(&self) -> usize {
        self.widths.iter().sum::<usize>() + 2 * self.widths.len().saturating_sub(1)
    }

    /// Makes `column` at least `width` wide, so that tables printed one under the other line up.
    pub fn widen(&mut self, column: usize, width: usize) {
        if let Some(current) = self.widths.get_mut(column) {
            *current = (*current).max(width);
        }
    }

    /// The table with every line at most `columns` wide: the last column's cells (an error
    /// text, say) are cut with `…` first, then whatever is still too wide.
    pub fn fit(&self, columns: usize) -> String {
        let mut out = String::new();
        for cells in &self.lines {
            let line = self.line(cells, Some(columns));
            out.push_str(&truncate_str(&line, columns, "…"));
            out.push('\n');
        }
        out
    }

    /// One line of the table; with `columns`, the last cell is cut to what is left of them.
    fn line(&self, cells: &[String], columns: Option<usize>) -> String {
        let mut line = String::new();
        let last = cells.len().saturating_sub(1);
        for (index, ((cell, &width), &align)) in
            cells.iter().zip(&self.widths).zip(&self.align).enumerate()
        {
            if index > 0 {
                line.push_str("  ");
            }
            let cell = match columns {
                Some(columns) if index == last => {
                    let room = columns.saturating_sub(measure_text_width(&line));
                    truncate_str(cell, room, "…")
                }
                _ => cell.into(),
            };
            let padding = " ".repeat(width.saturating_sub(measure_text_width(&cell)));
            match align {
                Align::Left => {
                    line.push_str(&cell);
                    line.push_str(&padding);
                }
                Align::Right => {
                    line.push_str(&padding);
                    line.push_str(&cell);
                }
            }
        }
        line.truncate(line.trim_end().len());
        line
    }
}

/// The whole table, however wide it is: for logs, files and pipes.
impl fmt::Display for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for cells in &self.lines {
            writeln!(f, "{}", self.line(cells, None))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn players() -> Table {
        let mut table = Table::new(&[
            ("player", Align::Left),
            ("games", Align::Right),
            ("error", Align::Left),
        ]);
        table.row(["lichess:alice", "1,234", ""]);
        table.row(["chesscom:bob", "0", "user not found"]);
        table
    }

    #[test]
    fn columns_are_as_wide_as_their_widest_cell_and_lines_end_without_spaces() {
        assert_eq!(
            players().to_string(),
            "player         games  error\n\
             lichess:alice  1,234\n\
             chesscom:bob       0  user not found\n"
        );
    }

    #[test]
    fn widened_columns_line_up_with_another_table() {
        let mut table = Table::new(&[("failed", Align::Left), ("n", Align::Right)]);
        table.row(["x", "1"]);
        assert_eq!((table.width(0), table.total_width()), (6, 9));
        table.widen(0, 9);
        table.widen(7, 9);
        assert_eq!(table.to_string(), "failed     n\nx          1\n");
    }

    #[test]
    fn fitting_cuts_the_last_column_first_then_the_line() {
        assert_eq!(
            players().fit(30),
            "player         games  error\n\
             lichess:alice  1,234\n\
             chesscom:bob       0  user no…\n"
        );
        assert_eq!(players().fit(10), "player   …\nlichess:a…\nchesscom:…\n");
        assert_eq!(players().fit(200), players().to_string());
    }

    #[test]
    fn missing_cells_are_blank_and_extra_ones_left_out() {
        let mut table = Table::new(&[("a", Align::Left), ("b", Align::Right)]);
        table.row(["1"]);
        table.row(["2", "3", "4"]);
        assert_eq!(table.to_string(), "a  b\n1\n2  3\n");
    }
}
