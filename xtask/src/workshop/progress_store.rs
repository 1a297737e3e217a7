//! The progress store, `crates/workshop/progress.json` (git-ignored): what was started,
//! passed and how many hints were shown, kept between commands.

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};

use super::exercise::Exercise;

pub(super) const PROGRESS_FILE: &str = "crates/workshop/progress.json";

/// What is remembered between commands: per step and per bug, `passed` and `hints` shown;
/// and which was `started` last, for `check` and `watch` with nothing named.
pub(super) struct ProgressStore {
    pub(super) path: PathBuf,
    pub(super) steps: Map<String, Value>,
    pub(super) bugs: Map<String, Value>,
    pub(super) started: Option<String>,
}

impl ProgressStore {
    pub(super) fn load(root: &Path) -> ProgressStore {
        let path = root.join(PROGRESS_FILE);
        let value = fs::read_to_string(&path)
            .ok()
            .and_then(|text| serde_json::from_str::<Value>(&text).ok())
            .unwrap_or_default();
        let map = |key: &str| {
            value
                .get(key)
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default()
        };
        ProgressStore {
            steps: map("steps"),
            bugs: map("bugs"),
            started: value
                .get("started")
                .and_then(Value::as_str)
                .map(String::from),
            path,
        }
    }

    /// The map and the key an exercise's entry is kept under.
    pub(super) fn place(&self, exercise: Exercise) -> (&Map<String, Value>, String) {
        match exercise {
            Exercise::Step(step) => (&self.steps, step.number.to_string()),
            Exercise::Bug(bug) => (&self.bugs, bug.number.to_string()),
        }
    }

    pub(super) fn passed(&self, exercise: Exercise) -> bool {
        self.entry(exercise, "passed").as_bool().unwrap_or(false)
    }

    pub(super) fn hints_shown(&self, exercise: Exercise) -> usize {
        self.entry(exercise, "hints").as_u64().unwrap_or(0) as usize
    }

    pub(super) fn entry(&self, exercise: Exercise, key: &str) -> &Value {
        let (map, name) = self.place(exercise);
        map.get(&name)
            .and_then(|entry| entry.get(key))
            .unwrap_or(&Value::Null)
    }

    pub(super) fn set(&mut self, exercise: Exercise, key: &str, value: Value) {
        let (map, name) = match exercise {
            Exercise::Step(step) => (&mut self.steps, step.number.to_string()),
            Exercise::Bug(bug) => (&mut self.bugs, bug.number.to_string()),
        };
        let entry = map.entry(name).or_insert_with(|| json!({}));
        if let Some(entry) = entry.as_object_mut() {
            entry.insert(key.to_string(), value);
        }
    }

    /// The step or bug started last, if it is still one.
    pub(super) fn started(&self) -> Option<Exercise> {
        self.started
            .as_deref()
            .and_then(|word| Exercise::parse(word).ok())
    }

    pub(super) fn set_started(&mut self, exercise: Exercise) {
        self.started = Some(exercise.word());
    }

    /// Saves; a failure only costs the memory of progress, so it is reported, not fatal.
    pub(super) fn save(&self) {
        let mut value = json!({ "steps": self.steps, "bugs": self.bugs });
        if let (Some(started), Some(object)) = (&self.started, value.as_object_mut()) {
            object.insert("started".into(), json!(started));
        }
        let text = value.to_string() + "\n";
        if let Err(err) = fs::write(&self.path, text) {
            eprintln!(
                "(could not save your progress to {}: {err})",
                self.path.display()
            );
        }
    }
}
