//! `@username` mentions in an internal note: which names a text mentions, and the text cut
//! into plain runs and mentions for showing it. Usernames are 2–32 of `a-z 0-9 . _ -` (as
//! the admin desk makes them); a trailing `.` ends a sentence, not a name.

/// The most characters a note may have.
pub const NOTE_MAX_CHARS: usize = 2000;

/// A piece of a note: plain text, or a mention (the name without its `@`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece<'a> {
    Text(&'a str),
    Mention(&'a str),
}

fn name_char(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-')
}

/// The note cut into pieces, in order; joined again they are the note.
pub fn pieces(text: &str) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let mut plain_from = 0;
    let mut i = 0;
    while let Some(at) = text[i..].find('@').map(|p| p + i) {
        // An `@` inside a word (an e-mail address) is not a mention.
        let after_word = text[..at]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_ascii_alphanumeric());
        let rest = &text[at + 1..];
        let mut len = rest.find(|c: char| !name_char(c)).unwrap_or(rest.len());
        while len > 0 && rest[..len].ends_with('.') {
            len -= 1;
        }
        if after_word || !(2..=32).contains(&len) {
            i = at + 1;
            continue;
        }
        if plain_from < at {
            out.push(Piece::Text(&text[plain_from..at]));
        }
        out.push(Piece::Mention(&rest[..len]));
        plain_from = at + 1 + len;
        i = plain_from;
    }
    if plain_from < text.len() {
        out.push(Piece::Text(&text[plain_from..]));
    }
    out
}

/// The names a note mentions, each once, in order of first mention.
pub fn mentioned(text: &str) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for p in pieces(text) {
        let Piece::Mention(n) = p else { continue };
        if !names.iter().any(|m| m == n) {
            names.push(n.to_owned());
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_found_once_and_text_kept() {
        let t = "请 @li.si 和 @wang_wu 看一下，@li.si. 邮箱 a@example.com 不算；@x 太短";
        assert_eq!(mentioned(t), vec!["li.si", "wang_wu"]);
        let joined: String = pieces(t)
            .iter()
            .map(|p| match p {
                Piece::Text(s) => s.to_string(),
                Piece::Mention(n) => format!("@{n}"),
            })
            .collect();
        assert_eq!(joined, t);
    }

    #[test]
    fn a_note_without_mentions_is_one_piece() {
        assert_eq!(pieces("没有提及"), vec![Piece::Text("没有提及")]);
        assert!(pieces("").is_empty());
        assert_eq!(pieces("@@ab"), vec![Piece::Text("@"), Piece::Mention("ab")]);
    }
}
