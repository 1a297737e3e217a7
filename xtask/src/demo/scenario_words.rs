//! The demo's words for each scenario: what is sent, and what to look for.

use measure::scenario::{Scenario, Settings};

/// A scenario's title (what is sent) and its lesson (what to look for), for the output.
pub fn describe(scenario: Scenario, settings: &Settings) -> (String, String) {
    let delay = crate::units::short(settings.delay);
    let fast = settings.fast;
    let later = crate::units::short(Scenario::head_start(settings));
    let slow = scenario.slow_count(settings);
    let title = match scenario {
        Scenario::Slow => format!("slow: 1 × /sleep ({delay}), then {fast} × GET / {later} later"),
        Scenario::BusyPool => {
            format!("busy-pool: {slow} × /sleep ({delay}), then {fast} × GET / {later} later")
        }
        Scenario::Blocking => format!(
            "blocking: 1 × /block ({delay}, blocks its thread), then {fast} × GET / {later} later"
        ),
        Scenario::Cpu => format!("cpu: 1 × /cpu alone, then {fast} × /cpu at once"),
        Scenario::Idle => {
            format!("idle: 1 idle client (sends nothing), then {fast} × GET / {later} later")
        }
    };
    let lesson = match scenario {
        Scenario::Slow => {
            "Stages 1 and 3 make the fast requests wait; 2, 4 and 5 do not.".to_string()
        }
        Scenario::BusyPool => format!(
            "{slow} slow requests fill stage 2's {} workers, so fast ones wait; not in 4 or 5.",
            settings.workers
        ),
        Scenario::Blocking => {
            "A blocked thread stalls all of stage 4; stage 5's other threads keep serving."
                .to_string()
        }
        Scenario::Cpu => {
            "Concurrency is not parallelism: stage 4 works on one core, stage 5 on all.".to_string()
        }
        Scenario::Idle => {
            format!(
                "Stages 1 and 3 wait for it until --read-timeout-ms ({delay}); 2, 4 and 5 do not."
            )
        }
    };
    (title, lesson)
}

#[cfg(test)]
mod tests {
    use super::*;
    use measure::catalogue::WORKERS;

    #[test]
    fn titles_and_lessons_fit_in_80_columns() {
        for delay_ms in [100, 600, 2000, 9900, 20_000] {
            let settings = Settings {
                delay: std::time::Duration::from_millis(delay_ms),
                fast: 100,
                workers: WORKERS,
            };
            for scenario in Scenario::ALL {
                let (title, lesson) = describe(scenario, &settings);
                assert!(title.chars().count() < 80, "{title}");
                assert!(lesson.chars().count() < 80, "{lesson}");
            }
        }
    }
}
