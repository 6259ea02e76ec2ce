//! Contact data the applicant typed: mainland mobile number and e-mail address.

/// A mainland China mobile number: 11 digits, `1[3-9]…`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Mobile(String);

impl Mobile {
    pub fn parse(input: &str) -> Result<Self, &'static str> {
        let s = input.trim();
        let b = s.as_bytes();
        if b.len() == 11
            && b[0] == b'1'
            && (b'3'..=b'9').contains(&b[1])
            && b.iter().all(u8::is_ascii_digit)
        {
            Ok(Self(s.to_owned()))
        } else {
            Err("must be a mainland mobile number: 11 digits starting 13–19")
        }
    }
}

super::checked_text!(Mobile);

/// A landline: `0755-12345678`, `010-1234567`, with an optional extension `-123`.
pub fn is_landline(s: &str) -> bool {
    let mut parts = s.split('-');
    let digits = |p: &str, r: std::ops::RangeInclusive<usize>| {
        r.contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit())
    };
    let area = parts.next().unwrap_or("");
    let number = parts.next().unwrap_or("");
    let ext = parts.next();
    area.starts_with('0')
        && digits(area, 3..=4)
        && digits(number, 7..=8)
        && ext.is_none_or(|e| digits(e, 1..=6))
        && parts.next().is_none()
}

/// An e-mail address of the plain `local@domain.tld` form that mail servers accept.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    pub fn parse(input: &str) -> Result<Self, &'static str> {
        let s = input.trim();
        let err = "must be an e-mail address such as name@example.com";
        if s.len() > 254 || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(err);
        }
        let (local, domain) = s.rsplit_once('@').ok_or(err)?;
        let domain_ok = domain.len() >= 3
            && domain.contains('.')
            && domain
                .split('.')
                .all(|l| !l.is_empty() && l.chars().all(|c| c.is_alphanumeric() || c == '-'));
        if local.is_empty() || local.len() > 64 || local.contains('@') || !domain_ok {
            return Err(err);
        }
        Ok(Self(s.to_owned()))
    }
}

super::checked_text!(Email);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mobiles() {
        assert!(Mobile::parse("13800138000").is_ok());
        assert!(Mobile::parse("19912345678").is_ok());
        assert!(Mobile::parse("12800138000").is_err());
        assert!(Mobile::parse("1380013800").is_err());
        assert!(Mobile::parse("138001380001").is_err());
        assert!(Mobile::parse("1380013800a").is_err());
    }

    #[test]
    fn emails() {
        assert!(Email::parse("zhangsan@example.com").is_ok());
        assert!(Email::parse("a.b+c@mail.qq.com").is_ok());
        assert!(Email::parse("zhangsan@localhost").is_err());
        assert!(Email::parse("zhang san@example.com").is_err());
        assert!(Email::parse("@example.com").is_err());
        assert!(Email::parse("a@b@example.com").is_err());
        assert!(Email::parse("a@example..com").is_err());
    }
}
