//! OpenID Connect Back-Channel Logout 1.0, the protocol half: the logout token
//! ([`token`], §2.4) and its delivery to relying parties ([`delivery`], §2.5), with retries.
//!
//! What to deliver is decided and queued by `crate::backchannel` in the action that signs the
//! person out; any node's worker ([`delivery::run`], started with `serve`) delivers it.

pub mod delivery;
pub mod token;
