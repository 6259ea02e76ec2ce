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
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot {action:?} an application that is {from}")]
pub struct IllegalTransition {
    pub from: Status,
    pub action: Action,
}

impl Status {
    pub const ALL: [Status; 7] = [
        Status::Submitted,
        Status::InReview,
        Status::Returned,
        Status::Accepted,
        Status::InProduction,
        Status::Shipped,
        Status::Withdrawn,
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
        }
    }

    /// Whether the three-working-day review clock runs in this status.
    pub fn awaits_review(self) -> bool {
        matches!(self, Status::Submitted | Status::InReview)
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
            (S::Submitted | S::InReview | S::Returned, A::Withdraw) => S::Withdrawn,
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
        // Exactly the ten edges of the machine; everything else is refused.
        assert_eq!(allowed, 10);
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
