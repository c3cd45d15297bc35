//! JWT support: signing keys made at run time ([`TestKey`]), a key bound to its key id with
//! the JWK Set that publishes it ([`SigningKey`]), tokens assembled by hand so any header or
//! payload can be produced ([`sign_raw`]), and clock helpers.
//!
//! Everything the JWT tests import sits at this module's top, so a test can name the module
//! once (`use tonic_authz_testkit::jwt as jwt_keys;`) and call its items by path.

mod clock;
mod key;
mod signing_key;
mod token;

pub use clock::{NOW, fixed_clock, moving_clock, unix_now};
pub use key::{TestKey, p256, rsa, rsa2};
pub use signing_key::SigningKey;
pub use token::{alg_name, b64, b64_json, jwks, sign_raw, temporal_payload};
