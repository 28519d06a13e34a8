//! Companies (with their segment attributes) and contacts.

use super::{Result, opt_secs, opt_ts};
use crate::domain::{Company, CompanyId, Contact, ContactId};
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::BTreeMap;

/// Inserts or updates a company and replaces its extra properties.
pub fn upsert_company(conn: &Connection, c: &Company) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO companies (id, name, domain, industry, size_band, buying_center)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT(id) DO UPDATE SET name = excluded.name, domain = excluded.domain,
             industry = excluded.industry, size_band = excluded.size_band,
             buying_center = excluded.buying_center",
    )?
    .execute(params![
        c.id.as_str(),
        c.name,
        c.domain,
        c.industry,
        c.size_band,
        c.buying_center
    ])?;
    conn.prepare_cached("DELETE FROM company_properties WHERE company_id = ?1")?
        .execute([c.id.as_str()])?;
    let mut insert = conn.prepare_cached(
        "INSERT INTO company_properties (company_id, name, value) VALUES (?1, ?2, ?3)",
    )?;
    for (name, value) in &c.properties {
        insert.execute(params![c.id.as_str(), name, value])?;
    }
    Ok(())
}

/// One company with its properties.
pub fn company(conn: &Connection, id: &CompanyId) -> Result<Option<Company>> {
    let found = conn
        .prepare_cached(
            "SELECT id, name, domain, industry, size_band, buying_center FROM companies WHERE id = ?1",
        )?
        .query_row([id.as_str()], |r| {
            Ok(Company {
                id: r.get::<_, String>(0)?.into(),
                name: r.get(1)?,
                domain: r.get(2)?,
                industry: r.get(3)?,
                size_band: r.get(4)?,
                buying_center: r.get(5)?,
                properties: BTreeMap::new(),
            })
        })
        .optional()?;
    let Some(mut c) = found else { return Ok(None) };
    c.properties = conn
        .prepare_cached("SELECT name, value FROM company_properties WHERE company_id = ?1")?
        .query_map([id.as_str()], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(Some(c))
}

/// The id of a company with this name (ASCII case-insensitive), the smallest id if several
/// share it. Imports use it to link a deal to an account the cache already knows by name.
pub fn id_by_name(conn: &Connection, name: &str) -> Result<Option<CompanyId>> {
    Ok(conn
        .prepare_cached(
            "SELECT id FROM companies WHERE name = ?1 COLLATE NOCASE ORDER BY id LIMIT 1",
        )?
        .query_row([name], |r| Ok(r.get::<_, String>(0)?.into()))
        .optional()?)
}

/// Inserts or updates a contact.
pub fn upsert_contact(conn: &Connection, c: &Contact) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO contacts (id, company_id, name, email, title, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT(id) DO UPDATE SET company_id = excluded.company_id, name = excluded.name,
             email = excluded.email, title = excluded.title, created_at = excluded.created_at",
    )?
    .execute(params![
        c.id.as_str(),
        c.company_id.as_ref().map(|x| x.as_str()),
        c.name,
        c.email,
        c.title,
        opt_secs(c.created_at)
    ])?;
    Ok(())
}

/// One contact.
pub fn contact(conn: &Connection, id: &ContactId) -> Result<Option<Contact>> {
    Ok(conn
        .prepare_cached(
            "SELECT id, company_id, name, email, title, created_at FROM contacts WHERE id = ?1",
        )?
        .query_row([id.as_str()], |r| {
            Ok(Contact {
                id: r.get::<_, String>(0)?.into(),
                company_id: r.get::<_, Option<String>>(1)?.map(Into::into),
                name: r.get(2)?,
                email: r.get(3)?,
                title: r.get(4)?,
                created_at: opt_ts(r.get(5)?),
            })
        })
        .optional()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::time::from_unix;
    use crate::store::Store;

    #[test]
    fn companies_and_contacts_round_trip() {
        let store = Store::open_in_memory().unwrap();
        let company = Company {
            id: "c1".into(),
            name: "Acme".into(),
            domain: Some("acme.test".into()),
            industry: Some("Software".into()),
            size_band: Some("201-1000".into()),
            buying_center: Some("engineering".into()),
            properties: [("region".to_string(), "EMEA".to_string())].into(),
        };
        upsert_company(store.conn(), &company).unwrap();
        assert_eq!(company_or_panic(&store, "c1"), company);
        let mut changed = company.clone();
        changed.properties.clear();
        upsert_company(store.conn(), &changed).unwrap();
        assert_eq!(company_or_panic(&store, "c1"), changed);
        assert_eq!(super::company(store.conn(), &"nope".into()).unwrap(), None);

        let contact = Contact {
            id: "p1".into(),
            company_id: Some("c1".into()),
            name: "Grace Hopper".into(),
            email: None,
            title: Some("CTO".into()),
            created_at: Some(from_unix(1_700_000_000)),
        };
        upsert_contact(store.conn(), &contact).unwrap();
        assert_eq!(
            super::contact(store.conn(), &"p1".into()).unwrap(),
            Some(contact)
        );
    }

    #[test]
    fn companies_are_found_by_name_case_insensitively() {
        let store = Store::open_in_memory().unwrap();
        for (id, name) in [("c2", "Acme"), ("c1", "ACME"), ("c3", "Beta")] {
            let c = Company {
                id: id.into(),
                name: name.into(),
                domain: None,
                industry: None,
                size_band: None,
                buying_center: None,
                properties: BTreeMap::new(),
            };
            upsert_company(store.conn(), &c).unwrap();
        }
        assert_eq!(
            id_by_name(store.conn(), "acme").unwrap(),
            Some("c1".into()),
            "the smallest id wins"
        );
        assert_eq!(id_by_name(store.conn(), "Beta").unwrap(), Some("c3".into()));
        assert_eq!(id_by_name(store.conn(), "Gamma").unwrap(), None);
    }

    fn company_or_panic(store: &Store, id: &str) -> Company {
        super::company(store.conn(), &id.into()).unwrap().unwrap()
    }
}
