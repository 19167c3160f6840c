//! Template source rewriting, done once when a template is loaded, so that Eventgen's Jinja2
//! templates run on minijinja:
//!
//! - Eventgen's custom tags `{% time_now ... %}` and `{% time_slice ... %}` (also as line
//!   statements, `# time_now`) become `{% set time_now_epoch, time_now_formatted =
//!   time_now(...) %}` and `{% set time_target_epoch, time_target_formatted = time_slice(...) %}`.
//!   `time_delta` and `time_backfill` were declared but never implemented by Eventgen; they are
//!   reported as errors with their line.
//! - The empty list literal `[]` becomes `__eventgen_list()`, a list that supports Python's
//!   `append`/`extend`/... methods (the `{% do items.append(x) %}` idiom; minijinja lists are
//!   immutable).
//! - Python printf formatting with a string literal on the left, `'%02d' % n`, becomes
//!   `__eventgen_pyformat('%02d', n)` (minijinja has no `%` on strings).
//!
//! Rewrites never add or remove newlines, so minijinja's line numbers still match the file.
//! Comments (`{# #}`, `## ...`) and `{% raw %}` blocks are copied untouched.

/// A rewriting problem at a 1-based line of the template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreprocessError {
    pub line: usize,
    pub message: String,
}

/// A template named by a string literal in `include`/`import`/`from`/`extends`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    pub name: String,
    pub line: usize,
    /// `include ... ignore missing`: a missing file is not an error.
    pub optional: bool,
}

/// A rewritten template and the templates it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preprocessed {
    pub source: String,
    pub references: Vec<Reference>,
}

/// Eventgen's tags that set a pair of variables: (tag, function, epoch variable, text variable).
const TIME_TAGS: [(&str, &str, &str, &str); 2] = [
    (
        "time_now",
        "time_now",
        "time_now_epoch",
        "time_now_formatted",
    ),
    (
        "time_slice",
        "time_slice",
        "time_target_epoch",
        "time_target_formatted",
    ),
];

/// Tags Eventgen registered without an implementation.
const UNIMPLEMENTED_TAGS: [&str; 2] = ["time_delta", "time_backfill"];

/// Rewrites a template's source (see the module docs).
pub fn preprocess(src: &str) -> Result<Preprocessed, PreprocessError> {
    let mut out = String::with_capacity(src.len() + 64);
    let mut references = Vec::new();
    let bytes = src.as_bytes();
    let mut i = 0;
    let mut line_start = true;
    while i < bytes.len() {
        let rest = &src[i..];
        if let Some(comment) = rest.strip_prefix("{#") {
            let end = comment.find("#}").map(|p| p + 4).unwrap_or(rest.len());
            out.push_str(&rest[..end]);
            i += end;
            line_start = false;
        } else if rest.starts_with("{{") {
            let end = find_close(rest, 2, "}}");
            let Some(end) = end else {
                out.push_str(rest);
                break;
            };
            let (pre, body, post) = split_modifiers(&rest[2..end]);
            out.push_str("{{");
            out.push_str(pre);
            out.push_str(&rewrite_expr(body));
            out.push_str(post);
            out.push_str("}}");
            i += end + 2;
            line_start = false;
        } else if rest.starts_with("{%") {
            let Some(end) = find_close(rest, 2, "%}") else {
                out.push_str(rest);
                break;
            };
            let (pre, body, post) = split_modifiers(&rest[2..end]);
            if first_word(body) == "raw" {
                let raw_len = raw_block_len(rest);
                out.push_str(&rest[..raw_len]);
                i += raw_len;
            } else {
                let line = line_of(src, i);
                out.push_str("{%");
                out.push_str(pre);
                out.push_str(&rewrite_statement(body, line, &mut references)?);
                out.push_str(post);
                out.push_str("%}");
                i += end + 2;
            }
            line_start = false;
        } else if rest.starts_with("##") {
            let end = rest.find(['\n', '\r']).unwrap_or(rest.len());
            out.push_str(&rest[..end]);
            i += end;
        } else if line_start && rest.starts_with('#') {
            let end = line_statement_len(rest);
            let line = line_of(src, i);
            out.push('#');
            out.push_str(&rewrite_statement(&rest[1..end], line, &mut references)?);
            i += end;
            line_start = false;
        } else {
            let c = rest.chars().next().unwrap_or('\0');
            out.push(c);
            i += c.len_utf8();
            line_start = match c {
                '\n' | '\r' => true,
                ' ' | '\t' => line_start,
                _ => false,
            };
        }
    }
    Ok(Preprocessed {
        source: out,
        references,
    })
}

fn line_of(src: &str, pos: usize) -> usize {
    src[..pos].bytes().filter(|&b| b == b'\n').count() + 1
}

/// Splits the inside of `{% ... %}` into its whitespace-control prefix (`-`/`+`), body and
/// suffix.
fn split_modifiers(inner: &str) -> (&str, &str, &str) {
    let pre = if inner.starts_with(['-', '+']) {
        &inner[..1]
    } else {
        ""
    };
    let inner = &inner[pre.len()..];
    let post = if inner.ends_with(['-', '+']) {
        &inner[inner.len() - 1..]
    } else {
        ""
    };
    (pre, &inner[..inner.len() - post.len()], post)
}

fn first_word(body: &str) -> &str {
    let body = body.trim_start();
    let end = body
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(body.len());
    &body[..end]
}

/// Offset of the closing delimiter `close` in `s`, starting at `from`, skipping string literals
/// and anything inside brackets (as minijinja's lexer does).
fn find_close(s: &str, from: usize, close: &str) -> Option<usize> {
    let bytes = s.as_bytes();
    let mut depth = 0usize;
    let mut i = from;
    while i < bytes.len() {
        match bytes[i] {
            q @ (b'"' | b'\'') => i = skip_string(bytes, i, q),
            b'(' | b'[' | b'{' => {
                depth += 1;
                i += 1;
            }
            b')' | b']' | b'}' if depth > 0 => {
                depth -= 1;
                i += 1;
            }
            _ if depth == 0 && s[i..].starts_with(close) => return Some(i),
            _ => i += 1,
        }
    }
    None
}

/// Index just past the string literal opened by quote `q` at `start`.
fn skip_string(bytes: &[u8], start: usize, q: u8) -> usize {
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b if b == q => return i + 1,
            _ => i += 1,
        }
    }
    bytes.len()
}

/// Length of a line statement starting at `#`: up to the end of the line, continuing over
/// newlines while brackets are open.
fn line_statement_len(s: &str) -> usize {
    let bytes = s.as_bytes();
    let mut depth = 0usize;
    let mut i = 1;
    while i < bytes.len() {
        match bytes[i] {
            q @ (b'"' | b'\'') => i = skip_string(bytes, i, q),
            b'(' | b'[' | b'{' => {
                depth += 1;
                i += 1;
            }
            b')' | b']' | b'}' => {
                depth = depth.saturating_sub(1);
                i += 1;
            }
            b'\n' | b'\r' if depth == 0 => return i,
            _ => i += 1,
        }
    }
    bytes.len()
}

/// Length of a `{% raw %}...{% endraw %}` block starting at `s`.
fn raw_block_len(s: &str) -> usize {
    let mut from = 2;
    while let Some(p) = s[from..].find("{%") {
        let tag = from + p;
        if let Some(end) = s[tag + 2..].find("%}") {
            let (_, body, _) = split_modifiers(&s[tag + 2..tag + 2 + end]);
            if body.trim() == "endraw" {
                return tag + 2 + end + 2;
            }
        }
        from = tag + 2;
    }
    s.len()
}

/// Rewrites the body of a statement tag (or line statement).
fn rewrite_statement(
    body: &str,
    line: usize,
    references: &mut Vec<Reference>,
) -> Result<String, PreprocessError> {
    let word = first_word(body);
    if matches!(word, "include" | "import" | "from" | "extends") {
        let after = body.trim_start()[word.len()..].trim_start();
        if let Some(q @ (b'"' | b'\'')) = after.bytes().next() {
            let end = skip_string(after.as_bytes(), 0, q);
            let name = &after[1..end.saturating_sub(1).max(1)];
            if !name.contains('\\') {
                references.push(Reference {
                    name: name.to_string(),
                    line,
                    optional: after[end..].contains("ignore missing"),
                });
            }
        }
    }
    if let Some((_, func, epoch, text)) = TIME_TAGS.iter().find(|t| t.0 == word) {
        let lead = body.len() - body.trim_start().len();
        let args = &body[lead + word.len()..];
        let trailing_ws = args.len() - args.trim_end().len();
        let (args, tail) = args.split_at(args.len() - trailing_ws);
        return Ok(format!(
            "{}set {epoch}, {text} = {func}({}){tail}",
            &body[..lead],
            rewrite_expr(args)
        ));
    }
    if UNIMPLEMENTED_TAGS.contains(&word) {
        return Err(PreprocessError {
            line,
            message: format!(
                "the {{% {word} %}} tag is not implemented (Eventgen declares it but never \
                 implemented it)"
            ),
        });
    }
    Ok(rewrite_expr(body))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Str,
    Num,
    Ident,
    Punct,
}

#[derive(Debug, Clone, Copy)]
struct Tok {
    kind: Kind,
    start: usize,
    end: usize,
}

fn tokenize(s: &str) -> Vec<Tok> {
    let bytes = s.as_bytes();
    let mut toks = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let start = i;
        let kind = if b.is_ascii_whitespace() {
            i += 1;
            continue;
        } else if b == b'"' || b == b'\'' {
            i = skip_string(bytes, i, b);
            Kind::Str
        } else if b.is_ascii_digit() {
            while i < bytes.len()
                && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'.' || bytes[i] == b'_')
            {
                i += 1;
            }
            Kind::Num
        } else if b.is_ascii_alphabetic() || b == b'_' || b >= 0x80 {
            while i < bytes.len()
                && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_' || bytes[i] >= 0x80)
            {
                i += 1;
            }
            Kind::Ident
        } else {
            let two = s.get(i..i + 2).unwrap_or("");
            i += if matches!(two, "//" | "**" | "==" | "!=" | "<=" | ">=") {
                2
            } else {
                1
            };
            Kind::Punct
        };
        toks.push(Tok {
            kind,
            start,
            end: i,
        });
    }
    toks
}

/// Words after which `[` opens a list literal rather than a subscript.
const KEYWORDS: [&str; 17] = [
    "and", "or", "not", "in", "is", "if", "else", "elif", "set", "do", "for", "with", "print",
    "return", "include", "import", "extends",
];

/// Applies the `[]` and printf rewrites to an expression or statement body.
fn rewrite_expr(s: &str) -> String {
    let toks = tokenize(s);
    let text = |t: &Tok| &s[t.start..t.end];
    // (position, bytes removed, text inserted), applied in order.
    let mut edits: Vec<(usize, usize, &str)> = Vec::new();
    for (k, tok) in toks.iter().enumerate() {
        let prev = k.checked_sub(1).map(|p| &toks[p]);
        if text(tok) == "[" && toks.get(k + 1).is_some_and(|t| text(t) == "]") {
            let subscript = prev.is_some_and(|p| match p.kind {
                Kind::Ident => !KEYWORDS.contains(&text(p)),
                Kind::Str | Kind::Num => true,
                Kind::Punct => matches!(text(p), ")" | "]" | "}"),
            });
            if !subscript {
                edits.push((tok.start, toks[k + 1].end - tok.start, "__eventgen_list()"));
            }
        }
        if tok.kind == Kind::Str
            && toks.get(k + 1).is_some_and(|t| text(t) == "%")
            && !prev.is_some_and(|p| matches!(text(p), "." | "*" | "/" | "//" | "%" | "**" | "|"))
            && let Some(last) = operand_end(&toks, k + 2, s)
        {
            edits.push((tok.start, 0, "__eventgen_pyformat("));
            edits.push((toks[k + 1].start, 1, ","));
            edits.push((toks[last].end, 0, ")"));
        }
    }
    if edits.is_empty() {
        return s.to_string();
    }
    edits.sort_by_key(|e| e.0);
    let mut out = String::with_capacity(s.len() + 32 * edits.len());
    let mut pos = 0;
    for (at, removed, insert) in edits {
        if at < pos {
            continue;
        }
        out.push_str(&s[pos..at]);
        out.push_str(insert);
        pos = at + removed;
    }
    out.push_str(&s[pos..]);
    out
}

/// Index of the last token of the operand starting at token `k` that binds tighter than `%`:
/// unary signs, a primary, then attribute/subscript/call/filter postfixes and `**`.
fn operand_end(toks: &[Tok], mut k: usize, s: &str) -> Option<usize> {
    let text = |i: usize| toks.get(i).map(|t| &s[t.start..t.end]);
    while matches!(text(k), Some("-" | "+")) {
        k += 1;
    }
    let first = toks.get(k)?;
    let mut last = match (first.kind, text(k)?) {
        (Kind::Punct, "(" | "[" | "{") => group_end(toks, k, s)?,
        (Kind::Punct, _) => return None,
        _ => k,
    };
    loop {
        match text(last + 1) {
            Some(".") if toks.get(last + 2).is_some_and(|t| t.kind != Kind::Punct) => last += 2,
            Some("(" | "[") => last = group_end(toks, last + 1, s)?,
            Some("|") if toks.get(last + 2).is_some_and(|t| t.kind == Kind::Ident) => {
                last += 2;
                while text(last + 1) == Some(".")
                    && toks.get(last + 2).is_some_and(|t| t.kind == Kind::Ident)
                {
                    last += 2;
                }
                if text(last + 1) == Some("(") {
                    last = group_end(toks, last + 1, s)?;
                }
            }
            Some("**") => last = operand_end(toks, last + 2, s)?,
            _ => return Some(last),
        }
    }
}

/// Index of the bracket closing the one opened at token `k`.
fn group_end(toks: &[Tok], k: usize, s: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (i, t) in toks.iter().enumerate().skip(k) {
        match &s[t.start..t.end] {
            "(" | "[" | "{" => depth += 1,
            ")" | "]" | "}" => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pp(s: &str) -> String {
        preprocess(s).unwrap().source
    }

    #[test]
    fn time_tags_become_set_statements() {
        assert_eq!(
            pp("{%- time_now -%}"),
            "{%- set time_now_epoch, time_now_formatted = time_now() -%}"
        );
        assert_eq!(
            pp("{% time_now date_format=\"%H\" %}"),
            "{% set time_now_epoch, time_now_formatted = time_now( date_format=\"%H\") %}"
        );
        assert_eq!(
            pp(
                "{%- time_slice earliest=\"1\", latest=x, count=loop.index, slices=\"5\", date_format=\"%H:%M\"-%}"
            ),
            "{%- set time_target_epoch, time_target_formatted = time_slice( earliest=\"1\", \
             latest=x, count=loop.index, slices=\"5\", date_format=\"%H:%M\")-%}"
        );
        assert_eq!(
            pp("a\n  # time_slice 1, 2, 3, 4\nb"),
            "a\n  # set time_target_epoch, time_target_formatted = time_slice( 1, 2, 3, 4)\nb"
        );
    }

    #[test]
    fn comments_raw_and_strings_are_untouched() {
        let src = "{# {% time_now %} [] #}{% raw %}{% time_now %}{% endraw %}{{ '[]' }}## {% time_now %} []\n";
        assert_eq!(pp(src), src);
        // A `#}` closing a comment at the start of a line is not a line statement.
        let src = "{# note\n#}\n{{ x }}";
        assert_eq!(pp(src), src);
    }

    #[test]
    fn empty_lists_become_mutable() {
        assert_eq!(pp("{% set l = [] -%}"), "{% set l = __eventgen_list() -%}");
        assert_eq!(pp("{% for x in [ ] %}"), "{% for x in __eventgen_list() %}");
        assert_eq!(pp("{{ f([]) }}"), "{{ f(__eventgen_list()) }}");
        assert_eq!(pp("{{ a[] }}"), "{{ a[] }}");
    }

    #[test]
    fn printf_with_string_literal() {
        assert_eq!(
            pp("{% set P = [range(1, 2)| random, '%02d' % range(00,99,1) | random]|join('.') %}"),
            "{% set P = [range(1, 2)| random, __eventgen_pyformat('%02d' , range(00,99,1) | random)]|join('.') %}"
        );
        assert_eq!(
            pp("{{ '%s-%s' % (a, b) ~ c }}"),
            "{{ __eventgen_pyformat('%s-%s' , (a, b)) ~ c }}"
        );
        assert_eq!(pp("{{ 7 % 3 }}"), "{{ 7 % 3 }}");
    }

    #[test]
    fn unimplemented_tags_report_their_line() {
        let err = preprocess("a\nb\n{% time_delta 5 %}").unwrap_err();
        assert_eq!(err.line, 3);
        assert!(err.message.contains("time_delta"), "{}", err.message);
    }

    #[test]
    fn static_references_are_collected() {
        let p = preprocess(
            "{% import 'a.t' as a %}\n# include \"b.t\" ignore missing\n{% from 'c.t' import f %}{% include name %}",
        )
        .unwrap();
        let refs: Vec<_> = p
            .references
            .iter()
            .map(|r| (r.name.as_str(), r.line, r.optional))
            .collect();
        assert_eq!(
            refs,
            [("a.t", 1, false), ("b.t", 2, true), ("c.t", 3, false)]
        );
    }

    #[test]
    fn newlines_are_preserved() {
        let src = "{% time_slice 1,\n 2,\n 3, 4 %}\n{% set l = [] %}\n{{ '%d' %\n 5 }}";
        let out = pp(src);
        assert_eq!(out.matches('\n').count(), src.matches('\n').count());
    }
}
