//! The reconciliation core alone, in process, on `../shared/bench/recon/gen_bills.py`'s files:
//! the WeChat bill read with the importer's own parser (streamed, every money column exact, the
//! summary checked), the application payments read, every line and application classified by
//! `domain::reconcile` in one call, the exceptions written as CSV: the work that
//! `recon_pandas.py` and `recon_polars.py` do. Prints one JSON line (class counts, phase seconds,
//! and whether the counts equal truth.json); exits non-zero when they do not.
//!   cargo bench --bench recon_core -- DIR [OUT.csv]
use backoffice::domain::{
    calendar::beijing,
    intake::PaymentChannel,
    money::Fen,
    reconcile::{self, AppPayment, Known, LineClass, LineIn},
};
use backoffice::exchange::payment_bills::{self, LineKind};
use chrono::{Days, TimeZone};
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::time::Instant;

/// Which part an order number goes to (FNV-1a).
fn part_of(order: &str, parts: usize) -> usize {
    let h = order.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    (h % parts as u64) as usize
}

fn main() {
    let t0 = Instant::now();
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let dir = std::path::PathBuf::from(args.first().expect("usage: recon_core DIR [OUT.csv]"));
    let out_path = args
        .get(1)
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("recon_core_exceptions.csv"));

    // --- read + clean: the bill on this thread, the applications beside it --------------------
    // The lines and the applications are split by order number into eight parts per core: the
    // rule decides each order on its own lines and application (the domain's property test
    // `the_parts_of_a_split_decide_as_the_whole`), so the parts are reconciled side by side, one
    // per core at a time (only those parts' working sets in memory at once).
    let threads = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .min(8);
    let parts = threads * 8;
    let apps_path = dir.join("app_payments.csv");
    let loading = std::thread::spawn(move || {
        // Streamed: the file is never held whole.
        let file = std::fs::File::open(apps_path).expect("app_payments.csv");
        let rows = file.metadata().map_or(0, |m| m.len() as usize) / 26;
        let mut known: Vec<Known> = (0..parts).map(|_| Known::default()).collect();
        for k in &mut known {
            k.apps
                .reserve(rows / parts + 1024, (rows / parts + 1024) * 40);
        }
        let mut r = BufReader::with_capacity(256 * 1024, file);
        let mut line = String::new();
        let mut header = true;
        while r.read_line(&mut line).expect("app_payments.csv is text") > 0 {
            if let (false, Some((order, fen))) = (header, line.trim_end().split_once(',')) {
                known[part_of(order, parts)].apps.insert(
                    order,
                    AppPayment {
                        application_id: order,
                        channel: PaymentChannel::Wechat,
                        amount: Fen::new(fen.parse().expect("expected_fen")),
                        // set below, once the bill's period is known (every application of the
                        // file is paid within it)
                        paid_at: 0,
                    },
                );
            }
            header = false;
            line.clear();
        }
        known
    });
    let file = std::fs::File::open(dir.join("wechat_bill.csv")).expect("wechat_bill.csv");
    let bill = payment_bills::parse_reader(BufReader::with_capacity(256 * 1024, file))
        .expect("the bill parses");
    let t_bill = t0.elapsed();
    let day_ms = |d: chrono::NaiveDate| {
        beijing()
            .from_local_datetime(&d.and_hms_opt(0, 0, 0).unwrap())
            .unwrap()
            .timestamp_millis()
    };
    let period = (day_ms(bill.period.0), day_ms(bill.period.1 + Days::new(1)));
    let mut known = loading.join().expect("the applications load");
    for k in &mut known {
        k.apps.set_paid_at(period.0);
    }
    let lines = &bill.lines;
    let t_read = t0.elapsed();

    // --- classify ------------------------------------------------------------------------------
    let mut part_lines: Vec<Vec<u32>> = vec![Vec::with_capacity(lines.len() / parts + 1024); parts];
    for (i, l) in lines.iter().enumerate() {
        part_lines[part_of(l.out_trade_no, parts)].push(i as u32);
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut decided: Vec<(usize, Vec<LineClass>, Vec<&str>)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let p = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        if p >= parts {
                            break mine;
                        }
                        let inputs: Vec<LineIn> = part_lines[p]
                            .iter()
                            .map(|&i| backoffice::desks::finance::line_in(&lines.get(i as usize)))
                            .collect();
                        let o = reconcile::reconcile(
                            PaymentChannel::Wechat,
                            period,
                            &inputs,
                            &known[p],
                        );
                        mine.push((p, o.classes, o.missing));
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    decided.sort_unstable_by_key(|d| d.0);
    let mut classes = vec![LineClass::Refund; lines.len()];
    let mut missing: Vec<&str> = Vec::new();
    for (p, part_classes, part_missing) in &decided {
        for (j, &i) in part_lines[*p].iter().enumerate() {
            classes[i as usize] = part_classes[j];
        }
        missing.extend(part_missing);
    }
    let n = reconcile::counts(&classes);
    let t_classify = t0.elapsed();
    let expected_of = |order: &str| {
        known[part_of(order, parts)]
            .apps
            .get(order)
            .map(|a| a.amount.get())
    };

    // --- write the exceptions ------------------------------------------------------------------
    let mut w = BufWriter::new(std::fs::File::create(&out_path).expect("the output file"));
    writeln!(
        w,
        "class,order,expected_fen,amount_fen,refund_fen,transaction_id,at,kind"
    )
    .unwrap();
    let mut exceptions = 0;
    for (i, l) in bill.lines.iter().enumerate() {
        let class = classes[i];
        if class == LineClass::Matched {
            continue;
        }
        exceptions += 1;
        let expected = expected_of(l.out_trade_no)
            .map(|f| f.to_string())
            .unwrap_or_default();
        let (amount, refund) = match l.kind {
            LineKind::Payment => (l.amount.get().to_string(), String::new()),
            LineKind::Refund => (String::new(), l.amount.get().to_string()),
        };
        writeln!(
            w,
            "{},{},{expected},{amount},{refund},{},{},{:?}",
            class.code(),
            l.out_trade_no,
            l.transaction_id,
            l.at,
            l.kind
        )
        .unwrap();
    }
    for id in &missing {
        exceptions += 1;
        let fen = expected_of(id).unwrap_or(0);
        writeln!(w, "missing_payment,{id},{fen},,,,,").unwrap();
    }
    w.flush().unwrap();
    let t_write = t0.elapsed();

    // --- check against truth.json --------------------------------------------------------------
    let counts = serde_json::json!({
        "matched": n[0],
        "amount_mismatch": n[1],
        "unmatched_payment": n[2],
        "duplicate_payment": n[3],
        "refund": n[4],
        "missing_payment": missing.len(),
    });
    let truth: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("truth.json")).expect("truth.json"))
            .expect("truth.json is JSON");
    // truth.json counts applications for matched/amount_mismatch: every matched or mismatched
    // line is its application's first payment, so the line counts compare directly.
    let ok = truth["rows"] == counts;
    let s = |d: std::time::Duration| (d.as_secs_f64() * 1000.0).round() / 1000.0;
    println!(
        "{}",
        serde_json::json!({
            "tool": "backoffice core",
            "rows": bill.lines.len() + missing.len(),
            "threads": parts,
            "exceptions": exceptions,
            "counts": counts,
            "equals_truth": ok,
            "s": {
                "parse_bill": s(t_bill),
                "read_clean": s(t_read),
                "merge_classify": s(t_classify - t_read),
                "write": s(t_write - t_classify),
                "in_process": s(t_write),
            },
        })
    );
    if !ok {
        eprintln!("class counts differ from truth.json: {}", truth["rows"]);
        std::process::exit(1);
    }
    // Like the scripts' interpreters, leave without freeing a million entries one by one.
    std::process::exit(0);
}
