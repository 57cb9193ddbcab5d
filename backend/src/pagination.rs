//! Cursor pagination shared by every list endpoint: a page of `items` and
//! an opaque `next_cursor` to pass back as `cursor` (absent on the last page).

use base64::Engine;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, ApiResult};

pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 500;

#[derive(Debug, Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Page size, 1 to 500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[param(min_length = 1, max_length = 2000, pattern = "^[A-Za-z0-9_-]+$")]
    pub cursor: Option<String>,
}

impl PageParams {
    pub fn limit(&self) -> ApiResult<i64> {
        match self.limit {
            None => Ok(DEFAULT_LIMIT.into()),
            Some(n @ 1..=MAX_LIMIT) => Ok(n.into()),
            Some(n) => Err(ApiError::bad_request(format!(
                "limit must be between 1 and {MAX_LIMIT}, got {n}"
            ))),
        }
    }

    /// The decoded cursor, if one was given.
    pub fn after<K: DeserializeOwned>(&self) -> ApiResult<Option<K>> {
        self.cursor.as_deref().map(decode_cursor).transpose()
    }
}

/// One page of a listing.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; null on the last page.
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// Builds a page from up to `limit + 1` rows: the extra row only tells
    /// that there is more, and `key` gives the cursor of the last kept row.
    pub fn from_rows<K: Serialize>(mut rows: Vec<T>, limit: i64, key: impl Fn(&T) -> K) -> Self {
        let more = rows.len() as i64 > limit;
        rows.truncate(limit as usize);
        let next_cursor = if more {
            rows.last().map(|last| encode_cursor(&key(last)))
        } else {
            None
        };
        Page {
            items: rows,
            next_cursor,
        }
    }
}

pub fn encode_cursor<K: Serialize>(key: &K) -> String {
    let json = serde_json::to_vec(key).expect("cursor keys serialise");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
}

fn decode_cursor<K: DeserializeOwned>(s: &str) -> ApiResult<K> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(|| ApiError::bad_request("cursor is not one this listing produced"))
}

/// Empty query parameters mean "no filter".
pub fn nonempty(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_and_cursors() {
        let page = Page::from_rows(vec![1, 2, 3], 2, |n| *n);
        assert_eq!(page.items, vec![1, 2]);
        let params = PageParams {
            limit: Some(2),
            cursor: page.next_cursor,
        };
        assert_eq!(params.after::<i64>().unwrap(), Some(2));
        assert!(Page::from_rows(vec![1], 2, |n| *n).next_cursor.is_none());
        let bad = PageParams {
            limit: Some(0),
            cursor: Some("%%%".into()),
        };
        assert!(bad.limit().is_err());
        assert!(bad.after::<i64>().is_err());
    }
}
