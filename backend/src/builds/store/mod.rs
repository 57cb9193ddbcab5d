//! Build records (`runs`: runs, jobs, their artifacts) and webhook
//! sources, deliveries and the refusal audit (`webhooks`).

pub mod runs;
pub mod webhooks;
