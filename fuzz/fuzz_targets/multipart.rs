//! The multipart body → parts → file typing path of the intake API, on arbitrary bytes: it
//! must answer (parts or a contract error), never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let _ = rt.block_on(backoffice::web::intake_api::fuzz_multipart(data));
});
