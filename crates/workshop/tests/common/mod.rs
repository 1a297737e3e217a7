//! What the drift tests of the exercises and the bugs compare: a server file's code.

/// The code of `text`, trimmed: no comment lines (so none of the module's opening doc), no
/// blank lines, and no arguments of `Config::from_args` (an exercise or a bug has its own
/// name and description).
pub fn code(text: &str) -> Vec<String> {
    let mut code = Vec::new();
    let mut in_from_args = false;
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with("//") {
            continue;
        }
        if in_from_args {
            in_from_args = line != ");";
            if in_from_args {
                continue;
            }
        }
        in_from_args |= line.ends_with("Config::from_args(");
        code.push(line.to_string());
    }
    code
}
