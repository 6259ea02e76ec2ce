//! The calendar file parser on arbitrary bytes (`exchange::fuzzing::fuzz_calendar`): read, or refused
//! with a typed error within the fuzz budgets; never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = backoffice::exchange::fuzzing::fuzz_calendar(data);
});
