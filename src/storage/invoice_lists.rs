//! The invoice requests as the finance desk lists them: by state, oldest first, paged.

use super::invoices::{REQUEST_COLUMNS, RequestRow};
use super::paging::{self, Bind, Keyed, Kind, Order, Page, PageReq, Sql};
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
            Bind::S(self.application_id.clone()),
        ]
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
        paging::fetch(self.read_pool(), &sql, &REQUEST_ORDER, &sums, req).await
    }
}
