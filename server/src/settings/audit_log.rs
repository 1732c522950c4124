//! The audit log as administrators read it: filtered, newest first, and as
//! CSV.

use latchkey_shared::admin::{AuditEntry, AuditPage, AuditQuery};
use sqlx::Row;

use crate::error::AppResult;
use crate::state::AppState;

const AUDIT_DEFAULT_LIMIT: i64 = 200;
const AUDIT_MAX_LIMIT: i64 = 1000;
const AUDIT_CSV_LIMIT: i64 = 100_000;

async fn query_audit(state: &AppState, q: &AuditQuery, limit: i64) -> AppResult<Vec<AuditEntry>> {
    // What this instance has not written yet is shown too; other instances
    // write theirs within a second.
    if let Err(e) = state.flush_audit().await {
        tracing::warn!(error = %e, "writing deferred audit events before the audit view failed");
    }
    enum Arg {
        S(String),
        I(i64),
    }
    let mut clauses = Vec::new();
    let mut args = Vec::new();
    let mut n = 0usize;
    let mut param = |args: &mut Vec<Arg>, a: Arg| {
        args.push(a);
        n += 1;
        format!("${n}")
    };
    if let Some(user) = q.user.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        let u = user.to_lowercase();
        let p1 = param(&mut args, Arg::S(u.clone()));
        let p2 = param(&mut args, Arg::S(u.clone()));
        let p3 = param(&mut args, Arg::S(format!("{u}@%")));
        clauses.push(format!(
            "(subject = {p1} OR actor = {p2} OR actor LIKE {p3})"
        ));
    }
    if let Some(domain) = q.domain.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        let d = domain.to_lowercase();
        let p1 = param(&mut args, Arg::S(d.clone()));
        let p2 = param(&mut args, Arg::S(format!("%@{d}")));
        clauses.push(format!("(domain = {p1} OR actor LIKE {p2})"));
    }
    if let Some(k) = q.kind.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        let p = param(&mut args, Arg::S(k.to_owned()));
        clauses.push(format!("kind = {p}"));
    }
    if let Some(from) = q.from {
        let p = param(&mut args, Arg::I(from));
        clauses.push(format!("at >= {p}"));
    }
    if let Some(to) = q.to {
        let p = param(&mut args, Arg::I(to));
        clauses.push(format!("at < {p}"));
    }
    let lp = param(&mut args, Arg::I(limit));
    let where_sql = if clauses.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", clauses.join(" AND "))
    };
    let sql = format!(
        "SELECT id, at, kind, actor, subject, domain, source_ip, result, detail FROM audit_events \
         {where_sql} ORDER BY at DESC, id DESC LIMIT {lp}"
    );
    let mut query = sqlx::query(&sql);
    for a in args {
        query = match a {
            Arg::S(s) => query.bind(s),
            Arg::I(i) => query.bind(i),
        };
    }
    let rows = query.fetch_all(&state.db.pool).await?;
    rows.iter()
        .map(|r| {
            Ok(AuditEntry {
                id: r.try_get("id")?,
                at: r.try_get("at")?,
                kind: r.try_get("kind")?,
                actor: r.try_get("actor")?,
                subject: r.try_get("subject")?,
                domain: r.try_get("domain")?,
                source_ip: r.try_get("source_ip")?,
                result: r.try_get("result")?,
                detail: r.try_get("detail")?,
            })
        })
        .collect()
}

/// The newest events that match `q` (at most `q.limit`, default
/// 200, at most 1000), and whether there were more.
pub async fn page(state: &AppState, q: &AuditQuery) -> AppResult<AuditPage> {
    let limit = q
        .limit
        .unwrap_or(AUDIT_DEFAULT_LIMIT)
        .clamp(1, AUDIT_MAX_LIMIT);
    let mut events = query_audit(state, q, limit + 1).await?;
    let truncated = events.len() > usize::try_from(limit).unwrap_or(usize::MAX);
    events.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    Ok(AuditPage { events, truncated })
}

/// The audit log as a CSV attachment.
#[derive(Debug, Clone)]
pub struct AuditCsv {
    pub filename: String,
    pub body: String,
}

/// One CSV field: quoted when needed; a leading `= + - @` is neutralised so a
/// spreadsheet never runs it as a formula.
fn csv_field(s: &str) -> String {
    let mut s = s.to_owned();
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        s.insert(0, '\'');
    }
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// The events that match `q` (at most 100,000) as CSV, one a line.
pub async fn csv(state: &AppState, q: &AuditQuery) -> AppResult<AuditCsv> {
    let limit = q.limit.unwrap_or(AUDIT_CSV_LIMIT).clamp(1, AUDIT_CSV_LIMIT);
    let events = query_audit(state, q, limit).await?;
    let mut body = String::from("time,kind,result,actor,subject,domain,source_ip,detail\r\n");
    for e in events {
        let fields = [
            latchkey_shared::dates::iso_datetime(e.at),
            e.kind,
            e.result,
            e.actor.unwrap_or_default(),
            e.subject.unwrap_or_default(),
            e.domain.unwrap_or_default(),
            e.source_ip.unwrap_or_default(),
            e.detail.unwrap_or_default(),
        ];
        body.push_str(
            &fields
                .iter()
                .map(|f| csv_field(f))
                .collect::<Vec<_>>()
                .join(","),
        );
        body.push_str("\r\n");
    }
    let filename = format!(
        "latchkey-audit-{}.csv",
        latchkey_shared::dates::iso_date(state.now())
    );
    Ok(AuditCsv { filename, body })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_and_defused() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=SUM(A1)"), "'=SUM(A1)");
    }
}
