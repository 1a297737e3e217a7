//! The workshop's course: its steps and its find-the-bug servers ([`bugs`]), their hints, and
//! how a student's server is graded for each, by measuring it with [`measure::check`] and
//! [`measure::probes`], never by reading its source. `cargo xtask workshop` runs the grading
//! and renders its findings; the workshop's tests assert that every untouched starting point
//! and every untouched bug fails with the expected diagnosis, and every stage's tests that
//! the real stage passes its step and fixes the bugs made from it.
//!
//! - `steps`: the four steps, their hints, and the grading of each;
//! - [`bugs`]: the find-the-bug servers, their hints, and the grading of each;
//! - `grading`: what a [`Grade`] is made of, and the grading both share (start the server,
//!   run the check, Ctrl-C it with a request in flight).

pub mod bugs;
mod grading;
mod steps;

pub use bugs::{BUGS, Bug, FoundBy, bug, grade_bug};
pub use grading::{Diagnosis, Finding, Grade, Mark, Seen};
pub use steps::{STEPS, Step, grade, step};
