//! The application's status machine. Every change of status goes through [`Status::apply`];
//! an action that does not fit the current status is an error, never a silent no-op.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// Waiting for review (also after a resubmission).
    Submitted,
    /// Claimed by a reviewer.
    InReview,
    /// Sent back to the applicant with reasons; the review clock stops.
    Returned,
    /// 成功受理.
    Accepted,
    /// The new certificate and medium are being made.
    InProduction,
    Shipped,
    Withdrawn,
    /// Accepted by one reviewer, waiting for a second one's approval (four eyes). The review
    /// clock still runs; the hall sees it as in review.
    AwaitingApproval,
    /// Returned and never resubmitted within the configured days: closed.
    Expired,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Claim,
    /// A reviewer (or supervisor) gives a claimed application back to the queue.
    Release,
    Accept,
    Return,
    Resubmit,
    StartProduction,
    Ship,
    /// The parcel came back undeliverable: the application waits for a re-send.
    ReturnParcel,
    Withdraw,
    /// An acceptance that a four-eyes rule holds for a second reviewer.
    RequestApproval,
    /// The second reviewer approves: the acceptance takes effect.
    Approve,
    /// The second reviewer rejects: back in review with the maker.
    RejectApproval,
    /// A returned application left too long: closed by the expiry job.
    Expire,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot {action:?} an application that is {from}")]
pub struct IllegalTransition {
    pub from: Status,
    pub action: Action,
}

impl Status {
    pub const ALL: [Status; 9] = [
        Status::Submitted,
        Status::InReview,
        Status::Returned,
        Status::Accepted,
        Status::InProduction,
        Status::Shipped,
        Status::Withdrawn,
        Status::AwaitingApproval,
        Status::Expired,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Status::Submitted => "submitted",
            Status::InReview => "in_review",
            Status::Returned => "returned",
            Status::Accepted => "accepted",
            Status::InProduction => "in_production",
            Status::Shipped => "shipped",
            Status::Withdrawn => "withdrawn",
            Status::AwaitingApproval => "awaiting_approval",
            Status::Expired => "expired",
        }
    }

    pub fn parse(code: &str) -> Option<Status> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }

    /// What the applicant (and the hotline) is told, in Chinese.
    pub fn label_zh(self) -> &'static str {
        match self {
            Status::Submitted => "已提交，等待审核",
            Status::InReview => "审核中",
            Status::Returned => "需修改后重新提交",
            Status::Accepted => "已成功受理",
            Status::InProduction => "证书制作中",
            Status::Shipped => "已寄出",
            Status::Withdrawn => "已撤回",
            // The second look is internal: the applicant is told it is in review.
            Status::AwaitingApproval => "审核中",
            Status::Expired => "已过期关闭（退回后未在期限内重新提交）",
        }
    }

    /// Whether the three-working-day review clock runs in this status (until the second
    /// reviewer's decision, when four eyes hold an acceptance).
    pub fn awaits_review(self) -> bool {
        matches!(
            self,
            Status::Submitted | Status::InReview | Status::AwaitingApproval
        )
    }

    /// The status the hall's API and the hotline show: the four-eyes hold is internal, so an
    /// application awaiting approval is in review to them.
    pub fn as_seen_outside(self) -> Status {
        match self {
            Status::AwaitingApproval => Status::InReview,
            s => s,
        }
    }

    pub fn apply(self, action: Action) -> Result<Status, IllegalTransition> {
        use Action as A;
        use Status as S;
        let next = match (self, action) {
            (S::Submitted, A::Claim) => S::InReview,
            (S::InReview, A::Release) => S::Submitted,
            (S::InReview, A::Accept) => S::Accepted,
            (S::InReview, A::Return) => S::Returned,
            (S::Returned, A::Resubmit) => S::Submitted,
            (S::Accepted, A::StartProduction) => S::InProduction,
            (S::InProduction, A::Ship) => S::Shipped,
            (S::Shipped, A::ReturnParcel) => S::InProduction,
            (S::Submitted | S::InReview | S::Returned | S::AwaitingApproval, A::Withdraw) => {
                S::Withdrawn
            }
            (S::InReview, A::RequestApproval) => S::AwaitingApproval,
            (S::AwaitingApproval, A::Approve) => S::Accepted,
            (S::AwaitingApproval, A::RejectApproval) => S::InReview,
            (S::Returned, A::Expire) => S::Expired,
            (from, action) => return Err(IllegalTransition { from, action }),
        };
        Ok(next)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Action as A;
    use Status as S;

    #[test]
    fn the_happy_path() {
        let s = S::Submitted.apply(A::Claim).unwrap();
        let s = s.apply(A::Return).unwrap();
        assert_eq!(s, S::Returned);
        let s = s.apply(A::Resubmit).unwrap().apply(A::Claim).unwrap();
        let s = s
            .apply(A::Accept)
            .unwrap()
            .apply(A::StartProduction)
            .unwrap();
        assert_eq!(s.apply(A::Ship).unwrap(), S::Shipped);
    }

    #[test]
    fn illegal_transitions_are_errors() {
        let all_actions = [
            A::Claim,
            A::Release,
            A::Accept,
            A::Return,
            A::Resubmit,
            A::StartProduction,
            A::Ship,
            A::Withdraw,
            A::RequestApproval,
            A::Approve,
            A::RejectApproval,
            A::Expire,
        ];
        let mut allowed = 0;
        for s in S::ALL {
            for a in all_actions {
                match s.apply(a) {
                    Ok(_) => allowed += 1,
                    Err(e) => assert_eq!((e.from, e.action), (s, a)),
                }
            }
        }
        // Exactly the fifteen edges of the machine; everything else is refused.
        assert_eq!(allowed, 15);
        assert!(S::AwaitingApproval.apply(A::Accept).is_err());
        assert!(S::AwaitingApproval.apply(A::Resubmit).is_err());
        assert!(S::Expired.apply(A::Resubmit).is_err());
        assert!(S::Submitted.apply(A::Expire).is_err());
        assert!(S::Submitted.apply(A::Accept).is_err());
        assert!(S::Shipped.apply(A::Withdraw).is_err());
        assert!(S::Accepted.apply(A::Return).is_err());
    }

    #[test]
    fn codes_round_trip() {
        for s in S::ALL {
            assert_eq!(S::parse(s.code()), Some(s));
        }
    }
}
