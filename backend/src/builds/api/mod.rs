pub mod runs;
pub mod webhooks;
