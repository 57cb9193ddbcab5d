//! Maven versions, ordered as Maven 3.8.7's `ComparableVersion` orders them
//! (`org.apache.maven.artifact.versioning`).
//!
//! Parsing (lower-cased): items are split on `.` and `-` and at every digit/letter
//! transition; an empty item is `0`; `-`, and a transition, open a nested list; a letter
//! item after `.` is moved into a list of its own ("treat .X as -X"). Qualifiers: `a`, `b`
//! and `m` directly followed by a digit mean alpha, beta and milestone; `ga`, `final` and
//! `release` mean ""; `cr` means `rc`. Each list is then trimmed of trailing "null" items
//! (0, "", empty lists), innermost first; trimming steps over a trailing nested list.
//!
//! Ordering: numbers by value (an item of up to 9 digits sorts below one of 10–18, below
//! one of 19+, as Maven's int/long/BigInteger items do); qualifiers alpha < beta <
//! milestone < rc < snapshot < "" < sp < any other, the others alphabetically; a number >
//! a list > a qualifier; a missing item compares as "null" (0 = "" and the empty list).
//!
//! Maven nests a list at every `-`, so the structure is a chain (each list's only nested
//! list is its last item); it is stored flat and compared with loops, not recursion.
//! Non-ASCII versions are refused: Java's Unicode digits and case mapping would order them
//! in ways nobody relies on.

use std::cmp::Ordering;

use super::cmp_digits;

#[derive(Debug, Clone)]
pub(super) struct MavenVersion {
    /// `lists[k + 1]` is nested as the last item of `lists[k]` (marked [`Item::List`]).
    lists: Vec<Vec<Item>>,
}

#[derive(Debug, Clone, PartialEq)]
enum Item {
    /// Digits with leading zeros stripped (all-zero kept as is, like Maven), and the
    /// Maven item kind its length gives (0 = int, 1 = long, 2 = BigInteger).
    Num { kind: u8, digits: Box<str> },
    /// A qualifier, as its `comparableQualifier` key (computed once, at parse time).
    Str(Box<str>),
    /// The nested list (always the last item of its list).
    List,
}

const QUALIFIERS: [&str; 7] = ["alpha", "beta", "milestone", "rc", "snapshot", "", "sp"];

/// The key of "" (a release): `RELEASE_VERSION_INDEX`.
const RELEASE_KEY: &str = "5";

/// Maven's `comparableQualifier`: a known qualifier's index, else "7-" + the qualifier,
/// compared as strings.
fn comparable_qualifier(q: &str) -> String {
    match QUALIFIERS.iter().position(|k| *k == q) {
        Some(i) => i.to_string(),
        None => format!("{}-{q}", QUALIFIERS.len()),
    }
}

impl Item {
    fn number(digits: &str) -> Item {
        let stripped = match digits.trim_start_matches('0') {
            "" => digits,
            s => s,
        };
        let kind = match stripped.len() {
            0..=9 => 0,
            10..=18 => 1,
            _ => 2,
        };
        Item::Num {
            kind,
            digits: stripped.into(),
        }
    }

    fn qualifier(s: &str, followed_by_digit: bool) -> Item {
        let s = match s {
            "a" if followed_by_digit => "alpha",
            "b" if followed_by_digit => "beta",
            "m" if followed_by_digit => "milestone",
            "ga" | "final" | "release" => "",
            "cr" => "rc",
            s => s,
        };
        Item::Str(comparable_qualifier(s).into())
    }

    fn is_zero(digits: &str) -> bool {
        digits.bytes().all(|b| b == b'0')
    }

    /// Maven's `compareTo(null)` for a non-list item.
    fn cmp_null(&self) -> Ordering {
        match self {
            Item::Num { digits, .. } if Item::is_zero(digits) => Ordering::Equal,
            Item::Num { .. } => Ordering::Greater,
            Item::Str(key) => key.as_ref().cmp(RELEASE_KEY),
            Item::List => Ordering::Equal, // handled by the caller
        }
    }

    /// Maven's `compareTo` between two items, neither of them both lists.
    fn cmp_item(&self, other: &Item) -> Ordering {
        match (self, other) {
            (
                Item::Num {
                    kind: k1,
                    digits: d1,
                },
                Item::Num {
                    kind: k2,
                    digits: d2,
                },
            ) => k1.cmp(k2).then_with(|| cmp_digits(d1, d2)),
            (Item::Num { .. }, _) => Ordering::Greater,
            (Item::Str(_), Item::Num { .. } | Item::List) => Ordering::Less,
            (Item::Str(a), Item::Str(b)) => a.cmp(b),
            (Item::List, Item::Num { .. }) => Ordering::Less,
            (Item::List, Item::Str(_)) => Ordering::Greater,
            (Item::List, Item::List) => Ordering::Equal, // handled by the caller
        }
    }
}

impl MavenVersion {
    /// `ListItem.compareTo(null)` of the list at depth `k`: the first item that is not
    /// null decides.
    fn cmp_null_from(&self, k: usize) -> Ordering {
        for list in &self.lists[k..] {
            for item in list {
                let o = item.cmp_null();
                if o != Ordering::Equal {
                    return o;
                }
            }
        }
        Ordering::Equal
    }

    pub(super) fn compare(&self, other: &MavenVersion) -> Ordering {
        let (mut ka, mut kb) = (0, 0);
        'lists: loop {
            let (la, lb) = (&self.lists[ka], &other.lists[kb]);
            for i in 0..la.len().max(lb.len()) {
                let o = match (la.get(i), lb.get(i)) {
                    (Some(Item::List), Some(Item::List)) => {
                        // Both nested lists are the last items: descend, never come back.
                        ka += 1;
                        kb += 1;
                        continue 'lists;
                    }
                    (Some(Item::List), None) => self.cmp_null_from(ka + 1),
                    (None, Some(Item::List)) => other.cmp_null_from(kb + 1).reverse(),
                    (Some(a), None) => a.cmp_null(),
                    (None, Some(b)) => b.cmp_null().reverse(),
                    (Some(a), Some(b)) => a.cmp_item(b),
                    (None, None) => Ordering::Equal,
                };
                if o != Ordering::Equal {
                    return o;
                }
            }
            return Ordering::Equal;
        }
    }
}

fn is_null(item: &Item) -> bool {
    match item {
        Item::Num { digits, .. } => Item::is_zero(digits),
        Item::Str(key) => key.as_ref() == RELEASE_KEY,
        Item::List => false, // an empty nested list was already removed (see normalize)
    }
}

fn parse_item(is_digit: bool, s: &str) -> Item {
    if is_digit {
        Item::number(s)
    } else {
        Item::qualifier(s, false)
    }
}

/// A transliteration of `ComparableVersion.parseVersion` onto the flat chain.
pub(super) fn parse(s: &str) -> Option<MavenVersion> {
    if !s.is_ascii() {
        return None;
    }
    let v = s.to_ascii_lowercase();
    let b = v.as_bytes();
    let mut lists: Vec<Vec<Item>> = vec![Vec::new()];
    // Opening a nested list: mark it in the current list and make it current.
    fn open(lists: &mut Vec<Vec<Item>>) {
        if let Some(last) = lists.last_mut() {
            last.push(Item::List);
        }
        lists.push(Vec::new());
    }
    fn current(lists: &mut [Vec<Item>]) -> &mut Vec<Item> {
        let n = lists.len() - 1;
        &mut lists[n]
    }

    let mut is_digit = false;
    let mut start = 0;
    for (i, &c) in b.iter().enumerate() {
        match c {
            b'.' | b'-' => {
                let item = if i == start {
                    Item::number("0")
                } else {
                    parse_item(is_digit, &v[start..i])
                };
                current(&mut lists).push(item);
                start = i + 1;
                if c == b'-' {
                    open(&mut lists);
                }
            }
            b'0'..=b'9' => {
                if !is_digit && i > start {
                    // "1.0.0.X1 < 1.0.0-X2": a qualifier after '.' gets its own list.
                    if !current(&mut lists).is_empty() {
                        open(&mut lists);
                    }
                    current(&mut lists).push(Item::qualifier(&v[start..i], true));
                    start = i;
                    open(&mut lists);
                }
                is_digit = true;
            }
            _ => {
                if is_digit && i > start {
                    current(&mut lists).push(Item::number(&v[start..i]));
                    start = i;
                    open(&mut lists);
                }
                is_digit = false;
            }
        }
    }
    if b.len() > start {
        if !is_digit && !current(&mut lists).is_empty() {
            open(&mut lists);
        }
        current(&mut lists).push(parse_item(is_digit, &v[start..]));
    }

    // normalize(), innermost list first; an emptied list disappears from its parent.
    for k in (0..lists.len()).rev() {
        let list = &mut lists[k];
        let mut i = list.len();
        while i > 0 {
            i -= 1;
            if is_null(&list[i]) {
                list.remove(i);
            } else if list[i] != Item::List {
                break;
            }
        }
        if k > 0 && lists[k].is_empty() {
            // The parent's List marker is its last item; drop it and this list.
            lists.truncate(k);
            if let Some(parent) = lists.last_mut() {
                if parent.last() == Some(&Item::List) {
                    parent.pop();
                }
            }
        }
    }
    Some(MavenVersion { lists })
}
