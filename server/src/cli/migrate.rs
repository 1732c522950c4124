//! `latchkey migrate [--check]`: the database's migrations, on their own
//! (`serve` applies them too). `--check` says which would run and changes
//! nothing, so an operator can see what an upgrade will do before taking
//! the backup and starting the new binary.

use crate::db::{migrations, Db};

/// What `--check` says, or what was applied; a database newer than this
/// binary is an error in words ([`migrations::NewerDatabase`]).
pub async fn run(url: &str, check_only: bool) -> anyhow::Result<Vec<String>> {
    let plan = migrations::check(url).await?;
    if check_only {
        return Ok(vec![plan.to_string()]);
    }
    let db = Db::connect(url).await?;
    db.pool.close().await;
    let mut lines: Vec<String> = plan
        .pending
        .iter()
        .map(|m| format!("Applied migration {m}"))
        .collect();
    lines.push(migrations::check(url).await?.to_string());
    Ok(lines)
}
