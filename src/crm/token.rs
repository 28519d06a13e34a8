//! Where a CRM token comes from: the environment first, then the OS keyring. Never the config
//! file, never the cache, never a log.
//!
//! The keyring is a convenience that is often absent (headless Linux has no Secret Service, CI
//! has no session bus), so a keyring that cannot be reached is the same as an empty one; the
//! error the user sees then names the environment variable, which always works.

use super::connector::CrmError;
use secrecy::SecretString;

/// The keyring service under which dealtrace looks for tokens; the entry's user is the name of
/// the environment variable (`HUBSPOT_TOKEN` by default), so one keyring can hold a token per
/// CRM. On Linux: `secret-tool store --label=dealtrace service dealtrace username
/// HUBSPOT_TOKEN`; on macOS: `security add-generic-password -s dealtrace -a HUBSPOT_TOKEN -w`.
pub const KEYRING_SERVICE: &str = "dealtrace";

/// A place tokens can be looked up by name.
pub trait TokenStore {
    /// The token stored under `name`, `None` if there is none or the store cannot be reached.
    fn get(&self, name: &str) -> Option<SecretString>;
    /// What this store is, for messages ("environment variable", "OS keyring").
    fn describe(&self) -> &'static str;
}

/// The process environment.
pub struct EnvTokens;

impl TokenStore for EnvTokens {
    fn get(&self, name: &str) -> Option<SecretString> {
        std::env::var(name)
            .ok()
            .filter(|t| !t.trim().is_empty())
            .map(|t| SecretString::from(t.trim().to_owned()))
    }

    fn describe(&self) -> &'static str {
        "environment variable"
    }
}

/// The OS keyring (Keychain, Credential Manager, Secret Service).
pub struct KeyringTokens;

impl TokenStore for KeyringTokens {
    fn get(&self, name: &str) -> Option<SecretString> {
        let entry = match keyring::Entry::new(KEYRING_SERVICE, name) {
            Ok(entry) => entry,
            Err(e) => {
                tracing::debug!(error = %e, "no OS keyring");
                return None;
            }
        };
        match entry.get_password() {
            Ok(t) if !t.trim().is_empty() => Some(SecretString::from(t.trim().to_owned())),
            Ok(_) => None,
            Err(e) => {
                // NoEntry is the common case; anything else (no session bus, locked keyring)
                // is logged without the token and treated as absent.
                tracing::debug!(error = %e, "no token in the OS keyring");
                None
            }
        }
    }

    fn describe(&self) -> &'static str {
        "OS keyring"
    }
}

/// The first token found under `name` in `stores`, in order.
pub fn resolve(stores: &[&dyn TokenStore], name: &str) -> Result<SecretString, CrmError> {
    stores
        .iter()
        .find_map(|s| {
            let token = s.get(name);
            if token.is_some() {
                tracing::debug!(from = s.describe(), name, "CRM token found");
            }
            token
        })
        .ok_or_else(|| CrmError::MissingToken {
            env_var: name.to_owned(),
        })
}

/// The token for `name` from the environment, else the OS keyring.
pub fn lookup(name: &str) -> Result<SecretString, CrmError> {
    resolve(&[&EnvTokens, &KeyringTokens], name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;
    use std::collections::BTreeMap;

    /// A store in memory, standing in for the environment or a keyring.
    struct Memory(BTreeMap<&'static str, &'static str>, &'static str);

    impl TokenStore for Memory {
        fn get(&self, name: &str) -> Option<SecretString> {
            self.0
                .get(name)
                .map(|t| SecretString::from((*t).to_owned()))
        }
        fn describe(&self) -> &'static str {
            self.1
        }
    }

    #[test]
    fn the_environment_wins_then_the_keyring_then_a_clear_error() {
        let env = Memory(BTreeMap::from([("HUBSPOT_TOKEN", "pat-env")]), "env");
        let keyring = Memory(
            BTreeMap::from([("HUBSPOT_TOKEN", "pat-ring"), ("OTHER", "pat-other")]),
            "keyring",
        );
        let got = |name| resolve(&[&env, &keyring], name).map(|t| t.expose_secret().to_owned());
        assert_eq!(got("HUBSPOT_TOKEN").unwrap(), "pat-env");
        assert_eq!(got("OTHER").unwrap(), "pat-other");
        let err = got("MISSING").unwrap_err();
        assert!(
            err.to_string().contains("MISSING"),
            "the message names the variable to set: {err}"
        );
    }

    #[test]
    fn blank_environment_values_do_not_count() {
        // SAFETY: a variable name unique to this test; no other thread reads it.
        unsafe { std::env::set_var("DEALTRACE_TEST_BLANK_TOKEN", "  ") };
        assert!(EnvTokens.get("DEALTRACE_TEST_BLANK_TOKEN").is_none());
        unsafe { std::env::set_var("DEALTRACE_TEST_BLANK_TOKEN", " pat-1 ") };
        assert_eq!(
            EnvTokens
                .get("DEALTRACE_TEST_BLANK_TOKEN")
                .map(|t| t.expose_secret().to_owned()),
            Some("pat-1".to_owned())
        );
    }

    #[test]
    fn an_unreachable_keyring_is_an_empty_one() {
        // On CI and headless Linux there is no Secret Service: the lookup must not fail or
        // hang, just find nothing.
        assert!(
            KeyringTokens
                .get("DEALTRACE_TEST_SURELY_ABSENT_ENTRY")
                .is_none()
        );
    }
}
