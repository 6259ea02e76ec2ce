//! What the finance desk's invoices page lists, paged: the requests by state (oldest first),
//! the batches and the open issues of imports (newest first).

use super::invoices::{BatchRow, IssueRow, REQUEST_COLUMNS, RequestRow};
use super::paging::{Bind, Keyed, Kind, Order, Page, PageReq, Sql};
use super::{DbResult, Storage};

/// 1 for a request a batch would take (see `invoices::ready_requests`), else 0.
const READY: &str = "case when payment_state = 'verified' and status in ('accepted', \
    'in_production', 'shipped') then 1 else 0 end";

/// Invoice requests: oldest first.
const REQUEST_ORDER: Order = Order {
    keys: &[("created_at", Kind::Int), ("application_id", Kind::Text)],
    desc: false,
};

impl Keyed for RequestRow {
    fn key(&self) -> Vec<Bind> {
        vec![
            Bind::I(self.created_at),
            Bind::S(self.application_id.to_string()),
        ]
    }
}

/// Batches and issues: newest first.
const BATCH_ORDER: Order = Order {
    keys: &[("batch_id", Kind::Int)],
    desc: true,
};
const ISSUE_ORDER: Order = Order {
    keys: &[("issue_id", Kind::Int)],
    desc: true,
};

impl Keyed for BatchRow {
    fn key(&self) -> Vec<Bind> {
        vec![Bind::I(self.batch_id)]
    }
}

impl Keyed for IssueRow {
    fn key(&self) -> Vec<Bind> {
        vec![Bind::I(self.issue_id)]
    }
}

impl Storage {
    /// Requests in `state` (`pending` also lists those with a problem), oldest first; at most
    /// `limit`.
    pub async fn invoice_requests(&self, state: &str, limit: i64) -> DbResult<Vec<RequestRow>> {
        let req = PageReq::first(limit);
        Ok(self.invoice_requests_page(state, &req).await?.rows)
    }

    /// One page of the requests in `state`, oldest first, with the count, the amount (fen,
    /// `sums[0]`) and how many are ready for a batch (`sums[1]`) of all of them.
    pub async fn invoice_requests_page(
        &self,
        state: &str,
        req: &PageReq,
    ) -> DbResult<Page<RequestRow>> {
        let mut sql = Sql::new(REQUEST_COLUMNS);
        sql.push(" where r.state = ?", [Bind::S(state.to_owned())]);
        let sums = ["amount_fen", READY];
        self.page(&sql, &REQUEST_ORDER, &sums, req).await
    }

    /// One page of the invoice batches, newest first, with their count.
    pub async fn invoice_batches_page(&self, req: &PageReq) -> DbResult<Page<BatchRow>> {
        let sql = Sql::new(
            "select batch_id, batch_no, requests, sha256, created_at, created_by \
            from invoice_batches",
        );
        self.page(&sql, &BATCH_ORDER, &[], req).await
    }

    /// One page of the open issues of issued-invoice imports, newest first, with their count.
    pub async fn invoice_issues_page(&self, req: &PageReq) -> DbResult<Page<IssueRow>> {
        let sql = Sql::new(
            "select issue_id, invoice_number, outcome, detail, created_at \
            from invoice_import_issues \
            where state = 'open'",
        );
        self.page(&sql, &ISSUE_ORDER, &[], req).await
    }
}
