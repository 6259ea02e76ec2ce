//! One e-mail as written (`views::mail` renders it, the outbox in storage holds it, `mail`
//! sends it): subject, plain text and HTML.

pub struct Mail {
    pub subject: String,
    pub text: String,
    pub html: String,
}
