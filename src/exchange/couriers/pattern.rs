//! Waybill patterns (`courier.sf.waybill_patterns`, `courier.ems.waybill_patterns`): the part of
//! regular expressions the contract's patterns use — literals, `.`, `\d`, `[A-Z0-9]`, `?`, `*`,
//! `+`, `{n}`, `{n,}`, `{n,m}`, alternatives with `|`, optionally inside one group around the
//! whole pattern — checked on the `regex` crate's syntax tree, then compiled by it, size-limited
//! (a pattern is configuration, not code), and always matched against the whole waybill.
//! `\d` is an ASCII digit and `.` any character, as in the contract.

use regex::{Regex, RegexBuilder};
use regex_syntax::ast::{self, Ast, ClassSet, ClassSetItem, LiteralKind, Span};
use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

/// The most a compiled pattern may take (the `regex` crate's size limit, bytes); the contract's
/// patterns take a few kilobytes.
const SIZE_LIMIT: usize = 1 << 16;

/// An anchored pattern, matched against the whole text.
#[derive(Debug, Clone)]
pub(super) struct Pattern(Regex);

impl Pattern {
    pub(super) fn parse(p: &str) -> Result<Pattern, String> {
        // `^` and `$` around the whole pattern, then one group around the rest, are optional.
        let s = p.strip_prefix('^').unwrap_or(p);
        let s = match s.strip_suffix('$') {
            Some(t) if !t.ends_with('\\') => t,
            _ => s,
        };
        let s = match s.strip_prefix("(?:").or_else(|| s.strip_prefix('(')) {
            Some(inner) if s.ends_with(')') => &inner[..inner.len() - 1],
            _ => s,
        };
        let tree = ast::parse::Parser::new()
            .parse(s)
            .map_err(|e| e.kind().to_string())?;
        let mut digits = Vec::new();
        match &tree {
            Ast::Alternation(a) => a.asts.iter().try_for_each(|x| sequence(x, &mut digits))?,
            other => sequence(other, &mut digits)?,
        }
        // `\d` is Unicode's in the `regex` crate; the contract's is ASCII.
        let mut body = String::with_capacity(s.len() + 4 * digits.len());
        let mut at = 0;
        for (span, in_class) in digits {
            body.push_str(&s[at..span.start.offset]);
            body.push_str(if in_class { "0-9" } else { "[0-9]" });
            at = span.end.offset;
        }
        body.push_str(&s[at..]);
        RegexBuilder::new(&format!("^(?:{body})$"))
            .dot_matches_new_line(true)
            .size_limit(SIZE_LIMIT)
            .dfa_size_limit(SIZE_LIMIT)
            .build()
            .map(Pattern)
            .map_err(|e| match e {
                regex::Error::CompiledTooBig(_) => "the pattern is too large".to_owned(),
                other => other.to_string(),
            })
    }

    pub(super) fn matches(&self, text: &str) -> bool {
        self.0.is_match(text)
    }
}

/// One alternative: atoms, each perhaps repeated.
fn sequence(a: &Ast, digits: &mut Vec<(Span, bool)>) -> Result<(), String> {
    match a {
        Ast::Empty(_) => Err("an alternative is empty".into()),
        Ast::Concat(c) => c.asts.iter().try_for_each(|x| atom(x, digits)),
        other => atom(other, digits),
    }
}

fn atom(a: &Ast, digits: &mut Vec<(Span, bool)>) -> Result<(), String> {
    match a {
        Ast::Literal(l) => literal(l),
        Ast::Dot(_) => Ok(()),
        Ast::ClassPerl(c) if c.kind == ast::ClassPerlKind::Digit && !c.negated => {
            digits.push((c.span, false));
            Ok(())
        }
        Ast::ClassPerl(c) => Err(format!("the escape \\{} is not supported", perl_letter(c))),
        Ast::ClassBracketed(c) if c.negated => Err("negated classes [^…] are not supported".into()),
        Ast::ClassBracketed(c) => match &c.kind {
            ClassSet::Item(item) => class_item(item, digits),
            ClassSet::BinaryOp(_) => Err("operations on classes are not supported".into()),
        },
        Ast::Repetition(r) if !r.greedy => Err("lazy repetitions are not supported".into()),
        Ast::Repetition(r) => match &*r.ast {
            Ast::Repetition(_) | Ast::Group(_) | Ast::Concat(_) | Ast::Alternation(_) => {
                Err("a repetition applies to one character or class only".into())
            }
            inner => atom(inner, digits),
        },
        Ast::Group(_) => {
            Err("groups other than one around the whole pattern are not supported".into())
        }
        Ast::Alternation(_) => Err("'|' is supported only between whole alternatives".into()),
        Ast::Assertion(_) => Err("'^' and '$' are supported only at the ends".into()),
        Ast::Flags(_) => Err("flags are not supported".into()),
        Ast::ClassUnicode(_) => Err("Unicode classes are not supported".into()),
        Ast::Empty(_) | Ast::Concat(_) => Err("an empty or nested part is not supported".into()),
    }
}

fn perl_letter(c: &ast::ClassPerl) -> char {
    let letter = match c.kind {
        ast::ClassPerlKind::Digit => 'd',
        ast::ClassPerlKind::Space => 's',
        ast::ClassPerlKind::Word => 'w',
    };
    if c.negated {
        letter.to_ascii_uppercase()
    } else {
        letter
    }
}

/// A character, written as itself or escaped (`\.`, `\-`); not `\n`, `\x41` ….
fn literal(l: &ast::Literal) -> Result<(), String> {
    match l.kind {
        LiteralKind::Verbatim | LiteralKind::Meta | LiteralKind::Superfluous => Ok(()),
        _ => Err(format!("the escaped character {:?} is not supported", l.c)),
    }
}

/// Inside `[ ]`: characters, ranges and `\d`.
fn class_item(item: &ClassSetItem, digits: &mut Vec<(Span, bool)>) -> Result<(), String> {
    match item {
        ClassSetItem::Literal(l) => literal(l),
        ClassSetItem::Range(r) => literal(&r.start).and_then(|()| literal(&r.end)),
        ClassSetItem::Perl(c) if c.kind == ast::ClassPerlKind::Digit && !c.negated => {
            digits.push((c.span, true));
            Ok(())
        }
        ClassSetItem::Union(u) => u.items.iter().try_for_each(|i| class_item(i, digits)),
        _ => Err("an unsupported item inside [ ]".into()),
    }
}

/// The patterns seen, compiled: a tracking import checks every row against the same few.
static COMPILED: LazyLock<Mutex<HashMap<String, Option<Pattern>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// Whether the whole `text` matches the pattern `p`, compiled once per process; a pattern
/// [`Pattern::parse`] refuses never matches.
pub(super) fn matches(p: &str, text: &str) -> bool {
    let mut compiled = COMPILED.lock().unwrap_or_else(|e| e.into_inner());
    if !compiled.contains_key(p) {
        // Patterns come from the settings: a handful. Forget them all if something feeds many.
        if compiled.len() >= 64 {
            compiled.clear();
        }
        compiled.insert(p.to_owned(), Pattern::parse(p).ok());
    }
    compiled
        .get(p)
        .and_then(Option::as_ref)
        .is_some_and(|r| r.matches(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_are_ascii_and_size_is_limited() {
        let p = |s: &str| Pattern::parse(s).unwrap();
        assert!(p(r"^\d{3}$").matches("123"));
        assert!(!p(r"^\d{3}$").matches("١٢٣"), "Arabic-Indic digits");
        assert!(!p(r"^\d{3}$").matches("１２３"), "full-width digits");
        assert!(p(r"^[\dA-F]{3}$").matches("1F0"));
        assert!(!p(r"^[\dA-F]{3}$").matches("１F0"));
        assert!(p("^a.b$").matches("a\nb"), "any character");
        assert!(
            p("SF|JD").matches("JD") && !p("SF|JD").matches("SFJD"),
            "anchored"
        );
        let e = Pattern::parse("^.{100000}$").unwrap_err();
        assert_eq!(e, "the pattern is too large");
        for bad in [
            r"^\n$",
            r"^(?i)sf$",
            "^a*?$",
            r"^\p{Han}$",
            "^[[:digit:]]$",
            "^[a&&b]$",
        ] {
            assert!(Pattern::parse(bad).is_err(), "{bad}");
        }
        assert!(matches(r"^SF\d{13}$", "SF1234567890123"));
        assert!(!matches("^(a", "a"), "refused: never matches");
    }
}
