//! The use cases of build records (`runs`) and webhook sources and
//! deliveries (`webhooks`).

pub mod runs;
pub mod webhooks;
