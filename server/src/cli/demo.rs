//! Demo data for a first start: the domains, notices and help desk of the
//! seeds, and a user with a temporary password. Only ever on an empty
//! database, in one transaction.

use latchkey_shared::Username;
use sqlx::Row;

use crate::accounts::staff::write_role;
use crate::audit::Actor;
use crate::audit::{self, AuditKind};
use crate::password::generate_temporary_password;
use crate::settings::help_desk::{HELP_DESK_EMAIL, HELP_DESK_PHONE};
use crate::settings::provisioning::{insert_domain, insert_user, NewDomain};
use crate::state::AppState;
use latchkey_shared::admin::Role;

pub const DEMO_DOMAIN: &str = "partners";
pub const DEMO_USERNAME: &str = "demo";
pub const DEMO_DISPLAY_NAME: &str = "Demo User";
/// The demo's Local Registration Authority for Partners.
pub const DEMO_LRA_USERNAME: &str = "lra";
pub const DEMO_LRA_DISPLAY_NAME: &str = "Partners LRA";
/// The demo's administrator (in Partners).
pub const DEMO_ADMIN_USERNAME: &str = "admin";
pub const DEMO_ADMIN_DISPLAY_NAME: &str = "Demo Administrator";
pub const HELP_DESK_PHONE_NUMBER: &str = "905-521-2100 ext. 43000";
pub const HELP_DESK_EMAIL_ADDRESS: &str = "helpd@hhsc.ca";
pub const HHSC_UNAVAILABLE_TEXT: &str = "SSPM is not available for HHSC Domain Users. Please use your own organization's password tool to change or manage your password.";

/// (title, posted on, body), newest first.
pub const NOTICES: &[(&str, &str, &str)] = &[
    (
        "Mandatory Password Reset In Effect",
        "2019-12-13",
        "As a security precaution, every user must choose a new password. At your next sign-in \
         you will be asked to change it: open the Change Password tab of the Self Service Password \
         Manager, pick a new password that meets the listed requirements, and sign in again with it.",
    ),
    (
        "Privacy Notice",
        "2019-06-16",
        "This system holds personal health information. Access it only to provide care to your \
         patients or as your role requires it. Every access is logged and audited; unauthorized \
         access is a breach of privacy legislation and your organization's policies.",
    ),
    (
        "System Notices",
        "2019-06-15",
        "Planned maintenance takes place on Sundays between 02:00 and 04:00. The service may be \
         unavailable for short periods during that window. Notices about outages are posted here.",
    ),
    (
        "Contact Information",
        "2019-06-14",
        "If you have difficulty using the Self Service Password Manager, please contact the Help \
         Desk at 905-521-2100 ext. 43000 or email helpd@hhsc.ca.",
    ),
];

/// What a successful seeding created.
#[derive(Clone)]
pub struct DemoSeeded {
    pub domain: &'static str,
    pub username: &'static str,
    pub temporary_password: String,
    /// The enrolled demo user's line (password and answers), for Unlock
    /// Account and Forgot Password.
    pub enrolled_line: String,
    /// Temporary passwords of the demo LRA and administrator.
    pub lra_temporary_password: String,
    pub admin_temporary_password: String,
}

impl DemoSeeded {
    /// The line `serve` prints once, on the start that seeded.
    pub fn console_line(&self) -> String {
        format!(
            "Demo user: domain={} username={} temporary password={}\n{}",
            self.domain, self.username, self.temporary_password, self.enrolled_line
        )
    }

    /// The lines for the demo staff, printed once after [`Self::console_line`].
    pub fn staff_lines(&self) -> [String; 2] {
        [
            format!(
                "Demo LRA (Partners): domain={} username={DEMO_LRA_USERNAME} temporary password={}",
                self.domain, self.lra_temporary_password
            ),
            format!(
                "Demo administrator: domain={} username={DEMO_ADMIN_USERNAME} temporary password={}",
                self.domain, self.admin_temporary_password
            ),
        ]
    }
}

/// Seeds the demo data if the database has no domain yet; `None` otherwise.
pub async fn seed_if_empty(state: &AppState) -> anyhow::Result<Option<DemoSeeded>> {
    if has_domains(state).await? {
        return Ok(None);
    }
    // Hash before the transaction: never hold a connection while hashing.
    let temporary_password = generate_temporary_password();
    let hash = state.hasher.ticket()?.hash(&temporary_password).await?;
    let lra_temporary_password = generate_temporary_password();
    let lra_hash = state.hasher.ticket()?.hash(&lra_temporary_password).await?;
    let admin_temporary_password = generate_temporary_password();
    let admin_hash = state
        .hasher
        .ticket()?
        .hash(&admin_temporary_password)
        .await?;
    let enrolled = crate::accounts::self_service::checks::demo::prepare(state).await?;
    let now = state.now();

    let mut tx = state.db.pool.begin().await?;
    let count: i64 = sqlx::query("SELECT COUNT(*) AS n FROM domains")
        .fetch_one(&mut *tx)
        .await?
        .try_get("n")?;
    if count > 0 {
        tx.rollback().await?;
        return Ok(None);
    }
    let partners = insert_domain(&mut tx, now, &NewDomain::new("partners", "Partners")).await?;
    let hrcc = insert_domain(&mut tx, now, &NewDomain::new("hrcc", "HRCC")).await?;
    insert_domain(
        &mut tx,
        now,
        &NewDomain {
            slug: "hhsc".into(),
            name: "HHSC".into(),
            sspm_available: false,
            unavailable_text: Some(HHSC_UNAVAILABLE_TEXT.into()),
        },
    )
    .await?;
    for (i, (title, posted_on, body)) in NOTICES.iter().enumerate() {
        sqlx::query(
            "INSERT INTO notices (title, body, posted_on, published, sort_order, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(*title)
        .bind(*body)
        .bind(*posted_on)
        .bind(true)
        .bind(i64::try_from(i)? + 1)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    }
    for (key, value) in [
        (HELP_DESK_PHONE, HELP_DESK_PHONE_NUMBER),
        (HELP_DESK_EMAIL, HELP_DESK_EMAIL_ADDRESS),
    ] {
        sqlx::query("INSERT INTO settings (key, value) VALUES ($1, $2)")
            .bind(key)
            .bind(value)
            .execute(&mut *tx)
            .await?;
    }
    let username =
        Username::parse(DEMO_USERNAME).map_err(|e| anyhow::anyhow!("demo user name: {e}"))?;
    let expires = now + state.config.temp_password_secs();
    insert_user(
        &mut tx,
        now,
        partners,
        &username,
        DEMO_DISPLAY_NAME,
        None,
        &hash,
        Some(expires),
    )
    .await?;
    crate::accounts::self_service::checks::demo::insert(
        &mut tx,
        now,
        &[partners, hrcc],
        partners,
        &enrolled,
    )
    .await?;
    for (name, display, staff_hash, role) in [
        (
            DEMO_LRA_USERNAME,
            DEMO_LRA_DISPLAY_NAME,
            &lra_hash,
            Role::Lra,
        ),
        (
            DEMO_ADMIN_USERNAME,
            DEMO_ADMIN_DISPLAY_NAME,
            &admin_hash,
            Role::Admin,
        ),
    ] {
        let username = Username::parse(name).map_err(|e| anyhow::anyhow!("demo staff: {e}"))?;
        let id = insert_user(
            &mut tx,
            now,
            partners,
            &username,
            display,
            None,
            staff_hash,
            Some(expires),
        )
        .await?;
        write_role(&mut tx, id, role, &[partners]).await?;
    }
    let actor = Actor::cli();
    let ev = actor.did(AuditKind::CliDemoSeed).detail("demo data seeded");
    audit::record(&mut *tx, now, &ev).await?;
    tx.commit().await?;

    Ok(Some(DemoSeeded {
        domain: DEMO_DOMAIN,
        username: DEMO_USERNAME,
        temporary_password,
        enrolled_line: enrolled.console_line(DEMO_DOMAIN),
        lra_temporary_password,
        admin_temporary_password,
    }))
}

async fn has_domains(state: &AppState) -> anyhow::Result<bool> {
    let count: i64 = sqlx::query("SELECT COUNT(*) AS n FROM domains")
        .fetch_one(&state.db.pool)
        .await?
        .try_get("n")?;
    Ok(count > 0)
}
