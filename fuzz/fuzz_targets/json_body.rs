//! The `application` JSON → domain types path, on arbitrary bytes: parsed or refused with a
//! named field, never a panic; what parses round-trips through its stored form.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    backoffice::web::intake_api::fuzz_json_body(data);
});
