//! Tables as `kubectl get` prints them: a header, columns padded to their widest cell, two
//! spaces between. Pure, so rows are tested without a cluster; printing is the caller's.

/// Rows of cells (the first is the header), laid out in columns at least `widths` wide.
#[derive(Debug, Default)]
pub(crate) struct Table {
    widths: Vec<usize>,
}

impl Table {
    /// A layout wide enough for every row of `rows`.
    pub(crate) fn fitting(rows: &[Vec<String>]) -> Table {
        let mut table = Table::default();
        for row in rows {
            table.widen(row);
        }
        table
    }

    /// Lines for `rows`, aligned with every row laid out before: a row wider than the
    /// columns so far widens them for the rows after it (as `kubectl get -w` does).
    pub(crate) fn lines(&mut self, rows: &[Vec<String>]) -> Vec<String> {
        rows.iter()
            .map(|row| {
                self.widen(row);
                let cells: Vec<String> = row
                    .iter()
                    .zip(&self.widths)
                    .map(|(cell, width)| format!("{cell:<width$}"))
                    .collect();
                cells.join("  ").trim_end().to_owned()
            })
            .collect()
    }

    fn widen(&mut self, row: &[String]) {
        if self.widths.len() < row.len() {
            self.widths.resize(row.len(), 0);
        }
        for (width, cell) in self.widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
}

/// The lines of a whole table, each column as wide as its widest cell.
pub(crate) fn render(rows: &[Vec<String>]) -> Vec<String> {
    Table::fitting(rows).lines(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(cells: &[&str]) -> Vec<String> {
        cells.iter().map(|c| (*c).to_owned()).collect()
    }

    #[test]
    fn columns_are_as_wide_as_their_widest_cell() {
        let lines = render(&[row(&["NAME", "SYNC"]), row(&["web-frontend", "Synced"])]);
        assert_eq!(lines, ["NAME          SYNC", "web-frontend  Synced"]);
    }

    #[test]
    fn rows_printed_later_keep_the_columns_of_the_first_table() {
        let first = [
            row(&["NAME", "SYNC", "HEALTH"]),
            row(&["web", "Synced", "Healthy"]),
        ];
        let mut table = Table::fitting(&first);
        table.lines(&first);
        assert_eq!(
            table.lines(&[row(&["web", "OutOfSync", "Healthy"])]),
            ["web   OutOfSync  Healthy"]
        );
        assert_eq!(
            table.lines(&[row(&["web", "Synced", "Degraded"])]),
            ["web   Synced     Degraded"],
            "a wider cell widens its column for later rows"
        );
    }

    #[test]
    fn trailing_empty_cells_leave_no_trailing_spaces() {
        assert_eq!(render(&[row(&["web", ""])]), ["web"]);
    }
}
