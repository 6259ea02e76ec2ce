//! The UI's two languages. Simplified Chinese is the default; English via the locale switch.
//! Strings sit in pairs where they are used (`ctx.t("审核队列", "Review queue")`), so a
//! missing translation cannot hide; labels shared across pages are functions here.

use crate::domain::status::Status;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Locale {
    #[default]
    Zh,
    En,
}

impl Locale {
    pub fn parse(s: &str) -> Locale {
        if s == "en" { Locale::En } else { Locale::Zh }
    }
    pub fn code(self) -> &'static str {
        match self {
            Locale::Zh => "zh-CN",
            Locale::En => "en",
        }
    }
    pub fn t(self, zh: &'static str, en: &'static str) -> &'static str {
        match self {
            Locale::Zh => zh,
            Locale::En => en,
        }
    }
}

pub fn status_label(l: Locale, s: Status) -> &'static str {
    match (l, s) {
        (Locale::Zh, Status::Submitted) => "待审核",
        (Locale::Zh, Status::InReview) => "审核中",
        (Locale::Zh, Status::Returned) => "已退回",
        (Locale::Zh, Status::Accepted) => "已受理",
        (Locale::Zh, Status::InProduction) => "制作中",
        (Locale::Zh, Status::Shipped) => "已寄出",
        (Locale::Zh, Status::Withdrawn) => "已撤回",
        (Locale::Zh, Status::AwaitingApproval) => "待复核",
        (Locale::Zh, Status::Expired) => "已过期",
        (Locale::En, Status::Submitted) => "Submitted",
        (Locale::En, Status::InReview) => "In review",
        (Locale::En, Status::Returned) => "Returned",
        (Locale::En, Status::Accepted) => "Accepted",
        (Locale::En, Status::InProduction) => "In production",
        (Locale::En, Status::Shipped) => "Shipped",
        (Locale::En, Status::Withdrawn) => "Withdrawn",
        (Locale::En, Status::AwaitingApproval) => "Awaiting approval",
        (Locale::En, Status::Expired) => "Expired",
    }
}

pub fn role_label(l: Locale, role: &str) -> &'static str {
    match role {
        "admin" => l.t("系统管理员", "Administrator"),
        "supervisor" => l.t("审核主管", "Supervisor"),
        "reviewer" => l.t("审核员", "Reviewer"),
        "finance" => l.t("财务", "Finance"),
        "fulfillment" => l.t("制证寄送", "Fulfilment"),
        "hotline" => l.t("客服", "Hotline"),
        _ => l.t("未知", "Unknown"),
    }
}

/// Messages carried across a redirect as `?msg=code`.
pub fn message(l: Locale, code: &str) -> Option<(&'static str, &'static str)> {
    Some(match code {
        "claimed" => ("ok", l.t("已认领，开始审核。", "Claimed: the application is yours to review.")),
        "released" => ("ok", l.t("已放回队列。", "Released back to the queue.")),
        "accepted" => ("ok", l.t("已成功受理。", "Accepted.")),
        "returned" => ("ok", l.t("已退回申请人修改。", "Returned to the applicant.")),
        "reassigned" => ("ok", l.t("已改派。", "Reassigned.")),
        "approval_requested" => ("ok", l.t("已受理，按复核规则等待另一位审核员复核后生效。", "Accepted: a four-eyes rule holds it for a second reviewer's approval.")),
        "approved" => ("ok", l.t("已复核通过，受理生效。", "Approved: the acceptance has taken effect.")),
        "approval_rejected" => ("ok", l.t("已驳回复核，申请退回原审核员。", "Approval rejected: the application is back in review.")),
        "own_approval" => ("warn", l.t("不能复核自己受理的申请，须由另一位审核员或主管复核。", "You accepted this application: another reviewer or a supervisor must approve it.")),
        "need_approval_note" => ("warn", l.t("驳回复核时请填写说明。", "Write a note to reject the approval.")),
        "conflict" => ("warn", l.t("该申请已被他人处理或已变更，请查看最新状态后再操作。", "Someone else acted on this application first; check its current state and try again.")),
        "hand_back_needs_away" => ("warn", l.t("自动分配开启时，交回前请先登记离开（休假、病假等）：否则申请会被立即分回给同一位审核员。", "While the server assigns, mark the absence first: claims handed back by a reviewer who stays available are dealt straight back to them.")),
        "not_allowed" => ("warn", l.t("当前状态下不能执行该操作。", "That action does not fit the application's current state.")),
        "produced" => ("ok", l.t("已登记制作，可以生成快递批次。", "Recorded as produced: ready to batch.")),
        "nothing_to_ship" => ("warn", l.t("没有可寄出的申请（需已登记制作、不在其他批次中）。", "Nothing ready to ship (produced and in no other batch).")),
        "gate_overridden" => ("ok", l.t("已放行：该申请可在遗失证书吊销前放入快递批次（已记入审计）。", "Let through: the application may be batched before its lost certificate is revoked (audited).")),
        "issued_recorded" => ("ok", l.t("签发证书已核对并登记到证书库。", "The issued certificate was checked and is in the registry.")),
        "parcel_returned" => ("ok", l.t("已登记退件，该申请回到待寄出。", "Return recorded: the application is ready to ship again.")),
        "bill_imported" => ("ok", l.t("账单已导入并完成对账。", "The bill was imported and reconciled.")),
        "case_conflict" => ("warn", l.t("该异常已被其他同事处理，请查看最新状态。", "A colleague resolved this case first; check its current state.")),
        "case_closed" => ("ok", l.t("异常已处理。", "The case is closed.")),
        "batch_created" => ("ok", l.t("开票批次已生成，请下载后到电子发票服务平台批量导入。", "The batch is ready: download it and import it on the tax platform.")),
        "nothing_to_batch" => ("warn", l.t("没有可开票的申请（需已受理且付款已核实）。", "Nothing to invoice (accepted and paid requests only).")),
        "payment_unverified" => ("warn", l.t("付款尚未经账单核实，不能受理；如确需受理，请主管填写放行理由。", "The payment is not verified by a bill yet; a supervisor may accept with a reason.")),
        "not_yours" => ("warn", l.t("该申请由其他审核员认领，只有认领人或主管可以决定。", "Another reviewer holds this application; only they or a supervisor can decide.")),
        "need_reason" => ("warn", l.t("退回时至少选择一个原因；选择“其他”时请填写说明。", "Choose at least one reason to return; with “other”, write a note.")),
        "bad_part" => ("warn", l.t("所选退回部位无效，请重新选择。", "The part chosen for a reason is not known; choose again.")),
        "empty" => ("ok", l.t("没有待认领的申请。", "Nothing is waiting to be claimed.")),
        "saved" => ("ok", l.t("已保存。", "Saved.")),
        "handed_back" => ("ok", l.t("已把审核中的申请交回队列。", "The open claims are back in the pool.")),
        "away_set" => ("ok", l.t("已登记请假，请假期间不分配新申请。", "You are marked away: nothing is assigned to you meanwhile.")),
        "away_ended" => ("ok", l.t("已返岗，可以分配新申请。", "Welcome back: assignments resume.")),
        "away_past" => ("warn", l.t("请假的最后一天不能早于今天。", "The last day away cannot be before today.")),
        "password_changed" => ("ok", l.t("密码已修改，其他会话已退出。", "Password changed; your other sessions were signed out.")),
        "verified_ok" => ("ok", l.t("核验结果：一致。", "Check: matches.")),
        "verified_no" => ("warn", l.t("核验结果：不一致。", "Check: does not match.")),
        "verify_limit" => ("warn", l.t("核验次数已达上限（每件申请每小时最多 3 次不一致）。", "Too many checks: at most 3 failed checks per application and hour.")),
        "noted" => ("ok", l.t("通话记录已保存，审核人员可见。", "Call note saved; reviewers see it.")),
        "need_note" => ("warn", l.t("请填写 1–500 字的记录。", "Write a note of 1–500 characters.")),
        "user_created" => ("ok", l.t("用户已创建。", "User created.")),
        "anchor_sent" => ("ok", l.t("锚点已放入邮件发送队列。", "The anchor is queued for the auditor.")),
        "anchor_already_sent" => ("warn", l.t("该锚点此前已发给这位审计员。", "This anchor was sent to this auditor before.")),
        "no_auditor" => ("warn", l.t("未配置审计员邮箱。", "No auditor address is configured.")),
        "no_anchor" => ("warn", l.t("尚无已封存的审计记录。", "No audit record is sealed yet.")),
        "view_saved" => ("ok", l.t("视图已保存，显示在队列上方的标签中。", "View saved: it is a tab above the queue.")),
        "view_deleted" => ("ok", l.t("视图已删除。", "View deleted.")),
        "view_not_found" => ("warn", l.t("没有这个视图（只能删除自己的视图）。", "No such view (you can delete only your own).")),
        "views_full" => ("warn", l.t("每人最多保存 20 个视图，请先删除不用的视图。", "At most 20 views each: delete one first.")),
        "view_invalid" => ("warn", l.t("请填写 1–40 字的视图名称；筛选条件须是队列可用的条件。", "Name the view (1–40 characters); the filter must be one the queue has.")),
        "nothing_selected" => ("warn", l.t("请先勾选要处理的申请。", "Pick the applications first.")),
        "bulk_invalid" => ("warn", l.t("请选择操作；改派时请选择一位在职审核员。", "Choose an action; to reassign, choose an active reviewer.")),
        "note_added" => ("ok", l.t("备注已添加。", "Note added.")),
        "note_unresolved" => ("warn", l.t("备注已添加；部分 @ 的名字没有对应的在职同事，未通知。", "Note added; some @names match no active colleague and nobody was told.")),
        "note_invalid" => ("warn", l.t("备注须为 1–2000 字。", "A note has 1–2000 characters.")),
        "marked_read" => ("ok", l.t("已标为已读。", "Marked read.")),
        "webhook_resent" => ("ok", l.t("已重新放入推送队列（同一 webhook-id）。", "Queued to be sent again (the same webhook-id).")),
        "webhook_pending" => ("warn", l.t("该推送正在等待发送，无需重发。", "That delivery is waiting to be sent already.")),
        "webhook_removed" => ("ok", l.t("推送地址已删除；等待中的推送将被搁置。", "The endpoint is removed; waiting deliveries will be parked.")),
        _ => return None,
    })
}

/// Beside every date range asked for in a URL (`domain::period`).
pub const RANGE_LIMIT_ZH: &str =
    "日期范围最长一年（366 天），限 2000–2099 年；更长的范围截为截止日前的一年。";
pub const RANGE_LIMIT_EN: &str = "A range is at most a year (366 days), within 2000–2099; a longer one is cut to the year ending on its last day.";
