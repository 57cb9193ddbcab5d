//! A global allocator that can refuse allocations past a limit: the hard
//! memory bound of the custom-rule evaluation process
//! (`policies::core::sandbox`). The `cairn` binary installs it; it counts nothing
//! until [`set_limit`] arms it, so the server pays one relaxed load per
//! allocation. Armed, an allocation that would take the live heap past the
//! limit fails, and Rust's allocation-failure handler aborts the process:
//! the evaluation process dies, the server reports the rule as `error`.
//!
//! Counting starts when armed: memory allocated before and freed after makes
//! the count slightly low (a few KiB of start-up allocations), never high.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicIsize, AtomicUsize, Ordering};

static ARMED: AtomicBool = AtomicBool::new(false);
static LIMIT: AtomicUsize = AtomicUsize::new(usize::MAX);
static LIVE: AtomicIsize = AtomicIsize::new(0);

/// Arms the limit for this process, in bytes of live heap.
pub fn set_limit(bytes: usize) {
    LIMIT.store(bytes, Ordering::SeqCst);
    ARMED.store(true, Ordering::SeqCst);
}

/// Live heap counted since the limit was armed (0 when unarmed).
pub fn live_bytes() -> usize {
    LIVE.load(Ordering::Relaxed).max(0) as usize
}

/// The system allocator, with the optional limit.
pub struct Limited;

impl Limited {
    /// Counts `size` more bytes; `false` (and nothing counted) past the limit.
    fn take(size: usize) -> bool {
        if !ARMED.load(Ordering::Relaxed) {
            return true;
        }
        let before = LIVE.fetch_add(size as isize, Ordering::Relaxed);
        if before.saturating_add(size as isize) > LIMIT.load(Ordering::Relaxed) as isize {
            LIVE.fetch_sub(size as isize, Ordering::Relaxed);
            return false;
        }
        true
    }

    fn give(size: usize) {
        if ARMED.load(Ordering::Relaxed) {
            LIVE.fetch_sub(size as isize, Ordering::Relaxed);
        }
    }
}

// SAFETY: every call is forwarded to `System` unchanged; the counter only
// decides whether to forward an allocation or report failure (null).
unsafe impl GlobalAlloc for Limited {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if !Self::take(layout.size()) {
            return std::ptr::null_mut();
        }
        let p = System.alloc(layout);
        if p.is_null() {
            Self::give(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if !Self::take(layout.size()) {
            return std::ptr::null_mut();
        }
        let p = System.alloc_zeroed(layout);
        if p.is_null() {
            Self::give(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout);
        Self::give(layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let old = layout.size();
        if new_size > old && !Self::take(new_size - old) {
            return std::ptr::null_mut();
        }
        let p = System.realloc(ptr, layout, new_size);
        match (p.is_null(), new_size > old) {
            (true, true) => Self::give(new_size - old),
            (false, false) => Self::give(old - new_size),
            _ => {}
        }
        p
    }
}
