//! Teams and owners.

use super::Result;
use crate::domain::{Owner, Team};
use rusqlite::{Connection, params};

/// Inserts or updates a team.
pub fn upsert_team(conn: &Connection, t: &Team) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO teams (id, name) VALUES (?1, ?2)
         ON CONFLICT(id) DO UPDATE SET name = excluded.name",
    )?
    .execute(params![t.id.as_str(), t.name])?;
    Ok(())
}

/// Inserts or updates an owner.
pub fn upsert_owner(conn: &Connection, o: &Owner) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO owners (id, name, email, team_id, active) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT(id) DO UPDATE SET name = excluded.name, email = excluded.email,
             team_id = excluded.team_id, active = excluded.active",
    )?
    .execute(params![
        o.id.as_str(),
        o.name,
        o.email,
        o.team_id.as_ref().map(|t| t.as_str()),
        o.active
    ])?;
    Ok(())
}

/// Makes sure an owner id resolves: deals can name owners the CRM no longer lists (removed
/// users); they get an inactive placeholder until the CRM lists them again.
pub fn ensure_owner(conn: &Connection, id: &crate::domain::OwnerId) -> Result<()> {
    conn.prepare_cached(
        "INSERT OR IGNORE INTO owners (id, name, active) VALUES (?1, 'owner ' || ?1, 0)",
    )?
    .execute([id.as_str()])?;
    Ok(())
}

/// Every team, by name.
pub fn teams(conn: &Connection) -> Result<Vec<Team>> {
    Ok(conn
        .prepare_cached("SELECT id, name FROM teams ORDER BY name, id")?
        .query_map([], |r| {
            Ok(Team {
                id: r.get::<_, String>(0)?.into(),
                name: r.get(1)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?)
}

/// Every owner, by name.
pub fn owners(conn: &Connection) -> Result<Vec<Owner>> {
    Ok(conn
        .prepare_cached("SELECT id, name, email, team_id, active FROM owners ORDER BY name, id")?
        .query_map([], |r| {
            Ok(Owner {
                id: r.get::<_, String>(0)?.into(),
                name: r.get(1)?,
                email: r.get(2)?,
                team_id: r.get::<_, Option<String>>(3)?.map(Into::into),
                active: r.get(4)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    #[test]
    fn teams_and_owners_round_trip() {
        let store = Store::open_in_memory().unwrap();
        let team = Team {
            id: "t1".into(),
            name: "Enterprise".into(),
        };
        let owner = Owner {
            id: "o1".into(),
            name: "Ada Byron".into(),
            email: Some("ada@example.com".into()),
            team_id: Some("t1".into()),
            active: false,
        };
        upsert_team(store.conn(), &team).unwrap();
        upsert_owner(store.conn(), &owner).unwrap();
        upsert_owner(store.conn(), &owner).unwrap();
        assert_eq!(teams(store.conn()).unwrap(), vec![team]);
        assert_eq!(owners(store.conn()).unwrap(), vec![owner.clone()]);
        ensure_owner(store.conn(), &"o1".into()).unwrap();
        ensure_owner(store.conn(), &"o2".into()).unwrap();
        let all = owners(store.conn()).unwrap();
        assert_eq!(all[0], owner, "an existing owner is left alone");
        assert_eq!((all[1].name.as_str(), all[1].active), ("owner o2", false));
    }
}
