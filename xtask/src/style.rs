//! Colour for the terminal, with plain ANSI codes, only where it helps and is wanted. The
//! output reads the same without it. In order:
//!
//! - `NO_COLOR` set (and not empty): never (<https://no-color.org>);
//! - `CLICOLOR_FORCE` set (and not `0`): always, even into a pipe or a file
//!   (<https://bixense.com/clicolors/>);
//! - `CLICOLOR=0`: never;
//! - otherwise only on a terminal that takes escape codes: not `TERM=dumb`; on Unix, `TERM`
//!   set; on Windows, a console that accepted virtual-terminal processing (Windows 10 and
//!   later; the classic console of older ones would print the codes as text).
//!
//! The environment is read with `anstyle-query` (the queries behind cargo's own colour), and
//! the decision is a pure function of what it read, so every branch is tested on any system.
//! The same check decides whether the progress line may redraw itself with escape codes.

use std::io::IsTerminal;
use std::sync::OnceLock;

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
    /// Colour for stdout if it is a terminal that wants it (or colour is forced).
    pub fn for_stdout() -> Style {
        let is_terminal = std::io::stdout().is_terminal();
        Style {
            color: wants_color(&ColorEnv::read(), is_terminal, windows_vt(is_terminal)),
        }
    }

    /// Colour for stderr (the progress line) if it is a terminal that wants it.
    pub fn for_stderr() -> Style {
        let is_terminal = std::io::stderr().is_terminal();
        Style {
            color: wants_color(&ColorEnv::read(), is_terminal, windows_vt(is_terminal)),
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

/// Whether stderr is a terminal that takes escape codes (to move the cursor, clear a line),
/// whatever the colour settings: the progress line redraws itself only there.
pub fn stderr_takes_escapes() -> bool {
    let is_terminal = std::io::stderr().is_terminal();
    takes_escapes(ColorEnv::read().term, is_terminal, windows_vt(is_terminal))
}

/// What the environment says about colour.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct ColorEnv {
    no_color: bool,
    clicolor_force: bool,
    /// `CLICOLOR`: `Some(false)` for `0`, `Some(true)` for anything else, `None` unset.
    clicolor: Option<bool>,
    term: Term,
}

/// `TERM`, as far as escape codes go.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Term {
    #[default]
    Unset,
    Dumb,
    Other,
}

impl ColorEnv {
    fn read() -> ColorEnv {
        let term = match std::env::var_os("TERM") {
            None => Term::Unset,
            Some(term) if term == "dumb" => Term::Dumb,
            Some(_) => Term::Other,
        };
        ColorEnv {
            no_color: anstyle_query::no_color(),
            clicolor_force: anstyle_query::clicolor_force(),
            clicolor: anstyle_query::clicolor(),
            term,
        }
    }
}

/// On Windows, whether the console took virtual-terminal processing (asked once, and only for a
/// terminal); `None` elsewhere, where terminals take escape codes without being asked.
/// `anstyle-query` asks for stdout and stderr together, so with stdout redirected to a file
/// this is `Some(false)` and stderr stays plain too: the safe side.
fn windows_vt(is_terminal: bool) -> Option<bool> {
    if !cfg!(windows) || !is_terminal {
        return None;
    }
    static ENABLED: OnceLock<Option<bool>> = OnceLock::new();
    *ENABLED.get_or_init(anstyle_query::windows::enable_ansi_colors)
}

/// Whether a stream takes escape codes: a terminal, not `TERM=dumb`, and on Windows
/// (`windows_vt` is `Some`) a console with virtual-terminal processing; on Unix, `TERM` set
/// (a terminal without it is something unusual, such as a service's console).
fn takes_escapes(term: Term, is_terminal: bool, windows_vt: Option<bool>) -> bool {
    let term_allows = match (term, windows_vt) {
        (Term::Dumb, _) => false,
        (Term::Unset, None) => false,
        (Term::Unset | Term::Other, Some(enabled)) => enabled,
        (Term::Other, None) => true,
    };
    is_terminal && term_allows
}

/// The decision of the module's list, from what the environment said.
fn wants_color(env: &ColorEnv, is_terminal: bool, windows_vt: Option<bool>) -> bool {
    if env.no_color {
        false
    } else if env.clicolor_force {
        true
    } else if env.clicolor == Some(false) {
        false
    } else {
        takes_escapes(env.term, is_terminal, windows_vt)
    }
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
    fn no_color_wins_then_clicolor_force() {
        let plain = ColorEnv {
            term: Term::Other,
            ..ColorEnv::default()
        };
        assert!(wants_color(&plain, true, None));
        assert!(!wants_color(&plain, false, None), "not into a pipe");
        let forced = ColorEnv {
            clicolor_force: true,
            ..plain
        };
        assert!(wants_color(&forced, false, None), "forced into a pipe");
        assert!(
            wants_color(&forced, true, Some(false)),
            "forced on an old console"
        );
        let both = ColorEnv {
            no_color: true,
            ..forced
        };
        assert!(!wants_color(&both, true, None), "NO_COLOR wins");
        let off = ColorEnv {
            clicolor: Some(false),
            ..plain
        };
        assert!(!wants_color(&off, true, None), "CLICOLOR=0");
        let on = ColorEnv {
            clicolor: Some(true),
            ..plain
        };
        assert!(!wants_color(&on, false, None), "CLICOLOR=1 is not a force");
    }

    #[test]
    fn escapes_only_where_the_terminal_takes_them() {
        // Unix (no Windows answer): TERM must be set and not dumb.
        assert!(takes_escapes(Term::Other, true, None));
        assert!(!takes_escapes(Term::Unset, true, None));
        assert!(!takes_escapes(Term::Dumb, true, None));
        assert!(!takes_escapes(Term::Other, false, None));
        // Windows: TERM is usually unset; the console's answer decides.
        assert!(takes_escapes(Term::Unset, true, Some(true)));
        assert!(!takes_escapes(Term::Unset, true, Some(false)));
        assert!(!takes_escapes(Term::Dumb, true, Some(true)));
        let windows = ColorEnv::default();
        assert!(wants_color(&windows, true, Some(true)));
        assert!(!wants_color(&windows, true, Some(false)));
    }

    #[test]
    fn plain_style_adds_nothing() {
        assert_eq!(Style::plain().paint(Color::Green, "ok"), "ok");
    }
}
