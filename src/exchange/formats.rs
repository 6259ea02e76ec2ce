//! The file formats each import reads, by the file name's ending, and the largest file its page
//! takes: the upload forms' `accept=` and limit, the routes' body limits and the check of an
//! uploaded file's name all come from here, so they cannot disagree.

const MIB: usize = 1024 * 1024;

/// What one import reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Formats {
    pub endings: &'static [&'static str],
    /// The largest upload its page takes, in bytes.
    pub limit: usize,
}

/// Payment bills: the channels' CSV, or a zip / gzip of them (a month of an Alipay account).
pub const BILLS: Formats = Formats {
    endings: &[".csv", ".zip", ".gz"],
    limit: 256 * MIB,
};
/// The courier's tracking export. (Legacy .xls and .ods are not read: `exchange::budget`.)
pub const TRACKING: Formats = Formats {
    endings: &[".csv", ".xlsx"],
    limit: 64 * MIB,
};
/// The tax platform's export of issued invoices, or a zip of it with the invoice files.
pub const ISSUED_INVOICES: Formats = Formats {
    endings: &[".xlsx", ".csv", ".zip"],
    limit: 256 * MIB,
};
/// The CA's certificate revocation list, DER or PEM (what is read of it is bounded again by
/// `BACKOFFICE_CRL_MAX_BYTES`).
pub const CRL: Formats = Formats {
    endings: &[".crl", ".der", ".pem"],
    limit: 64 * MIB,
};
/// An issued certificate's file, DER or PEM.
pub const ISSUED_CERTIFICATE: Formats = Formats {
    endings: &[".cer", ".crt", ".der", ".pem"],
    limit: MIB,
};
/// The working-day calendar sheet.
pub const CALENDAR: Formats = Formats {
    endings: &[".csv", ".xlsx"],
    limit: 2 * MIB,
};

impl Formats {
    /// The `accept` attribute of a file input: `.csv,.zip,.gz`.
    pub fn accept(self) -> String {
        self.endings.join(",")
    }

    /// For messages: `.csv / .zip / .gz`.
    pub fn listed(self) -> String {
        self.endings.join(" / ")
    }

    /// Whether a file of this name may be one of these formats: its ending is listed, or it
    /// has none (the import then tells by the content).
    pub fn admits(self, file_name: &str) -> bool {
        let base = file_name.rsplit(['/', '\\']).next().unwrap_or(file_name);
        match base.rfind('.') {
            None | Some(0) => true,
            Some(i) => {
                let ext = base[i..].to_ascii_lowercase();
                self.endings.contains(&ext.as_str())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endings_are_matched_without_case() {
        assert!(BILLS.admits("微信支付账单_20261124.CSV"));
        assert!(BILLS.admits("alipay.csv.zip"));
        assert!(BILLS.admits("bill"));
        assert!(!BILLS.admits("bill.xlsx"));
        assert!(!TRACKING.admits("C:\\exports\\tracking.pdf"));
        assert!(!CALENDAR.admits("holidays.ods"));
        assert_eq!(CALENDAR.accept(), ".csv,.xlsx");
        assert_eq!(TRACKING.listed(), ".csv / .xlsx");
    }
}
