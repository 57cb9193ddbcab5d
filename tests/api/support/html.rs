//! Dashboard pages parsed as HTML, so that an assertion names the element
//! it is about (a table cell, a badge, a link, a form) rather than finding
//! a string anywhere on the page.

use scraper::{ElementRef, Selector};

pub struct Html {
    doc: scraper::Html,
    /// The page as served (for the CSP checks and failure messages).
    pub raw: String,
}

/// A table cell: its text (whitespace collapsed) and its classes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell {
    pub text: String,
    pub class: String,
}

fn selector(css: &str) -> Selector {
    Selector::parse(css).unwrap_or_else(|e| panic!("bad selector {css:?}: {e}"))
}

fn text_of(e: ElementRef) -> String {
    e.text()
        .flat_map(str::split_whitespace)
        .collect::<Vec<_>>()
        .join(" ")
}

impl Html {
    pub fn parse(raw: String) -> Self {
        Html {
            doc: scraper::Html::parse_document(&raw),
            raw,
        }
    }

    fn all(&self, css: &str) -> Vec<ElementRef<'_>> {
        self.doc.select(&selector(css)).collect()
    }

    /// Nothing the strict CSP would refuse: no inline style, no script.
    pub fn assert_csp_clean(&self, what: &str) {
        assert_eq!(self.count("[style], script, style"), 0, "{what}: CSP");
    }

    /// How many elements match `css`.
    pub fn count(&self, css: &str) -> usize {
        self.all(css).len()
    }

    /// The text of every element matching `css`, whitespace collapsed.
    pub fn texts(&self, css: &str) -> Vec<String> {
        self.all(css).into_iter().map(text_of).collect()
    }

    /// The text of the first element matching `css`; fails the test when
    /// none does.
    pub fn text(&self, css: &str) -> String {
        self.texts(css)
            .into_iter()
            .next()
            .unwrap_or_else(|| panic!("no element matches {css:?} in {}", self.raw))
    }

    /// The `name` attribute of every element matching `css` that has one.
    pub fn attrs(&self, css: &str, name: &str) -> Vec<String> {
        self.all(css)
            .into_iter()
            .filter_map(|e| e.value().attr(name).map(str::to_owned))
            .collect()
    }

    /// The value (`dd`) of the fact (`dl.facts` term `dt`) named `term`.
    pub fn fact(&self, term: &str) -> String {
        let (dt, dd) = (selector("dt"), selector("dd"));
        self.all("dl.facts > div")
            .into_iter()
            .find(|d| d.select(&dt).next().map(text_of).as_deref() == Some(term))
            .and_then(|d| d.select(&dd).next().map(text_of))
            .unwrap_or_else(|| panic!("no fact {term:?} in {}", self.raw))
    }

    /// The first element matching `css` whose heading (`h2`, `h3`) starts
    /// with `heading`, as a page of its own.
    pub fn section(&self, css: &str, heading: &str) -> Html {
        let h = selector("h2, h3");
        self.all(css)
            .into_iter()
            .find(|e| {
                e.select(&h)
                    .next()
                    .is_some_and(|h| text_of(h).starts_with(heading))
            })
            .map(|e| Html::parse(e.html()))
            .unwrap_or_else(|| panic!("no {css:?} headed {heading:?} in {}", self.raw))
    }

    /// The cells of the first row of the table matching `table` whose first
    /// cell (a `th` or a `td`) reads `row`, or starts with it and a space
    /// (a vulnerability id followed by its aliases).
    pub fn row(&self, table: &str, row: &str) -> Vec<Cell> {
        let rows = selector("tr");
        let cells = selector("th, td");
        for t in self.all(table) {
            for r in t.select(&rows) {
                let found: Vec<Cell> = r
                    .select(&cells)
                    .map(|c| Cell {
                        text: text_of(c),
                        class: c.value().attr("class").unwrap_or_default().to_owned(),
                    })
                    .collect();
                let key = found.first().map(|c| c.text.as_str()).unwrap_or_default();
                if key == row || key.strip_prefix(row).is_some_and(|r| r.starts_with(' ')) {
                    return found;
                }
            }
        }
        panic!("no row {row:?} in {table:?}: {}", self.raw)
    }

    /// The cell of `table` in the row whose first cell reads `row`, in the
    /// column whose header (`thead th`) reads `column`.
    pub fn cell(&self, table: &str, row: &str, column: &str) -> Cell {
        let headers = self.texts(&format!("{table} thead th"));
        let at = headers
            .iter()
            .position(|h| h == column)
            .unwrap_or_else(|| panic!("no column {column:?} in {table:?}: {headers:?}"));
        self.row(table, row)
            .get(at)
            .cloned()
            .unwrap_or_else(|| panic!("row {row:?} of {table:?} has no column {column:?}"))
    }
}
