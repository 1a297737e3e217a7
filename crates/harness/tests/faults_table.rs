//! The pitfalls chapter's table: every release binary under `ulimit -n 40`, flooded with 80
//! idle clients for 2 s, with its default flags. A measurement, not a check, so it is ignored
//! by a plain `cargo test`; run it after a release build:
//!
//! ```text
//! cargo build --release
//! cargo test -p harness --test faults_table -- --ignored --nocapture
//! FAULTS_BIN_DIR=/some/other/build cargo test -p harness --test faults_table -- --ignored --nocapture
//! ```

#[cfg(unix)]
#[test]
#[ignore = "a measurement for the book: needs release binaries (see the file's comment)"]
fn measure_every_binary_under_a_descriptor_flood() {
    use harness::faults::{Flood, flood_with_idle_clients};
    use std::path::PathBuf;

    let dir = std::env::var_os("FAULTS_BIN_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/release"));
    let flood = Flood::default();
    println!(
        "\n{} idle clients, ulimit -n {}, {:.0} s, default flags; binaries in {}",
        flood.idle_clients,
        flood.open_files,
        flood.window.as_secs_f64(),
        dir.display()
    );
    println!("| binary | CPU, % of a core | log written | log lines | GET / afterwards |");
    println!("|---|---:|---:|---:|---|");
    // Every binary of the catalogue, in the order of the progression.
    for name in measure::catalogue::BINARIES
        .iter()
        .map(|binary| binary.name)
    {
        let bin = dir.join(name);
        let Some(bin) = bin.to_str().filter(|_| bin.exists()) else {
            println!("| {name} | skipped: {} not found | | | |", bin.display());
            continue;
        };
        match flood_with_idle_clients(bin, &[], flood) {
            Ok(report) => println!(
                "| {name} | {:.0} % | {} | {} | {} |",
                report.cpu_percent(),
                bytes(report.log_bytes),
                report.log_lines,
                match (&report.served_after, report.alive) {
                    (_, false) => "exited".to_string(),
                    (Ok(200), true) => "200".to_string(),
                    (Ok(status), true) => format!("{status}"),
                    (Err(err), true) => format!("failed: {err}"),
                }
            ),
            Err(err) => println!("| {name} | could not run: {err} | | | |"),
        }
    }
}

#[cfg(not(unix))]
#[test]
#[ignore = "needs a Unix shell's `ulimit -n`"]
fn measure_every_binary_under_a_descriptor_flood() {}

#[cfg(unix)]
fn bytes(count: usize) -> String {
    match count {
        0..1_000 => format!("{count} B"),
        1_000..1_000_000 => format!("{:.1} kB", count as f64 / 1e3),
        _ => format!("{:.1} MB", count as f64 / 1e6),
    }
}
