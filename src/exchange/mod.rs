//! Files in and out. The CLI and the desk pages call the same functions.

pub mod calendar;
pub mod certificates;
pub mod payment_bills;
pub mod sheet;
