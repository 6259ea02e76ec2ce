//! An import job's page (issue 21): its state, a progress bar while it runs (the page reloads
//! itself, `static/upload.js`), and once done its counts and its errors by row and column; and
//! the desks' list of their latest imports, linking to each job's page.

use super::components::time;
use super::layout::{PageCtx, page};
use crate::storage::import_jobs::{ImportJob, JobResult};
use maud::{Markup, html};

/// Seconds between reloads of a job's page while the job is queued or running.
pub const REFRESH_SECS: u32 = 2;

/// How many of a desk's latest imports its page lists.
pub const RECENT: i64 = 10;

fn kind_label(ctx: &PageCtx, kind: &str) -> &'static str {
    match kind {
        "bills" => ctx.t("账单导入", "Bill import"),
        "tracking" => ctx.t("运单号导入", "Tracking import"),
        _ => "?",
    }
}

fn state_label(ctx: &PageCtx, state: &str) -> &'static str {
    match state {
        "queued" => ctx.t("排队中", "Queued"),
        "running" => ctx.t("导入中", "Running"),
        "done" => ctx.t("已完成", "Done"),
        "failed" => ctx.t("未导入", "Not imported"),
        _ => "?",
    }
}

/// A count's name, or an error code's (the tracking import's row outcomes).
fn label(ctx: &PageCtx, code: &str) -> String {
    match code {
        "lines" => ctx.t("行数", "Lines"),
        "new_lines" => ctx.t("新增", "New lines"),
        "matched" => ctx.t("已匹配", "Matched"),
        "amount_mismatch" => ctx.t("金额不符", "Amount mismatch"),
        "unmatched_payment" => ctx.t("无对应申请", "Unmatched payment"),
        "missing_payment" => ctx.t("未到账", "Missing payment"),
        "duplicate_payment" => ctx.t("重复支付", "Duplicate payment"),
        "refund" => ctx.t("退款", "Refunds"),
        "shipped" => ctx.t("已寄出", "Shipped"),
        "unchanged" => ctx.t("无变化", "Unchanged"),
        "conflict" => ctx.t("与已登记运单号冲突", "Conflicts with what is recorded"),
        "duplicate_waybill" => ctx.t("运单号已用于其他包裹", "Waybill on another parcel"),
        "unknown_order" => ctx.t("订单号不存在", "Unknown order"),
        other => return other.to_owned(),
    }
    .to_owned()
}

fn state_badge(ctx: &PageCtx, state: &str) -> Markup {
    html! { span.badge.(format!("job-{state}")) { (state_label(ctx, state)) } }
}

/// The job's page; `live` is this instance's count of a job it is running, `back` the desk's
/// page (path, name).
pub fn job_page(
    ctx: &PageCtx,
    job: &ImportJob,
    live: Option<(i64, i64)>,
    back: (&str, &str),
) -> Markup {
    let (done, total) = live
        .filter(|l| l.0 >= job.done)
        .unwrap_or((job.done, job.total));
    let result = job.result();
    let title = format!("{} #{}", kind_label(ctx, &job.kind), job.job_id);
    let running = !job.finished();
    let body = html! {
        p { a href=(back.0) { "← " (back.1) } }
        h1 { (title) " " (state_badge(ctx, &job.state)) }
        table.facts { tbody {
            tr { th scope="row" { (ctx.t("文件", "File")) } td { (job.file_name) " (" ((job.file_size + 1023) / 1024) " KiB)" } }
            tr { th scope="row" { (ctx.t("上传人", "Uploaded by")) } td { (job.created_by.trim_start_matches("staff:")) } }
            tr { th scope="row" { (ctx.t("上传时间", "Uploaded")) } td { (time(job.created_at)) } }
            @if let Some(t) = job.finished_at { tr { th scope="row" { (ctx.t("完成时间", "Finished")) } td { (time(t)) } } }
            tr { th scope="row" { "SHA-256" } td.mono { (job.file_sha256) } }
        } }
        section.job-progress id="job" data-import-job=(job.job_id) data-refresh=[running.then_some(REFRESH_SECS)] {
            label for="job-progress" { (ctx.t("导入进度", "Import progress")) }
            " "
            @if total > 0 || !running {
                progress id="job-progress" max=(total.max(1)) value=(if running { done } else { total.max(1) }) {}
            } @else {
                progress id="job-progress" {}
            }
            " " output role="status" aria-live="polite" {
                @if job.state == "queued" { (ctx.t("排队等待导入…", "Waiting its turn…")) }
                @else if running && total == 0 { (ctx.t("正在读取文件…", "Reading the file…")) }
                @else { (ctx.t("已处理 ", "")) (done) " / " (total) (ctx.t(" 行", " rows done")) }
            }
            @if running {
                p.hint { (ctx.t("导入在服务器上进行，可以离开此页；稍后可从导入页的“最近导入”回到这里查看结果。",
                    "The import runs on the server: you may leave this page and come back from the desk's latest imports.")) }
            }
        }
        @if let Some(r) = &result { (result_view(ctx, &job.state, r)) }
    };
    page(ctx, &title, body)
}

fn result_view(ctx: &PageCtx, state: &str, r: &JobResult) -> Markup {
    html! {
        @if let Some(why) = &r.refusal {
            p.flash.warn role="alert" id="job-refusal" { (ctx.t("未导入，未做任何更改：", "Nothing imported, nothing changed: ")) (why) }
        } @else if state == "done" {
            p.flash.ok id="job-done" { (ctx.t("导入完成。", "Imported.")) }
        }
        @if !r.counts.is_empty() {
            table.grid.dense id="job-counts" {
                caption { (ctx.t("结果", "Result")) }
                thead { tr { th scope="col" { (ctx.t("项目", "What")) } th.num scope="col" { (ctx.t("数量", "Count")) } } }
                tbody { @for (code, n) in &r.counts { tr { th scope="row" { (label(ctx, code)) } td.num { (n) } } } }
            }
        }
        @if !r.errors.is_empty() {
            table.grid.dense id="job-errors" {
                caption { (ctx.t("按行列出的问题", "Problems by row and column")) }
                thead { tr {
                    th.num scope="col" { (ctx.t("行", "Row")) } th scope="col" { (ctx.t("列", "Column")) }
                    th scope="col" { (ctx.t("问题", "Problem")) } th scope="col" { (ctx.t("内容", "Value")) }
                } }
                tbody {
                    @for e in &r.errors {
                        tr {
                            td.num { @if let Some(row) = e.row { (row) } }
                            td { (e.column.as_deref().unwrap_or("")) }
                            td { (label(ctx, &e.message)) }
                            td.mono { (e.value.as_deref().unwrap_or("")) }
                        }
                    }
                }
            }
            @if r.more_errors > 0 {
                p.hint { (ctx.t("另有 ", "")) (r.more_errors) (ctx.t(" 条问题未列出。", " more problems not listed.")) }
            }
        }
    }
}

/// A desk's latest imports (at most [`RECENT`], said so), each linking to its job's page under
/// the desk's `prefix`.
pub fn recent(ctx: &PageCtx, prefix: &str, jobs: &[ImportJob]) -> Markup {
    html! {
        @if !jobs.is_empty() {
            table.grid.dense id="recent-imports" {
                caption { (ctx.t("最近导入（最多 ", "Latest imports (up to ")) (RECENT) (ctx.t(" 次）", ")")) }
                thead { tr {
                    th scope="col" { (ctx.t("任务", "Job")) } th scope="col" { (ctx.t("文件", "File")) }
                    th scope="col" { (ctx.t("状态", "State")) } th scope="col" { (ctx.t("上传时间", "Uploaded")) }
                    th scope="col" { (ctx.t("上传人", "By")) }
                } }
                tbody {
                    @for j in jobs {
                        tr {
                            td { a href=(format!("{prefix}/imports/{}", j.job_id)) { "#" (j.job_id) } }
                            td { (j.file_name) } td { (state_badge(ctx, &j.state)) }
                            td { (time(j.created_at)) } td { (j.created_by.trim_start_matches("staff:")) }
                        }
                    }
                }
            }
        }
    }
}
