//! The bench's open-files limit: 10,000 waiting connections need more descriptors than many
//! systems give a process by default.

/// The open-files limit after trying to raise it to the hard limit (children inherit it, so
/// the servers get it too), and a note on what happened. `None` where there is no such limit.
pub fn raise_open_files() -> (Option<u64>, String) {
    #[cfg(unix)]
    {
        let before = rlimit::getrlimit(rlimit::Resource::NOFILE)
            .map(|(soft, _)| soft)
            .ok();
        match rlimit::increase_nofile_limit(u64::MAX) {
            Ok(now) => {
                let note = match before {
                    Some(before) if before < now => {
                        format!("open-files limit raised from {before} to {now}")
                    }
                    _ => format!("open-files limit {now} (the most this system allows)"),
                };
                (Some(now), note)
            }
            Err(err) => (
                before,
                format!(
                    "open-files limit {} (cannot raise it: {err})",
                    before.map_or("unknown".to_string(), |b| b.to_string())
                ),
            ),
        }
    }
    #[cfg(not(unix))]
    {
        (None, "no open-files limit to raise on this OS".to_string())
    }
}
