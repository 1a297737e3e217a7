//! The command-line pieces the commands share: reading an option's value, and the stage and
//! runtime lists that the demo and the bench take.

use measure::catalogue::{Runtime, Stage};

/// `1,4`, `2-5`, `all`, or a mix such as `1,3-5`; the result is sorted, without repeats.
pub fn parse_stages(list: &str) -> Result<Vec<Stage>, String> {
    let bad = |part: &str| {
        format!("--stage takes stage numbers from 1 to 5, such as 1,4 or 2-5, not {part:?}")
    };
    if list.trim() == "all" {
        return Ok(Stage::ALL.to_vec());
    }
    let mut stages = Vec::new();
    for part in list.split(',').map(str::trim) {
        let stage = |text: &str| -> Result<u8, String> {
            let text = text.trim().trim_start_matches("stage-");
            match text.parse::<u8>().ok().and_then(Stage::from_number) {
                Some(stage) => Ok(stage.number()),
                None => Err(bad(part)),
            }
        };
        match part.split_once('-').filter(|(from, _)| !from.is_empty()) {
            Some((from, to)) if !from.starts_with("stage") => {
                let (from, to) = (stage(from)?, stage(to)?);
                if from > to {
                    return Err(bad(part));
                }
                stages.extend(from..=to);
            }
            _ => stages.push(stage(part)?),
        }
    }
    stages.sort_unstable();
    stages.dedup();
    Ok(stages.into_iter().filter_map(Stage::from_number).collect())
}

/// `tokio`, `async-std,smol`, `mini`, `all`.
pub fn parse_runtimes(list: &str) -> Result<Vec<Runtime>, String> {
    if list.trim() == "all" {
        return Ok(Runtime::ASYNC.to_vec());
    }
    let mut runtimes = Vec::new();
    for part in list.split(',').map(str::trim) {
        let runtime = Runtime::from_name(part).ok_or_else(|| {
            format!(
                "--runtime must be async-std, tokio, smol, mini or all (or a list such as tokio,mini), \
                 not {part:?}"
            )
        })?;
        if !runtimes.contains(&runtime) {
            runtimes.push(runtime);
        }
    }
    runtimes.sort_unstable();
    Ok(runtimes)
}

/// The next option's value, as text (`bench` and `check` use it).
pub fn value_text(parser: &mut lexopt::Parser) -> Result<String, String> {
    parser
        .value()
        .map_err(|e| e.to_string())?
        .into_string()
        .map_err(|_| "arguments must be UTF-8 text".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stages(numbers: &[u8]) -> Vec<Stage> {
        numbers
            .iter()
            .filter_map(|&n| Stage::from_number(n))
            .collect()
    }

    #[test]
    fn stage_lists() {
        assert_eq!(parse_stages("2-5"), Ok(stages(&[2, 3, 4, 5])));
        assert_eq!(parse_stages("5,1,3-4,1"), Ok(stages(&[1, 3, 4, 5])));
        assert_eq!(parse_stages("stage-3"), Ok(stages(&[3])));
        assert_eq!(parse_stages("all"), Ok(stages(&[1, 2, 3, 4, 5])));
        for bad in ["0", "6", "1,,2", "x", "4-2", "-1", ""] {
            assert!(parse_stages(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn runtime_lists() {
        assert_eq!(parse_runtimes("tokio"), Ok(vec![Runtime::Tokio]));
        assert_eq!(
            parse_runtimes("smol,async-std"),
            Ok(vec![Runtime::AsyncStd, Runtime::Smol])
        );
        assert!(parse_runtimes("glommio").is_err());
    }
}
