//! Every parser of user data in the domain, fed arbitrary strings and bytes (issue 17, item 10):
//! each answers (a value or its typed refusal) and never panics. The strategies mix plain
//! arbitrary text with text shaped like what each parser wants (digits, dates, CJK, separators
//! and multi-byte characters at the positions that byte indexing would cut).

use super::calendar::DayKind;
use super::certificate::{self, CertStatus};
use super::contact::{Email, Mobile};
use super::credit_code::CreditCode;
use super::ids::ApplicationId;
use super::intake::{PaymentChannel, is_idempotency_key, is_reference};
use super::money::Fen;
use super::personal_id::{IdType, PersonalId};
use super::precheck::CheckKind;
use super::resident_id::ResidentId;
use super::scan::{ScanKind, sniff};
use super::serial::CertificateSerial;
use super::status::Status;
use super::{masking, ocr_text, period};
use proptest::prelude::*;

/// Arbitrary text, and text near the shapes the parsers look for.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[0-9Xx中长期.\\-/ ]{0,24}",
        "[0-9]{6}[0-9中]{8}[0-9]{3}[0-9X中]",
        "[0-9A-Za-z@._中\u{1F600}\\-+ ]{0,40}",
        "[0-9.,¥元 \\-]{0,16}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn the_text_parsers_answer(s in text()) {
        let _ = DayKind::parse(&s);
        let _ = CertStatus::parse(&s);
        let _ = certificate::normalise_cert_type(&s);
        let _ = certificate::mask_name(&s);
        let _ = Mobile::parse(&s).map(|m| m.to_string());
        let _ = Email::parse(&s).map(|m| m.to_string());
        let _ = CreditCode::parse(&s).map(|c| c.to_string());
        let _ = ApplicationId::parse(&s);
        let _ = PaymentChannel::parse(&s);
        let _ = is_reference(&s);
        let _ = is_idempotency_key(&s);
        let _ = Fen::parse_yuan(&s).map(|f| f.to_string());
        let _ = IdType::parse(&s);
        for t in [IdType::ResidentId, IdType::HkMacauPermit, IdType::TaiwanPermit, IdType::ForeignPassport] {
            let _ = PersonalId::parse(t, &s).map(|p| p.to_string());
            let _ = masking::id_number(t, &s);
        }
        let _ = CheckKind::parse(&s);
        if let Ok(id) = ResidentId::parse(&s) {
            let _ = id.birth_date();
        }
        let _ = ScanKind::parse(&s);
        let _ = CertificateSerial::parse(&s).map(|c| c.to_string());
        let _ = Status::parse(&s);
        let _ = masking::name(&s);
        let _ = masking::mobile(&s);
        let _ = masking::address(&s, &s, &s);
        let _ = ocr_text::id_number_in(&s);
    }

    #[test]
    fn ocr_output_is_read_whatever_it_holds(rows in prop::collection::vec(prop::collection::vec(text(), 0..14), 0..8)) {
        let mut tsv = String::from("level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext\n");
        for r in &rows {
            tsv += &r.join("\t");
            tsv.push('\n');
        }
        // Lines shaped as tesseract writes them, with arbitrary words.
        for (i, r) in rows.iter().enumerate() {
            let word = r.first().cloned().unwrap_or_default();
            tsv += &format!("5\t1\t1\t1\t{i}\t1\t10\t10\t5\t5\t90\t{word}\n");
        }
        let lines = ocr_text::parse_tsv(&tsv);
        let _ = ocr_text::find_id_number(&lines);
        let _ = ocr_text::find_name(&lines);
        let _ = ocr_text::find_validity(&lines).map(|(v, _)| v.to_string());
    }

    #[test]
    fn any_bytes_are_sniffed(b in prop::collection::vec(any::<u8>(), 0..64)) {
        let _ = sniff(&b);
    }

    #[test]
    fn any_days_give_a_bounded_period(a in any::<i32>(), b in any::<i32>()) {
        let day = |n: i32| chrono::NaiveDate::from_num_days_from_ce_opt(n).unwrap_or(chrono::NaiveDate::MIN);
        let p = period::bounded(day(a), day(b));
        prop_assert!(p.from <= p.to && (p.to - p.from).num_days() < period::MAX_DAYS);
    }
}
