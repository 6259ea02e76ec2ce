//! The domain: validated types, the status machine and the working-day calendar.
//! Pure: no database, no HTTP, no clock, no I/O.

/// `as_str` and `Display` of a text newtype (`struct X(String)`) that only its checking `parse`
/// makes: its text as checked, the same for each.
macro_rules! checked_text {
    ($t:ident) => {
        impl $t {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}
use checked_text;

pub mod assignment;
pub mod audit;
pub mod bulk;
pub mod calendar;
pub mod certificate;
pub mod contact;
pub mod credit_code;
pub mod four_eyes;
pub mod hanzi;
pub mod ids;
pub mod intake;
pub mod mail;
pub mod masking;
pub mod mentions;
pub mod money;
pub mod ocr_text;
pub mod period;
pub mod personal_id;
pub mod precheck;
pub mod rate;
pub mod reconcile;
pub mod resident_id;
pub mod returned_part;
pub mod sampling;
pub mod scan;
pub mod serial;
pub mod signature;
pub mod sms;
pub mod status;
pub mod webhook;

#[cfg(test)]
mod never_panic;
