//! Reading an uploaded body within the size limit: whole, decoding gzip
//! safely, or spooled to a temporary file while hashing it.

use std::io::Read;

use axum::body::Body;
use axum::http::{header, HeaderMap};
use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use crate::error::{ApiError, ApiResult};

/// An uploaded document.
pub struct Upload {
    /// The document itself (decoded when it came gzip-encoded).
    pub document: Bytes,
    /// The body as received, when it was gzip: stored as-is, no recompression.
    pub gzip: Option<Bytes>,
}

/// Reads the whole body once, refusing more than `max` bytes before or after
/// decompression (`Content-Encoding: gzip`), so a gzip bomb stops at `max`.
pub async fn read_body(headers: &HeaderMap, body: Body, max: usize) -> ApiResult<Upload> {
    let gzip = match headers.get(header::CONTENT_ENCODING).map(|v| v.to_str()) {
        None => false,
        Some(Ok(v)) if v.eq_ignore_ascii_case("identity") => false,
        Some(Ok(v)) if v.eq_ignore_ascii_case("gzip") || v.eq_ignore_ascii_case("x-gzip") => true,
        Some(v) => {
            return Err(ApiError::unsupported_media(format!(
            "Content-Encoding {:?} is not supported; send the document as-is or gzip-compressed",
            v.unwrap_or("<not text>")
        )))
        }
    };
    let declared = declared_length(headers);
    if let Some(n) = declared {
        if n > max as u64 {
            return Err(too_large(max, "the body"));
        }
    }
    let mut buf = BytesMut::with_capacity(declared.map_or(64 * 1024, |n| n as usize));
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk =
            chunk.map_err(|e| ApiError::bad_request(format!("reading the body failed: {e}")))?;
        if buf.len() + chunk.len() > max {
            return Err(too_large(max, "the body"));
        }
        buf.extend_from_slice(&chunk);
    }
    if buf.is_empty() {
        return Err(ApiError::bad_request(
            "the body is empty; send the document as the request body",
        ));
    }
    Upload::received(buf.freeze(), gzip, max)
}

/// Reads the whole body as sent, without decoding (a webhook's signature
/// covers the bytes), refusing more than `max` bytes before reading when
/// the declared length says so; `setting` names the limit.
pub async fn read_raw(
    headers: &HeaderMap,
    body: Body,
    max: usize,
    setting: &str,
) -> ApiResult<Bytes> {
    let too_large = || {
        ApiError::too_large(format!(
            "the body exceeds the limit of {max} bytes ({setting})"
        ))
    };
    if declared_length(headers).is_some_and(|n| n > max as u64) {
        return Err(too_large());
    }
    match Limited::new(body, max).collect().await {
        Ok(c) => Ok(c.to_bytes()),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => Err(too_large()),
        Err(e) => Err(ApiError::bad_request(format!("cannot read the body: {e}"))),
    }
}

impl Upload {
    /// A document as received, gzip-compressed or not: a gzip stream is
    /// decompressed within `max` and kept as received (stored as-is).
    pub fn received(received: Bytes, gzip: bool, max: usize) -> ApiResult<Upload> {
        if !gzip {
            return Ok(Upload {
                document: received,
                gzip: None,
            });
        }
        let document = tokio::task::block_in_place(|| gunzip(&received, max))?;
        Ok(Upload {
            document,
            gzip: Some(received),
        })
    }
}

/// A body spooled to an anonymous temporary file (deleted on drop).
pub struct Spooled {
    pub file: std::fs::File,
    pub len: u64,
    pub sha256: [u8; 32],
}

/// Streams the body to a temporary file, hashing it, within `max` bytes, for
/// bodies too large to hold in memory. Only identity encoding: a binary is
/// sent as-is. An empty body is the caller's to refuse.
pub async fn spool(headers: &HeaderMap, body: Body, max: usize) -> ApiResult<Spooled> {
    if let Some(enc) = headers.get(header::CONTENT_ENCODING) {
        if !enc
            .to_str()
            .is_ok_and(|v| v.eq_ignore_ascii_case("identity"))
        {
            return Err(ApiError::unsupported_media(
                "send the binary uncompressed (no Content-Encoding)",
            ));
        }
    }
    let too_large = || {
        ApiError::too_large(format!(
            "the body exceeds the upload limit of {max} bytes (CAIRN_MAX_UPLOAD)"
        ))
    };
    if declared_length(headers).is_some_and(|n| n > max as u64) {
        return Err(too_large());
    }
    let file = tempfile::tempfile().map_err(|e| {
        tracing::error!(error = %e, "cannot create a temporary file");
        ApiError::internal()
    })?;
    let mut out = tokio::fs::File::from_std(file.try_clone().map_err(|e| {
        tracing::error!(error = %e, "cannot clone a temporary file handle");
        ApiError::internal()
    })?);
    let mut hasher = Sha256::new();
    let mut len = 0u64;
    let mut stream = body.into_data_stream();
    let write_failed = |e: std::io::Error| {
        tracing::error!(error = %e, "writing the spooled upload failed");
        ApiError::internal()
    };
    while let Some(chunk) = stream.next().await {
        let chunk =
            chunk.map_err(|e| ApiError::bad_request(format!("reading the body failed: {e}")))?;
        len += chunk.len() as u64;
        if len > max as u64 {
            return Err(too_large());
        }
        hasher.update(&chunk);
        out.write_all(&chunk).await.map_err(write_failed)?;
    }
    out.flush().await.map_err(write_failed)?;
    drop(out);
    Ok(Spooled {
        file,
        len,
        sha256: hasher.finalize().into(),
    })
}

/// Decompresses at most `max` bytes; more is a 413, a broken stream a 400.
pub fn gunzip(data: &[u8], max: usize) -> ApiResult<Bytes> {
    let mut out = Vec::with_capacity((data.len() * 4).min(max));
    flate2::read::MultiGzDecoder::new(data)
        .take(max as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| ApiError::bad_request(format!("the body is not a valid gzip stream: {e}")))?;
    if out.len() > max {
        return Err(too_large(max, "the decompressed body"));
    }
    Ok(out.into())
}

/// The body's declared `Content-Length`, when it is a number: a body
/// declared over the limit is refused before any of it is read.
fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
}

fn too_large(max: usize, what: &str) -> ApiError {
    ApiError::too_large(format!(
        "{what} exceeds the upload limit of {max} bytes (CAIRN_MAX_UPLOAD)"
    ))
}

/// gzip at a fast level: documents are stored compressed.
pub fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(
        Vec::with_capacity(data.len() / 6),
        flate2::Compression::fast(),
    );
    enc.write_all(data).expect("writing to a Vec cannot fail");
    enc.finish().expect("writing to a Vec cannot fail")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gzip_round_trip_and_bomb() {
        let doc = br#"{"hello":"world"}"#.repeat(100);
        let z = gzip(&doc);
        assert_eq!(&gunzip(&z, 1 << 20).unwrap()[..], &doc[..]);
        let bomb = gzip(&vec![b'a'; 10 << 20]);
        assert!(bomb.len() < 100 << 10);
        assert_eq!(gunzip(&bomb, 1 << 20).unwrap_err().status(), 413);
        assert_eq!(gunzip(b"not gzip", 1 << 20).unwrap_err().status(), 400);
    }
}
