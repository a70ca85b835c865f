//! Made-up text for the generators: prose-like word runs and code-like lines, chosen by a seeded
//! [`Rng`] from small built-in vocabularies.

use super::prng::Rng;

const WORDS: &[&str] = &[
    "rate",
    "distortion",
    "frame",
    "block",
    "motion",
    "vector",
    "residual",
    "transform",
    "quantiser",
    "entropy",
    "filter",
    "loop",
    "intra",
    "inter",
    "reference",
    "picture",
    "sample",
    "chroma",
    "luma",
    "bitrate",
    "buffer",
    "level",
    "profile",
    "tile",
    "slice",
    "segment",
    "grain",
    "noise",
    "edge",
    "texture",
    "gradient",
    "scene",
    "camera",
    "pan",
    "zoom",
    "detail",
    "banding",
    "contrast",
    "colour",
    "the",
    "a",
    "of",
    "and",
    "to",
    "in",
    "with",
    "for",
    "each",
    "every",
    "from",
    "over",
    "under",
    "when",
    "measure",
    "encode",
    "decode",
    "score",
    "compare",
    "curve",
    "point",
    "target",
    "speed",
    "preset",
];

const KEYWORDS: &[&str] = &[
    "let", "fn", "if", "else", "for", "while", "return", "match", "pub", "struct", "impl", "use",
];

/// A sentence-like run of `n` words, the first capitalised, ending with a full stop.
pub fn sentence(rng: &mut Rng, n: usize) -> String {
    let mut s = String::new();
    for i in 0..n {
        let w = WORDS[rng.below(WORDS.len() as u32) as usize];
        if i == 0 {
            let mut c = w.chars();
            if let Some(f) = c.next() {
                s.extend(f.to_uppercase());
                s.push_str(c.as_str());
            }
        } else {
            s.push(' ');
            s.push_str(w);
        }
    }
    s.push('.');
    s
}

/// An identifier of one or two words joined by `_`.
pub fn identifier(rng: &mut Rng) -> String {
    let a = WORDS[rng.below(WORDS.len() as u32) as usize];
    if rng.below(2) == 0 {
        a.to_string()
    } else {
        format!("{a}_{}", WORDS[rng.below(WORDS.len() as u32) as usize])
    }
}

/// One token of a code line and how it is coloured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenKind {
    /// Plain identifiers and punctuation.
    Plain,
    /// Language keywords.
    Keyword,
    /// Numbers and strings.
    Literal,
    /// Comments.
    Comment,
}

/// A code-like line: indentation depth and coloured tokens.
#[derive(Clone, Debug)]
pub struct CodeLine {
    /// Indentation in levels of four spaces.
    pub indent: usize,
    /// The tokens, each with its kind; spacing is included in the text.
    pub tokens: Vec<(TokenKind, String)>,
}

/// `n` lines of code-like text whose indentation wanders between 0 and 4 levels.
pub fn code(rng: &mut Rng, n: usize) -> Vec<CodeLine> {
    let mut indent = 0usize;
    let mut lines = Vec::with_capacity(n);
    for _ in 0..n {
        let kind = rng.below(10);
        let mut t = Vec::new();
        match kind {
            0 => {
                let words = 3 + rng.below(6) as usize;
                t.push((
                    TokenKind::Comment,
                    format!("// {}", sentence(rng, words).to_lowercase()),
                ));
            }
            1 if indent < 4 => {
                let kw = ["fn", "for", "if", "while", "impl"][rng.below(5) as usize];
                t.push((TokenKind::Keyword, format!("{kw} ")));
                t.push((
                    TokenKind::Plain,
                    format!("{}({}) {{", identifier(rng), identifier(rng)),
                ));
                lines.push(CodeLine { indent, tokens: t });
                indent += 1;
                continue;
            }
            2 if indent > 0 => {
                indent -= 1;
                t.push((TokenKind::Plain, "}".to_string()));
            }
            3 => {}
            _ => {
                t.push((
                    TokenKind::Keyword,
                    format!("{} ", KEYWORDS[rng.below(2) as usize]),
                ));
                t.push((
                    TokenKind::Plain,
                    format!("{} = {}(", identifier(rng), identifier(rng)),
                ));
                t.push((TokenKind::Literal, format!("{}", rng.below(4096))));
                t.push((TokenKind::Plain, format!(", {});", identifier(rng))));
            }
        }
        lines.push(CodeLine { indent, tokens: t });
    }
    lines
}
