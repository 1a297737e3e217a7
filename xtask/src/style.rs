//! Colour for the terminal, with plain ANSI codes, only where it helps and is wanted:
//! never when NO_COLOR is set (<https://no-color.org>), when the output is not a terminal,
//! or when TERM is `dumb`. The output reads the same without it.

use std::io::IsTerminal;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Color {
    Red,
    Green,
    Yellow,
    Blue,
    Magenta,
    Dim,
    Bold,
}

impl Color {
    fn code(self) -> &'static str {
        match self {
            Color::Red => "31",
            Color::Green => "32",
            Color::Yellow => "33",
            Color::Blue => "34",
            Color::Magenta => "35",
            Color::Dim => "2",
            Color::Bold => "1",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Style {
    pub color: bool,
}

impl Style {
    /// Colour for stdout if it is a terminal that wants it.
    pub fn for_stdout() -> Style {
        Style {
            color: wants_color(std::io::stdout().is_terminal()),
        }
    }

    /// Colour for stderr (the progress line) if it is a terminal that wants it.
    pub fn for_stderr() -> Style {
        Style {
            color: wants_color(std::io::stderr().is_terminal()),
        }
    }

    #[cfg(test)]
    pub fn plain() -> Style {
        Style { color: false }
    }

    /// `text` in `color`, or `text` as it is.
    pub fn paint(self, color: Color, text: &str) -> String {
        if self.color && !text.is_empty() {
            format!("\x1b[{}m{text}\x1b[0m", color.code())
        } else {
            text.to_string()
        }
    }
}

fn wants_color(is_terminal: bool) -> bool {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|value| !value.is_empty());
    let dumb = std::env::var_os("TERM").is_some_and(|term| term == "dumb");
    // The classic Windows console shows escape codes as text; Windows Terminal sets WT_SESSION.
    let console_understands = !cfg!(windows)
        || std::env::var_os("WT_SESSION").is_some()
        || std::env::var_os("TERM").is_some();
    is_terminal && !no_color && !dumb && console_understands
}

/// How many columns `text` takes on a terminal: its characters, without colour codes.
pub fn width(text: &str) -> usize {
    let mut count = 0;
    let mut in_escape = false;
    for c in text.chars() {
        match (in_escape, c) {
            (false, '\x1b') => in_escape = true,
            (true, 'm') => in_escape = false,
            (true, _) => {}
            (false, _) => count += 1,
        }
    }
    count
}

/// `text` padded with spaces on the right to `columns`.
pub fn pad(text: &str, columns: usize) -> String {
    let fill = columns.saturating_sub(width(text));
    format!("{text}{}", " ".repeat(fill))
}

/// `text` padded with spaces on the left to `columns`.
pub fn pad_left(text: &str, columns: usize) -> String {
    let fill = columns.saturating_sub(width(text));
    format!("{}{text}", " ".repeat(fill))
}

/// The words of `text`, with a unit kept on its number (`49 ms`, `1.9 s`).
fn words(text: &str) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    for word in text.split(' ').filter(|word| !word.is_empty()) {
        let bare = word.trim_end_matches(|c: char| c.is_ascii_punctuation());
        let is_unit = bare == "ms" || bare == "s";
        let after_number = words
            .last()
            .and_then(|last| last.chars().last())
            .is_some_and(|c| c.is_ascii_digit());
        match words.last_mut() {
            Some(last) if is_unit && after_number => {
                last.push(' ');
                last.push_str(word);
            }
            _ => words.push(word.to_string()),
        }
    }
    words
}

/// `text` broken into lines of at most `columns` at spaces; every line after the first starts
/// with `indent`. Each line ends with a newline.
pub fn wrap(text: &str, columns: usize, indent: &str) -> String {
    let body = text.trim_start_matches(' ');
    let lead = &text[..text.len() - body.len()];
    let mut out = String::new();
    let mut line = lead.to_string();
    let mut fresh = true;
    for word in words(body) {
        if !fresh && width(&line) + 1 + width(&word) > columns {
            out.push_str(line.trim_end());
            out.push('\n');
            line = indent.to_string();
            fresh = true;
        }
        if !fresh {
            line.push(' ');
        }
        line.push_str(&word);
        fresh = false;
    }
    out.push_str(line.trim_end());
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn width_ignores_colour_codes() {
        let style = Style { color: true };
        let red = style.paint(Color::Red, "abc");
        assert_ne!(red, "abc");
        assert_eq!(width(&red), 3);
        assert_eq!(width("█·x"), 3);
        assert_eq!(pad(&red, 5).len(), red.len() + 2);
        assert_eq!(pad_left("ab", 4), "  ab");
    }

    #[test]
    fn wrapping_keeps_lines_short() {
        let text = "one two three four five six";
        assert_eq!(
            wrap(text, 9, "  "),
            "one two\n  three\n  four\n  five\n  six\n"
        );
        assert_eq!(wrap("  ↳ a b", 5, "    "), "  ↳ a\n    b\n");
        assert_eq!(wrap("short", 80, ""), "short\n");
        assert_eq!(wrap("took 49 ms, one", 10, ""), "took\n49 ms, one\n");
    }

    #[test]
    fn plain_style_adds_nothing() {
        assert_eq!(Style::plain().paint(Color::Green, "ok"), "ok");
    }
}
