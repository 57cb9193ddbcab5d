//! The in-memory advisory index: advisory entries prepared for matching
//! (ranges parsed and sorted) by package key, and what names and scores each
//! vulnerability, kept between requests as Grype keeps its database open.
//!
//! Everything held was read under one `advisory_generation` (see
//! `store::advisories_changed`); a match first reads the current value and
//! the index drops all it holds when the value moved, so an import is seen
//! by the next match, in this process and in every other one sharing the
//! database. Data read under a generation is never older than it (the value
//! is read first), and is kept only while the index is still at that
//! generation. The index is bounded by the number of entries it holds.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use sqlx::PgConnection;

use crate::bounded::Bounded;
use crate::vulnerabilities::core::matching;
use crate::vulnerabilities::core::purl::Package;
use crate::vulnerabilities::store;

use super::import::read_affected;

/// One `affected[]` entry of an advisory, ready to judge versions.
pub(super) struct Entry {
    pub package_key: String,
    pub advisory_id: String,
    pub vulnerability_id: i64,
    /// `None` when the entry's package cannot be read (it matches nothing).
    pub prepared: Option<matching::Prepared>,
}

impl Entry {
    pub fn prepare(mut row: store::AdvisoryEntry) -> Self {
        let ecosystem = match &row.release {
            Some(r) => format!("{}:{r}", row.ecosystem),
            None => row.ecosystem.clone(),
        };
        let prepared = Package::from_osv(&ecosystem, &row.name).map(|pkg| {
            let stored = std::mem::take(&mut row.affected.0);
            matching::Prepared::new(read_affected(pkg, &row.name, stored))
        });
        Entry {
            package_key: row.package_key,
            advisory_id: row.advisory_id,
            vulnerability_id: row.vulnerability_id,
            prepared,
        }
    }
}

/// What names and scores one vulnerability: its advisories and its ids.
#[derive(Default)]
pub(super) struct Group {
    pub advisories: Vec<store::GroupAdvisory>,
    pub ids: Vec<store::GroupId>,
}

/// The database and the advisories' state in it that what is held was read
/// under.
#[derive(Clone, PartialEq, Eq)]
pub(super) struct Generation {
    database: String,
    value: i64,
}

/// Entries (and groups) held at most; a key without entries counts one.
const MAX_WEIGHT: usize = 1_000_000;

struct Index {
    generation: Option<Generation>,
    entries: Bounded<String, Arc<[Arc<Entry>]>>,
    groups: Bounded<i64, Arc<Group>>,
}

impl Index {
    fn new(generation: Option<Generation>) -> Self {
        Index {
            generation,
            entries: Bounded::new(MAX_WEIGHT),
            groups: Bounded::new(MAX_WEIGHT / 4),
        }
    }
}

static INDEX: LazyLock<Mutex<Index>> = LazyLock::new(|| Mutex::new(Index::new(None)));

fn index() -> std::sync::MutexGuard<'static, Index> {
    // A panic while holding the lock leaves nothing half-done worth keeping.
    INDEX.lock().unwrap_or_else(|poisoned| {
        let mut guard = poisoned.into_inner();
        *guard = Index::new(None);
        guard
    })
}

/// The current generation; the index is emptied when it moved.
pub(super) async fn generation(conn: &mut PgConnection) -> sqlx::Result<Generation> {
    let (database, value) = store::advisory_generation(&mut *conn).await?;
    let generation = Generation { database, value };
    let mut index = index();
    if index.generation.as_ref() != Some(&generation) {
        *index = Index::new(Some(generation.clone()));
    }
    Ok(generation)
}

/// The prepared entries naming each key (keys sorted and distinct), read
/// from the database only for keys the index does not hold.
pub(super) async fn entries(
    conn: &mut PgConnection,
    generation: &Generation,
    keys: &[&str],
) -> sqlx::Result<Vec<Arc<Entry>>> {
    let mut out = Vec::new();
    let mut missing = Vec::new();
    {
        let index = index();
        for &key in keys {
            match index.entries.get(&key.to_string()) {
                Some(held) if index.generation.as_ref() == Some(generation) => {
                    out.extend(held.iter().cloned())
                }
                _ => missing.push(key),
            }
        }
    }
    if missing.is_empty() {
        return Ok(out);
    }
    let rows = store::entries_for_keys(&mut *conn, &missing).await?;
    let mut by_key: HashMap<String, Vec<Arc<Entry>>> = HashMap::new();
    for row in rows {
        let entry = Arc::new(Entry::prepare(row));
        out.push(entry.clone());
        by_key
            .entry(entry.package_key.clone())
            .or_default()
            .push(entry);
    }
    let mut index = index();
    if index.generation.as_ref() == Some(generation) {
        for key in missing {
            let held: Arc<[Arc<Entry>]> = by_key.remove(key).unwrap_or_default().into();
            let weight = held.len().max(1);
            index.entries.insert(key.to_string(), held, weight);
        }
    }
    Ok(out)
}

/// Each vulnerability's advisories and ids (groups sorted and distinct).
pub(super) async fn groups(
    conn: &mut PgConnection,
    generation: &Generation,
    groups: &[i64],
) -> sqlx::Result<HashMap<i64, Arc<Group>>> {
    let mut out = HashMap::with_capacity(groups.len());
    let mut missing = Vec::new();
    {
        let index = index();
        for &g in groups {
            match index.groups.get(&g) {
                Some(held) if index.generation.as_ref() == Some(generation) => {
                    out.insert(g, held.clone());
                }
                _ => missing.push(g),
            }
        }
    }
    if missing.is_empty() {
        return Ok(out);
    }
    let mut read: HashMap<i64, Group> = HashMap::with_capacity(missing.len());
    for a in store::group_advisories(&mut *conn, &missing).await? {
        read.entry(a.vulnerability_id)
            .or_default()
            .advisories
            .push(a);
    }
    for i in store::group_ids(&mut *conn, &missing).await? {
        read.entry(i.vulnerability_id).or_default().ids.push(i);
    }
    let mut index = index();
    let keep = index.generation.as_ref() == Some(generation);
    for g in missing {
        let group = Arc::new(read.remove(&g).unwrap_or_default());
        if keep {
            let weight = group.advisories.len() + group.ids.len();
            index.groups.insert(g, group.clone(), weight.max(1));
        }
        out.insert(g, group);
    }
    Ok(out)
}
