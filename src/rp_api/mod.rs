//! Relying-party APIs beyond OpenID Connect: what banks and hospitals call with an access
//! token. Each answers from the register, rests on the person's consent (the token's scope)
//! and is audited before it answers.

pub mod kyc;
