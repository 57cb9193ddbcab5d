//! A map bounded by the total weight of what it holds, oldest out first:
//! the in-process caches of immutable things (converted component lists,
//! loaded SBOM components, rule outcomes) use it.

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;

pub struct Bounded<K, V> {
    entries: HashMap<K, (V, usize)>,
    order: VecDeque<K>,
    held: usize,
    max: usize,
}

impl<K: Hash + Eq + Clone, V> Bounded<K, V> {
    pub fn new(max: usize) -> Self {
        Bounded {
            entries: HashMap::new(),
            order: VecDeque::new(),
            held: 0,
            max,
        }
    }

    pub fn get(&self, key: &K) -> Option<&V> {
        self.entries.get(key).map(|(v, _)| v)
    }

    /// Keeps `value` unless it alone outweighs the bound; evicts the oldest
    /// entries to make room. A key already present keeps its first value.
    pub fn insert(&mut self, key: K, value: V, weight: usize) {
        if weight > self.max || self.entries.contains_key(&key) {
            return;
        }
        while self.held + weight > self.max {
            let Some(old) = self.order.pop_front() else {
                break;
            };
            if let Some((_, w)) = self.entries.remove(&old) {
                self.held -= w;
            }
        }
        self.held += weight;
        self.entries.insert(key.clone(), (value, weight));
        self.order.push_back(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oldest_out_first_within_the_weight() {
        let mut b = Bounded::new(10);
        b.insert("a", 1, 4);
        b.insert("b", 2, 4);
        b.insert("a", 9, 1);
        assert_eq!(b.get(&"a"), Some(&1), "first value kept");
        b.insert("c", 3, 4);
        assert_eq!(b.get(&"a"), None, "evicted");
        assert_eq!((b.get(&"b"), b.get(&"c")), (Some(&2), Some(&3)));
        b.insert("huge", 4, 11);
        assert_eq!(b.get(&"huge"), None, "heavier than the bound");
        assert_eq!(b.get(&"b"), Some(&2), "nothing evicted for it");
    }
}
